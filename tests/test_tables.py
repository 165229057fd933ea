"""Every table racer_env prints, and the training progress line, keep their key figures whole in 80 columns
(as in 120): lap times, progress, statuses, counts."""

import os
import subprocess
import sys

import pytest
from rich.console import Console

from conftest import REPO
from racer_env.training.callbacks import WIDE_LINE, progress_line
from racer_env.training.evaluation import EvalResult, LapResult, results_table

WIDTHS = (80, 120)


def render(renderable, width: int) -> str:
    console = Console(width=width, record=True, file=open(os.devnull, "w"))
    console.print(renderable)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    return text


@pytest.mark.parametrize("width", WIDTHS)
def test_the_evaluation_table_shows_each_lap_whole(width):
    result = EvalResult("reInvent2019_track", [
        LapResult(1, 7.0667, 100.0, "lap_complete"), LapResult(2, 12.4, 55.0, "off_track", off_track=1, resets=2),
        LapResult(3, 61.25, 100.0, "lap_complete", crashed=12, standing=False)], False, planned=3,
        lap_time_limit=5.99, standing_limit=6.12)
    text = render(results_table(result), width)
    for cell in ("00:07.067", "00:12.400", "01:01.250", "1.155", "10.225", "Lap complete", "Off track", "100%",
                 "55%", "12"):
        assert cell in text, (cell, text)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_sweep_table_shows_each_trial_whole(width):
    from racer_env.tools.sweep import sweep_table

    rows = [{"rank": i, "trial": f"t{i}", "reward": f"a_very_long_reward_function_name_{i}", "lr": 0.0003 * i,
             "status": "TERMINATED after a long explanation of why", "timesteps": 1_234_567, "laps": 3,
             "best_lap": 7.0667 + i, "objective": 7.0667 + i} for i in range(1, 4)]
    text = render(sweep_table(rows), width)
    for cell in ("1234567", "8.067", "9.067", "10.067", "0.0003"):
        assert cell in text, (cell, text)


@pytest.mark.parametrize("width", WIDTHS)
def test_racer_tracks_lists_names_and_sizes_whole(width):
    def lines(*args: str) -> list[str]:
        proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "tracks", *args], capture_output=True,
                              text=True, cwd=REPO, timeout=60, env={**os.environ, "COLUMNS": str(width)})
        assert proc.returncode == 0, proc.stderr
        out = proc.stdout.splitlines()
        assert max(len(line) for line in out) <= width
        return out

    found = lines()
    assert any("harbour_loop" in line and "20.70" in line and "0.76" in line for line in found)
    assert "racer_env ships 127" in " ".join(found) and len(found) < 40  # AWS's shipped tracks: counted, not listed
    aws = lines("--aws")  # every one of AWS's tracks, one a row
    assert any("reInvent2019_track " in line and "23.12" in line and "shipped" in line for line in aws)
    assert any(line.startswith(" H_track ") and "100.85" in line for line in aws)


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
def test_the_check_report_shows_its_figures_whole(width, tmp_path):
    from racer_env.env.actions import ActionSpec
    from racer_env.tools.check import run_check, show_report

    report = run_check("reward_functions/follow_center.py", "harbour_loop", ActionSpec.default(), tmp_path)
    console = Console(width=width, record=True, file=open(os.devnull, "w"))
    show_report(report, console, tmp_path)
    text = console.export_text()
    for s in report.battery.stats:
        assert any(s.situation[:12] in line and f"{s.n:,}" in line and f"{s.median:.4g}" in line
                   for line in text.splitlines()), (s, text)
    for p in report.probes:
        assert f"{p.progress:.1f} %" in text and p.status in text


@pytest.mark.parametrize("width", WIDTHS)
def test_the_progress_line_fits_whatever_the_figures(width):
    worst = dict(update=9999, timesteps=123_456_789, episodes=999, mean_reward=-99999.9, mean_progress=100.0,
                 laps=5000, eval_completed=3, best_lap_time=179.93)
    usual = dict(update=12, timesteps=12_288, episodes=40, mean_reward=123.4, mean_progress=45.6, laps=3,
                 eval_completed=2, best_lap_time=7.07)
    for row in (worst, usual):
        line = progress_line(row, width)
        assert len(line) <= width, line
        assert f"{row['best_lap_time']:.2f} s" in line and f"{row['mean_progress']:.1f}" in line
        assert f"{row['eval_completed']}/3" in line
    assert ("episodes" in progress_line(usual, width)) == (width >= WIDE_LINE)


def test_a_short_run_prints_its_progress_lines_within_80_columns(tmp_path):
    proc = subprocess.run([sys.executable, str(REPO / "train.py"), "--timesteps", "8192", "--n-envs", "2", "--out",
                           str(tmp_path / "run"), "--eval-laps", "1"], capture_output=True, text=True, cwd=REPO,
                          timeout=300, env={**os.environ, "COLUMNS": "80"})
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if " st  rwd " in line]
    assert len(lines) == 4 and all(len(line) <= 80 for line in lines)  # an update every 2,048 steps
    assert "Lap complete" in proc.stdout or "Off track" in proc.stdout or "Time Up" in proc.stdout
