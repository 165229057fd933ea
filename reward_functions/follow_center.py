"""Follow the centre line: the closer to the centre, the higher the reward.

Rewards: 1.0 within 10 % of the track width from the centre, 0.5 within 25 %,
0.1 within 50 %, and 0.001 beyond (probably off the track). The behaviour of
AWS's first documentation example, written afresh.

Reads: track_width, distance_from_center.
"""


def reward_function(params):
    width = params["track_width"]
    offset = params["distance_from_center"]
    for fraction, reward in ((0.1, 1.0), (0.25, 0.5), (0.5, 0.1)):
        if offset <= fraction * width:
            return float(reward)
    return 1e-3
