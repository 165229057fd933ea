"""A camera training's steps a second with the convolutions channels-last (racer_env's way) against the same tree
with them left channels-first, alternated run by run in fresh processes.

Each run trains the default camera model (the shallow network, reinvent_base, the default reward function) for
--steps steps; a run's figure is its steps over its training seconds. Channels-first is had by marking the
network as already converted (``DeepRacerNetwork._channels_last``), so nothing else differs. Medians over
--repeats, and the ratio.

    python benchmarks/channels_last.py [--repeats 2] [--steps 6144]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CAMERA = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 4}},
          "action_space_type": "continuous", "sensor": ["FRONT_FACING_CAMERA"],
          "neural_network": "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW", "training_algorithm": "clipped_ppo", "version": "5"}
CHILD = r'''
import sys, tempfile
from racer_env.env.config import EnvConfig
from racer_env.training.trainer import TrainConfig, train
import racer_env.training.networks as networks
if sys.argv[1] == "first":
    build = networks.DeepRacerNetwork.__init__
    def channels_first(self, *args, **kwargs):
        build(self, *args, **kwargs)
        self._channels_last = True  # never converted
    networks.DeepRacerNetwork.__init__ = channels_first
env = EnvConfig.make(track="reinvent_base", model_metadata=sys.argv[2], observation="camera")
result = train(TrainConfig(env=env, seed=0, timesteps=int(sys.argv[3]), quiet=True, eval_laps=0,
                           out=tempfile.mkdtemp() + "/run"))
print(result.timesteps / result.seconds)
'''


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--steps", type=int, default=6144)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        metadata = Path(tmp) / "camera.json"
        metadata.write_text(json.dumps(CAMERA))
        results: dict[str, list[float]] = {"first": [], "last": []}
        for rep in range(args.repeats):
            for case in ("first", "last"):
                proc = subprocess.run([sys.executable, "-c", CHILD, case, str(metadata), str(args.steps)],
                                      capture_output=True, text=True)
                if proc.returncode != 0:
                    raise SystemExit(f"training failed:\n{proc.stderr[-3000:]}")
                value = float(proc.stdout.strip().splitlines()[-1])
                results[case].append(value)
                print(f"repeat {rep}: channels-{case}: {value:.1f} steps/s", flush=True)
    first, last = statistics.median(results["first"]), statistics.median(results["last"])
    print(f"medians over {args.repeats}: channels-last {last:.1f}, channels-first {first:.1f} steps/s: "
          f"{last / first:.2f}x")


if __name__ == "__main__":
    main()
