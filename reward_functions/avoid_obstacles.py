"""Object avoidance: progress per step, paid less while the next obstacle is close ahead in the car's lane.

Rewards: the progress gained since the previous step (% of a lap, as
progress_speed), plus 0.01 per m/s while all wheels are on the track, times a
lane factor. The factor falls from 1 towards 0.1 as the next object comes
within 1.5 m ahead along the track while the car overlaps it across the track
(centres less than 0.35 m apart sideways: half the box's crash width plus half
the car's, and a margin), so the car learns to change lanes before reaching it.
A crash pays 0.001 and ends the episode. "Ahead" is measured from the car's own
projection_distance, because objects_distance counts from waypoint 0, not from
the car; sideways positions come from the distances from the centre line and
their sides. With no objects on the track only progress counts.

Reads: progress, steps, speed, all_wheels_on_track, is_crashed, closest_objects,
objects_distance, objects_distance_from_center, objects_left_of_center,
projection_distance, track_length, distance_from_center, is_left_of_center.
"""

LOOK_AHEAD_M = 1.5  # an object further ahead than this does not matter yet
OVERLAP_M = 0.35  # sideways distance between centres below which the car would touch it
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
    """1.0 when the way ahead is clear, down to 0.1 just behind an object in the car's lane."""
    distances = params["objects_distance"]
    if not distances:
        return 1.0
    nxt = params["closest_objects"][1]
    ahead = (distances[nxt] - projection(params)) % params["track_length"]
    if ahead > LOOK_AHEAD_M:
        return 1.0
    if "objects_distance_from_center" not in params:  # DeepRacer on AWS's canned states lack it
        return 1.0
    car_side = params["distance_from_center"] * (1 if params["is_left_of_center"] else -1)
    obj_side = params["objects_distance_from_center"][nxt] * (1 if params["objects_left_of_center"][nxt] else -1)
    overlap = 1.0 - abs(car_side - obj_side) / OVERLAP_M
    if overlap <= 0.0:
        return 1.0
    closeness = 1.0 - ahead / LOOK_AHEAD_M
    return 1.0 - 0.9 * closeness * min(overlap, 1.0)


def reward_function(params):
    gained = progress_gained(params)
    if params["is_crashed"]:
        return 1e-3
    reward = gained + (0.01 * params["speed"] if params["all_wheels_on_track"] else 0.0)
    return float(reward * lane_factor(params))
