"""racer raceline: the fastest line, its speed profile, its closed-loop check and the files it writes."""

import json
import math
import runpy
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, shared_path
from racer_env import ActionSpec, TrackFileError, load_model_metadata
from racer_env.constants import GRIP_MPS2, MAX_STEERING_DEG
from racer_env.sim.raceline import footprint_clearance, racing_line, speed_profile
from racer_env.sim.track import Track
from racer_env.sim.vehicle import EFFORT, KINEMATIC
from racer_env.tools.raceline import check_line

HARBOUR = Track.load("harbour_loop")
LINE = racing_line(HARBOUR)


@pytest.mark.parametrize("track", ["harbour_loop", "canyon_gp", "reInvent2019_track", "Tokyo_Training_track"])
def test_the_line_keeps_the_whole_footprint_inside_with_its_margin(track):
    t = Track.load(track) if track in ("harbour_loop", "canyon_gp") else Track.load(shared_path("tracks", f"{track}.npy"))
    for margin in (0.1, 0.05):
        line = LINE if (track == "harbour_loop" and margin == 0.1) else racing_line(t, margin=margin)
        inner, outer = footprint_clearance(t, line.points, line.heading)
        assert min(inner.min(), outer.min()) >= margin - 1e-3, (track, margin)


def test_optimising_for_time_beats_minimum_curvature_which_beats_the_centre_line():
    s = LINE.stages
    assert s["optimised"] < s["minimum curvature"] < s["centre line"]
    assert LINE.lap_time == s["optimised"]
    assert abs(LINE.time[-1] + LINE.length / len(LINE.points) / LINE.speed[-1] - LINE.lap_time) < 0.05


def test_the_speed_profile_respects_grip_steering_and_the_top_speed():
    v, k = LINE.speed, LINE.curvature
    assert np.all(v * v * np.abs(k) <= GRIP_MPS2 * 1.001)
    assert np.all(np.abs(k) <= math.tan(math.radians(MAX_STEERING_DEG)) / KINEMATIC.wheelbase_m * 1.01)
    assert v.max() <= 4.0 + 1e-9 and v.min() > 1.0
    assert 0.5 * v.max() > v.min()  # it slows for the hairpin


def test_speed_profile_passes():
    ds = np.full(100, 0.1)
    cap = np.full(100, 4.0)
    cap[50] = 1.0
    v = speed_profile(ds, cap, 4.0, 0.5, 15.0, 15.0)
    assert v[50] == 1.0 and v[49] < v[48] < 4.0 and v[51] < v[52] < 4.0  # brakes before, accelerates after
    assert v[10] == pytest.approx(4.0)


def test_the_effort_car_and_a_slower_action_space_are_slower():
    assert racing_line(HARBOUR, EFFORT).lap_time > LINE.lap_time
    assert racing_line(HARBOUR, speed_range=(0.5, 2.0)).lap_time > LINE.lap_time + 1.0


def test_a_tracking_controller_drives_the_line_at_its_limit():
    check = check_line(HARBOUR, LINE, ActionSpec.default(), KINEMATIC)
    print(f"harbour_loop: limit {LINE.lap_time:.3f} s, tracked laps {check.lap_times}, ratio {check.flying_ratio:.3f}")
    assert check.status == "lap_complete" and len(check.lap_times) == 3
    assert check.off_track == 0 and check.wheels_off_steps == 0
    assert 0.99 <= check.flying_ratio <= 1.05
    assert len(check.discrete_lap_times) == 3  # the derived discrete space laps too


def test_a_lap_from_rest_has_its_own_limit_and_the_tracking_controller_meets_it():
    """Every DeepRacer trial starts at rest: its first lap is compared with the standing-start limit."""
    check = check_line(HARBOUR, LINE, ActionSpec.default(), KINEMATIC)
    assert LINE.lap_time + 0.05 < LINE.standing_lap_time < LINE.lap_time + 0.5
    first = check.lap_times[0]  # from rest on the start line
    assert 0.99 <= first / LINE.standing_lap_time <= 1.05
    slow = racing_line(HARBOUR, EFFORT)  # the effort car's sluggish speed costs more from rest
    assert slow.standing_lap_time - slow.lap_time > LINE.standing_lap_time - LINE.lap_time


def test_an_open_track_has_no_racing_line():
    with pytest.raises(TrackFileError, match="needs a loop"):
        racing_line(Track.load(shared_path("tracks", "Straight_track.npy")))


def test_the_command_writes_its_five_files(tmp_path):
    out = tmp_path / "rl"
    proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "raceline", "harbour_loop", "--out", str(out)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "lap-time limit" in proc.stdout and "0 off-track" in proc.stdout
    rows = np.load(out / "raceline.npy")
    assert rows.shape[1] == 4 and np.all(np.diff(rows[:, 3]) > 0)
    listed = runpy.run_path(str(out / "raceline.py"))["RACING_LINE"]
    assert np.allclose(np.array(listed), rows, atol=1e-3)
    summary = json.loads((out / "raceline.json").read_text())
    assert summary["lap_time_s"] == pytest.approx(LINE.lap_time, abs=0.01) and summary["length_m"] > 15
    assert summary["standing_lap_time_s"] == pytest.approx(LINE.standing_lap_time, abs=0.01)
    actions = load_model_metadata(out / "model_metadata.json")
    assert actions.is_discrete and 8 <= len(actions.discrete) <= 16
    assert max(v for _, v in actions.discrete) == pytest.approx(4.0, abs=0.05)
    assert (out / "raceline.png").stat().st_size > 10_000
