"""``racer sweep``: run a sweep file (:mod:`racer_env.training.sweepfile`) on Ray Tune with a live table, then
rank the trials, draw what mattered and name the winner to watch.

Pictures in the sweep's folder:

* ``objective.png``: the objective against each dimension that varied (a point per trial; lists by value,
  ranges on their own scale), so the dimension that mattered stands out;
* ``learning_curves.png``: the objective of the best evaluation so far against training steps, for the best
  trials.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from racer_env.training.sweep import SweepResult, run_sweep
from racer_env.training.sweepfile import OBJECTIVES, SweepPlan

__all__ = ["sweep", "sweep_table", "draw_sweep", "BEST_CURVES"]

BEST_CURVES = 5
"""Learning curves drawn: the best trials' only, so the picture stays readable."""
TABLE_COLUMNS = ("state", "timesteps", "laps", "best_lap", "objective")


def sweep(plan: SweepPlan | None, out: str | Path, *, workers: int | None = None, address: str | None = None,
          resume: bool = False, console: Any = None) -> SweepResult:
    """Run the sweep with a live table of its trials, write results and pictures, print the ranking and the
    command to watch the winner."""
    from rich.console import Console
    from rich.live import Live
    from rich.markup import escape

    console = console or Console()
    with Live(console=console, refresh_per_second=2, transient=False) as live:
        result = run_sweep(plan, out, workers=workers, address=address, resume=resume,
                           on_table=lambda rows: live.update(sweep_table(rows, live_view=True)))
        live.update(sweep_table(result.rows))
    console.line()
    pictures = draw_sweep(result)
    plan = result.plan
    console.print(escape(f"{len(result.rows)} of {plan.trials} trials in {result.seconds / 60:.1f} min, ranked by "
                         f"{plan.objective}: {OBJECTIVES[plan.objective][1]}"))
    console.print(f"results: {result.out / 'results.csv'}, {result.out / 'results.json'}; pictures: "
                  + ", ".join(str(p) for p in pictures), soft_wrap=True)
    if result.interrupted:
        console.print(f"stopped before every trial finished; continue with: racer sweep --resume {result.out}",
                      soft_wrap=True)
    best = result.best
    if best is not None:
        console.print(f"winner: trial {best['trial']}; watch it: racer watch {best['run_dir']}",
                      soft_wrap=True)
    return result


def sweep_table(rows: Sequence[dict[str, Any]], live_view: bool = False) -> Any:
    """A rich table of the trials: their settings that vary, state, steps, laps, best lap and objective."""
    from racer_env.viewing.tables import KEY, LABEL, TEXT, make_table

    rows = list(rows)
    settings = [k for k in (rows[0] if rows else {}) if k not in (*TABLE_COLUMNS, "trial", "rank", "status",
                                                                     "minutes", "rss_mb", "node", "run_dir")
                and len({str(r.get(k)) for r in rows}) > 1]
    table = make_table("racer sweep: trials" if live_view else "racer sweep: ranked",
                       [("#" if not live_view else "trial", LABEL), *((k, TEXT) for k in settings),
                        ("status" if not live_view else "state", TEXT), ("steps", KEY), ("laps", KEY),
                        ("best lap", KEY), ("objective", KEY)])
    for r in rows:
        state = str(r.get("state" if live_view else "status", ""))
        table.add_row(str(r.get("trial") if live_view else r.get("rank")), *(_cell(r.get(k)) for k in settings),
                      state[:60], _cell(r.get("timesteps")), _cell(r.get("laps")), _cell(r.get("best_lap")),
                      _cell(r.get("objective")))
    return table


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e-3 else f"{v:.3f}".rstrip("0").rstrip(".")
    return str(v)


def draw_sweep(result: SweepResult) -> list[Path]:
    """``objective.png`` and ``learning_curves.png`` in the sweep's folder (see the module docstring)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plan, rows = result.plan, [r for r in result.rows if r["objective"] is not None]
    dims = list(plan.grid) + list(plan.ranges)
    label = f"objective: {plan.objective} ({'higher' if plan.mode == 'max' else 'lower'} is better)"
    written = []
    n = max(1, len(dims))
    fig, axes = plt.subplots(1, n, figsize=(4.5 * n, 4), squeeze=False, sharey=True)
    for ax, dim in zip(axes[0], dims or ["trial"]):
        values = [r.get(dim) for r in rows]
        ys = [float(r["objective"]) for r in rows]
        if dim in plan.ranges:
            ax.scatter(values, ys)
            if plan.ranges[dim].log:
                ax.set_xscale("log")
        else:
            names = sorted({str(v) for v in values}, key=lambda s: (len(s), s))
            xs = [names.index(str(v)) for v in values]
            ax.scatter(xs, ys, alpha=0.7)
            for i, name in enumerate(names):  # the mean of each value
                at = [y for x, y in zip(xs, ys) if x == i]
                ax.plot([i - 0.25, i + 0.25], [sum(at) / len(at)] * 2, "k-", lw=2)
            ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
        ax.set_xlabel(dim)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(label)
    fig.suptitle("each trial's objective against each dimension (bars: the mean per value)")
    fig.tight_layout()
    path = result.out / "objective.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(path)

    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for r in rows[:BEST_CURVES]:
        curve = result.curves.get(r["trial"], [])
        if curve:
            steps, objectives = [c[0] for c in curve], [c[1] for c in curve]
            varied = ", ".join(f"{d}={_cell(r.get(d))}" for d in dims)
            ax.plot(steps, objectives, marker=".", label=f"#{r['rank']} {r['trial']} {varied}"[:80])
    ax.set_xlabel("training steps")
    ax.set_ylabel(label)
    ax.set_title(f"learning curves of the {min(BEST_CURVES, len(rows))} best trials (best evaluation so far)")
    ax.grid(alpha=0.3)
    if rows:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    path = result.out / "learning_curves.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(path)
    return written
