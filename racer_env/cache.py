"""Where racer_env keeps what it computes or downloads: ``$RACER_CACHE``, else ``~/.cache/racer_env``.

* ``tracks/``: AWS's tracks fetched by ``racer tracks download`` (on the track search path);
* ``racing_lines/``: racing lines and lap-time limits, computed once per track and car.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CACHE_ENV", "cache_dir", "tracks_cache"]

CACHE_ENV = "RACER_CACHE"


def cache_dir() -> Path:
    """``$RACER_CACHE``, else ``~/.cache/racer_env`` (not created here)."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "racer_env")


def tracks_cache() -> Path:
    """The folder of downloaded tracks."""
    return cache_dir() / "tracks"
