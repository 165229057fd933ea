"""The policy's observation: what it holds, in the car's frame, within its bounds."""

import math

import numpy as np
import pytest

from racer_env import Car, RacerEnv, Track
from racer_env.env.observations import LOOKAHEAD_M, OBS_SIZE, observation_space, observe

TRACK = Track.load("harbour_loop")


def _observe(car: Car) -> np.ndarray:
    return observe(TRACK, car, TRACK.project(car.x, car.y))


def test_on_the_centre_line_facing_along_it_the_points_ahead_are_straight_ahead():
    x, y, yaw = TRACK.pose_at(0.3)  # the start straight
    obs = _observe(Car.at(x, y, math.degrees(yaw)))
    assert obs.shape == (OBS_SIZE,) and observation_space().contains(obs)
    ahead = obs[0:20].reshape(-1, 2) * 3.0  # back to metres
    assert ahead[0] == pytest.approx((LOOKAHEAD_M[0], 0.0), abs=0.03)  # 0.2 m straight ahead
    assert np.all(np.diff(ahead[:, 0]) > 0)  # further and further ahead
    assert obs[20] == pytest.approx(0.0, abs=1e-6)  # on the centre line


def test_offset_left_is_positive_and_scaled_by_the_half_width():
    half = TRACK.vertex_widths[0] / 2
    x, y, yaw = TRACK.pose_at(0.3, lateral_m=0.5 * half)
    left = _observe(Car.at(x, y, math.degrees(yaw)))
    x, y, yaw = TRACK.pose_at(0.3, lateral_m=-0.5 * half)
    right = _observe(Car.at(x, y, math.degrees(yaw)))
    assert left[20] == pytest.approx(0.5, abs=0.02) and right[20] == pytest.approx(-0.5, abs=0.02)
    # the centre line ahead lies to the right of a car left of it
    assert left[1] < 0 < right[1]


def test_speed_and_steering_state():
    x, y, yaw = TRACK.pose_at(0.3)
    car = Car.at(x, y, math.degrees(yaw), speed=2.0, steering_angle=15.0)
    car.step(-30.0, 4.0)
    obs = _observe(car)
    assert obs[21] == pytest.approx(car.speed / 4.0)
    assert obs[22] == pytest.approx(car.wheel_angle / 30.0)
    assert -1.0 < obs[22] < 0.5  # the wheels are on their way from 15° to -30°
    assert obs[23:25] == pytest.approx([15.0 / 30.0, -1.0])  # the last two commands, older first
    assert obs[25] == pytest.approx(1.0)  # the newest speed command, 4 m/s


def test_values_stay_in_bounds_far_off_the_track():
    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval")
    obs, _ = env.reset(options={"pose": (50.0, 50.0, 0.0)})
    assert observation_space().contains(obs)
