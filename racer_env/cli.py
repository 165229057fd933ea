"""The ``racer`` command: parse arguments, call library functions, print results.

    racer drive [--track T] [--reward R] [--speed V] [--reverse]
"""

from __future__ import annotations

import argparse
import sys

from racer_env.errors import RacerEnvError


def _drive(args: argparse.Namespace) -> int:
    from racer_env.demo import scripted_lap

    scripted_lap(track=args.track, reward=args.reward, speed=args.speed, reverse=args.reverse)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from racer_env.rewards import DEFAULT_REWARD
    from racer_env.track import DEFAULT_TRACK

    ap = argparse.ArgumentParser(prog="racer", description="A local AWS DeepRacer-style simulator.")
    sub = ap.add_subparsers(dest="command", required=True)
    d = sub.add_parser("drive", help="drive one lap with a scripted pure-pursuit driver and show the rewards")
    d.add_argument("--track", default=DEFAULT_TRACK, help="bundled track name or .npy/.csv path")
    d.add_argument("--reward", default=DEFAULT_REWARD, help="reward function file, or a name in reward_functions/")
    d.add_argument("--speed", type=float, default=1.5, help="commanded speed [m/s] (default 1.5)")
    d.add_argument("--reverse", action="store_true", help="drive the track the other way")
    d.set_defaults(func=_drive)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except RacerEnvError as err:
        print(f"racer: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("racer: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
