"""Object avoidance: stay on the track, and keep out of the lane of the next object when it is near.

Rewards: 0.001 + 1.0 * lane + 4.0 * avoid, where lane is 1.0 while all wheels
are on and the car keeps 5 cm inside the borders (else 0.001), and avoid is
1.0, cut to 0.5 when the next object is 0.5-0.8 m away in the car's lane, to
0.2 at 0.3-0.5 m, and to 0.001 closer than 0.3 m. With no objects on the track
only the lane term counts. The behaviour of AWS's fourth documentation example,
written afresh (and safe when the object lists are empty).

Reads: all_wheels_on_track, distance_from_center, track_width, objects_location,
x, y, closest_objects, objects_left_of_center, is_left_of_center.
"""

import math


def reward_function(params):
    room = 0.5 * params["track_width"] - params["distance_from_center"]
    lane = 1.0 if params["all_wheels_on_track"] and room >= 0.05 else 1e-3

    avoid = 1.0
    objects = params["objects_location"]
    if objects:
        ahead = params["closest_objects"][1]
        ox, oy = objects[ahead]
        gap = math.hypot(ox - params["x"], oy - params["y"])
        same_lane = params["objects_left_of_center"][ahead] == params["is_left_of_center"]
        if same_lane:
            if gap < 0.3:
                avoid = 1e-3
            elif gap < 0.5:
                avoid = 0.2
            elif gap < 0.8:
                avoid = 0.5
    return float(1e-3 + 1.0 * lane + 4.0 * avoid)
