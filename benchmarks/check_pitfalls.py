"""What the pitfall catalogue adds to ``racer check``: reading the code, and driving the function.

For each bundled reward function, and for a large generated one in the shape of the community's racing-line
functions (a class with nested helpers, a literal racing line of every waypoint, a len(waypoints) switch),
the median over --repeats runs of:

* ``read_code``: the code reading (the issue's budget: under 1 s);
* ``observe_behaviour``: the laps driven to see leaks, printing and reward ranges;
* the whole ``run_check`` in the same process, as the baseline the two are measured against.

    python benchmarks/check_pitfalls.py [--repeats 5] [--track harbour_loop]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from racer_env.env.actions import ActionSpec
from racer_env.env.rewards import bundled_reward_functions
from racer_env.sim.track import Track
from racer_env.tools.check import run_check
from racer_env.tools.check.battery import battery
from racer_env.tools.check.pitfalls import observe_behaviour, read_code


def large_function(track: Track) -> str:
    """A racing-line reward function of a few hundred lines, written here (the community's shape, our code)."""
    line = ",\n".join(f"            [{x:.5f}, {y:.5f}, 2.5]" for x, y in track.waypoints)
    helpers = "\n".join(f"    def term_{i}(self, params):\n        heading = params['heading']\n"
                        f"        return abs(heading - {i}) / 180.0 + params['speed'] / {i + 1}\n" for i in range(40))
    return f'''import math


class Reward:
    def __init__(self):
        self.start = None

{helpers}
    def reward_function(self, params):
        racing_line = [
{line}
        ]
        if params['steps'] <= 2:
            self.start = params['closest_waypoints'][1]
        if len(params['waypoints']) == {len(track.waypoints)}:
            target = racing_line[params['closest_waypoints'][1]]
        else:
            target = racing_line[0]
        gap = math.hypot(params['x'] - target[0], params['y'] - target[1])
        terms = sum(getattr(self, f"term_{{i}}")(params) for i in range(40))
        return float(max(1e-3, 1.0 - gap) + 1e-3 * terms)


reward_object = Reward()


def reward_function(params):
    return reward_object.reward_function(params)
'''


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--track", default="harbour_loop")
    args = ap.parse_args()
    track, actions = Track.load(args.track), ActionSpec.default()
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "large_racing_line.py"
        big.write_text(large_function(track))
        files = [*bundled_reward_functions(), big]
        print(f"{'reward function':28s} {'lines':>5s} {'read_code':>10s} {'behaviour':>10s} {'racer check':>11s}"
              f" {'share':>6s}")
        for path in files:
            source = path.read_text()
            bat = battery(path, track, actions)
            reading = median_time(lambda: read_code(source, track, actions), args.repeats)
            driving = median_time(lambda: observe_behaviour(path, source, track, actions, bat), max(1, args.repeats // 2))
            whole = median_time(lambda: run_check(path, track.name, actions, Path(tmp) / path.stem),
                                max(1, args.repeats // 2))
            print(f"{path.name:28s} {len(source.splitlines()):5d} {reading * 1e3:8.1f}ms {driving:9.2f}s "
                  f"{whole:10.2f}s {(reading + driving) / whole:6.0%}")


if __name__ == "__main__":
    main()
