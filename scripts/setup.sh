#!/usr/bin/env bash
# Create .venv and install racer_env with its dependencies; safe to run again.
# torch is installed first, pinned to the CPU build, so stable-baselines3 does not pull a CUDA build.
# Elsewhere, point pip at a CPU wheel index with: TORCH_INSTALL_ARGS="--index-url <cpu index>"
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC2086
.venv/bin/pip install --quiet ${TORCH_INSTALL_ARGS:-} "torch==2.13.0"
.venv/bin/pip install --quiet -e ".[dev,sweep]"  # the tests cover racer sweep, so its extra too
.venv/bin/python -c "import racer_env, torch, stable_baselines3, pygame; print('racer_env', racer_env.__version__, 'torch', torch.__version__)"
