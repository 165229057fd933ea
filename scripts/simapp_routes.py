"""Copy the AWS DeepRacer simulator's route files into racer_env (racer_env/sim/tracks/routes/), unchanged, with
their licence, a NOTICE naming where they come from, and routes.json: facts about each file.

aws-deepracer-community/deepracer-simapp keeps the simulator's tracks in ``bundle/routes/*.npy``, the files the
simulator races on (and the files the community's build of DeepRacer on AWS's reward-function validator copies
as its ``routes/``: ``docker/Dockerfile.reward-function-validation``). The repository is Apache-2.0 since
October 2024. This script reads them from a clone (a bare one too) at one commit, writes each file byte for byte,
the repository's LICENSE, a NOTICE, and routes.json: for each file its name, size, SHA-256, git blob id (which
``git ls-tree COMMIT bundle/routes/`` shows upstream) and, as racer_env loads it, its rows, length, median
width, direction and whether it is a loop. A file racer_env cannot load is recorded with the reason, not left
out.

    git clone https://github.com/aws-deepracer-community/deepracer-simapp /tmp/simapp
    python scripts/simapp_routes.py /tmp/simapp [--commit SHA]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
from pathlib import Path

from racer_env.errors import RacerEnvError
from racer_env.sim.track import ROUTES_DIR, ROUTES_INDEX, Track

SOURCE = "https://github.com/aws-deepracer-community/deepracer-simapp"
PATH = "bundle/routes"

NOTICE = """\
racer_env ships the route files of the AWS DeepRacer simulator

The {count} .npy files in this folder are the simulator's route files, copied unchanged (byte for byte) from

  repository  {source}
  path        {path}/
  commit      {commit} ("{subject}", {date})
  version     {version} (the repository's VERSION file)

The repository is licensed under the Apache License, Version 2.0 (its LICENSE, since October 2024), a copy of
which is the file LICENSE in this folder. Its README says the code in bundle/ is primarily provided by AWS.

What racer_env does with them: it reads each file as a track (N rows of centre x, y, inner x, y, outer x, y in
metres) and finds it by its name, so Track.load("reInvent2019_track"), --track reInvent2019_track and
racer raceline reInvent2019_track work without a network. It does not change the files. routes.json, written by
racer_env's scripts/simapp_routes.py, records each file's size, SHA-256 and git blob id, and its length, width
and direction as racer_env reads it.
"""


def _git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=True).stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("repo", type=Path, help="a clone of aws-deepracer-community/deepracer-simapp (bare or not)")
    ap.add_argument("--commit", default="HEAD", help="the commit to copy from (default HEAD)")
    args = ap.parse_args()
    commit = _git(args.repo, "rev-parse", f"{args.commit}^{{commit}}").decode().strip()
    subject, date = _git(args.repo, "log", "-1", "--format=%s%n%ad", "--date=short", commit).decode().splitlines()
    versions = json.loads(_git(args.repo, "show", f"{commit}:VERSION"))
    version = ", ".join(f"{k} {v}" for k, v in versions.items())
    listing = _git(args.repo, "ls-tree", commit, f"{PATH}/").decode().splitlines()
    blobs = {line.split("\t")[1].rsplit("/", 1)[1]: line.split()[2] for line in listing if line.endswith(".npy")}
    ROUTES_DIR.mkdir(parents=True, exist_ok=True)
    for stale in set(p.name for p in ROUTES_DIR.glob("*.npy")) - set(blobs):
        (ROUTES_DIR / stale).unlink()
    routes = []
    for file in sorted(blobs, key=str.lower):
        data = _git(args.repo, "cat-file", "blob", blobs[file])
        dest = ROUTES_DIR / file
        dest.write_bytes(data)
        entry: dict = {"name": dest.stem, "file": file, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                       "blob": blobs[file]}
        try:
            t = Track.load(dest)
            entry.update(rows=len(t.rows) + t.duplicate_rows, length_m=round(t.length, 2), width_m=round(t.width, 2),
                         direction=t.direction, closed=t.closed)
        except RacerEnvError as err:
            entry["problem"] = str(err).split(": ", 1)[-1]
        routes.append(entry)
    (ROUTES_DIR / "LICENSE").write_bytes(_git(args.repo, "show", f"{commit}:LICENSE"))
    (ROUTES_DIR / "NOTICE").write_text(NOTICE.format(count=len(routes), source=SOURCE, path=PATH, commit=commit,
                                                     subject=subject, date=date, version=version))
    index = {"source": SOURCE, "path": PATH, "commit": commit, "version": version, "license": "Apache-2.0",
             "routes": routes}
    ROUTES_INDEX.write_text(json.dumps(index, indent=1) + "\n")
    problems = [r["name"] for r in routes if "problem" in r]
    unloadable = f": {', '.join(problems)}" if problems else ""
    print(f"wrote {ROUTES_DIR}: {len(routes)} route files from {commit[:10]} ({version}), LICENSE, NOTICE, "
          f"{ROUTES_INDEX.name} ({len(problems)} that racer_env cannot load{unloadable})")


if __name__ == "__main__":
    main()
