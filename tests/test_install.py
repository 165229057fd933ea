"""A non-editable install works: the wheel carries the tracks (AWS's 127 route files too, with their licence) and
the example reward functions (the repository's top-level ``reward_functions/``, the package
``racer_env.reward_functions`` in the wheel); and racer_env shares one ``pygame`` with Gymnasium's own rendering.

The wheel is built from this checkout and installed into a fresh venv, which borrows the test venv's installed
packages (numpy, gymnasium, pygame...) through a .pth file; then RacerEnv() and ``racer check`` run from an empty
folder, so nothing of the checkout is on the path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import venv
import zipfile

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """racer_env's wheel, built from this checkout."""
    wheels = tmp_path_factory.mktemp("wheels")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(wheels), str(REPO)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    (path,) = wheels.glob("racer_env-*.whl")
    return path


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory, wheel):
    """(the venv's python, its folder): racer_env's wheel installed with its dependencies and Gymnasium's
    classic-control extra; every dependency is borrowed from the test venv, so pip downloads only what that venv
    lacks (a second pygame, were racer_env to ask for one)."""
    tmp_path = tmp_path_factory.mktemp("install")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    (tmp_path / "venv" / site.split(str(env_dir) + "/", 1)[1] / "borrowed.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", str(wheel), "gymnasium[classic-control]"],
                             capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr
    return python, env_dir


def _run(python, env_dir, code: str, cwd):
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={"PATH": str(env_dir / "bin"), "SDL_VIDEODRIVER": "dummy", "HOME": str(cwd)})


def test_a_wheel_installed_elsewhere_runs_the_env_and_racer_check(wheel_venv, tmp_path):
    python, env_dir = wheel_venv
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = ("import racer_env\n"
            "assert 'site-packages' in racer_env.__file__ and 'elsewhere' not in racer_env.__file__, racer_env.__file__\n"
            "from racer_env.env.rewards import REWARD_FUNCTIONS_DIR\n"
            "assert REWARD_FUNCTIONS_DIR.parts[-2:] == ('racer_env', 'reward_functions'), REWARD_FUNCTIONS_DIR\n"
            "env = racer_env.RacerEnv()\n"  # the default track and reward function, from the package data
            "env.reset(seed=0)\n"
            "print(env.step(env.action_space.sample())[4]['episode_status'], env.reward_function.label)\n")
    run = _run(python, env_dir, code, work)
    assert run.returncode == 0, run.stderr
    assert "in_progress" in run.stdout and "progress_speed.py" in run.stdout
    check = subprocess.run([str(env_dir / "bin" / "racer"), "check", "follow_center", "--out", str(work / "c")],
                           capture_output=True, text=True, cwd=work, timeout=300,
                           env={"PATH": str(env_dir / "bin"), "SDL_VIDEODRIVER": "dummy", "HOME": str(tmp_path),
                                "COLUMNS": "200"})
    assert check.returncode == 0, check.stdout + check.stderr
    assert "passed" in check.stdout and (work / "c" / "heatmap.png").exists()


def test_the_wheel_carries_awss_127_routes_with_their_licence_and_notice(wheel, wheel_venv, tmp_path):
    from racer_env.sim.track import ROUTES_DIR

    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        shipped = {n.rsplit("/", 1)[1]: z.read(n) for n in names if n.startswith("racer_env/sim/tracks/routes/")}
    assert len([n for n in shipped if n.endswith(".npy")]) == 127
    assert {"LICENSE", "NOTICE", "routes.json"} <= set(shipped)
    assert all(data == (ROUTES_DIR / n).read_bytes() for n, data in shipped.items())
    python, env_dir = wheel_venv
    code = ("from racer_env import Track\n"
            "t = Track.load('reInvent2019_track')\n"
            "print(t.source.endswith('sim/tracks/routes/reInvent2019_track.npy'), 'site-packages' in t.source, "
            "round(t.length, 2))\n")
    run = _run(python, env_dir, code, tmp_path)  # no RACER_TRACKS, a fresh HOME: nothing downloaded
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "True", "23.12"]


def test_racer_env_and_gymnasiums_classic_control_share_one_pygame_and_both_render(wheel_venv, tmp_path):
    python, env_dir = wheel_venv
    listed = subprocess.run([str(python), "-m", "pip", "list", "--format", "json"], capture_output=True, text=True,
                            check=True).stdout
    names = {p["name"].lower() for p in json.loads(listed)}
    assert "pygame" in names and "pygame-ce" not in names
    code = ("import gymnasium as gym, racer_env\n"
            "cart = gym.make('CartPole-v1', render_mode='rgb_array'); cart.reset(seed=0)\n"
            "racer = racer_env.RacerEnv(render_mode='rgb_array'); racer.reset(seed=0)\n"
            "a, b = cart.render(), racer.render()\n"
            "print(a.shape, b.shape, int(a.std() > 0), int(b.std() > 0))\n")
    run = _run(python, env_dir, code, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["(400,", "600,", "3)", "(480,", "640,", "3)", "1", "1"]
