"""racer tracks download against a local HTTP server on 127.0.0.1 serving a mirror of the race-data layout: good
files, a corrupt one, a 404, a connection dropped mid-file, a proxy; nothing half-written stays in the cache."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from pathlib import Path

import numpy as np
import pytest

import racer_env.sim.track as track_module
from conftest import shared_path
from racer_env import Track
from racer_env.cli import main
from racer_env.errors import TrackFileError


def _rows(radius: float) -> np.ndarray:
    a = np.linspace(0.0, 2 * np.pi, 41)
    c, s = np.cos(a), np.sin(a)
    rows = np.column_stack([radius * c, radius * s, (radius - 0.38) * c, (radius - 0.38) * s,
                            (radius + 0.38) * c, (radius + 0.38) * s])
    rows[-1] = rows[0]
    return rows


class Mirror:
    """A local server for ``npy/<file>``: ``files`` maps a file name to its bytes; ``corrupt`` files are served
    altered, ``drop_first`` ones cut off mid-body on their first request; as a proxy it serves absolute URLs."""

    def __init__(self, folder: Path):
        self.files: dict[str, bytes] = {}
        self.corrupt: set[str] = set()
        self.drop_first: set[str] = set()
        self.requests: list[str] = []
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                mirror.requests.append(self.path)
                name = self.path.rstrip("/").rsplit("/", 1)[-1]
                if name not in mirror.files:
                    self.send_error(404)
                    return
                data = mirror.files[name]
                if name in mirror.corrupt:
                    data = data[:-16] + bytes(b ^ 0xFF for b in data[-16:-8]) + data[-8:]
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if name in mirror.drop_first:
                    mirror.drop_first.discard(name)
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(2)  # the connection drops mid-file
                    return
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A mirror of three synthetic tracks, racer_env's index pointed at them, and an empty track cache."""
    m = Mirror(tmp_path)
    entries = []
    for name, radius in (("ring_small", 2.0), ("ring_big", 3.0), ("ring_gone", 2.5)):
        buf = tmp_path / f"{name}.npy"
        np.save(buf, _rows(radius))
        data = buf.read_bytes()
        if name != "ring_gone":  # listed in the index, missing on the server: a 404
            m.files[f"{name}.npy"] = data
        entries.append({"name": name, "file": f"{name}.npy", "title": name, "bytes": len(data),
                        "sha256": hashlib.sha256(data).hexdigest(), "length_m": 1.0, "width_m": 0.76,
                        "direction": "counter-clockwise", "closed": True})
    index = tmp_path / "aws_tracks.json"
    index.write_text(json.dumps({"source": "test", "path": "npy", "commit": "test", "tracks": entries}))
    monkeypatch.setattr(track_module, "AWS_TRACKS_INDEX", index)
    monkeypatch.setenv("RACER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("RACER_TRACKS_URL", m.url + "/npy/")
    monkeypatch.setattr("racer_env.tools.tracks.time.sleep", lambda s: None)  # no waiting between retries
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(var, raising=False)
    yield m
    m.server.shutdown()


def _cache(tmp_path) -> list[str]:
    folder = tmp_path / "cache" / "tracks"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_track_unknown_here_names_the_command_that_fetches_it_then_is_found_by_name(mirror, tmp_path, capsys):
    with pytest.raises(TrackFileError, match="racer tracks download ring_small"):
        Track.load("ring_small")
    assert main(["tracks", "download", "ring_small"]) == 0
    assert "ring_small: downloaded" in capsys.readouterr().out
    assert Track.load("ring_small").closed and _cache(tmp_path) == ["ring_small.npy"]
    assert main(["tracks", "download", "ring_small"]) == 0  # a good copy is not fetched again
    assert "already there" in capsys.readouterr().out and len(mirror.requests) == 1


def test_a_corrupt_file_is_retried_then_refused_and_nothing_stays(mirror, tmp_path, capsys):
    mirror.corrupt.add("ring_big.npy")
    assert main(["tracks", "download", "ring_big"]) == 2
    out, err = capsys.readouterr()
    assert "ring_big: failed" in out and "corrupt" in out and len(err.strip().splitlines()) == 1
    assert len(mirror.requests) == 4  # the first attempt and three retries
    assert _cache(tmp_path) == []


def test_a_404_fails_at_once_and_the_others_still_download(mirror, tmp_path, capsys):
    assert main(["tracks", "download", "ring_gone", "ring_small"]) == 2
    out, err = capsys.readouterr()
    assert "ring_gone: failed (HTTP 404" in out and "ring_small: downloaded" in out
    assert "1 of 2 tracks failed" in err
    assert sum(r.endswith("ring_gone.npy") for r in mirror.requests) == 1
    assert _cache(tmp_path) == ["ring_small.npy"]


def test_a_connection_dropped_mid_file_is_retried(mirror, tmp_path, capsys):
    mirror.drop_first.add("ring_big.npy")
    assert main(["tracks", "download", "--all"]) == 2  # ring_gone is a 404; the other two arrive
    out = capsys.readouterr().out
    assert "ring_big: downloaded" in out and "ring_small: downloaded" in out
    assert sum(r.endswith("ring_big.npy") for r in mirror.requests) == 2
    assert _cache(tmp_path) == ["ring_big.npy", "ring_small.npy"]
    assert np.array_equal(np.load(tmp_path / "cache" / "tracks" / "ring_big.npy"), _rows(3.0))


def test_downloads_go_through_the_proxy_the_environment_names(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("RACER_TRACKS_URL", "http://tracks.mirror.invalid/npy/")  # only the proxy can reach it
    monkeypatch.setenv("http_proxy", mirror.url)
    assert main(["tracks", "download", "ring_small"]) == 0
    assert mirror.requests == ["http://tracks.mirror.invalid/npy/ring_small.npy"]


def test_an_unknown_name_is_refused_before_anything_is_fetched(mirror, capsys):
    assert main(["tracks", "download", "ring_smal"]) == 2
    assert "did you mean ring_small" in capsys.readouterr().err and mirror.requests == []


def test_the_shipped_index_matches_the_real_files_and_download_leaves_the_shipped_ones_be(
        tmp_path, monkeypatch, capsys):
    """The real index against the real files (the shared tracks, all shipped with racer_env now): the same bytes
    as the shipped routes, the index's length and direction as racer_env reads them; download fetches none."""
    folder = shared_path("tracks")
    m = Mirror(tmp_path)
    m.files = {p.name: p.read_bytes() for p in folder.glob("*.npy")}
    monkeypatch.setenv("RACER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("RACER_TRACKS_URL", m.url + "/npy/")
    monkeypatch.delenv("RACER_TRACKS", raising=False)
    try:
        assert main(["tracks", "download", *sorted(p.stem for p in folder.glob("*.npy"))]) == 0
        assert capsys.readouterr().out.count(": shipped with racer_env") == len(m.files) and m.requests == []
        index = track_module.aws_tracks()
        for p in folder.glob("*.npy"):
            t = Track.load(p.stem)
            assert t.source == str(track_module.ROUTES_DIR / p.name)
            assert Path(t.source).read_bytes() == p.read_bytes()
            assert hashlib.sha256(p.read_bytes()).hexdigest() == index[p.stem]["sha256"]
            assert (round(t.length, 2), t.direction) == (index[p.stem]["length_m"], index[p.stem]["direction"])
    finally:
        m.server.shutdown()


def test_download_all_fetches_only_what_racer_env_does_not_ship(mirror, tmp_path, monkeypatch, capsys):
    index = json.loads(track_module.AWS_TRACKS_INDEX.read_text())
    shipped = {"name": "reInvent2019_track", "file": "reInvent2019_track.npy", "title": "Smile Speedway",
               "bytes": 1, "sha256": "0" * 64, "length_m": 23.12, "width_m": 1.07, "direction": "counter-clockwise",
               "closed": True}
    index["tracks"].append(shipped)
    track_module.AWS_TRACKS_INDEX.write_text(json.dumps(index))
    mirror.files["reInvent2019_track.npy"] = b"not fetched"
    assert main(["tracks", "download", "--all"]) == 2  # ring_gone is a 404
    out = capsys.readouterr().out
    assert "reInvent2019_track" not in out and not any("reInvent2019" in r for r in mirror.requests)
    assert _cache(tmp_path) == ["ring_big.npy", "ring_small.npy"]
