"""The report's pictures: matplotlib PNGs (written beside the report, and embedded in it) and Plotly figures for
the parts a person explores (hover for the episode and step, choose an episode).

matplotlib draws the still pictures because it is already racer_env's plotting library and writes PNGs
without a browser; Plotly draws the interactive ones because its figures are self-contained JavaScript that works
from a file with no server and no network.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

from racer_env.tools.analyze.summary import Analysis

__all__ = ["still_pictures", "interactive_figures", "STILLS"]

STILLS = {
    "progress": "Training progress per iteration",
    "fastest_laps": "The fastest laps, coloured by speed",
    "heat_reward": "Reward by position",
    "heat_speed": "Speed by position",
    "heat_steering": "Steering by position",
    "waypoints": "Reward, speed and reach per waypoint",
    "actions": "The action space's use",
    "ends": "Where episodes end",
    "speeds": "Commanded against actual speed",
}
"""The still pictures, by file stem, with their titles."""
_END_COLOURS = {"lap_complete": "#2ca02c", "off_track": "#d62728", "crashed": "#ff7f0e", "reversed": "#9467bd",
                "immobilized": "#8c564b", "time_up": "#7f7f7f", "in_progress": "#7f7f7f", "other": "#7f7f7f"}


def _figure(width: float = 8.0, height: float = 5.0):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    return plt, fig, ax


def _track(ax, a: Analysis) -> None:
    rows = a.track.rows
    for cols, style in (((2, 3), "k-"), ((4, 5), "k-"), ((0, 1), "k:")):
        ax.plot(rows[:, cols[0]], rows[:, cols[1]], style, lw=0.8 if style == "k:" else 1.2, alpha=0.8)
    ax.set_aspect("equal")
    ax.set_xlabel("x [m]")
    ax.set_ylabel("y [m]")


def _short(a: Analysis) -> str:
    """The input's label, short enough for a picture's title."""
    return a.label if len(a.label) <= 28 else a.label[:26] + "..."


def _png(plt, fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def still_pictures(a: Analysis) -> dict[str, bytes]:
    """The PNG bytes of each still picture that the analysis has data for (by :data:`STILLS` name)."""
    out = {}
    for name in STILLS:
        png = globals()[f"_{name}"](a)
        if png is not None:
            out[name] = png
    return out


def _progress(a: Analysis) -> bytes | None:
    it = a.iterations
    if it.empty:
        return None
    plt, fig, ax = _figure(8, 4.5)
    ax.plot(it["iteration"], it["mean_reward"], color="#1f77b4", label="mean reward an episode")
    ax.set_xlabel("iteration")
    ax.set_ylabel("mean reward", color="#1f77b4")
    right = ax.twinx()
    right.plot(it["iteration"], it["mean_progress"], color="#2ca02c", label="mean progress [%]")
    right.plot(it["iteration"], 100 * it["complete_share"], color="#d62728", label="complete laps [%]")
    right.set_ylabel("%")
    right.set_ylim(0, 105)
    lines = ax.get_lines() + right.get_lines()
    ax.legend(lines, [ln.get_label() for ln in lines], loc="upper left", fontsize=8)
    best = it["best_lap"].dropna()
    ax.set_title(f"{_short(a)}: {len(it)} iterations" + (f", best lap {best.min():.2f} s" if len(best) else ""))
    return _png(plt, fig)


def _fastest_laps(a: Analysis) -> bytes | None:
    if a.laps.empty:
        return None
    plt, fig, ax = _figure(8, 6)
    _track(ax, a)
    rows = a.rows
    for k, lap in enumerate(a.laps.nsmallest(3, "lap_time").itertuples()):
        part = rows.iloc[lap.start:lap.end + 1]
        sc = ax.scatter(part["X"], part["Y"], c=part["speed"].fillna(0), cmap="viridis", s=10 - 3 * k, vmin=0,
                        vmax=4, label=f"{lap.lap_time:.2f} s (episode {lap.ep})")
    fig.colorbar(sc, ax=ax, label="speed [m/s]")
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"{_short(a)}: the fastest laps")
    return _png(plt, fig)


def _heat(a: Analysis, name: str, label: str, cmap: str) -> bytes:
    plt, fig, ax = _figure(8, 6)
    grid = a.grids[name]
    x0, y0 = a.grid_origin
    extent = (x0, x0 + grid.shape[1] * a.cell_m, y0, y0 + grid.shape[0] * a.cell_m)
    finite = grid[np.isfinite(grid)]
    lo, hi = (np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0))
    if name == "steering":
        lo, hi = -max(abs(lo), abs(hi), 1.0), max(abs(lo), abs(hi), 1.0)
    im = ax.imshow(grid, origin="lower", extent=extent, cmap=cmap, vmin=lo, vmax=hi if hi > lo else lo + 1)
    _track(ax, a)
    fig.colorbar(im, ax=ax, label=label)
    ax.set_title(f"{_short(a)}: {label}, mean of each {a.cell_m * 100:.0f} cm cell")
    return _png(plt, fig)


def _heat_reward(a: Analysis) -> bytes:
    return _heat(a, "reward", "reward", "magma")


def _heat_speed(a: Analysis) -> bytes:
    return _heat(a, "speed", "speed [m/s]", "viridis")


def _heat_steering(a: Analysis) -> bytes:
    return _heat(a, "steering", "steering [deg, + left]", "coolwarm")


def _waypoints(a: Analysis) -> bytes | None:
    w = a.waypoints
    if w.empty:
        return None
    plt, fig, ax = _figure(9, 4.5)
    ax.bar(w["closest_waypoint"], w["mean_reward"], color="#1f77b4", alpha=0.7, label="mean reward")
    ax.set_xlabel("closest waypoint")
    ax.set_ylabel("mean reward", color="#1f77b4")
    right = ax.twinx()
    right.plot(w["closest_waypoint"], w["mean_speed"], color="#ff7f0e", label="mean speed [m/s]")
    right.plot(w["closest_waypoint"], 4 * w["episode_share"], color="#2ca02c", label="episodes over it (x4)")
    right.set_ylabel("m/s")
    lines = [*ax.containers[:1], *right.get_lines()]
    ax.legend(lines, ["mean reward", "mean speed [m/s]", "share of episodes that drove over it (x 4)"], fontsize=8,
              loc="upper right")
    ax.set_title(f"{_short(a)}: per waypoint")
    return _png(plt, fig)


def _actions(a: Analysis) -> bytes | None:
    act = a.actions
    plt, fig, ax = _figure(8, 4.5)
    if act["kind"] == "discrete":
        keys = sorted(act["counts"])
        ax.bar([str(k) for k in keys], [act["counts"][k] for k in keys], color="#1f77b4")
        ax.set_xticks(range(len(keys)), [f"{k}\n{act['labels'][k]}" for k in keys], fontsize=7, rotation=45)
        ax.set_ylabel("steps")
        ax.set_title(f"{_short(a)}: steps per discrete action")
    else:
        sx, sy = act["steer_edges"], act["speed_edges"]
        im = ax.pcolormesh(sx, sy, act["hist"].T, cmap="Blues")
        fig.colorbar(im, ax=ax, label="steps")
        r = act.get("ranges") or {}
        st, sp = r.get("steering_angle"), r.get("speed")
        if isinstance(st, dict) and isinstance(sp, dict):
            ax.plot([st["low"], st["high"], st["high"], st["low"], st["low"]],
                    [sp["low"], sp["low"], sp["high"], sp["high"], sp["low"]], "r--", lw=1,
                    label="model_metadata's action space")
            ax.legend(fontsize=8)
        ax.set_xlabel("steering [deg]")
        ax.set_ylabel("speed [m/s]")
        ax.set_title(f"{_short(a)}: steering and speed commanded")
    return _png(plt, fig)


def _ends(a: Analysis) -> bytes | None:
    eps = a.episodes
    if eps.empty:
        return None
    plt, fig, ax = _figure(8, 6)
    _track(ax, a)
    last = a.rows.loc[eps["end"].to_numpy()]
    for status in sorted(set(eps["status"])):
        mask = (eps["status"] == status).to_numpy()
        ax.scatter(last["X"].to_numpy()[mask], last["Y"].to_numpy()[mask], s=12,
                   color=_END_COLOURS.get(status, "#7f7f7f"), label=f"{status} ({int(mask.sum())})", alpha=0.8)
    ax.legend(fontsize=8, loc="best")
    ax.set_title(f"{_short(a)}: where each of {len(eps)} episodes ended")
    return _png(plt, fig)


def _speeds(a: Analysis) -> bytes | None:
    rows = a.rows[a.rows["speed"].notna() & ~a.rows["episode_status"].isin(("prepare", "pause"))]
    if rows.empty:
        return None
    plt, fig, ax = _figure(6.5, 5)
    hi = float(max(rows["throttle"].max(), rows["speed"].max(), 0.5))
    h = ax.hist2d(rows["throttle"], rows["speed"], bins=40, range=[[0, hi], [0, hi]], cmap="Greens", cmin=1)
    fig.colorbar(h[3], ax=ax, label="steps")
    ax.plot([0, hi], [0, hi], "k--", lw=0.8, label="actual = commanded")
    ax.set_xlabel("commanded speed [m/s]")
    ax.set_ylabel("actual speed [m/s] (from successive positions)")
    ax.legend(fontsize=8)
    ax.set_title(f"{_short(a)}: commanded against actual speed")
    return _png(plt, fig)


def interactive_figures(analyses: list[Analysis]) -> dict[str, str]:
    """Plotly figures as HTML fragments (the library's JavaScript is added once by the report): the training
    progress of every input, and for each input its episodes on the track with a chooser."""
    import plotly.graph_objects as go

    out: dict[str, str] = {}
    fig = go.Figure()
    for a in analyses:
        it = a.iterations
        if it.empty:
            continue
        fig.add_trace(go.Scatter(x=it["iteration"], y=it["mean_progress"], mode="lines+markers",
                                 name=f"{a.label}: mean progress [%]",
                                 customdata=np.column_stack([it["mean_reward"], 100 * it["complete_share"],
                                                             it["best_lap"].fillna(-1)]),
                                 hovertemplate="iteration %{x}<br>mean progress %{y:.1f} %<br>mean reward "
                                               "%{customdata[0]:.1f}<br>complete laps %{customdata[1]:.0f} %"
                                               "<br>best lap %{customdata[2]:.2f} s<extra></extra>"))
    if fig.data:
        fig.update_layout(title="Training progress (hover for an iteration)", xaxis_title="iteration",
                          yaxis_title="mean progress [%]", height=420, margin=dict(l=50, r=20, t=50, b=40))
        out["progress"] = fig.to_html(full_html=False, include_plotlyjs=False, div_id="plot-progress")
    for k, a in enumerate(analyses):
        out[f"episodes-{k}"] = _episode_chooser(a, f"plot-episodes-{k}")
    return out


def _episode_chooser(a: Analysis, div_id: str, most: int = 40) -> str:
    """The track with one episode's path at a time, coloured by speed; a menu picks the episode (the fastest
    laps' episodes first, then the longest), hovering shows the step, reward, speed and steering."""
    import plotly.graph_objects as go

    eps = a.episodes
    chosen = list(dict.fromkeys([*a.laps.nsmallest(most // 2, "lap_time")["ep"].tolist(),
                                 *eps.nlargest(most, "progress")["ep"].tolist()]))[:most]
    rows = a.rows
    fig = go.Figure()
    t = a.track.rows
    for cols in ((2, 3), (4, 5)):
        fig.add_trace(go.Scatter(x=t[:, cols[0]], y=t[:, cols[1]], mode="lines", line=dict(color="black", width=1),
                                 hoverinfo="skip", showlegend=False))
    info = eps.set_index("ep")
    for i, e in enumerate(chosen):
        part = rows.iloc[int(info.at[e, "start"]):int(info.at[e, "end"]) + 1]
        fig.add_trace(go.Scatter(
            x=part["X"], y=part["Y"], mode="markers", visible=i == 0, name=f"episode {e}",
            marker=dict(size=6, color=part["speed"].fillna(0), colorscale="Viridis", cmin=0, cmax=4,
                        colorbar=dict(title="m/s") if i == 0 else None, showscale=i == 0),
            customdata=np.column_stack([part["steps"], part["reward"], part["speed"].fillna(0), part["steer"],
                                        part["progress"]]),
            hovertemplate=f"episode {e}<br>step %{{customdata[0]:.0f}}<br>reward %{{customdata[1]:.3f}}<br>"
                          "speed %{customdata[2]:.2f} m/s<br>steering %{customdata[3]:+.1f}°<br>"
                          "progress %{customdata[4]:.1f} %<extra></extra>"))
    buttons = []
    for i, e in enumerate(chosen):
        visible = [True, True] + [j == i for j in range(len(chosen))]
        status, progress = info.at[e, "status"], info.at[e, "progress"]
        buttons.append(dict(method="update", label=f"episode {e}: {status}, {progress:.0f} %",
                            args=[{"visible": visible}, {"title": f"{a.label}: episode {e} ({status})"}]))
    first = chosen[0] if chosen else None
    fig.update_layout(
        title=f"{a.label}: episode {first} ({info.at[first, 'status']})" if first is not None else a.label,
        updatemenus=[dict(buttons=buttons, direction="down", x=0.0, xanchor="left", y=1.12, yanchor="top")]
        if buttons else [], height=560, margin=dict(l=40, r=20, t=80, b=40), showlegend=False,
        yaxis=dict(scaleanchor="x", scaleratio=1))
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id)


def describe(a: Analysis) -> dict[str, Any]:
    """The report's table of the fastest laps, as rows of text."""
    return {"laps": [{"episode": int(r.ep), "kind": r.kind, "iteration": int(r.iteration),
                      "lap_time": f"{r.lap_time:.3f}", "steps": int(r.steps),
                      "speed": f"{r.mean_speed_command:.2f}"} for r in a.laps.nsmallest(10, "lap_time").itertuples()]}
