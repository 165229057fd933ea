import math

import pytest

from conftest import shared_path
from racer_env import LogFormatError
from racer_env.env.logreader import read_sim_trace

LINE19 = "SIM_TRACE_LOG:0,3,0.1742,-2.1743,-179.8106,0.00,2.50,5,1.0000,False,True,0.2893,1,60.00,37.482,in_progress,0.00,0,1772906145.7007"
LINE17 = "SIM_TRACE_LOG:0,2,3.1997,0.6831,0.1833,-30.00,1.00,0,1.0000,False,True,0.7906,1,17.71,6.279,in_progress,0.00"
LINE15 = "SIM_TRACE_LOG:4,12,3.2,0.68,1.5708,-30.0,1.0,0,1.0,False,True,0.79,1,17.71,1559911486.5"


def test_all_layouts(tmp_path):
    f = tmp_path / "log.txt"
    f.write_text("\n".join(["noise", "[ros-prefix] " + LINE19, LINE17, LINE15,
                            "SIM_TRACE_LOG:1,2,3", "SIM_TRACE_LOG:0,3,x,1,1,1,1,1,1,False,True,1,1,1,1,s,0"]))
    trace = read_sim_trace(f)
    r19, r17, r15 = trace.rows
    assert r19.wall_clock == pytest.approx(1772906145.7007) and r19.episode_status == "in_progress"
    assert r17.pause_duration == 0.0 and r17.closest_waypoint == 1
    assert r15.yaw == pytest.approx(90.0, abs=1e-3)  # 2019 logs: yaw in radians
    assert len(trace.problems) == 2
    assert f"{f}:5: expected 15 to 19" in trace.problems[0]
    assert f"{f}:6:" in trace.problems[1]


def test_continuous_action_field(tmp_path):
    f = tmp_path / "log.txt"
    f.write_text(LINE17.replace(",0,1.0000,", ",[-12.5, 1.3],1.0000,"))
    (row,) = read_sim_trace(f).rows
    assert row.action == "[-12.5 1.3]" and row.reward == 1.0


def test_no_trace_lines(tmp_path):
    f = tmp_path / "log.txt"
    f.write_text("hello\n")
    with pytest.raises(LogFormatError, match="no SIM_TRACE_LOG"):
        read_sim_trace(f)


def test_real_logs_parse_without_problems():
    for name, n in (("console-eval-reinvent_base-2022-robomaker.log", 737),
                    ("droa-eval-Spain_track-2026-simulation.log", 1302)):
        trace = read_sim_trace(shared_path("logs", name))
        assert len(trace.rows) == n and trace.problems == []
        assert len(trace.episodes()) == 3
        assert all(math.isfinite(r.x) for r in trace.rows)
