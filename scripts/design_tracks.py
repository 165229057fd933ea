"""Design racer_env's own tracks and write them to racer_env/sim/tracks/*.npy.

Each track is a closed periodic Catmull-Rom spline through hand-placed control
points [m], resampled every ~0.15 m like DeepRacer's routes, with borders offset
half the width to either side. Run: python scripts/design_tracks.py

``--holdout DIR`` writes the held-out tracks instead: tracks that no default of
racer_env was tuned on, for benchmarks/learn_lap.py to measure the defaults on
(they are not bundled).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "racer_env" / "sim" / "tracks"

# name: (width [m], control points [m], counter-clockwise order)
DESIGNS: dict[str, tuple[float, list[tuple[float, float]]]] = {
    # The default: like re:Invent 2018 in size, a long start straight, fast sweepers and one hairpin.
    "harbour_loop": (0.765, [
        (1.0, 0.6), (2.6, 0.5), (4.2, 0.55), (5.6, 0.8), (6.7, 1.5), (7.2, 2.6), (7.0, 3.6), (6.2, 4.1),
        (5.4, 3.8), (5.1, 3.0), (4.9, 2.3), (4.4, 1.8), (3.7, 1.8), (3.2, 2.3), (3.0, 3.0), (2.6, 3.7),
        (1.8, 4.0), (0.9, 3.7), (0.4, 2.8), (0.3, 1.6),
    ]),
    # Wide and flowing: a kidney with one long sweeping left and a tightening right.
    "kidney_speedway": (1.07, [
        (0.0, 0.0), (2.5, -0.3), (5.0, 0.0), (7.0, 1.0), (7.6, 3.0), (6.8, 4.8), (5.0, 5.4), (3.8, 4.8),
        (2.6, 4.1), (1.2, 4.0), (-0.4, 3.6), (-1.3, 2.0), (-1.0, 0.6),
    ]),
    # Long and technical: esses, a slow hairpin and a back straight (driven clockwise).
    "canyon_gp": (1.07, [
        (0.0, 0.0), (3.0, 0.0), (6.0, 0.2), (8.5, 0.8), (10.0, 2.2), (10.0, 4.0), (8.8, 5.0), (7.4, 4.4),
        (6.6, 3.2), (5.4, 2.8), (4.4, 3.6), (4.2, 5.0), (5.0, 6.2), (6.6, 6.8), (8.6, 7.0), (10.2, 7.8),
        (10.4, 9.2), (9.0, 10.0), (6.0, 10.0), (3.0, 9.8), (0.8, 9.0), (-0.6, 7.8), (-0.5, 6.2), (0.6, 5.0),
        (0.4, 3.6), (-0.8, 2.6), (-1.2, 1.0),
    ]),
}
CLOCKWISE = {"canyon_gp", "quarry_ring"}
HOLDOUT: dict[str, tuple[float, list[tuple[float, float]]]] = {
    # Narrow and twisty, a little larger than re:Invent 2018: a chicane between two long lefts.
    "chicane_loop": (0.76, [
        (0.0, 0.0), (2.0, -0.2), (4.0, 0.0), (5.4, 0.6), (5.9, 1.8), (5.3, 2.8), (4.3, 3.2), (4.0, 4.0),
        (4.4, 4.8), (5.3, 5.3), (5.6, 6.3), (4.8, 7.2), (3.4, 7.3), (2.1, 6.7), (1.0, 6.0), (0.0, 5.0), (0.2, 3.8),
        (0.0, 2.6), (-0.8, 1.6), (-1.0, 0.6), (-0.6, 0.1),
    ]),
    # Wide and fast, driven clockwise: a long straight, a slow kink and a long double-apex corner.
    "quarry_ring": (1.07, [
        (0.0, 0.0), (4.0, 0.0), (8.0, 0.3), (10.5, 1.5), (11.0, 3.5), (9.8, 5.0), (8.0, 5.2), (6.6, 4.4),
        (5.0, 4.8), (3.6, 6.2), (1.6, 6.6), (-0.6, 5.8), (-1.6, 4.0), (-1.5, 1.8),
    ]),
}
SPACING_M = 0.15


def catmull_rom(points: np.ndarray, samples_per_seg: int = 200) -> np.ndarray:
    """Dense points of a closed centripetal Catmull-Rom spline through ``points``."""
    n = len(points)
    out = []
    for i in range(n):
        p0, p1, p2, p3 = (points[(i + k) % n] for k in (-1, 0, 1, 2))
        t0 = 0.0
        t1 = t0 + np.linalg.norm(p1 - p0) ** 0.5
        t2 = t1 + np.linalg.norm(p2 - p1) ** 0.5
        t3 = t2 + np.linalg.norm(p3 - p2) ** 0.5
        t = np.linspace(t1, t2, samples_per_seg, endpoint=False)[:, None]
        a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
        a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
        a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
        b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
        b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
        out.append((t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2)
    return np.vstack(out)


def build(width: float, control: list[tuple[float, float]], clockwise: bool) -> np.ndarray:
    dense = catmull_rom(np.array(control, dtype=float))
    seg = np.linalg.norm(np.diff(np.vstack([dense, dense[:1]]), axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    length = s[-1]
    n = int(round(length / SPACING_M))
    u = np.linspace(0.0, length, n, endpoint=False)
    closed = np.vstack([dense, dense[:1]])
    c = np.column_stack([np.interp(u, s, closed[:, 0]), np.interp(u, s, closed[:, 1])])
    if clockwise:
        c = c[::-1]
    tangent = np.roll(c, -1, axis=0) - np.roll(c, 1, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True)
    left = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    lft, rgt = c + left * width / 2, c - left * width / 2
    inner, outer = (lft, rgt) if not clockwise else (rgt, lft)  # inner is on the left of a ccw lap
    rows = np.column_stack([c, inner, outer])
    heading = np.arctan2(tangent[:, 1], tangent[:, 0])
    turn = np.abs(np.angle(np.exp(1j * (np.roll(heading, -1) - heading))))
    radius = SPACING_M / np.maximum(turn, 1e-9)
    if radius.min() < width / 2 + 0.2:
        i = int(radius.argmin())
        raise SystemExit(f"tightest radius {radius.min():.2f} m at {c[i].round(2)}: too tight for width {width} m")
    return np.vstack([rows, rows[:1]])  # a loop repeats its first row


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--holdout", metavar="DIR", help="write the held-out tracks into DIR instead")
    args = ap.parse_args()
    out, designs = (Path(args.holdout), HOLDOUT) if args.holdout else (OUT, DESIGNS)
    out.mkdir(parents=True, exist_ok=True)
    for name, (width, control) in designs.items():
        rows = build(width, control, name in CLOCKWISE)
        np.save(out / f"{name}.npy", rows)
        length = np.linalg.norm(np.diff(rows[:, :2], axis=0), axis=1).sum()
        print(f"{name}: {len(rows)} rows, {length:.2f} m, {width} m wide")


if __name__ == "__main__":
    main()
