"""The documentation's examples run, so the docs cannot drift from the code.

Every fenced block of README.md and of the pages of docs/ (in the site's order, in one shared working folder, so
a later page may use the run an earlier one trained):

* ``bash``: each line is run in a real shell with the venv's ``racer`` and ``python`` first on the PATH and must
  exit 0; a line that says ``not run by the docs test`` (with the reason) is only parsed by racer's own argument
  parser when it is a ``racer`` or ``python train.py`` command;
* ``python``: run (one namespace a page); a block whose first line says ``not run by the docs test`` is only
  compiled;
* ``json``: parsed; ``yaml`` that starts ``# sweep.yaml``: loaded as a sweep file;
* ``text`` and untagged blocks (usage lines, outputs, pictures of folders): not run.

AWS's tracks are "downloaded" from a local server that serves ../shared/deepracer/tracks, so pages that download
one skip, saying why, without that folder.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import pytest
import yaml

from conftest import REPO, SHARED

pytestmark = pytest.mark.slow
NOT_RUN = "not run by the docs test"
VENV_BIN = Path(sys.executable).parent


def _pages() -> list[Path]:
    nav = yaml.safe_load((REPO / "mkdocs.yml").read_text())["nav"]
    return [REPO / "README.md"] + [REPO / "docs" / next(iter(entry.values())) for entry in nav]


def blocks(path: Path) -> list[tuple[str, int, str]]:
    """(language, first line number, body) of each fenced block of a Markdown file."""
    out, lang, start, body = [], None, 0, []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        m = re.match(r"^\s*```(\S*)", line)
        if m and lang is None:
            lang, start, body = m.group(1) or "text", number + 1, []
            indent = len(line) - len(line.lstrip())
        elif m:
            out.append((lang, start, "\n".join(body)))
            lang = None
        elif lang is not None:
            body.append(line[indent:] if line[:indent].strip() == "" else line)
    return out


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A working folder with the reward functions, a track cache, a mirror of AWS's tracks on 127.0.0.1, and
    the environment a user's shell would have after activating the venv."""
    work = tmp_path_factory.mktemp("docs")
    for name in ("reward_functions", "train.py"):  # the commands run as from a clone of the repository
        (work / name).symlink_to(REPO / name)
    shutil.copy(REPO / "reward_functions" / "follow_center.py", work / "my_reward.py")  # the sweep file's own
    server = None
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", "SDL_VIDEODRIVER": "dummy",
           "RACER_CACHE": str(work / "cache"), "HOME": str(work), "COLUMNS": "200"}
    env.pop("RACER_TRACKS", None)
    tracks = SHARED / "tracks"
    if tracks.exists():
        handler = partial(_QuietHandler, directory=str(tracks))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        env["RACER_TRACKS_URL"] = f"http://127.0.0.1:{server.server_address[1]}/"
    yield work, env
    if server is not None:
        server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _parse_only(command: str) -> None:
    from racer_env.cli import build_parser

    words = shlex.split(command.split(" #", 1)[0])
    if words[:1] == ["racer"]:
        args = words[1:]
    elif words[:2] == ["python", "train.py"]:
        args = ["train", *words[2:]]
    else:
        return  # a shell command of another tool (make, ray): named, with its reason, not run
    try:
        build_parser().parse_args(args)
    except SystemExit as err:
        raise AssertionError(f"{command!r} no longer parses") from err


def _run_bash(body: str, where: str, work: Path, env: dict) -> None:
    for line in body.replace("\\\n", " ").splitlines():
        command = line.strip()
        if not command or command.startswith("#"):
            continue
        if NOT_RUN in command:
            _parse_only(command)
            continue
        if "racer tracks download" in command and "RACER_TRACKS_URL" not in env:
            pytest.skip(f"{SHARED / 'tracks'} is absent: the docs' track downloads are served from it")
        proc = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True, text=True,
                              timeout=900)
        assert proc.returncode == 0, f"{where}: {command}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"


def _run_python(body: str, where: str, work: Path, env: dict, namespace: dict) -> None:
    code = compile(body, where, "exec")
    if NOT_RUN in body.splitlines()[0]:
        return
    keep = {k: os.environ.get(k) for k in env}
    os.environ.update({k: v for k, v in env.items() if k != "PATH"})
    cwd = os.getcwd()
    try:
        os.chdir(work)
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, namespace)
    finally:
        os.chdir(cwd)
        for k, v in keep.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_the_pages_examples_run(page, workspace):
    work, env = workspace
    namespace: dict = {"__name__": "__docs__"}
    for lang, line, body in blocks(page):
        where = f"{page.relative_to(REPO)}:{line}"
        if lang == "bash":
            _run_bash(body, where, work, env)
        elif lang == "python":
            _run_python(body, where, work, env, namespace)
        elif lang == "json":
            json.loads(body)
        elif lang == "yaml" and body.startswith("# sweep.yaml"):
            from racer_env.training.sweepfile import load_sweep

            (work / "sweep.yaml").write_text(body)
            load_sweep(work / "sweep.yaml")
        else:
            assert lang in ("text", "yaml"), f"{where}: a {lang!r} block; tag it bash, python, json, yaml or text"


def test_every_page_of_docs_is_in_the_site():
    listed = {p.name for p in _pages()[1:]}
    assert listed == {p.name for p in (REPO / "docs").glob("*.md")}
