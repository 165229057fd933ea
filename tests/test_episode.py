"""DeepRacer's episode rules, tested on the Episode alone (no env)."""

import math

import pytest

from racer_env import Track
from racer_env.env.episode import Episode, Penalties, round_robin_start, start_pose, start_progress_of

TRACK = Track.load("harbour_loop")


def _params(progress, offtrack=False, crashed=False):
    return {"progress": progress, "is_offtrack": offtrack, "is_crashed": crashed}


def test_round_robin_advances_five_percent_and_wraps():
    assert [round_robin_start(k) for k in (0, 1, 2, 20, 21)] == pytest.approx([0.0, 5.0, 10.0, 0.0, 5.0])
    assert round_robin_start(1, offset_progress=97.0) == pytest.approx(2.0)


def test_start_pose_puts_the_body_origin_on_the_centre_line():
    x, y, yaw = start_pose(TRACK, 25.0)
    assert start_progress_of(TRACK, x, y, yaw) == pytest.approx(25.0, abs=1e-6)
    # the params point is 0.14 m ahead, so progress reads slightly more than the start
    assert TRACK.percent_of_lap(TRACK.project(x, y).arc) == pytest.approx(25.0 + 100 * 0.14 / TRACK.length, abs=0.05)


def test_priority_lap_complete_then_crash_then_off_track():
    ep = Episode(TRACK, 0.0)
    ep.next_step()
    assert ep.judge(_params(100.0, offtrack=True, crashed=True), 0.1).status == "lap_complete"
    ep = Episode(TRACK, 0.0)
    ep.next_step()
    assert ep.judge(_params(5.0, offtrack=True, crashed=True), 0.1).status == "crashed"
    ep = Episode(TRACK, 0.0)
    ep.next_step()
    j = ep.judge(_params(5.0, offtrack=True), 0.1)
    assert (j.status, j.terminated, j.put_back) == ("off_track", True, False)


def test_reversed_after_15_falling_steps_and_immobilized_after_15_still_ones():
    ep = Episode(TRACK, 0.0)
    ep.prev_progress = 50.0
    statuses = []
    for k in range(16):
        ep.next_step()
        statuses.append(ep.judge(_params(49.0 - k), 0.01).status)
    assert statuses[13] == "in_progress" and statuses[14] == "reversed"
    ep = Episode(TRACK, 0.0)
    statuses = []
    for k in range(16):
        ep.next_step()
        statuses.append(ep.judge(_params(1.0), 0.0002).status)
    assert statuses[13] == "in_progress" and statuses[14] == "immobilized"


def test_a_reset_pauses_for_the_penalty_and_counts():
    ep = Episode(TRACK, 0.0, max_resets=1, penalties=Penalties(off_track=2.0))
    ep.next_step()
    ep.judge(_params(10.0), 0.1)
    ep.next_step()
    j = ep.judge(_params(10.5, offtrack=True), 0.1)
    assert j.put_back and not j.terminated and ep.pause_steps == 30
    assert ep.counts["off_track"] == 1 and ep.counts["reset"] == 1
    for _ in range(30):
        ep.next_step()
        assert ep.pause_step().status == "pause"
    assert not ep.paused
    x, y, yaw = ep.put_back_pose(*TRACK.pose_at(TRACK.arc_of_percent(10.5), 0.5)[:2])
    where = TRACK.project(x, y)
    # on the left lane, a quarter of the width from the centre, facing along the track
    assert where.distance == pytest.approx(TRACK.vertex_widths[where.seg] / 4, abs=0.03)
    assert math.cos(yaw - TRACK.heading_at(where.seg)) > 0.99
    ep.next_step()
    assert ep.judge(_params(11.0, offtrack=True), 0.1).terminated  # no resets left


def test_continuous_laps_restart_progress_and_time_each_lap():
    ep = Episode(TRACK, 0.0, laps=2)
    for _ in range(29):
        ep.next_step()
        ep.judge(_params(50.0), 0.1)
    ep.next_step()
    j = ep.judge(_params(100.0), 0.1)
    assert j.status == "lap_complete" and not j.terminated
    assert ep.lap_time == pytest.approx(31 / 15)  # the lap just completed (prepare step included), not 0 s
    assert ep.prev_progress == 0.0 and ep.laps_done == 1


def test_time_up_truncates():
    ep = Episode(TRACK, 0.0, max_steps=3)
    ep.next_step()
    ep.judge(_params(1.0), 0.1)
    ep.next_step()
    j = ep.judge(_params(2.0), 0.1)
    assert j.truncated and not j.terminated and j.status == "time_up"
