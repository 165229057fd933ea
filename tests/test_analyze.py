"""racer analyze: the report of real AWS logs and of a fresh racer_env run, looked at in a real browser; and bad
input in one line.

The browser is Debian's chromium, driven by Playwright: the page must load from disk with no console error, show
every section, and its pictures and interactive figures must not be blank. Without chromium (scripts/setup.sh
installs it where it can) the browser test skips, saying why.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_path
from racer_env.cli import main
from racer_env.tools.analyze.report import SECTIONS

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def fresh_run(tmp_path_factory):
    """A short racer_env training run (vector observation), with its evaluation."""
    run = tmp_path_factory.mktemp("run") / "run"
    assert main(["train", "--timesteps", "6144", "--out", str(run), "--quiet", "--eval-laps", "1"]) == 0
    return run


def _analyze(inputs: list[str], out: Path, *extra: str) -> dict:
    assert main(["analyze", *inputs, "--out", str(out), *extra]) == 0
    assert (out / "report.html").is_file()
    return json.loads((out / "summary.json").read_text())


def _look_in_chromium(report: Path, screenshot: Path) -> dict:
    """Open the report in headless chromium; returns what the page showed."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh installs it with apt where it can)")
    from PIL import Image
    from playwright.sync_api import sync_playwright

    seen: dict = {"errors": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: seen["errors"].append(str(e)))
        page.on("request", lambda r: seen.setdefault("requests", []).append(r.url)
                if not r.url.startswith(("file:", "data:")) else None)
        page.goto(report.resolve().as_uri())
        page.wait_for_load_state("load")
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length > 0")
        page.screenshot(path=str(screenshot))
        seen["sections"] = page.evaluate("[...document.querySelectorAll('section')].map(s => s.id)")
        seen["images"] = page.evaluate(
            "[...document.querySelectorAll('img')].map(i => [i.complete, i.naturalWidth, i.alt])")
        seen["plots"] = page.evaluate("[...document.querySelectorAll('.js-plotly-plot')].map("
                                      "d => d.querySelectorAll('.scatterlayer .trace').length)")
        seen["skipped_note"] = page.evaluate("[...document.querySelectorAll('[data-skipped]')].map(e => e.textContent)")
        # each picture, as the browser shows it, is not one flat colour
        seen["flat"] = []
        for k, element in enumerate(page.query_selector_all("figure img")):
            element.scroll_into_view_if_needed()
            shot = np.asarray(Image.open(io.BytesIO(element.screenshot())).convert("L"), dtype=float)
            if shot.std() < 5.0:
                seen["flat"].append(k)
        browser.close()
    return seen


def _check_page(seen: dict) -> None:
    assert seen["errors"] == [], seen["errors"]
    assert seen.get("requests") is None, f"the page fetched from the network: {seen.get('requests')}"
    assert seen["sections"] == [s[0] for s in SECTIONS]
    assert seen["images"] and all(ok and width > 0 for ok, width, _ in seen["images"])
    assert seen["flat"] == [], [seen["images"][k][2] for k in seen["flat"]]
    assert seen["plots"] and all(n > 0 for n in seen["plots"])


def test_the_shared_aws_logs_make_a_report_a_browser_shows(tmp_path):
    logs = [str(shared_path("logs", "console-eval-reinvent_base-2022-robomaker.log")),
            str(shared_path("logs", "droa-eval-Spain_track-2026-simulation.log"))]
    tracks = str(shared_path("tracks"))
    import os

    os.environ["RACER_TRACKS"] = tracks  # the logs name their tracks: reinvent_base, Spain_track
    try:
        summary = _analyze(logs, tmp_path / "aws")
    finally:
        del os.environ["RACER_TRACKS"]
    by = {i["label"]: i for i in summary["inputs"]}
    console, droa = by[Path(logs[0]).name], by[Path(logs[1]).name]
    assert console["track"] == "reinvent_base" and droa["track"] == "Spain_track"
    assert console["evaluation"]["episodes"] == 3 and console["laps_completed"] == 3  # the console's 3 trials
    assert droa["evaluation"]["complete_share"] == 1.0 and droa["simapp_version"] == 6.0
    assert summary["inputs"][0]["actions"]["kind"] == "discrete"
    assert 15.5 < console["fastest_laps"][0]["lap_time"] < 17  # its trials take 16.2-16.5 s at about 1 m/s
    _check_page(_look_in_chromium(tmp_path / "aws" / "report.html", tmp_path / "aws.png"))


def test_a_fresh_racer_env_run_makes_a_report_a_browser_shows(fresh_run, tmp_path):
    summary = _analyze([str(fresh_run)], tmp_path / "run")
    (s,) = summary["inputs"]
    assert s["track"] == "harbour_loop" and s["training"]["episodes"] > 20 and s["iterations"]
    assert s["evaluation"]["episodes"] == 1 and s["actions"]["kind"] == "continuous"
    assert s["lines_skipped"] == 0 and s["speed_actual_over_command"] > 0.5
    for name in ("progress", "heat_reward", "heat_speed", "heat_steering", "actions", "ends", "speeds", "waypoints"):
        assert (tmp_path / "run" / f"run-{name}.png").is_file(), name
    _check_page(_look_in_chromium(tmp_path / "run" / "report.html", tmp_path / "run.png"))


def test_a_partly_corrupt_log_is_analysed_and_says_which_lines_were_skipped(tmp_path):
    log = shared_path("logs", "console-eval-reinvent_base-2022-robomaker.log")
    lines = log.read_text().splitlines()
    rows = [i for i, line in enumerate(lines) if "SIM_TRACE_LOG:" in line]
    for i in rows[100:103]:  # three rows cut short, one with a word for a number
        lines[i] = lines[i][:60]
    lines[rows[200]] = lines[rows[200]].replace(",False,", ",maybe,", 1).replace(",0.", ",x.", 1)
    bad = tmp_path / "cut.log"
    bad.write_text("\n".join(lines) + "\n")
    summary = _analyze([str(bad)], tmp_path / "cut", "--track", str(shared_path("tracks", "reinvent_base.npy")))
    (s,) = summary["inputs"]
    assert s["lines_skipped"] == 4 and [x["line"] for x in s["skipped"]] == [rows[k] + 1 for k in (100, 101, 102, 200)]
    assert s["rows"] == len(rows) - 4
    html = (tmp_path / "cut" / "report.html").read_text()
    assert "cut.log: 4 lines held SIM_TRACE data that does not fit the format" in html


def test_episodes_choose_a_part_of_the_log(fresh_run, tmp_path):
    summary = _analyze([str(fresh_run)], tmp_path / "part", "--episodes", "3-7")
    assert summary["inputs"][0]["episodes"] == 5 and summary["inputs"][0]["episodes_selected"] == [3, 7]


@pytest.mark.parametrize("case, expected", [
    ("not_a_log", "no SIM_TRACE_LOG lines or simtrace CSV rows"),
    ("empty", "no SIM_TRACE_LOG lines or simtrace CSV rows"),
    ("missing", "no such file or folder"),
    ("no_track", "does not say its track"),
    ("unknown_track", "track nowhere_track (from the log's WORLD_NAME) not found"),
    ("episodes", "--episodes 900-950: the log has episodes 0-"),
])
def test_bad_input_gets_one_line_naming_the_file(case, expected, fresh_run, tmp_path, capsys):
    sim = "SIM_TRACE_LOG:0,1,3.2,0.68,0.18,-30.00,1.00,0,0.0000,False,True,0.79,1,17.71,6.211,prepare,0.00\n"
    files = {"not_a_log": "hello\nworld\n", "empty": "", "no_track": sim,
             "unknown_track": " * /WORLD_NAME: nowhere_track\n" + sim}
    if case in files:
        path = tmp_path / f"{case}.log"
        path.write_text(files[case])
    elif case == "missing":
        path = tmp_path / "missing.log"
    else:
        path = fresh_run
    extra = ["--episodes", "900-950"] if case == "episodes" else []
    assert main(["analyze", str(path), "--out", str(tmp_path / "out"), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and expected in err[0], err
    if case == "unknown_track":
        assert "pass --track" in err[0]


def test_deepracer_for_cloud_and_console_model_folders(fresh_run, tmp_path):
    """The same simtrace, laid out as a DRfC model folder with two workers, and as a console export."""
    files = sorted((fresh_run / "training-simtrace").glob("*-iteration.csv*"))
    drfc, console = tmp_path / "drfc-model", tmp_path / "console-model"
    for worker in ("0", "1"):
        (drfc / worker / "training-simtrace").mkdir(parents=True)
        for f in files:
            shutil.copy(f, drfc / worker / "training-simtrace" / f.name)
    (drfc / "model").mkdir()
    shutil.copy(fresh_run / "model" / "model_metadata.json", drfc / "model" / "model_metadata.json")
    (console / "sim-trace" / "training" / "training-simtrace").mkdir(parents=True)
    for f in files:
        shutil.copy(f, console / "sim-trace" / "training" / "training-simtrace" / f.name)
    summary = _analyze([str(drfc), str(console), str(fresh_run)], tmp_path / "out", "--track", "harbour_loop")
    by = {i["label"]: i for i in summary["inputs"]}
    single = by[fresh_run.name]["training"]["episodes"]
    assert by["drfc-model"]["training"]["episodes"] == 2 * single  # both workers' episodes
    assert by["console-model"]["training"]["episodes"] == single
    assert by["drfc-model"]["actions"]["kind"] == "continuous"
