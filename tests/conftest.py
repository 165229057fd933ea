"""Shared fixtures. Tests that read ../shared/deepracer skip, saying why, when it is absent."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("RACER_CACHE", tempfile.mkdtemp(prefix="racer-cache-"))  # racing lines: not in the home

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "deepracer"


def shared_path(*parts: str) -> Path:
    """A file under ../shared/deepracer, or skip the test when the folder is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} is absent: the real DeepRacer material lives in ../shared/deepracer beside the repo")
    return p


def shared_files(sub: str, pattern: str) -> list[Path]:
    folder = SHARED / sub
    return sorted(folder.glob(pattern)) if folder.exists() else []


@pytest.fixture
def reinvent():
    from racer_env import Track

    return Track.load(shared_path("tracks", "reinvent_base.npy"))
