"""Stay inside the two borders: a flat reward while the car keeps a margin to the edges.

Rewards: 1.0 while all wheels are on the track and the car's params point is at
least 5 cm inside half the track width, else 0.001. The behaviour of AWS's
second documentation example, written afresh.

Reads: all_wheels_on_track, distance_from_center, track_width.
"""

MARGIN_M = 0.05


def reward_function(params):
    room = 0.5 * params["track_width"] - params["distance_from_center"]
    if params["all_wheels_on_track"] and room >= MARGIN_M:
        return 1.0
    return 1e-3
