"""Tables for the terminal whose key figures stay whole in 80 columns.

Every table racer_env prints is made here. A column is one of three kinds:

* ``key``: a figure the racer came for (a lap time, a progress, a count, a status): never wrapped, never cut;
* ``label``: a short name (a trial, a situation): not wrapped either;
* ``text``: a long name or a path: folded onto more lines when the terminal is narrow.

rich narrows the ``text`` columns first, so as long as the key and label columns fit (short headers, compact
cells), nothing the racer reads is cut, at 80 columns as at 200. The tests render each table at 80 and 120.
"""

from __future__ import annotations

from typing import Any, Sequence

__all__ = ["make_table", "KEY", "LABEL", "TEXT", "KINDS"]

KEY, LABEL, TEXT = "key", "label", "text"
KINDS = (KEY, LABEL, TEXT)


def make_table(title: str | None, columns: Sequence[tuple[str, str]]) -> Any:
    """A rich Table with ``columns`` of (header, kind) (module docstring); the title wraps as text does.

    Raises:
        ValueError: an unknown kind.
    """
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, collapse_padding=True)
    for header, kind in columns:
        if kind not in KINDS:
            raise ValueError(f"column {header!r}: kind expected one of {', '.join(KINDS)}, got {kind!r}")
        if kind == TEXT:
            table.add_column(header, overflow="fold", ratio=1)
        else:
            table.add_column(header, no_wrap=True, justify="right" if kind == KEY else "left", overflow="ignore")
    return table
