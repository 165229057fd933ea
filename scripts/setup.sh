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
.venv/bin/pip install --quiet -e ".[dev,docs,sweep,export]"  # the tests cover racer sweep, check exports with
# DeepRacer's converters (OpenVINO, TensorFlow Lite) and build the docs
.venv/bin/python -c "import racer_env, torch, stable_baselines3, pygame; print('racer_env', racer_env.__version__, 'torch', torch.__version__)"
# numba compiles racer_env's kernels at their first call and caches them: pay that once here, not in a first training
SDL_VIDEODRIVER=dummy .venv/bin/python scripts/warm_kernels.py
# Debian's chromium, for the test that opens racer analyze's report in a real browser (it skips, saying why, without)
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium; } >/dev/null 2>&1 \
    || echo "setup: could not install Debian's chromium; the browser test of racer analyze will skip"
fi
