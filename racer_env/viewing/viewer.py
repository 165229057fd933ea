"""Watching laps: a live pygame window with keys, or a video file.

A *source* produces :class:`racer_env.viewing.render.Frame` objects one step at a time:
``ModelSource`` drives a trained model in a RacerEnv, ``LogSource`` plays a
DeepRacer SIM_TRACE log back. ``show`` plays a source in a window at 15 Hz
times a speed factor; ``record`` writes it to an ``.mp4`` or ``.gif``.

Keys in the window: space pauses, n or → steps once while paused,
c shows or hides the car's camera beside the top-down view, r restarts, q or Esc quits.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol, Sequence

from racer_env.constants import MAX_SPEED_MPS, STEP_HZ
from racer_env.errors import RacerEnvError
from racer_env.sim.track import Projection, Track
from racer_env.sim.vehicle import wheels_on_track
from racer_env.viewing.render import CameraPanel, Frame, Renderer, Window, display_available, rgb, side_by_side

__all__ = ["ModelSource", "LogSource", "show", "record", "parse_speed"]


class Source(Protocol):
    track: Track

    def frames(self) -> Iterator[Frame]: ...

    def frame_count(self) -> int | None:
        """How many frames ``frames`` yields, when known in advance."""
        ...


def parse_speed(text: str) -> float | None:
    """``"1x"`` -> 1.0, ``"2x"`` -> 2.0, ``"max"`` -> None (as fast as it draws)."""
    if text == "max":
        return None
    try:
        value = float(text.rstrip("x"))
    except ValueError:
        raise RacerEnvError(f"--speed: expected 1x, 2x, ... or max, got {text!r}") from None
    if value <= 0:
        raise RacerEnvError(f"--speed: expected a positive factor, got {text!r}")
    return value


class ModelSource:
    """Greedy laps of a trained model, back to back from the start line. ``sees`` is what the model's network is
    given (:class:`~racer_env.viewing.render.CameraPanel`): ``"grey"``, ``"rgb"``, ``"stereo"``, or None."""

    def __init__(self, env, model, sees: str | None = None):
        self.env = env
        self.model = model
        self.track = env.track
        self.sees = sees
        self.result: dict | None = None

    def frame_count(self) -> int | None:
        return None  # as many as the laps take

    def frames(self) -> Iterator[Frame]:
        env = self.env
        obs, info = env.reset(seed=0)
        yield env.frame()
        while True:
            action = self.model.predict(obs, deterministic=True)[0]
            obs, _, terminated, truncated, info = env.step(action)
            yield env.frame()
            if terminated or truncated:
                self.result = info
                return


class LogSource:
    """A SIM_TRACE log played back on its track; the car is drawn at each logged pose.

    Args:
        episodes: the log's rows, grouped by episode: ``SimTrace.episodes()``, rows with the fields of
            :class:`racer_env.env.simtrace.TraceRow` (the viewer sits below the env layer and takes them as given).
        track: the track the log was driven on.
        episode: play only this episode (0-based); None plays them all.
        name: the log's name, for messages.
        car: the car model the log was driven with, for the HUD.
        last_episode: with ``episode``, play the episodes from ``episode`` to this one (inclusive).
        max_seconds: stop after this much of the log [s of sim time, 15 frames a second].
        objects: the obstacles and bot cars to draw with a row: ``objects(row)``, or None for none.
    """

    def __init__(self, episodes: Sequence[Sequence[Any]], track: Track, episode: int | None = None,
                 name: str = "the log", car: str = "", last_episode: int | None = None,
                 max_seconds: float | None = None, objects: Callable[[Any], Sequence[Any]] | None = None):
        self.track = track
        self.car = car
        self.objects = objects
        if episode is not None:
            last = episode if last_episode is None else last_episode
            for k, option in ((episode, "--episode"), (last, "--episodes")):
                if not 0 <= k < len(episodes):
                    raise RacerEnvError(f"{name}: {option} {k}: the log has episodes 0-{len(episodes) - 1}")
            if last < episode:
                raise RacerEnvError(f"{name}: --episodes {episode}-{last}: expected the first no later than the last")
            episodes = list(episodes[episode:last + 1])
        self.episodes = episodes
        self.max_frames = None if max_seconds is None else max(1, int(round(max_seconds * STEP_HZ)))
        self.sees: str | None = None  # a log does not say what its model saw

    def frame_count(self) -> int:
        n = sum(len(rows) for rows in self.episodes)
        return n if self.max_frames is None else min(n, self.max_frames)

    def _frame(self, r: Any, trail: list, prev: Any, where: Projection) -> Frame:
        yaw = math.radians(r.yaw)
        wheels = tuple(wheels_on_track(self.track, r.x, r.y, yaw, where))
        speed = 0.0
        if prev is not None and r.tstamp > prev.tstamp:
            speed = math.hypot(r.x - prev.x, r.y - prev.y) / (r.tstamp - prev.tstamp)
        trail.append((r.x, r.y, min(speed, MAX_SPEED_MPS)))
        hud = {"episode": str(r.episode), "step": f"{r.steps:.0f}", "progress": f"{r.progress:5.1f} %",
               "speed (command)": f"{r.throttle:4.2f} m/s", "steering (command)": f"{r.steer:+5.1f} deg",
               "reward": f"{r.reward:.3f}", "status": r.episode_status}
        if self.car:
            hud["car"] = self.car
        # the log has the commanded steering only: the wheels are drawn at it
        objects = tuple(self.objects(r)) if self.objects is not None else ()
        return Frame(r.x, r.y, yaw, r.steer, speed, wheels, trail, hud, r.episode_status, objects)

    def frames(self) -> Iterator[Frame]:
        left = self.frame_count()
        for rows in self.episodes:
            trail: list = []
            prev = None
            hint = -1
            for r in rows:
                if left <= 0:
                    return
                left -= 1
                where = self.track.project(r.x, r.y, hint)
                hint = where.seg
                yield self._frame(r, trail, prev, where)
                prev = r


class Pictures:
    """Draws a source's frames: the top-down view, and the camera's panel beside it while ``camera`` is on."""

    def __init__(self, track: Track, size: tuple[int, int], camera: bool, sees: str | None = None):
        self.renderer = Renderer(track, size)
        self.camera, self.sees = camera, sees
        self._panel: CameraPanel | None = None
        self._height = size[1]

    def draw(self, frame: Frame) -> Any:
        top = self.renderer.draw(frame)
        if not self.camera:
            return top
        if self._panel is None:
            self._panel = CameraPanel(self.renderer.track, self._height, self.sees)
        self.renderer.draw_footprint(top, frame)
        return side_by_side(top, self._panel.draw(frame))


def record(source: Source, path: str | Path, speed: float | None = 1.0, size: tuple[int, int] = (640, 480),
           progress: Any = None, camera: bool = False) -> int:
    """Write the source's frames to ``path`` (.mp4 or .gif) at 15 fps times ``speed``; returns the frame count.
    With ``camera`` the car's camera is drawn beside the top-down view.

    Frames stream to ffmpeg one at a time, so memory stays flat however long the recording: an MP4 directly; a
    GIF through a lossless temporary video, from which ffmpeg makes a palette, then the GIF (two more passes
    that stream too). ``progress`` is called as ``progress(frames_done, frames_total_or_None)``.
    """
    import imageio.v2 as imageio

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise RacerEnvError(f"--record {path}: expected a .mp4 or .gif file name")
    if path.is_dir():
        raise RacerEnvError(f"--record {path}: a folder; expected a .mp4 or .gif file name")
    fps = STEP_HZ * (speed or 1.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures = Pictures(source.track, size, camera, getattr(source, "sees", None))
    total = source.frame_count()
    video = path if suffix == ".mp4" else path.with_name(path.name + ".lossless.mp4")
    options: dict[str, Any] = dict(fps=fps, codec="libx264", macro_block_size=8, ffmpeg_log_level="error")
    if suffix == ".mp4":
        options["quality"] = 7
    else:  # lossless, so the GIF's palette sees the true colours
        options.update(output_params=["-qp", "0", "-preset", "ultrafast"], pixelformat="yuv444p")
    n = 0
    writer: Any = imageio.get_writer(video, **options)
    try:
        with writer:
            for frame in source.frames():
                writer.append_data(rgb(pictures.draw(frame)))
                n += 1
                if progress is not None:
                    progress(n, total)
        if suffix == ".gif":
            _video_to_gif(video, path)
    finally:
        if video != path and video.exists():
            video.unlink()
    return n


def _video_to_gif(video: Path, gif: Path) -> None:
    """Two streaming ffmpeg passes: the video's palette, then the GIF in that palette (looping)."""
    import subprocess

    import imageio_ffmpeg

    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    palette = gif.with_name(gif.name + ".palette.png")
    try:
        for args in (["-i", str(video), "-vf", "palettegen=stats_mode=diff", str(palette)],
                     ["-i", str(video), "-i", str(palette), "-lavfi", "paletteuse=dither=bayer:bayer_scale=3",
                      "-loop", "0", str(gif)]):
            proc = subprocess.run([ffmpeg, "-y", "-v", "error", *args], capture_output=True, text=True)
            if proc.returncode != 0:
                raise RacerEnvError(f"--record {gif}: ffmpeg failed: {proc.stderr.strip().splitlines()[-1:]}")
    finally:
        if palette.exists():
            palette.unlink()


def show(source: Source, speed: float | None = 1.0, size: tuple[int, int] = (640, 480), camera: bool = False) -> None:
    """Play the source in a window; returns when it ends (after a short hold) or the user quits. The camera's
    view starts shown beside the top-down one when ``camera`` is True; the c key toggles it."""
    if not display_available():
        raise RacerEnvError("no display to open a window on: add --record out.mp4 (or out.gif) to write a video, "
                            "or run under a virtual display (xvfb-run racer ...)")
    import pygame

    window = Window(size, f"racer_env - {source.track.name}  (space pause, n step, c camera, r restart, q quit)")
    pictures = Pictures(source.track, size, camera, getattr(source, "sees", None))
    frames = source.frames()
    paused, step_once = False, False
    frame: Frame | None = None
    try:
        while True:
            for event in window.events():
                if event.type == pygame.QUIT:
                    return
                if event.type == pygame.KEYDOWN:
                    if event.key in (pygame.K_q, pygame.K_ESCAPE):
                        return
                    if event.key == pygame.K_SPACE:
                        paused = not paused
                    elif event.key in (pygame.K_n, pygame.K_RIGHT):
                        paused, step_once = True, True
                    elif event.key == pygame.K_c:
                        pictures.camera = not pictures.camera
                        if frame is not None:
                            window.show(pictures.draw(frame), None)
                    elif event.key == pygame.K_r:
                        frames = source.frames()
            if paused and not step_once:
                window.clock.tick(30)
                continue
            step_once = False
            frame = next(frames, None)
            if frame is None:
                pygame.time.wait(1500)
                return
            window.show(pictures.draw(frame), STEP_HZ * speed if speed is not None else None)
    finally:
        window.close()
