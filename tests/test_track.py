import numpy as np
import pytest

from conftest import SHARED, shared_files, shared_path
from racer_env import Track, TrackFileError, bundled_tracks
from racer_env.sim.track import DEFAULT_TRACK

# name: (rows, length m, direction), from shared/deepracer/README.md and spec §6
REAL = {
    "reinvent_base": (119, 17.709, "counter-clockwise"),
    "Oval_track": (102, 19.550, "counter-clockwise"),
    "Bowtie_track": (163, 17.428, "counter-clockwise"),
    "reInvent2019_track": (155, 23.118, "counter-clockwise"),
    "Spain_track": (259, 59.998, "clockwise"),
    "Straight_track": (22, 5.707, "counter-clockwise"),
    "Tokyo_Training_track": (169, 22.630, "counter-clockwise"),
}


def test_bundled_tracks_are_at_deepracer_scale():
    names = bundled_tracks()
    assert len(names) >= 3 and DEFAULT_TRACK in names
    for name in names:
        t = Track.load(name)
        assert t.closed
        assert 0.76 - 1e-6 <= t.width <= 1.07 + 1e-6, name
        assert 15.0 <= t.length <= 60.0, name


def test_default_track_has_a_hairpin_and_sweepers():
    t = Track.load(DEFAULT_TRACK)
    c = t.center.pts
    heading = np.unwrap(np.arctan2(np.diff(c[:, 1]), np.diff(c[:, 0])))
    # a hairpin: 150+ degrees of turning within 3.5 m of track
    seg = np.sqrt(t.center.l2)
    window = int(3.5 / seg.mean())
    turn = np.abs(heading[window:] - heading[:-window])
    assert np.degrees(turn.max()) > 150


@pytest.mark.parametrize("name", sorted(REAL))
def test_every_shared_track_loads(name):
    path = shared_path("tracks", f"{name}.npy")
    rows, length, direction = REAL[name]
    t = Track.load(path)
    assert t.length == pytest.approx(length, abs=2e-3)
    assert t.direction == direction
    assert t.closed == (name != "Straight_track")
    # waypoints keep the closing point; only consecutive duplicates are merged (spec §1.2)
    raw = np.load(path)
    dup = int((np.hypot(*(raw[1:, :2] - raw[:-1, :2]).T) < 1e-9).sum())
    assert len(t.waypoints) == rows - dup
    if t.closed:
        assert t.waypoints[-1] == t.waypoints[0]


def test_every_shared_track_file_is_consistent():
    """Whatever tracks ../shared holds: each loads, its waypoints lie on its centre line, its widths are sane,
    and a pose at each waypoint has all wheels on the road."""
    from racer_env.sim.vehicle import wheels_on_track

    files = shared_files("tracks", "*.npy")
    if not files:
        pytest.skip(f"{SHARED}/tracks is absent")
    for f in files:
        t = Track.load(f)
        assert 5.0 < t.length < 100.0 and 0.5 < t.width < 1.2, f.name
        for k in range(0, len(t.waypoints) - 1, 7):
            where = t.project(*t.waypoints[k])
            assert where.distance == pytest.approx(0.0, abs=1e-9)
            assert where.arc == pytest.approx(float(t.arc_at_waypoint[k]), abs=1e-6)
            x, y, yaw = t.pose_at(where.arc + 0.01)
            assert all(wheels_on_track(t, x, y, yaw, t.project(x, y))), (f.name, k)


def test_widths_follow_the_simulator_recipe(reinvent):
    assert reinvent.width == pytest.approx(0.762, abs=2e-3)
    tokyo = Track.load(shared_path("tracks", "Tokyo_Training_track.npy"))
    assert tokyo.width == pytest.approx(0.660, abs=5e-3)  # not the row-wise 0.65-1.97 m


def test_csv_track_loads_like_npy(tmp_path, reinvent):
    f = tmp_path / "t.csv"
    f.write_text("center_x,center_y,inner_x,inner_y,outer_x,outer_y\n"
                 + "\n".join(",".join(repr(v) for v in row) for row in reinvent.rows.tolist()))
    t = Track.load(f)
    assert t.length == pytest.approx(reinvent.length)
    assert len(t.waypoints) == len(reinvent.waypoints)


def _square(n=20, r=2.0, w=0.6):
    a = np.linspace(0, 2 * np.pi, n, endpoint=False)
    c = np.column_stack([np.cos(a), np.sin(a)])
    rows = np.column_stack([c * r, c * (r - w / 2), c * (r + w / 2)])
    return np.vstack([rows, rows[:1]])


@pytest.mark.parametrize("rows, words", [
    (np.zeros((10, 4)), "shape"),
    (np.zeros((10,)), "shape"),
    (np.vstack([_square()[:5], [[np.nan] * 6]]), "finite"),
    (_square()[:2], "at least 3"),
    (np.zeros((5, 6)), "at least 3"),
])
def test_malformed_tracks_name_the_file_and_problem(tmp_path, rows, words):
    f = tmp_path / "bad.npy"
    np.save(f, rows)
    with pytest.raises(TrackFileError) as e:
        Track.load(f)
    assert str(f) in str(e.value) and words in str(e.value)


def test_crossing_borders_are_rejected(tmp_path):
    rows = _square()
    rows[5, 2:4] = rows[5, 4:6] * 1.3  # inner border pulled out across the centre line
    f = tmp_path / "cross.npy"
    np.save(f, rows)
    with pytest.raises(TrackFileError, match="crosses the centre line") as e:
        Track.load(f)
    assert str(f) in str(e.value)


def test_zero_length_and_missing_files(tmp_path):
    with pytest.raises(TrackFileError, match="no such track"):
        Track.load(tmp_path / "nope.npy")
    with pytest.raises(TrackFileError, match="racer_env.s own: canyon_gp"):
        Track.load("no_such_track_name")
    f = tmp_path / "junk.npy"
    f.write_text("not numpy")
    with pytest.raises(TrackFileError, match="junk.npy"):
        Track.load(f)
    g = tmp_path / "bad.csv"
    g.write_text("1,2,3,4,5,6\n1,2,x,4,5,6\n")
    with pytest.raises(TrackFileError, match="line 2"):
        Track.load(g)


def test_reversed_track_flips_direction(reinvent):
    r = reinvent.reversed()
    assert r.is_reversed and not reinvent.is_reversed
    assert r.direction == "clockwise"
    assert r.length == pytest.approx(reinvent.length)
    assert r.waypoints[0] == reinvent.waypoints[-1]


def test_projection_with_hint_matches_full_scan(reinvent):
    rng = np.random.default_rng(0)
    hint = 0
    for k in range(300):
        x, y, seg = reinvent.point_at(k * 0.05)
        x += rng.normal(0, 0.15)
        y += rng.normal(0, 0.15)
        a = reinvent.project(x, y, hint)
        b = reinvent.project(x, y)
        assert a[2] == pytest.approx(b[2], abs=1e-9)
        hint = a[0]


def test_tracks_are_found_on_the_search_path(tmp_path, monkeypatch):
    """Bundled tracks, then $RACER_TRACKS folders, then the folders a caller adds (a log's own folder)."""
    import gymnasium as gym

    from racer_env.sim.track import TRACKS_ENV

    folder = tmp_path / "my_tracks"
    folder.mkdir()
    np.save(folder / "oval_test.npy", _square())
    with pytest.raises(TrackFileError) as e:
        Track.load("oval_test.npy")
    assert "looked for the file, then in" in str(e.value) and "RACER_TRACKS" in str(e.value)
    monkeypatch.setenv(TRACKS_ENV, str(folder))
    assert Track.load("oval_test.npy").name == "oval_test" and Track.load("oval_test").name == "oval_test"
    env = gym.make("RacerEnv-v0", track="oval_test.npy", reward_function=lambda p: 1.0)
    env.reset(seed=0)
    monkeypatch.delenv(TRACKS_ENV)
    assert Track.load("oval_test", search=[folder]).name == "oval_test"


def test_racer_tracks_lists_what_is_found(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import REPO

    np.save(tmp_path / "listed_oval.npy", _square())
    (tmp_path / "broken.npy").write_text("not a track")
    proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "tracks"], capture_output=True, text=True, cwd=REPO,
                          timeout=60, env={**os.environ, "RACER_TRACKS": str(tmp_path), "COLUMNS": "200"})
    assert proc.returncode == 0, proc.stderr
    for name in ("harbour_loop", "kidney_speedway", "canyon_gp", "listed_oval"):
        assert name in proc.stdout
    assert "counter-clockwise" in proc.stdout and "unreadable" in proc.stdout
