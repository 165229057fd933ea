"""Top-down pygame drawing of a track and a car: with viewer.py, the only modules that import pygame.

``Renderer(track).draw(frame)`` returns a pygame Surface; ``rgb(surface)``
turns it into an (H, W, 3) uint8 array. A :class:`Frame` is a plain snapshot
(the renderer never holds the env). The track, and the trail as it grows, are
drawn once onto a cached surface, so a frame costs the same at any lap length.
:class:`Window` shows surfaces on screen, for the env's ``human`` mode and the
viewer alike; :class:`EnvView` is what an env keeps to draw itself.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

try:
    import pygame
except ImportError as err:  # pragma: no cover - pygame is a core dependency
    raise ImportError("rendering needs pygame: pip install pygame") from err

from racer_env.constants import (
    CAR_LENGTH_M,
    CAR_WIDTH_M,
    FRONT_AXLE_X_M,
    MAX_SPEED_MPS,
    REAR_AXLE_X_M,
    STEREO_BASELINE_M,
)
from racer_env.sim.camera import Camera, footprint
from racer_env.sim.objects import TrackObject, body_size
from racer_env.sim.scenery import luma
from racer_env.sim.track import Track
from racer_env.sim.vehicle import Car, body_origin, wheel_positions

__all__ = ["Frame", "Renderer", "CameraPanel", "PANEL_VIEWS", "Window", "EnvView", "race_hud", "rgb", "speed_color",
           "save_trajectory_png", "display_available", "side_by_side"]

GRASS = (46, 110, 52)
ASPHALT = (72, 72, 76)
BORDER = (236, 236, 236)
CENTRE = (250, 214, 60)
CAR = (30, 110, 230)
CAR_OFF = (230, 40, 40)
BOX = (176, 124, 70)  # cardboard
BOT = (245, 175, 40)  # the bot cars, amber beside the agent's blue
WHEEL = (20, 20, 20)
HUD_BG = (0, 0, 0, 150)
TEXT = (245, 245, 245)
WHEEL_LEN_M, WHEEL_WID_M = 0.066, 0.03  # tyre footprint as drawn [m]


def display_available() -> bool:
    """True when a window can be opened (a desktop, or X/Wayland on Linux)."""
    if os.environ.get("SDL_VIDEODRIVER", "") in ("dummy", "offscreen"):
        return False
    if os.name == "posix" and os.uname().sysname == "Linux":
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def speed_color(speed: float) -> tuple[int, int, int]:
    """Blue (slow) through green and yellow to red (4 m/s)."""
    u = min(max(speed / MAX_SPEED_MPS, 0.0), 1.0)
    stops = [(0.0, (40, 90, 255)), (0.35, (40, 210, 90)), (0.7, (250, 220, 40)), (1.0, (240, 40, 30))]
    for (u0, c0), (u1, c1) in zip(stops, stops[1:]):
        if u <= u1:
            w = (u - u0) / (u1 - u0)
            r, g, b = (int(a + (z - a) * w) for a, z in zip(c0, c1))
            return r, g, b
    return stops[-1][1]


@dataclass
class Frame:
    """What one picture shows: the car's params point (x, y) [m], yaw [rad], front wheels' angle [deg,
    positive left], speed [m/s], which wheels are on the road, the trail of (x, y, speed), the HUD lines."""

    x: float
    y: float
    yaw: float
    wheel_angle: float = 0.0
    speed: float = 0.0
    wheels_on: tuple[bool, ...] = (True, True, True, True)
    trail: list[tuple[float, float, float]] = field(default_factory=list)  # (x, y, speed), grows in place
    hud: dict[str, str] = field(default_factory=dict)
    status: str = "in_progress"
    objects: tuple[TrackObject, ...] = ()
    """Obstacles and bot cars, drawn at their body size."""


class Renderer:
    """Draws a track and car at ``size`` pixels, scaled to fit the track.

    Args:
        track: the track.
        size: (width, height) in pixels.
        waypoint_labels: write every 5th waypoint index.
    """

    def __init__(self, track: Track, size: tuple[int, int] = (640, 480), waypoint_labels: bool = False):
        pygame.font.init()
        self.track = track
        self.size = size
        pts = track.rows.reshape(-1, 2)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        margin = 14
        w, h = size
        self.scale = min((w - 2 * margin) / max(hi[0] - lo[0], 1e-6), (h - 2 * margin) / max(hi[1] - lo[1], 1e-6))
        self.ox = margin + ((w - 2 * margin) - (hi[0] - lo[0]) * self.scale) / 2 - lo[0] * self.scale
        self.oy = h - margin - ((h - 2 * margin) - (hi[1] - lo[1]) * self.scale) / 2 + lo[1] * self.scale
        self.font = pygame.font.Font(None, max(14, h // 28))
        self.big = pygame.font.Font(None, max(20, h // 14))
        self.background = self._draw_track(waypoint_labels)
        self._base = self.background.copy()
        self._trail_id: int | None = None
        self._trail_drawn = 0

    def to_px(self, x: float, y: float) -> tuple[float, float]:
        """Screen pixel of a world point [m] (y up in the world, down on screen)."""
        return self.ox + x * self.scale, self.oy - y * self.scale

    def _poly(self, pts: np.ndarray) -> list[tuple[float, float]]:
        return [self.to_px(x, y) for x, y in pts]

    def _draw_track(self, labels: bool) -> pygame.Surface:
        t = self.track
        s = pygame.Surface(self.size)
        s.fill(GRASS)
        inner, outer = t.rows[:, 2:4], t.rows[:, 4:6]
        if t.closed:
            pygame.draw.polygon(s, ASPHALT, self._poly(outer))
            pygame.draw.polygon(s, GRASS, self._poly(inner))
        else:
            pygame.draw.polygon(s, ASPHALT, self._poly(np.vstack([outer, inner[::-1]])))
        width = max(1, int(round(0.05 * self.scale)))
        for border in (inner, outer):
            pygame.draw.lines(s, BORDER, t.closed, self._poly(border), width)
        # dashed centre line: 10 cm dashes every 20 cm
        pts = t.resampled(0.02)
        for k in range(0, len(pts) - 5, 10):
            pygame.draw.line(s, CENTRE, self.to_px(*pts[k]), self.to_px(*pts[k + 5]), max(1, width // 2))
        # start/finish line across the track at waypoint 0, chequered
        a, b = self.to_px(*inner[0]), self.to_px(*outer[0])
        n = 8
        for k in range(n):
            p = (a[0] + (b[0] - a[0]) * k / n, a[1] + (b[1] - a[1]) * k / n)
            q = (a[0] + (b[0] - a[0]) * (k + 1) / n, a[1] + (b[1] - a[1]) * (k + 1) / n)
            pygame.draw.line(s, (255, 255, 255) if k % 2 else (10, 10, 10), p, q, max(3, width * 2))
        if labels:
            for i in range(0, len(t.waypoints), 5):
                img = self.font.render(str(i), True, TEXT)
                s.blit(img, self.to_px(*t.waypoints[i]))
        return s

    # ------------------------------------------------------------------ frames
    def _update_trail(self, trail: list[tuple[float, float, float]]) -> None:
        if id(trail) != self._trail_id or len(trail) < self._trail_drawn:
            self._base = self.background.copy()
            self._trail_id = id(trail)
            self._trail_drawn = 0
        width = max(2, int(round(0.03 * self.scale)))
        for k in range(max(1, self._trail_drawn), len(trail)):
            (x0, y0, _), (x1, y1, v) = trail[k - 1], trail[k]
            pygame.draw.line(self._base, speed_color(v), self.to_px(x0, y0), self.to_px(x1, y1), width)
        self._trail_drawn = len(trail)

    def _rect(self, cx: float, cy: float, yaw: float, length: float, width: float) -> list[tuple[float, float]]:
        c, s = math.cos(yaw), math.sin(yaw)
        return [self.to_px(cx + c * dx - s * dy, cy + s * dx + c * dy)
                for dx, dy in ((length / 2, width / 2), (-length / 2, width / 2), (-length / 2, -width / 2),
                               (length / 2, -width / 2))]

    def draw(self, frame: Frame) -> pygame.Surface:
        """The picture of ``frame``."""
        self._update_trail(frame.trail)
        surf = self._base.copy()
        yaw = frame.yaw
        c, s = math.cos(yaw), math.sin(yaw)
        bx, by = body_origin(frame.x, frame.y, yaw)
        off = not all(frame.wheels_on)
        # wheels under the body, front ones turned by the wheel angle
        for (wx, wy), on, front in zip(wheel_positions(frame.x, frame.y, yaw), frame.wheels_on,
                                       (False, False, True, True)):
            wyaw = yaw + (math.radians(frame.wheel_angle) if front else 0.0)
            pygame.draw.polygon(surf, WHEEL if on else CAR_OFF, self._rect(wx, wy, wyaw, WHEEL_LEN_M * 1.6,
                                                                          WHEEL_WID_M * 1.6))
        body_x = (FRONT_AXLE_X_M + REAR_AXLE_X_M) / 2
        body = self._rect(bx + c * body_x, by + s * body_x, yaw, CAR_LENGTH_M, CAR_WIDTH_M * 0.8)
        self._draw_objects(surf, frame.objects)
        pygame.draw.polygon(surf, CAR_OFF if off or frame.status == "crashed" else CAR, body)
        pygame.draw.polygon(surf, (255, 255, 255), body, 1)
        nose = self.to_px(frame.x, frame.y)
        pygame.draw.circle(surf, (255, 255, 255), nose, max(2, int(0.02 * self.scale)))
        self._draw_hud(surf, frame, off)
        return surf

    def draw_footprint(self, surf: pygame.Surface, frame: Frame, reach_m: float = 3.0) -> None:
        """Outline on ``surf`` the ground the car's camera sees in ``frame``, out to ``reach_m`` metres."""
        bx, by = body_origin(frame.x, frame.y, frame.yaw)
        c, s = math.cos(frame.yaw), math.sin(frame.yaw)
        pts = [self.to_px(bx + u * c - v * s, by + u * s + v * c) for u, v in footprint(reach_m)]
        layer = pygame.Surface(self.size, pygame.SRCALPHA)
        pygame.draw.polygon(layer, (255, 255, 255, 45), pts)
        pygame.draw.polygon(layer, (255, 255, 255, 160), pts, 2)
        surf.blit(layer, (0, 0))

    def _draw_objects(self, surf: pygame.Surface, objects: tuple[TrackObject, ...]) -> None:
        """Boxes as brown boxes; bot cars (and parked ones) as blue cars with a white nose."""
        for o in objects:
            length, width = body_size(o.kind)
            outline = self._rect(o.x, o.y, o.yaw, length, width)
            pygame.draw.polygon(surf, BOX if o.kind == "box" else BOT, outline)
            pygame.draw.polygon(surf, (30, 30, 30), outline, 1)
            if o.kind != "box":
                nose = (o.x + math.cos(o.yaw) * length * 0.4, o.y + math.sin(o.yaw) * length * 0.4)
                pygame.draw.circle(surf, (255, 255, 255), self.to_px(*nose), max(2, int(0.02 * self.scale)))

    def _draw_hud(self, surf: pygame.Surface, frame: Frame, off: bool) -> None:
        lines = [f"{k}: {v}" for k, v in frame.hud.items()]
        if not lines:
            return
        line_h = self.font.get_linesize()
        w = max(self.font.size(text)[0] for text in lines) + 12
        panel = pygame.Surface((w, line_h * len(lines) + 8), pygame.SRCALPHA)
        panel.fill(HUD_BG)
        surf.blit(panel, (6, 6))
        for i, text in enumerate(lines):
            surf.blit(self.font.render(text, True, TEXT), (12, 10 + i * line_h))
        if off or frame.status not in ("in_progress", "prepare", "lap_complete"):
            label = {"off_track": "OFF TRACK", "crashed": "CRASHED", "reversed": "REVERSED",
                     "immobilized": "IMMOBILIZED", "pause": "PENALTY", "time_up": "TIME UP"}.get(
                frame.status, "WHEEL OFF TRACK")
            img = self.big.render(label, True, CAR_OFF)
            surf.blit(img, (self.size[0] - img.get_width() - 12, 10))
        elif frame.status == "lap_complete":
            img = self.big.render("LAP COMPLETE", True, (90, 240, 120))
            surf.blit(img, (self.size[0] - img.get_width() - 12, 10))


def race_hud(*, lap: int, laps: int, lap_time: float, progress: float, speed: float, steering_command: float,
             reward: float, status: str) -> dict[str, str]:
    """The HUD lines of a car racing: lap, lap time [s], progress [%], actual speed [m/s], the commanded
    steering [deg] (what the params report; the drawing shows the wheels' actual angle), reward, status."""
    return {
        "lap": f"{lap}/{laps}",
        "lap time": f"{lap_time:5.2f} s",
        "progress": f"{progress:5.1f} %",
        "speed": f"{speed:4.2f} m/s",
        "steering (command)": f"{steering_command:+5.1f} deg",
        "reward": f"{reward:.3f}",
        "status": status,
    }


PANEL_VIEWS = ("grey", "rgb", "stereo")
"""What a camera model's network is given: the simulator's grey image, racer_env's colour option, or the stereo
pair (each camera grey)."""


class CameraPanel:
    """The car's camera, drawn beside the top-down view: two 160 x 120 images stacked, each labelled with what it
    is (:mod:`racer_env.sim.camera`), scaled up to the panel's width.

    ``sees`` is what the model's network is given: ``"grey"`` (the simulator's: the colour frame, then the grey
    image the network gets), ``"rgb"`` (the colour frame is the input; the grey one below is not), ``"stereo"``
    (the left and the right camera, both grey, both the input), or None (a model on the vector, or a log: the
    colour frame and the grey image a camera model would get).

    Args:
        track: the track the camera sees.
        height: the panel's height [px]; its width is two thirds of it (two 4:3 images stacked).
        sees: see above.
    """

    def __init__(self, track: Track, height: int = 480, sees: str | None = "grey"):
        if sees is not None and sees not in PANEL_VIEWS:
            raise ValueError(f"sees: expected one of {', '.join(PANEL_VIEWS)} or None, got {sees!r}")
        pygame.font.init()
        self.sees = sees
        self.camera = Camera(track, grey=False)
        half = STEREO_BASELINE_M / 2
        self.pair = (Camera(track, lateral_m=half), Camera(track, lateral_m=-half)) if sees == "stereo" else ()
        self.size = (height * 2 // 3, height)
        self.font = pygame.font.Font(None, max(14, height // 28))

    def images(self, frame: Frame) -> list[tuple[np.ndarray, str]]:
        """The panel's two (120, 160, 3) images at the car's pose in ``frame``, among its objects, with their
        labels."""
        bx, by = body_origin(frame.x, frame.y, frame.yaw)
        if self.sees == "stereo":
            left, right = (np.repeat(cam.frame(bx, by, frame.yaw, frame.objects)[:, :, None], 3, axis=2)
                           for cam in self.pair)
            return [(left, "network input: left camera, grey"), (right, "network input: right camera, grey")]
        colour = self.camera.frame(bx, by, frame.yaw, frame.objects)
        grey = np.repeat(luma(colour)[:, :, None], 3, axis=2)
        if self.sees == "rgb":
            return [(colour, "network input: colour"), (grey, "grey (not this model's input)")]
        if self.sees == "grey":
            return [(colour, "camera"), (grey, "network input: grey")]
        return [(colour, "camera"), (grey, "grey, as a camera model sees it")]

    def draw(self, frame: Frame) -> pygame.Surface:
        """The panel at the car's pose in ``frame``: :meth:`images`, scaled and labelled."""
        w, h = self.size
        panel = pygame.Surface(self.size)
        panel.fill((0, 0, 0))
        for k, (image, label) in enumerate(self.images(frame)):
            shot = pygame.transform.scale(pygame.surfarray.make_surface(image.swapaxes(0, 1)), (w, h // 2))
            panel.blit(shot, (0, k * h // 2))
            panel.blit(self.font.render(label, True, TEXT), (6, k * h // 2 + 4))
        return panel


def side_by_side(left: pygame.Surface, right: pygame.Surface | None) -> pygame.Surface:
    """``left`` with ``right`` beside it (``left`` alone when ``right`` is None)."""
    if right is None:
        return left
    surf = pygame.Surface((left.get_width() + right.get_width(), max(left.get_height(), right.get_height())))
    surf.blit(left, (0, 0))
    surf.blit(right, (left.get_width(), 0))
    return surf


class Window:
    """A pygame window that shows surfaces at a frame rate."""

    def __init__(self, size: tuple[int, int], title: str):
        pygame.display.init()
        pygame.display.set_caption(title)
        self.surface = pygame.display.set_mode(size)
        self.clock = pygame.time.Clock()

    def show(self, picture: pygame.Surface, fps: float | None) -> None:
        """Put ``picture`` on screen (the window takes its size), then wait to keep ``fps`` frames a second
        (None: no wait)."""
        if picture.get_size() != self.surface.get_size():
            self.surface = pygame.display.set_mode(picture.get_size())
        self.surface.blit(picture, (0, 0))
        pygame.display.flip()
        if fps is not None:
            self.clock.tick(fps)

    def events(self) -> list:
        """The window's pending events (keys, close)."""
        return pygame.event.get()

    def close(self) -> None:
        pygame.display.quit()


class EnvView:
    """What an environment keeps to draw itself: the renderer, the car's trail, and a window in human mode.

    The trail restarts when the car jumps (a reset puts it back on the track).
    """

    def __init__(self, track: Track, size: tuple[int, int], human: bool, fps: float):
        self.renderer = Renderer(track, size)
        self.trail: list[tuple[float, float, float]] = []
        self.window = Window(size, f"racer_env - {track.name}") if human else None
        self.fps = fps

    def restart(self, car: Car) -> None:
        self.trail = [(car.x, car.y, 0.0)]

    def follow(self, car: Car) -> None:
        last = self.trail[-1] if self.trail else None
        if last is not None and math.hypot(car.x - last[0], car.y - last[1]) > 0.5:
            self.trail = []  # the car was put back after an event: start a new piece of trail
        self.trail.append((car.x, car.y, car.speed))

    def show(self, frame: Frame) -> np.ndarray | None:
        """An (H, W, 3) picture of ``frame``, or None after putting it in the window (human mode)."""
        surface = self.renderer.draw(frame)
        if self.window is None:
            return rgb(surface)
        pygame.event.pump()
        self.window.show(surface, self.fps)
        return None

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
            self.window = None


def rgb(surface: pygame.Surface) -> np.ndarray:
    """An (H, W, 3) uint8 copy of a surface."""
    w, h = surface.get_size()
    return np.frombuffer(pygame.image.tobytes(surface, "RGB"), dtype=np.uint8).reshape(h, w, 3).copy()


def save_trajectory_png(track: Track, trajectory: list[tuple], path, title: str = "",
                        size: tuple[int, int] = (960, 720), objects: tuple[TrackObject, ...] = ()) -> None:
    """A PNG of the track with a trajectory of (x [m], y [m], speed [m/s], ...) rows coloured by speed, and
    ``objects`` (the obstacles, the bot cars where they ended) drawn on it."""
    r = Renderer(track, size)
    trail = [(row[0], row[1], row[2]) for row in trajectory]
    r._update_trail(trail)
    surf = r._base.copy()
    r._draw_objects(surf, objects)
    if title:
        surf.blit(r.font.render(title, True, TEXT), (10, 8))
    # legend: speed colour bar
    x0, y0 = size[0] - 240, size[1] - 30
    for i in range(160):
        pygame.draw.line(surf, speed_color(i / 159 * MAX_SPEED_MPS), (x0 + i, y0), (x0 + i, y0 + 12))
    surf.blit(r.font.render("0", True, TEXT), (x0 - 12, y0 - 1))
    surf.blit(r.font.render("4 m/s", True, TEXT), (x0 + 164, y0 - 1))
    pygame.image.save(surf, str(path))
