"""Progress per step: reward the share of the lap the car covers each step, so faster laps earn more per second.

Rewards: the progress gained since the previous step, in % of a lap (a whole lap
is worth 100), negative when the car goes backwards, plus a small bonus of
0.01 per m/s of commanded speed while all wheels are on the track. Module
globals carry the previous progress from step to step; they reset when
``steps`` starts again, as they would in one AWS worker. This is racer_env's
default reward function.

Reads: progress, steps, speed, all_wheels_on_track.
"""

_last = {"progress": 0.0, "steps": 0.0}


def reward_function(params):
    progress = params["progress"]
    steps = params["steps"]
    if steps <= _last["steps"] or steps <= 2:  # a new episode
        _last["progress"] = 0.0
    gained = progress - _last["progress"]
    if abs(gained) > 50.0:  # progress jumped across the start line (a reset or a new lap)
        gained = 0.0
    _last["progress"] = progress
    _last["steps"] = steps
    if not params["all_wheels_on_track"]:
        return float(gained)
    return float(gained + 0.01 * params["speed"])
