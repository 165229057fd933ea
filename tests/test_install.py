"""A non-editable install works: the wheel carries the tracks and the example reward functions.

The wheel is built from this checkout and installed without dependencies into a fresh venv, which borrows the
test venv's installed packages (numpy, gymnasium...) through a .pth file; then RacerEnv() and ``racer check`` run
from an empty folder, so nothing of the checkout is on the path.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


def test_a_wheel_installed_elsewhere_runs_the_env_and_racer_check(tmp_path):
    wheels = tmp_path / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(wheels), str(REPO)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    (wheel,) = wheels.glob("racer_env-*.whl")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies come from the test venv; racer_env only from the wheel
    (tmp_path / "venv" / site.split(str(env_dir) + "/", 1)[1] / "borrowed.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], capture_output=True,
                             text=True, timeout=300)
    assert install.returncode == 0, install.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    code = ("import racer_env\n"
            "assert 'site-packages' in racer_env.__file__ and 'elsewhere' not in racer_env.__file__, racer_env.__file__\n"
            "env = racer_env.RacerEnv()\n"  # the default track and reward function, from the package data
            "env.reset(seed=0)\n"
            "print(env.step(env.action_space.sample())[4]['episode_status'], env.reward_function.label)\n")
    run = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=work, timeout=120,
                         env={"PATH": str(env_dir / "bin"), "SDL_VIDEODRIVER": "dummy", "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    assert "in_progress" in run.stdout and "progress_speed.py" in run.stdout
    check = subprocess.run([str(env_dir / "bin" / "racer"), "check", "follow_center", "--out", str(work / "c")],
                           capture_output=True, text=True, cwd=work, timeout=300,
                           env={"PATH": str(env_dir / "bin"), "SDL_VIDEODRIVER": "dummy", "HOME": str(tmp_path),
                                "COLUMNS": "200"})
    assert check.returncode == 0, check.stdout + check.stderr
    assert "passed" in check.stdout and (work / "c" / "heatmap.png").exists()
