"""Racing line: point the car a little ahead along the waypoints, and go fast when it does.

Rewards: how well the heading matches the direction from the car to the
waypoint three ahead of it (1.0 when aligned, falling to 0 at 30 degrees off),
times a speed factor (commanded speed / 4 m/s, at least 0.25), while all wheels
are on the track; 0.001 when a wheel is off. Aiming a few waypoints ahead
cuts the corners a little, like a racing line, and pays for speed only when
the car is pointed the right way.

Reads: all_wheels_on_track, waypoints, closest_waypoints, x, y, heading, speed.
"""

import math

LOOKAHEAD = 3  # waypoints ahead of the next one
MAX_ERROR_DEG = 30.0


def reward_function(params):
    if not params["all_wheels_on_track"]:
        return 1e-3
    waypoints = params["waypoints"]
    target = waypoints[(params["closest_waypoints"][1] + LOOKAHEAD) % len(waypoints)]
    direction = math.degrees(math.atan2(target[1] - params["y"], target[0] - params["x"]))
    error = abs((direction - params["heading"] + 180.0) % 360.0 - 180.0)
    alignment = max(0.0, 1.0 - error / MAX_ERROR_DEG)
    speed_factor = max(0.25, min(params["speed"], 4.0) / 4.0)
    return float(1e-3 + alignment * speed_factor)
