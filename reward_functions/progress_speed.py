"""Progress per step, with a bonus for speed: reward the car for the lap it covers, fast.

Rewards: the progress gained since the previous step (in % of a lap, scaled so
a whole lap is worth 100), plus a small bonus proportional to the commanded
speed while all wheels are on the track. Going off the track earns a small
floor. Module globals carry the previous progress from step to step, reset
when ``steps`` restarts, as they would in one AWS worker.

Reads: progress, steps, speed, all_wheels_on_track.
"""

_last = {"progress": 0.0, "steps": 0.0}


def reward_function(params):
    progress = params["progress"]
    steps = params["steps"]
    if steps <= _last["steps"] or steps <= 2:  # a new episode
        _last["progress"] = 0.0
    gained = max(progress - _last["progress"], 0.0)
    if gained > 50.0:  # wrapped past the start line on a reset
        gained = 0.0
    _last["progress"] = progress
    _last["steps"] = steps
    if not params["all_wheels_on_track"]:
        return float(1e-3 + gained)
    return float(gained + 0.01 * params["speed"])
