"""A commit checked out beside this tree, for the benchmarks that measure against it (``--baseline REV``).

    with baseline_tree(args.baseline, work) as tree:   # None without a revision
        ...
"""

from __future__ import annotations

import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parent.parent


@contextmanager
def baseline_tree(revision: str | None, work: Path) -> Iterator[Path | None]:
    """``revision`` in a temporary git worktree under ``work`` (removed afterwards), or None without one."""
    if not revision:
        yield None
        return
    tree = work / "baseline"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), revision],
                   check=True, capture_output=True)
    try:
        yield tree
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)], capture_output=True)
