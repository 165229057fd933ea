"""The report of ``racer analyze``: ``report.html`` (one self-contained file), ``summary.json`` and the PNGs.

The page is rendered from a Jinja2 template (``templates/report.html.j2``): a template keeps the page's markup
in one readable file, apart from the code that computes what goes in it, and escapes what it is given. The PNGs
are embedded as data URIs and Plotly's JavaScript is inlined once, so the file opens from disk with no network.
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from racer_env.tools.analyze.figures import STILLS, interactive_figures, still_pictures
from racer_env.tools.analyze.summary import Analysis

__all__ = ["write_report", "SECTIONS"]

SECTIONS = [
    ("inputs", "Inputs", ""),
    ("progress", "Training progress",
     "Per iteration of training episodes, as the console's graph: the mean reward of an episode, the mean "
     "progress, the share of complete laps, the best lap."),
    ("laps", "The fastest laps", "Complete laps, fastest first: a lap's time runs from the episode's start (or the "
     "lap before it, in a multi-lap episode) to its lap_complete step."),
    ("heatmaps", "Reward, speed and steering on the track",
     "The mean of every step in each cell of the track (5 cm on a track up to 8 m across): what the reward "
     "function pays where, how fast the car goes (from successive positions), and which way it steers."),
    ("waypoints", "Per waypoint", "By the log's closest waypoint: the mean reward and speed, and the share of "
     "episodes that drove over it (where they give up)."),
    ("actions", "The action space's use", "How often each action was taken, or where in a continuous space the "
     "commands fell, with model_metadata.json's space marked when the input has it."),
    ("ends", "Where episodes end", "The last position of every episode, by how it ended."),
    ("speeds", "Commanded against actual speed", "The speed each step commanded, against the speed the car "
     "reached (from successive positions and time stamps)."),
    ("episodes", "Episodes", "One episode at a time on the track, coloured by speed: choose it in the menu; hover "
     "for the step, reward, speed and steering."),
]
_PICTURES = {"progress": ["progress"], "laps": ["fastest_laps"], "heatmaps": ["heat_reward", "heat_speed",
             "heat_steering"], "waypoints": ["waypoints"], "actions": ["actions"], "ends": ["ends"],
             "speeds": ["speeds"]}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "input"


def _json_default(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"not JSON: {type(v).__name__}")


def write_report(analyses: list[Analysis], out: Path) -> Path:
    """Write ``report.html``, ``summary.json`` and the PNGs into ``out``; returns the report's path."""
    import jinja2
    import plotly.offline

    from racer_env import __version__

    out.mkdir(parents=True, exist_ok=True)
    labels = _unique_labels([a.label for a in analyses])
    pictures: dict[str, list[dict[str, str]]] = {s: [] for s in _PICTURES}
    inputs = []
    for a, label in zip(analyses, labels):
        stills = still_pictures(a)
        for section, names in _PICTURES.items():
            for name in names:
                if name in stills:
                    file = f"{_slug(label)}-{name}.png"
                    (out / file).write_bytes(stills[name])
                    pictures[section].append({"file": file, "caption": f"{label}: {STILLS[name]}",
                                              "data": base64.b64encode(stills[name]).decode()})
        inputs.append({"label": label, "summary": a.summary()})
    interactive = interactive_figures(analyses)
    sections = []
    for sid, title, note in SECTIONS:
        s: dict[str, Any] = {"id": sid, "title": title, "note": note, "pictures": pictures.get(sid, [])}
        if sid == "progress":
            s["html"] = interactive.get("progress", "")
            if not s["html"]:
                s["empty"] = "No training episodes in the inputs (evaluation logs have none)."
        elif sid == "laps":
            s["table"] = _laps_table(analyses, labels)
            if not s["table"]["rows"]:
                s["empty"] = "No complete lap in the inputs."
        elif sid == "episodes":
            s["html"] = "".join(interactive[f"episodes-{k}"] for k in range(len(analyses)))
        sections.append(s)
    summary = {"made": time.strftime("%Y-%m-%d %H:%M:%S"), "racer_env": __version__,
               "inputs": [i["summary"] for i in inputs]}
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=_json_default))
    env = jinja2.Environment(loader=jinja2.PackageLoader("racer_env.tools.analyze", "templates"),
                             autoescape=jinja2.select_autoescape(["html", "j2"]))
    html = env.get_template("report.html.j2").render(
        title=", ".join(labels), inputs=inputs, sections=sections, made=summary["made"], version=__version__,
        plotly_js=plotly.offline.get_plotlyjs())
    path = out / "report.html"
    path.write_text(html)
    return path


def _unique_labels(labels: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def _laps_table(analyses: list[Analysis], labels: list[str]) -> dict[str, Any]:
    rows = []
    for a, label in zip(analyses, labels):
        for r in a.laps.nsmallest(10, "lap_time").itertuples():
            rows.append((r.lap_time, [label, r.kind, int(r.ep), int(r.iteration) if r.kind == "training" else "-",
                                      f"{r.lap_time:.3f} s", int(r.steps), f"{r.mean_speed_command:.2f} m/s"]))
    rows.sort(key=lambda x: x[0])
    return {"columns": ["input", "kind", "episode", "iteration", "lap time", "steps", "mean speed commanded"],
            "rows": [r for _, r in rows[:25]], "text_columns": 2}
