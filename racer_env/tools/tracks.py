"""racer tracks download: AWS's official tracks, fetched by name into the track cache, checked against the index.

The community's race-data repository (aws-deepracer-community/deepracer-race-data, ``raw_data/tracks/npy/``) holds
the ``.npy`` route files of AWS's tracks. racer_env ships an index of them (``racer_env/sim/tracks/
aws_tracks.json``: name, SHA-256, size, length, width, direction) pinned to one commit, and downloads a file on
request into ``$RACER_CACHE/tracks``, which is on the track search path, so ``--track reInvent2019_track`` then
works everywhere.

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
from typing import Callable

from racer_env.cache import tracks_cache
from racer_env.errors import RacerEnvError
from racer_env.sim.track import aws_tracks

__all__ = ["download_tracks", "Download", "track_url", "URL_ENV", "RETRIES"]

URL_ENV = "RACER_TRACKS_URL"
"""A base URL (a mirror of raw_data/tracks/npy/) to download from instead of GitHub."""
RETRIES = 3
"""Attempts after the first, for a dropped connection, a timeout or a corrupt file."""
_GITHUB = "https://raw.githubusercontent.com/aws-deepracer-community/deepracer-race-data/{commit}/{path}/"


@dataclass
class Download:
    """One track's outcome: ``status`` is ``downloaded``, ``already there`` or ``failed``."""

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
    """Download AWS's tracks by name (or ``every`` one) into the track cache.

    Args:
        names: track names of the index (``racer tracks`` lists them).
        every: all the tracks of the index.
        force: download again even when a good copy is there.
        timeout_s: per connection attempt.
        progress: called with each track's outcome as it comes.

    Returns:
        One :class:`Download` a track, in order.

    Raises:
        RacerEnvError: a name that is not in the index (with the nearest names), before anything is fetched.
    """
    index = aws_tracks()
    if every:
        names = list(index)
    if not names:
        raise RacerEnvError("racer tracks download: expected track names (racer tracks lists them) or --all")
    for name in names:
        if name not in index:
            near = difflib.get_close_matches(name, list(index), n=3)
            raise RacerEnvError(f"{name}: not one of AWS's tracks in racer_env's index"
                                + (f"; did you mean {', '.join(near)}?" if near else "; racer tracks lists them"))
    folder = tracks_cache()
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    for name in dict.fromkeys(names):
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
