import math

import pytest

from racer_env import RacerEnv, RewardFunctionError, load_reward_function
from racer_env.env.rewards import bundled_reward_functions


def _write(tmp_path, text, name="reward.py"):
    f = tmp_path / name
    f.write_text(text)
    return f


def test_bundled_reward_functions_load_and_score():
    env = RacerEnv(reward_function="reward_functions/follow_center.py", mode="eval")
    env.reset(seed=0)
    _, reward, _, _, info = env.step(env.action_space.sample())
    assert reward == 1.0  # at the start the car is on the centre line
    for f in bundled_reward_functions():
        rf = load_reward_function(f)
        assert math.isfinite(rf(info["params"])), f


def test_module_with_globals_classes_and_imports(tmp_path):
    f = _write(tmp_path, """
import math
import numpy as np

class Memory:
    def __init__(self):
        self.calls = 0

MEMORY = Memory()

def reward_function(params):
    MEMORY.calls += 1
    return float(np.float64(MEMORY.calls) + math.floor(0.5))
""")
    a, b = load_reward_function(f), load_reward_function(f)
    assert [a({}), a({}), a({})] == [1.0, 2.0, 3.0]
    assert b({}) == 1.0  # each load has its own module: no state leaks between envs


def test_each_env_owns_its_module(tmp_path):
    f = _write(tmp_path, "n = [0]\ndef reward_function(params):\n    n[0] += 1\n    return float(n[0])\n")
    e1, e2 = RacerEnv(reward_function=f), RacerEnv(reward_function=f)
    e1.reset()
    e2.reset()
    rewards1 = [e1.step(e1.action_space.sample())[1] for _ in range(3)]
    assert e2.step(e2.action_space.sample())[1] == 1.0 and rewards1 == [1.0, 2.0, 3.0]


def test_int_and_numpy_results_go_through_float():
    import numpy as np

    assert load_reward_function(lambda p: 3)({}) == 3.0
    assert isinstance(load_reward_function(lambda p: np.float32(0.5))({}), float)
    assert load_reward_function(lambda p: True)({}) == 1.0


@pytest.mark.parametrize("body, words", [
    ("return None", "float() cannot convert"),
    ("return 'fast'", "float() cannot convert"),
    ("return float('nan')", "NaN"),
    ("return float('inf')", "inf"),
    ("return 1e5 + 1", "outside [-1e5, 1e5]"),
    ("return -2e5", "outside [-1e5, 1e5]"),
])
def test_rejected_results(tmp_path, body, words):
    f = _write(tmp_path, f"def reward_function(params):\n    {body}\n")
    env = RacerEnv(reward_function=f)
    env.reset()
    with pytest.raises(RewardFunctionError) as e:
        env.step(env.action_space.sample())
    msg = str(e.value)
    assert str(f) in msg and words in msg and "step 2.0" in msg and "params:" in msg


def test_exception_names_file_line_step_and_params(tmp_path):
    f = _write(tmp_path, "def reward_function(params):\n    x = 1\n    return params['no_such_key']\n")
    env = RacerEnv(reward_function=f)
    env.reset()
    with pytest.raises(RewardFunctionError) as e:
        env.step(env.action_space.sample())
    msg = str(e.value)
    assert f"{f}:3" in msg and "KeyError" in msg and "step 2.0" in msg and "'progress'" in msg


def test_limits_are_inclusive():
    assert load_reward_function(lambda p: 1e5)({}) == 1e5
    assert load_reward_function(lambda p: -1e5)({}) == -1e5


def test_load_errors_name_file_and_line(tmp_path):
    f = _write(tmp_path, "def reward_function(params):\n    return (1\n\n")
    with pytest.raises(RewardFunctionError, match=rf"{f}:\d+: syntax error"):
        load_reward_function(f)
    g = _write(tmp_path, "def reward(params):\n    return 1.0\n", "g.py")
    with pytest.raises(RewardFunctionError, match="defines no function reward_function"):
        load_reward_function(g)
    h = _write(tmp_path, "import no_such_module_xyz\ndef reward_function(p):\n    return 1.0\n", "h.py")
    with pytest.raises(RewardFunctionError, match=rf"{h}:1: failed while loading: ModuleNotFoundError"):
        load_reward_function(h)
    with pytest.raises(RewardFunctionError, match="no such reward function file"):
        load_reward_function(tmp_path / "missing.py")


def test_mutating_params_changes_nothing(tmp_path):
    f = _write(tmp_path, """
def reward_function(params):
    params['waypoints'].clear()
    params['closest_waypoints'].append(99)
    params['progress'] = -1
    return 1.0
""")
    env = RacerEnv(reward_function=f, mode="eval")
    env.reset()
    _, _, _, _, info = env.step(env.action_space.sample())
    assert len(info["params"]["waypoints"]) == len(env.track.waypoints)
    assert len(info["params"]["closest_waypoints"]) == 2 and info["params"]["progress"] >= 0
    _, _, _, _, info = env.step(env.action_space.sample())
    assert len(info["params"]["waypoints"]) == len(env.track.waypoints)


def test_print_output_is_redirected(tmp_path):
    import io

    f = _write(tmp_path, "def reward_function(params):\n    print('hello', params['steps'])\n    return 1.0\n")
    sink = io.StringIO()
    env = RacerEnv(reward_function=f, reward_output=sink)
    env.reset()
    env.step(env.action_space.sample())
    assert sink.getvalue() == "hello 2.0\n"


def test_a_hung_call_in_another_thread_is_stopped_with_its_line(tmp_path):
    """A Ray Tune trial calls the reward function in a thread: the time limit holds there too, and a stop that
    came too late for one call never lands in the code after it."""
    import threading
    import time

    hung = tmp_path / "hung.py"
    hung.write_text("def reward_function(params):\n    while params['steps'] > 3:\n        pass\n    return 1.0\n")
    out: dict = {}

    def trial():
        f = load_reward_function(str(hung))
        f.time_limit_s = 0.3
        t0 = time.perf_counter()
        try:
            f({"steps": 4})
        except RewardFunctionError as err:
            out["error"], out["seconds"] = str(err), time.perf_counter() - t0
        out["after"] = [f({"steps": 2}) for _ in range(20000)]  # quick calls, then a pause past any deadline
        time.sleep(0.3)
        out["later"] = sum(range(1000))

    thread = threading.Thread(target=trial)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert f"{hung}:3: reward function was stopped after running 0.3 s" in out["error"] or \
        f"{hung}:2: reward function was stopped after running 0.3 s" in out["error"]
    assert out["seconds"] < 2.0 and out["after"] == [1.0] * 20000 and out["later"] == 499500
