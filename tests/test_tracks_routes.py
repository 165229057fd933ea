"""AWS's tracks shipped with racer_env: the simulator's 127 route files (racer_env/sim/tracks/routes/, from
aws-deepracer-community/deepracer-simapp, Apache-2.0). Every one loads and matches routes.json, they are found by
name without a network, and the search order puts racer_env's own tracks first, then $RACER_TRACKS, then these,
then the downloaded ones.

All 127 files of simapp 6.0.5 (commit 01f5f015fd) are N×6 arrays and load; one is an open track (Straight_track,
a straight 5.71 m strip: DeepRacer's tracks are loops but this one). Older simapp route files with other shapes
are not shipped; were one to fail, the first test names it and why.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, shared_path
from racer_env import Track
from racer_env.cli import main
from racer_env.errors import TrackFileError
from racer_env.sim.track import (DEFAULT_TRACK, ROUTES_DIR, ROUTES_INDEX, TRACKS_DIR, aws_routes, aws_tracks,
                                 bundled_tracks, downloadable_tracks, track_search_path)

ROUTES = aws_routes()


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No $RACER_TRACKS, an empty $RACER_CACHE, and proxies that lead nowhere: any download attempt fails."""
    monkeypatch.delenv("RACER_TRACKS", raising=False)
    monkeypatch.setenv("RACER_CACHE", str(tmp_path / "cache"))
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("RACER_TRACKS_URL", raising=False)
    return tmp_path


def _git_blob(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_every_shipped_route_loads_and_matches_its_index(offline):
    files = sorted(p.stem for p in ROUTES_DIR.glob("*.npy"))
    assert len(ROUTES) == 127 and files == sorted(ROUTES)
    failed, open_tracks = {}, []
    for name, entry in ROUTES.items():
        data = (ROUTES_DIR / entry["file"]).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest(), _git_blob(data)) == (
            entry["bytes"], entry["sha256"], entry["blob"]), name
        try:
            t = Track.load(name)
        except TrackFileError as err:
            failed[name] = str(err)
            continue
        assert t.source == str(ROUTES_DIR / entry["file"]), name
        assert (len(t.rows) + t.duplicate_rows, round(t.length, 2), round(t.width, 2), t.direction, t.closed) == (
            entry["rows"], entry["length_m"], entry["width_m"], entry["direction"], entry["closed"]), name
        if not t.closed:
            open_tracks.append(name)
    assert not failed, failed  # name -> why it does not load
    assert open_tracks == ["Straight_track"]
    assert not any("problem" in e for e in ROUTES.values())


def test_the_licence_and_a_notice_naming_the_source_ship_beside_them():
    licence = (ROUTES_DIR / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence
    notice = (ROUTES_DIR / "NOTICE").read_text()
    entry = next(iter(ROUTES.values()))
    assert entry["license"] == "Apache-2.0" and entry["path"] == "bundle/routes"
    for fact in ("aws-deepracer-community/deepracer-simapp", "bundle/routes/", entry["commit"], "simapp 6.0.5",
                 "Apache License, Version 2.0", "127 .npy files"):
        assert fact in notice, fact


def test_the_wheel_declares_them_as_package_data():
    text = (REPO / "pyproject.toml").read_text()
    for pattern in ("sim/tracks/routes/*.npy", "sim/tracks/routes/LICENSE", "sim/tracks/routes/NOTICE",
                    "sim/tracks/routes/routes.json"):
        assert f'"{pattern}"' in text, pattern
    assert ROUTES_INDEX.parent == ROUTES_DIR == TRACKS_DIR / "routes"


def test_the_race_data_index_agrees_and_only_two_tracks_are_left_to_download():
    index = aws_tracks()
    both = set(index) & set(ROUTES)
    assert len(both) == 124
    assert all(index[n]["sha256"] == ROUTES[n]["sha256"] for n in both)
    # dropped from the simulator's bundle/routes/ in 2026, still in the race-data repository
    assert sorted(downloadable_tracks()) == ["2022_reinvent_champ", "H_track"]


def test_the_shipped_reinvent2019_track_is_the_shared_file():
    shared = shared_path("tracks", "reInvent2019_track.npy")
    assert np.array_equal(np.load(shared), np.load(ROUTES_DIR / "reInvent2019_track.npy"))
    assert shared.read_bytes() == (ROUTES_DIR / "reInvent2019_track.npy").read_bytes()


def test_the_search_order_is_racer_envs_own_then_yours_then_shipped_then_downloaded(offline, monkeypatch):
    yours, cache = offline / "yours", offline / "cache" / "tracks"
    yours.mkdir()
    cache.mkdir(parents=True)
    theirs = np.load(ROUTES_DIR / "reinvent_base.npy")
    for folder in (yours, cache):
        np.save(folder / f"{DEFAULT_TRACK}.npy", theirs)  # racer_env's own name: never overridden
    np.save(yours / "reInvent2019_track.npy", theirs)  # yours comes before the shipped file
    np.save(cache / "Oval_track.npy", theirs)  # the shipped file comes before a downloaded one
    monkeypatch.setenv("RACER_TRACKS", str(yours))
    assert track_search_path() == [TRACKS_DIR, yours, ROUTES_DIR, cache]
    assert Track.load(DEFAULT_TRACK).source == str(TRACKS_DIR / f"{DEFAULT_TRACK}.npy")
    assert Track.load("reInvent2019_track").source == str(yours / "reInvent2019_track.npy")
    assert Track.load("Oval_track").source == str(ROUTES_DIR / "Oval_track.npy")
    assert set(bundled_tracks()).isdisjoint(ROUTES)


def test_an_unknown_name_gets_one_line_that_says_what_was_expected(offline, capsys):
    assert main(["raceline", "reinvent2019_trak"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "no such track (did you mean reInvent2019_track" in err and "racer tracks --aws" in err
    assert str(ROUTES_DIR) in err


def test_the_env_takes_a_shipped_track_by_name(offline):
    from racer_env import RacerEnv

    env = RacerEnv(track="reInvent2019_track")
    env.reset(seed=0)
    assert env.track.source == str(ROUTES_DIR / "reInvent2019_track.npy") and round(env.track.length, 2) == 23.12


def test_droas_tracks_are_all_shipped_so_check_droa_takes_them_by_name(offline):
    from racer_env.tools.check.droa import DROA_TRACKS, check_droa

    assert set(DROA_TRACKS) <= set(ROUTES)
    v = check_droa("avoid_obstacles", "reinvent_base")
    assert v.accepted and v.track == "reinvent_base" and not any("not one of DRoA's" in n for n in v.notes)


def test_racer_tracks_download_fetches_nothing_for_a_shipped_track(offline, capsys):
    assert main(["tracks", "download", "reInvent2019_track"]) == 0
    out = capsys.readouterr().out
    assert "reInvent2019_track: shipped with racer_env" in out and "nothing to download" in out
    assert not (offline / "cache" / "tracks").exists() or not any((offline / "cache" / "tracks").iterdir())


@pytest.mark.slow
def test_racer_raceline_reinvent2019_track_runs_offline_with_no_racer_tracks(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("RACER_TRACKS", "RACER_TRACKS_URL", "no_proxy",
                                                            "NO_PROXY")}
    env.update(RACER_CACHE=str(tmp_path / "cache"), HOME=str(tmp_path), COLUMNS="200", http_proxy="http://127.0.0.1:9",
               https_proxy="http://127.0.0.1:9")
    (tmp_path / "cache").mkdir()
    proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "raceline", "reInvent2019_track", "--out",
                           str(tmp_path / "line")], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "reInvent2019_track: lap-time limit" in proc.stdout and (tmp_path / "line" / "raceline.json").exists()
    assert json.loads((tmp_path / "line" / "raceline.json").read_text())
    assert not (tmp_path / "cache" / "tracks").exists()  # nothing was downloaded
