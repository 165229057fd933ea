import math

import numpy as np
import pytest

from conftest import shared_path
from racer_env import Car
from racer_env import constants as C
from racer_env.env.simtrace import read_sim_trace
from racer_env.sim.vehicle import body_origin, clip_controls, footprint_corners, wheel_positions


def test_wheels_and_footprint_sit_where_the_urdf_puts_them():
    """Derived geometry: wheelbase and track between the wheel centres, the params point ahead of the front axle,
    the crash footprint round the body origin (spec §3.2)."""
    x, y, yaw = 1.0, 2.0, math.radians(30.0)
    lr, rr, lf, rf = wheel_positions(x, y, yaw)
    assert math.dist(lr, lf) == pytest.approx(C.WHEELBASE_M, abs=1e-3)
    assert math.dist(lr, rr) == pytest.approx(C.AXLE_WIDTH_M, abs=1e-9)
    front_mid = ((lf[0] + rf[0]) / 2, (lf[1] + rf[1]) / 2)
    assert math.dist(front_mid, (x, y)) == pytest.approx(0.14 - 0.082311, abs=1e-6)  # 5.8 cm ahead of the axle
    corners = footprint_corners(*body_origin(x, y, yaw), yaw)
    sides = sorted(math.dist(corners[0], c) for c in corners[1:])
    assert sides[:2] == pytest.approx([0.1961, 0.32352])


def test_commands_are_clipped_like_the_simulator():
    assert clip_controls(45.0, 9.0) == (30.0, 4.0)
    assert clip_controls(-45.0, 0.0) == (-30.0, 0.1)


def test_car_is_placed_and_read_by_its_params_point():
    car = Car.at(1.0, 2.0, heading=90.0)
    assert (car.x, car.y, car.heading) == pytest.approx((1.0, 2.0, 90.0))
    # the wheels sit behind the params point: the rear axle 0.2217 m back
    lr, rr, lf, rf = wheel_positions(1.0, 2.0, math.radians(90.0))
    assert lr == pytest.approx((1.0 - 0.08, 2.0 - 0.14 - 0.081663))
    assert rf == pytest.approx((1.0 + 0.08, 2.0 - 0.14 + 0.082311))


def test_straight_driving_at_a_held_speed():
    car = Car.at(0.0, 0.0, heading=0.0, speed=2.0)
    for _ in range(15):
        car.step(0.0, 2.0)
    assert car.x == pytest.approx(2.0) and car.y == pytest.approx(0.0)


def test_speed_lags_the_command_and_steering_acts_two_steps_late():
    car = Car.at(0.0, 0.0, heading=0.0)
    car.step(30.0, 2.0)
    assert car.speed == pytest.approx(0.3 * 2.0)
    assert car.heading == pytest.approx(0.0)  # steering not yet in effect
    car.step(30.0, 2.0)
    assert car.heading == pytest.approx(0.0)
    car.step(30.0, 2.0)
    assert car.heading > 0  # positive steering turns left
    for _ in range(20):
        car.step(30.0, 2.0)
    assert car.speed == pytest.approx(2.0)


def test_turning_circle_uses_the_effective_wheelbase():
    car = Car.at(0.0, 0.0, heading=0.0, speed=1.0, steering_angle=20.0)
    h0 = car.heading
    car.step(20.0, 1.0)
    rate = math.radians(car.heading - h0) * C.STEP_HZ
    assert rate == pytest.approx(1.0 * math.tan(math.radians(20.0)) / C.EFFECTIVE_WHEELBASE_M)


def _open_loop_errors(log, model):
    """Place the car at logged poses, feed the logged commands for 1 s, measure the distance to the log."""
    trace = read_sim_trace(log)
    rows = trace.rows
    errs = []
    for k in range(2, len(rows) - 15):
        win = rows[k - 2:k + 16]
        if any(r.episode != rows[k].episode or r.episode_status != "in_progress" for r in win):
            continue
        prev, cur = win[1], win[2]
        speed = math.hypot(cur.x - prev.x, cur.y - prev.y) * C.STEP_HZ
        car = model(cur.x, cur.y, cur.yaw, speed, prev.steer)
        for r in win[2:17]:
            car.step(r.steer, r.throttle)
        errs.append(math.hypot(car.x - win[17].x, car.y - win[17].y))
    return np.array(errs)


class _PlainBicycle:
    """A plain kinematic bicycle with the real wheelbase and no lag: the baseline to beat."""

    def __init__(self, x, y, heading, speed, steer):
        h = math.radians(heading)
        self.bx, self.by, self.h = x - 0.14 * math.cos(h), y - 0.14 * math.sin(h), h

    def step(self, steer, speed):
        steer, speed = clip_controls(steer, speed)
        self.h += speed * math.tan(math.radians(steer)) / C.WHEELBASE_M / C.STEP_HZ
        self.bx += speed * math.cos(self.h) / C.STEP_HZ
        self.by += speed * math.sin(self.h) / C.STEP_HZ

    @property
    def x(self):
        return self.bx + 0.14 * math.cos(self.h)

    @property
    def y(self):
        return self.by + 0.14 * math.sin(self.h)


def test_fidelity_against_the_2026_simulator_log():
    log = shared_path("logs", "droa-eval-Spain_track-2026-simulation.log")
    ours = _open_loop_errors(log, lambda x, y, h, v, s: Car.at(x, y, h, speed=v, steering_angle=s))
    plain = _open_loop_errors(log, _PlainBicycle)
    assert len(ours) > 500
    print(f"1-s open-loop error, median: ours {np.median(ours):.3f} m, plain bicycle {np.median(plain):.3f} m")
    assert np.median(ours) <= 0.20
    assert np.median(ours) < 0.6 * np.median(plain)


def test_fidelity_on_the_2022_log_is_reported():
    """The 2022 log is simapp 4's older 'effort' physics; our model targets simapp 6, so only report it."""
    log = shared_path("logs", "console-eval-reinvent_base-2022-robomaker.log")
    ours = _open_loop_errors(log, lambda x, y, h, v, s: Car.at(x, y, h, speed=v, steering_angle=s))
    print(f"2022 log: median {np.median(ours):.3f} m over {len(ours)} windows")
    assert np.median(ours) < 0.5
