"""racer tracks: the tracks found by name, and AWS's tracks that racer_env does not ship, fetched into the cache.

racer_env ships AWS's tracks as the simulator races on them: the 127 route files of
aws-deepracer-community/deepracer-simapp (``racer_env/sim/tracks/routes/``, Apache-2.0, see its NOTICE). The
community's race-data repository (aws-deepracer-community/deepracer-race-data, ``raw_data/tracks/npy/``) holds
two more that the simulator no longer carries (2022_reinvent_champ and H_track, dropped from ``bundle/routes/``
in 2026). racer_env ships an index of the race-data files (``racer_env/sim/tracks/aws_tracks.json``: name,
SHA-256, size, length, width, direction) pinned to one commit, and downloads those it does not ship on request
into ``$RACER_CACHE/tracks``, which is on the track search path, so ``--track H_track`` then works everywhere.
Asked for a track it ships, download fetches nothing and says where the file is.

A download goes to a temporary file beside its destination and is renamed into place only when its size and
SHA-256 match the index, so nothing half-written or corrupt is ever found by name. A dropped connection, a
timeout or a corrupt file is retried (``RETRIES`` times, waiting 0.5 s, 1 s, 2 s...); a 404 is not. The
standard proxy variables (``https_proxy``, ``http_proxy``, ``no_proxy``) are honoured, as urllib honours them;
``$RACER_TRACKS_URL`` points at a mirror of the ``npy/`` folder instead.
"""

from __future__ import annotations

import difflib
import hashlib
import http.client
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from racer_env.cache import tracks_cache
from racer_env.errors import RacerEnvError
from racer_env.sim.track import ROUTES_DIR, aws_routes, aws_tracks, downloadable_tracks, listed_tracks, track_files

__all__ = ["download_tracks", "Download", "track_url", "URL_ENV", "RETRIES", "tracks_listing", "aws_listing"]

URL_ENV = "RACER_TRACKS_URL"
"""A base URL (a mirror of raw_data/tracks/npy/) to download from instead of GitHub."""
RETRIES = 3
"""Attempts after the first, for a dropped connection, a timeout or a corrupt file."""
_GITHUB = "https://raw.githubusercontent.com/aws-deepracer-community/deepracer-race-data/{commit}/{path}/"


@dataclass
class Download:
    """One track's outcome: ``status`` is ``downloaded``, ``already there``, ``shipped`` (racer_env ships it:
    nothing fetched, ``path`` is the shipped file) or ``failed``."""

    name: str
    path: Path
    status: str
    detail: str = ""
    attempts: int = 0


def track_url(entry: dict) -> str:
    """Where a track of the index is fetched from: ``$RACER_TRACKS_URL`` + its file, else GitHub at the index's
    commit."""
    base = os.environ.get(URL_ENV) or _GITHUB.format(commit=entry["commit"], path=entry["path"])
    return base.rstrip("/") + "/" + entry["file"]


def download_tracks(names: list[str], every: bool = False, force: bool = False, timeout_s: float = 30.0,
                    progress: Callable[[Download], None] | None = None) -> list[Download]:
    """Download AWS's tracks that racer_env does not ship by name (or ``every`` one) into the track cache.

    Args:
        names: names of AWS's tracks (``racer tracks --aws`` lists them); a shipped one is not fetched.
        every: all the tracks of the index that racer_env does not ship.
        force: download again even when a good copy is there.
        timeout_s: per connection attempt.
        progress: called with each track's outcome as it comes.

    Returns:
        One :class:`Download` a track, in order.

    Raises:
        RacerEnvError: a name that is neither shipped nor in the index (with the nearest names), before anything
            is fetched.
    """
    index = downloadable_tracks()
    shipped = aws_routes()
    if every:
        names = list(index)
    if not names and not every:
        raise RacerEnvError("racer tracks download: expected track names (racer tracks --aws lists them) or --all")
    for name in names:
        if name not in index and name not in shipped:
            near = difflib.get_close_matches(name, list(index) + list(shipped), n=3)
            raise RacerEnvError(f"{name}: not one of AWS's tracks (racer_env ships {len(shipped)}, "
                                f"{len(index)} more can be downloaded)"
                                + (f"; did you mean {', '.join(near)}?" if near else "; racer tracks --aws lists them"))
    folder = tracks_cache()
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for name in dict.fromkeys(names):
        if name in shipped:
            result = Download(name, ROUTES_DIR / shipped[name]["file"], "shipped")
        else:
            result = _download(index[name], folder, force, timeout_s)
        results.append(result)
        if progress is not None:
            progress(result)
    return results


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _download(entry: dict, folder: Path, force: bool, timeout_s: float) -> Download:
    dest = folder / entry["file"]
    if dest.exists() and not force and _sha256(dest) == entry["sha256"]:
        return Download(entry["name"], dest, "already there")
    url = track_url(entry)
    problem = ""
    for attempt in range(RETRIES + 1):
        if attempt:
            time.sleep(0.5 * 2 ** (attempt - 1))
        try:
            _fetch(url, dest, entry, timeout_s)
            return Download(entry["name"], dest, "downloaded", url, attempt + 1)
        except urllib.error.HTTPError as err:
            problem = f"HTTP {err.code} {err.reason} from {url}"
            if err.code in (403, 404, 410):
                return Download(entry["name"], dest, "failed", problem, attempt + 1)
        except (urllib.error.URLError, http.client.HTTPException, socket.timeout, ConnectionError,
                _Corrupt) as err:
            problem = f"{err} ({url})" if isinstance(err, _Corrupt) else f"{_reason(err)} from {url}"
    return Download(entry["name"], dest, "failed", problem, RETRIES + 1)


class _Corrupt(Exception):
    """The bytes that came do not match the index."""


def _reason(err: BaseException) -> str:
    reason = getattr(err, "reason", None)
    return f"{type(err).__name__}: {reason if reason is not None else err}"


def _fetch(url: str, dest: Path, entry: dict, timeout_s: float) -> None:
    """Stream ``url`` into a temporary file beside ``dest`` and rename it there when size and SHA-256 match."""
    request = urllib.request.Request(url, headers={"User-Agent": "racer_env (racer tracks download)"})
    fd, tmp = tempfile.mkstemp(prefix=f".{entry['file']}.", suffix=".part", dir=dest.parent)
    try:
        digest, size = hashlib.sha256(), 0
        opener = urllib.request.build_opener()  # its ProxyHandler reads the proxy variables now
        with os.fdopen(fd, "wb") as out, opener.open(request, timeout=timeout_s) as response:
            while chunk := response.read(65536):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if size != entry["bytes"] or digest.hexdigest() != entry["sha256"]:
            raise _Corrupt(f"corrupt: {size} bytes with SHA-256 {digest.hexdigest()[:12]}..., expected "
                           f"{entry['bytes']} bytes with {entry['sha256'][:12]}...")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# ------------------------------------------------------------------------------------------- racer tracks
def _direction(entry: dict) -> str:
    """"ccw" or "cw" (and "open" for a track that is not a loop), from an index entry."""
    short = "ccw" if entry.get("direction") == "counter-clockwise" else "cw" if entry.get("direction") else "?"
    return short + ("" if entry.get("closed", True) else " open")


def _found(files: dict[str, Path]) -> Callable[[str], str]:
    """Where a name of AWS's resolves on the search path: shipped, downloaded, yours ($RACER_TRACKS) or no."""
    cache = tracks_cache()

    def where(name: str) -> str:
        path = files.get(name)
        if path is None:
            return "no"
        return "shipped" if path.parent == ROUTES_DIR else "downloaded" if path.parent == cache else "yours"

    return where


def tracks_listing() -> list[Any]:
    """What ``racer tracks`` prints (rich renderables): a table of the tracks found by name, in the order they are
    searched (racer_env's own, ``$RACER_TRACKS``, downloaded), each loaded for its length, width and direction;
    then a paragraph on AWS's tracks, shipped and downloadable, which :func:`aws_listing` lists one a row."""
    from racer_env.viewing.tables import KEY, LABEL, TEXT, make_table

    files = track_files()
    table = make_table("tracks found, in the order they are searched (AWS's shipped tracks: below)",
                       [("name", LABEL), ("length m", KEY), ("width m", KEY), ("direction", LABEL), ("file", TEXT)])
    for name, path, track in listed_tracks([(n, p) for n, p in files if p.parent != ROUTES_DIR]):
        if track is None:
            table.add_row(name, "-", "-", "unreadable", str(path))
        else:
            table.add_row(name, f"{track.length:.2f}", f"{track.width:.2f}",
                          track.direction + ("" if track.closed else ", open"), str(path))
    shipped, more = aws_routes(), downloadable_tracks()
    where = _found(dict(files))
    first = next(iter(shipped.values()))
    yours = [n for n in shipped if where(n) == "yours"]
    text = (f"AWS's tracks: racer_env ships {len(shipped)}, found by name (the simulator's route files: "
            f"deepracer-simapp at {first['commit'][:10]}, {first['version']}; {first['license']}, see "
            f"{ROUTES_DIR / 'NOTICE'})"
            + (f"; a file of the same name in $RACER_TRACKS comes first for {len(yours)}: {', '.join(yours)}"
               if yours else "")
            + (f". {len(more)} more can be downloaded (racer tracks download NAME): "
               + ", ".join(f"{n} ({where(n)})" if where(n) != "no" else n for n in more) if more else "")
            + ". racer tracks --aws lists them all with their titles, lengths and directions.")
    return [table, text]


def aws_listing() -> list[Any]:
    """What ``racer tracks --aws`` prints: every AWS track racer_env knows, shipped or downloadable, one a row:
    its name, title (the race-data repository's), length [m], median width [m], direction, and where the name is
    found (shipped, downloaded, yours: a ``$RACER_TRACKS`` file of that name, which comes first; no)."""
    from racer_env.viewing.tables import KEY, LABEL, TEXT, make_table

    shipped, index = aws_routes(), aws_tracks()
    entries = {**{n: e for n, e in index.items() if n not in shipped}, **shipped}
    where = _found(dict(track_files()))
    table = make_table(f"AWS's tracks: {len(shipped)} shipped with racer_env, {len(entries) - len(shipped)} to "
                       f"download (racer tracks download NAME); dir: ccw counter-clockwise, cw clockwise",
                       [("name", LABEL), ("title", TEXT), ("length m", KEY), ("width m", KEY), ("dir", LABEL),
                        ("found", LABEL)])
    for name in sorted(entries, key=str.lower):
        e = entries[name]
        table.add_row(name, index.get(name, {}).get("title", ""), f"{e['length_m']:.2f}" if "length_m" in e else "-",
                      f"{e['width_m']:.2f}" if "width_m" in e else "-", _direction(e), where(name))
    return [table]
