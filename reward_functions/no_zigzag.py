"""Prevent zig-zag: follow the centre line, and pay less for hard steering.

Rewards: the centre-line bands of follow_center (1.0 / 0.5 / 0.1 / 0.001 at
10 / 25 / 50 % of the width), times 0.8 when the steering command exceeds 15°.
The behaviour of AWS's third documentation example, written afresh.

Reads: track_width, distance_from_center, steering_angle.
"""

STEERING_LIMIT_DEG = 15.0


def reward_function(params):
    width = params["track_width"]
    offset = params["distance_from_center"]
    if offset <= 0.1 * width:
        reward = 1.0
    elif offset <= 0.25 * width:
        reward = 0.5
    elif offset <= 0.5 * width:
        reward = 0.1
    else:
        reward = 1e-3
    if abs(params["steering_angle"]) > STEERING_LIMIT_DEG:
        reward *= 0.8
    return float(reward)
