"""Write racer_env's index of AWS's official tracks (racer_env/sim/tracks/aws_tracks.json) from a checkout of the
community's race-data repository: facts about each file, not the files.

aws-deepracer-community/deepracer-race-data keeps the tracks in ``raw_data/tracks/npy/`` and their display
names in ``raw_data/tracks/README.md``. For each ``.npy`` this records its name, file, size and SHA-256, and, as
racer_env loads it, its length, median width, direction and whether it is a loop (or why racer_env cannot
load it). ``racer tracks download`` fetches the files and checks them against this index.

    git clone https://github.com/aws-deepracer-community/deepracer-race-data /tmp/race-data
    python scripts/track_index.py /tmp/race-data [--commit SHA]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
from pathlib import Path

from racer_env.errors import RacerEnvError
from racer_env.sim.track import TRACKS_DIR, Track

OUT = TRACKS_DIR / "aws_tracks.json"


def display_names(readme: Path) -> dict[str, str]:
    """File stem -> the track's name, from the README's table rows (``| ... | **Name** | ... | [x.npy](...) ...``)."""
    names: dict[str, str] = {}
    if not readme.exists():
        return names
    for line in readme.read_text().splitlines():
        bold = re.search(r"\*\*(.+?)\*\*", line)
        if not bold:
            continue
        for stem in re.findall(r"\[([^\]]+)\.npy\]", line):
            names[stem] = bold.group(1)
    return names


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkout", type=Path, help="a checkout of aws-deepracer-community/deepracer-race-data")
    ap.add_argument("--commit", help="the commit the files come from (default: the checkout's HEAD)")
    args = ap.parse_args()
    folder = args.checkout / "raw_data" / "tracks" / "npy"
    commit = args.commit or subprocess.run(["git", "-C", str(args.checkout), "rev-parse", "HEAD"],
                                           capture_output=True, text=True).stdout.strip() or None
    names = display_names(args.checkout / "raw_data" / "tracks" / "README.md")
    tracks = []
    for path in sorted(folder.glob("*.npy"), key=lambda p: p.name.lower()):
        data = path.read_bytes()
        entry: dict = {"name": path.stem, "file": path.name, "title": names.get(path.stem, ""), "bytes": len(data),
                       "sha256": hashlib.sha256(data).hexdigest()}
        try:
            t = Track.load(path)
            entry.update(length_m=round(t.length, 2), width_m=round(t.width, 2), direction=t.direction,
                         closed=t.closed)
        except RacerEnvError as err:
            entry["problem"] = str(err).split(": ", 1)[-1]
        tracks.append(entry)
    index = {"source": "https://github.com/aws-deepracer-community/deepracer-race-data", "path": "raw_data/tracks/npy",
             "commit": commit, "tracks": tracks}
    OUT.write_text(json.dumps(index, indent=1) + "\n")
    print(f"wrote {OUT}: {len(tracks)} tracks ({sum('problem' in t for t in tracks)} that racer_env cannot load)")


if __name__ == "__main__":
    main()
