"""The scripted drivers: pure pursuit of the centre line, and of a line beside it."""

import math

import pytest

from racer_env import RacerEnv
from racer_env.sim.drivers import PurePursuit, pursuit_steering


def test_steering_points_at_the_target():
    assert pursuit_steering(0.0, 0.0, 0.0, 1.0, 0.0) == pytest.approx(0.0)
    assert pursuit_steering(0.0, 0.0, 0.0, 1.0, 0.5) > 0  # target on the left: steer left (positive)
    assert pursuit_steering(0.0, 0.0, 0.0, 1.0, -0.5) < 0
    assert pursuit_steering(0.0, 0.0, 0.0, 0.0, 0.5) == pytest.approx(30.0)  # sharp left: full lock, clipped


def _lap(lateral_fraction: float):
    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval")
    env.reset(seed=0)
    driver = PurePursuit(env.track, 1.5, lateral_fraction=lateral_fraction)
    offsets = []
    while True:
        _, _, te, tr, info = env.step(env.actions.to_action(*driver.controls(env.car)))
        p = info["params"]
        offsets.append(p["distance_from_center"] * (1 if p["is_left_of_center"] else -1) / (p["track_width"] / 2))
        if te or tr:
            return info, offsets


def test_centre_line_driver_laps_near_the_centre():
    info, offsets = _lap(0.0)
    assert info["episode_status"] == "lap_complete"
    assert max(abs(o) for o in offsets) < 0.4


def test_offset_driver_keeps_to_its_side():
    info, offsets = _lap(0.5)
    assert info["episode_status"] == "lap_complete"
    later = offsets[30:]  # after it has moved across from the start line
    assert sum(later) / len(later) == pytest.approx(0.5, abs=0.15)
    assert math.isfinite(sum(offsets))
