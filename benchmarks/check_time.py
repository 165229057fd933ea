"""Wall time of ``racer check`` on each bundled reward function (the whole command, pictures included).

Beside it, in the same run, the time of one bare ``racer --help`` start-up, as a baseline for
process and import overhead. Medians over --repeats runs.

    python benchmarks/check_time.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from racer_env.env.rewards import bundled_reward_functions

REPO = Path(__file__).resolve().parent.parent


def timed(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "racer_env.cli", *args], cwd=REPO, check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    base = statistics.median(timed(["--help"]) for _ in range(args.repeats))
    print(f"racer --help (start-up baseline): {base:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for f in bundled_reward_functions():
            t = statistics.median(timed(["check", str(f), "--out", f"{tmp}/{f.stem}"]) for _ in range(args.repeats))
            print(f"racer check {f.name:24s} {t:5.2f} s  ({t / base:.1f}x start-up)")


if __name__ == "__main__":
    main()
