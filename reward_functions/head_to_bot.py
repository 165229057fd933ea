"""Head-to-bot: progress per step, paid less while closing in on a bot car ahead in the car's lane.

Rewards: the progress gained since the previous step (% of a lap), plus 0.01
per m/s while all wheels are on the track, times a lane factor. The factor
falls towards 0.1 as the car closes in on the next car ahead in its lane: it
looks ahead as far as it would drive in one second at the speed it gains on the
bot (its commanded speed minus objects_speed, at least 0.5 m), so it learns to
pull out early when it is fast and to keep its lane when the bot is far. A
counted crash (running into a bot from behind) pays 0.001 and ends the
episode; a bot running into the car from behind is no crash. Distances along
the track are measured from the car's own projection_distance.

Reads: progress, steps, speed, all_wheels_on_track, is_crashed, closest_objects,
objects_distance, objects_distance_from_center, objects_left_of_center,
objects_speed, projection_distance, track_length, distance_from_center,
is_left_of_center.
"""

OVERLAP_M = 0.3  # sideways distance between two cars' centres below which they touch (0.2 m wide each, a margin)
_last = {"progress": 0.0, "steps": 0.0}


def progress_gained(params):
    """Progress [%] since the previous call of this episode (0 across the start line or a reset)."""
    progress, steps = params["progress"], params["steps"]
    if steps <= _last["steps"] or steps <= 2:  # a new episode
        _last["progress"] = 0.0
    gained = progress - _last["progress"]
    if abs(gained) > 50.0:
        gained = 0.0
    _last["progress"], _last["steps"] = progress, steps
    return gained


def projection(params):
    """The car's distance [m] along the track from waypoint 0: projection_distance, which the simulator passes;
    DeepRacer on AWS's check of a new model does not, and there the lap's progress stands in."""
    return params.get("projection_distance", params["progress"] / 100.0 * params["track_length"])


def lane_factor(params):
    """1.0 when the way ahead is clear, down to 0.1 right behind a bot car in the car's lane."""
    distances = params["objects_distance"]
    if not distances:
        return 1.0
    nxt = params["closest_objects"][1]
    ahead = (distances[nxt] - projection(params)) % params["track_length"]
    closing = params["speed"] - params["objects_speed"][nxt]
    reach = max(0.5, closing * 1.0)
    if ahead > reach:
        return 1.0
    if "objects_distance_from_center" not in params:  # DeepRacer on AWS's canned states lack it
        return 1.0
    car_side = params["distance_from_center"] * (1 if params["is_left_of_center"] else -1)
    bot_side = params["objects_distance_from_center"][nxt] * (1 if params["objects_left_of_center"][nxt] else -1)
    overlap = 1.0 - abs(car_side - bot_side) / OVERLAP_M
    if overlap <= 0.0:
        return 1.0
    return 1.0 - 0.9 * (1.0 - ahead / reach) * min(overlap, 1.0)


def reward_function(params):
    gained = progress_gained(params)
    if params["is_crashed"]:
        return 1e-3
    reward = gained + (0.01 * params["speed"] if params["all_wheels_on_track"] else 0.0)
    return float(reward * lane_factor(params))
