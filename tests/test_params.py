import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import shared_path
from racer_env import PARAM_KEYS, Track, params_at
from racer_env.env.params import DOCUMENTED_KEYS, progress_from
from racer_env.env.logreader import read_sim_trace

HARBOUR = Track.load("harbour_loop")
TRACKS = [HARBOUR, Track.load("canyon_gp")]


def test_every_key_with_the_simulator_types(reinvent):
    p = params_at(reinvent, *reinvent.waypoints[3], 10.0)
    assert len(DOCUMENTED_KEYS) == 23 and len(PARAM_KEYS) == 27
    assert set(p) == set(PARAM_KEYS)
    assert isinstance(p["steps"], float) and p["steps"] == 2.0
    assert isinstance(p["closest_waypoints"], list) and all(isinstance(i, int) for i in p["closest_waypoints"])
    assert all(isinstance(w, tuple) and len(w) == 2 for w in p["waypoints"])
    assert len(p["waypoints"]) == 119 and p["waypoints"][-1] == p["waypoints"][0]  # the closing point
    assert p["track_length"] == pytest.approx(17.709, abs=1e-3)
    for key in ("all_wheels_on_track", "is_left_of_center", "is_offtrack", "is_crashed", "is_reversed",
                "object_in_camera"):
        assert isinstance(p[key], bool), key
    assert p["objects_location"] == [] and p["closest_objects"] == [0, 0]


def test_speed_and_steering_are_the_commands_unclipped(reinvent):
    p = params_at(reinvent, *reinvent.waypoints[3], 0.0, steering_angle=-45.0, speed=5.0)
    assert p["speed"] == 5.0 and p["steering_angle"] == -45.0


def test_heading_is_wrapped_into_minus180_180(reinvent):
    assert params_at(reinvent, *reinvent.waypoints[3], 540.0)["heading"] == 180.0
    assert params_at(reinvent, *reinvent.waypoints[3], -180.0)["heading"] == 180.0
    assert params_at(reinvent, *reinvent.waypoints[3], 181.0)["heading"] == pytest.approx(-179.0)


def test_start_progress_is_the_params_point_offset(reinvent):
    # the body origin on the start line: the params point is 0.14 m ahead (spec §1.1)
    (x0, y0), (x1, y1) = reinvent.waypoints[0], reinvent.waypoints[1]
    h = math.atan2(y1 - y0, x1 - x0)
    p = params_at(reinvent, x0 + 0.14 * math.cos(h), y0 + 0.14 * math.sin(h), math.degrees(h))
    assert p["progress"] == pytest.approx(0.14 / 17.709 * 100, abs=1e-3)
    assert p["projection_distance"] == pytest.approx(0.14, abs=1e-3)


def test_progress_wrap_rules():
    # positions and the start in % of the lap from waypoint 0
    assert progress_from(99.5, 0.0, 99.0) == pytest.approx(99.5)
    assert progress_from(0.2, 0.0, 99.5) == 100.0  # crossed the line forwards: capped at 100
    assert progress_from(99.8, 0.0, 0.5) == pytest.approx(-0.2)  # backwards over the line
    assert progress_from(30.0, 25.0, 0.0) == pytest.approx(5.0)  # relative to the episode start
    assert progress_from(20.0, 25.0, 90.0) == pytest.approx(95.0)
    assert progress_from(95.0, 0.0, None) == pytest.approx(95.0)


def test_closest_waypoints_are_previous_and_next_by_projection(reinvent):
    # a point just past waypoint 10 but nearer waypoint 10: prev=10, next=11
    (ax, ay), (bx, by) = reinvent.waypoints[10], reinvent.waypoints[11]
    x, y = ax + 0.1 * (bx - ax), ay + 0.1 * (by - ay)
    assert params_at(reinvent, x, y, 0.0)["closest_waypoints"] == [10, 11]
    # the last segment: next is the closing duplicate
    (ax, ay), (bx, by) = reinvent.waypoints[117], reinvent.waypoints[118]
    p = params_at(reinvent, (ax + bx) / 2, (ay + by) / 2, 0.0)
    assert p["closest_waypoints"] == [117, 118]


def test_left_of_center_and_reversed_flag(reinvent):
    # reinvent is counter-clockwise: the inner border is on the left
    x, y = reinvent.rows[20, 2:4] * 0.8 + reinvent.rows[20, 0:2] * 0.2
    assert params_at(reinvent, x, y, 0.0)["is_left_of_center"] is True
    rev = reinvent.reversed()
    p = params_at(rev, x, y, 0.0)
    assert p["is_reversed"] is True and p["is_left_of_center"] is False


def test_off_track_needs_all_four_wheels_off(reinvent):
    seg = 30
    cx, cy = reinvent.rows[seg, 0:2]
    ox, oy = reinvent.rows[seg, 4:6]
    n = np.array([ox - cx, oy - cy]) / math.hypot(ox - cx, oy - cy)
    (ax, ay), (bx, by) = reinvent.waypoints[seg], reinvent.waypoints[seg + 1]
    heading = math.degrees(math.atan2(by - ay, bx - ax))
    half = reinvent.width / 2
    on = params_at(reinvent, cx + n[0] * (half - 0.15), cy + n[1] * (half - 0.15), heading)
    assert on["all_wheels_on_track"] and not on["is_offtrack"]
    some = params_at(reinvent, cx + n[0] * half, cy + n[1] * half, heading)
    assert not some["all_wheels_on_track"] and not some["is_offtrack"]
    off = params_at(reinvent, cx + n[0] * (half + 0.2), cy + n[1] * (half + 0.2), heading)
    assert not off["all_wheels_on_track"] and off["is_offtrack"]


def test_objects_keys(reinvent):
    objs = [reinvent.waypoints[20], reinvent.waypoints[60]]
    x, y = reinvent.waypoints[10]
    (nx, ny) = reinvent.waypoints[11]
    p = params_at(reinvent, x, y, math.degrees(math.atan2(ny - y, nx - x)), objects=objs)
    assert p["objects_location"] == [list(o) for o in objs]
    assert p["closest_objects"] == [1, 0]
    assert p["objects_distance"][0] < p["objects_distance"][1]
    assert p["objects_distance_from_center"] == pytest.approx([0.0, 0.0], abs=1e-9)
    assert p["objects_heading"] == [0.0, 0.0] and p["objects_speed"] == [0.0, 0.0]
    # next is object 0: the simulator tests registry entry 0, the agent itself, never visible (objects spec §6.8)
    assert p["object_in_camera"] is False
    intended = params_at(reinvent, x, y, math.degrees(math.atan2(ny - y, nx - x)), objects=objs,
                         object_in_camera="intended")
    assert intended["object_in_camera"] is True
    crash = params_at(reinvent, *objs[0], 0.0, objects=objs)
    assert crash["is_crashed"] is True


# ------------------------------------------------------------- properties
along = st.floats(0.0, 0.999)


@settings(max_examples=150, deadline=None)
@given(track=st.sampled_from(TRACKS), a=along, b=along)
def test_progress_is_in_range_and_increases_along_the_centre_line(track, a, b):
    a, b = sorted((a, b))
    pa = params_at(track, *track.point_at(a * track.length)[:2], 0.0)["progress"]
    pb = params_at(track, *track.point_at(b * track.length)[:2], 0.0)["progress"]
    assert 0.0 <= pa <= 100.0 and 0.0 <= pb <= 100.0
    if b - a > 1e-6 and a > 1e-6:
        assert pb >= pa - 1e-9


@settings(max_examples=150, deadline=None)
@given(track=st.sampled_from(TRACKS), s=along, lateral=st.floats(-0.3, 0.3))
def test_closest_waypoints_are_consecutive(track, s, lateral):
    x, y, seg = track.point_at(s * track.length)
    dx, dy = track.center.dx[seg], track.center.dy[seg]
    n = math.hypot(dx, dy)
    p = params_at(track, x - dy / n * lateral, y + dx / n * lateral, 0.0)
    prv, nxt = p["closest_waypoints"]
    assert nxt == (prv + 1) % len(p["waypoints"])


@settings(max_examples=150, deadline=None)
@given(track=st.sampled_from(TRACKS), s=along)
def test_distance_from_center_is_zero_on_the_centre_line(track, s):
    x, y, _ = track.point_at(s * track.length)
    assert params_at(track, x, y, 0.0)["distance_from_center"] == pytest.approx(0.0, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(track=st.sampled_from(TRACKS), s=along, off=st.floats(0.01, 0.3))
def test_is_left_of_center_flips_across_the_centre_line(track, s, off):
    x, y, seg = track.point_at(s * track.length)
    dx, dy = track.center.dx[seg], track.center.dy[seg]
    n = math.hypot(dx, dy)
    lx, ly = -dy / n, dx / n  # left of the driving direction
    left = params_at(track, x + lx * off, y + ly * off, 0.0)["is_left_of_center"]
    right = params_at(track, x - lx * off, y - ly * off, 0.0)["is_left_of_center"]
    assert left is True and right is False


@settings(max_examples=150, deadline=None)
@given(track=st.sampled_from(TRACKS), s=along, lateral=st.floats(-0.1, 0.1), dh=st.floats(-20, 20))
def test_all_wheels_on_track_well_inside(track, s, lateral, dh):
    x, y, seg = track.point_at(s * track.length)
    dx, dy = track.center.dx[seg], track.center.dy[seg]
    n = math.hypot(dx, dy)
    heading = math.degrees(math.atan2(dy, dx)) + dh
    p = params_at(track, x - dy / n * lateral, y + dx / n * lateral, heading)
    assert p["all_wheels_on_track"] and not p["is_offtrack"]


# ------------------------------------------------- against the real simulator
def test_params_agree_with_the_aws_evaluation_log(reinvent):
    """Part 8: progress, closest_waypoint and track_len of every SIM_TRACE_LOG line of a real log."""
    trace = read_sim_trace(shared_path("logs", "console-eval-reinvent_base-2022-robomaker.log"))
    assert trace.problems == []
    progress_ok = waypoint_ok = 0
    n = 0
    for episode in trace.episodes():
        prev = 0.0
        for r in episode:
            p = params_at(reinvent, r.x, r.y, r.yaw, steps=r.steps, prev_progress=prev)
            prev = p["progress"]
            n += 1
            progress_ok += abs(p["progress"] - r.progress) <= 0.1
            a, b = p["closest_waypoints"]
            (ax, ay), (bx, by) = p["waypoints"][a], p["waypoints"][b]
            nearer = a if math.hypot(r.x - ax, r.y - ay) <= math.hypot(r.x - bx, r.y - by) else b
            waypoint_ok += nearer == r.closest_waypoint
            assert abs(p["track_length"] - r.track_len) <= 1e-3
    print(f"{n} lines: progress within 0.1 pp {progress_ok / n:.2%}, closest_waypoint {waypoint_ok / n:.2%}")
    assert n == 737
    assert progress_ok / n >= 0.995
    assert waypoint_ok / n >= 0.99


def test_waypoint_numbering_follows_the_logs_generation():
    """Spec §1.2: before March 2026 every file row was a waypoint, duplicates included; now duplicates merge.
    The March-2026 Spain log numbers closest_waypoint the old way (its row 17 repeats row 16)."""
    from racer_env.training.logs import track_for_log, waypoint_agreement

    log = shared_path("logs", "droa-eval-Spain_track-2026-simulation.log")
    spain = shared_path("tracks", "Spain_track.npy")
    rows = read_sim_trace(log).rows
    kept = Track.load(spain, merge_duplicates=False)
    merged = Track.load(spain)
    assert kept.duplicate_rows == 1 and len(kept.waypoints) == len(merged.waypoints) + 1 == 259
    assert waypoint_agreement(kept, rows) >= 0.99
    assert waypoint_agreement(merged, rows) < 0.5
    assert track_for_log(log, spain, rows).merge_duplicates is False
    # a log of today's numbering (our own, driven on the merged track) picks the merged one
    from racer_env.env.simtrace import TraceRow, closest_waypoint

    env_rows = []
    for k in range(0, 400):
        x, y, _ = merged.pose_at(k * 0.15, 0.1)
        p = params_at(merged, x, y, 0.0)
        prv, nxt = p["closest_waypoints"]
        cw = closest_waypoint(p["waypoints"], prv, nxt, x, y)
        env_rows.append(TraceRow(0, k + 2.0, x, y, 0.0, 0.0, 1.0, "0", 1.0, False, True, 0.0, cw, 60.0, 0.0))
    assert track_for_log(log, spain, env_rows).merge_duplicates is True
    # progress does not care: the same within 0.1 pp either way
    p1 = params_at(kept, rows[600].x, rows[600].y, rows[600].yaw)["progress"]
    p2 = params_at(merged, rows[600].x, rows[600].y, rows[600].yaw)["progress"]
    assert abs(p1 - p2) < 0.1


def test_a_track_with_kept_duplicates_drives_a_lap():
    """The projection walks past the zero-length segment of a duplicate row."""
    from racer_env import RacerEnv
    from racer_env.sim.drivers import PurePursuit

    spain = Track.load(shared_path("tracks", "Spain_track.npy"), merge_duplicates=False)
    env = RacerEnv(track=spain, reward_function=lambda p: 1.0, mode="eval")
    env.reset(seed=0)
    driver = PurePursuit(env.track, 1.5)
    while True:
        _, _, te, tr, info = env.step(env.actions.to_action(*driver.controls(env.car)))
        if te or tr:
            break
    assert info["episode_status"] == "lap_complete"
