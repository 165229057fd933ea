"""The pictures of the documentation: the camera's view beside the top-down view (docs/camera.png).

A car is placed on reinvent_base (from $RACER_TRACKS, else ../shared/deepracer/tracks) at a few poses: a
straight, before a left turn, and before a box in its lane. For each, the top-down view with the camera's field
of view drawn on it, and the camera's colour frame and the grey image the network sees, side by side.

    python scripts/docs_pictures.py [--track reinvent_base] [--out docs/camera.png]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("RACER_TRACKS", str(REPO.parent / "shared" / "deepracer" / "tracks"))

import numpy as np  # noqa: E402
import pygame  # noqa: E402

from racer_env.sim.objects import TrackObject  # noqa: E402
from racer_env.sim.track import Track  # noqa: E402
from racer_env.constants import PARAMS_POINT_X_M  # noqa: E402
from racer_env.viewing.render import CameraPanel, Frame, Renderer, side_by_side  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--track", default="reinvent_base")
    ap.add_argument("--out", default=str(REPO / "docs" / "camera.png"))
    args = ap.parse_args()
    track = Track.load(args.track)
    rows = []
    for arc, lateral, box_at in ((0.4, 0.0, None), (5.6, 0.05, None), (11.0, -0.1, 12.3)):
        x, y, yaw = track.pose_at(arc, lateral)
        objects: tuple = ()
        if box_at is not None:
            bx, by, byaw = track.pose_at(box_at, -track.width / 4)
            objects = (TrackObject(bx, by, byaw, "box", box_at, -track.width / 4),)
        frame = Frame(x + PARAMS_POINT_X_M * np.cos(yaw), y + PARAMS_POINT_X_M * np.sin(yaw), yaw, objects=objects)
        top = Renderer(track, (480, 360))
        picture = top.draw(frame)
        top.draw_footprint(picture, frame)
        rows.append(side_by_side(picture, CameraPanel(track, 360).draw(frame)))
    sheet = pygame.Surface((rows[0].get_width(), sum(r.get_height() for r in rows)))
    for k, r in enumerate(rows):
        sheet.blit(r, (0, k * r.get_height()))
    pygame.image.save(sheet, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
