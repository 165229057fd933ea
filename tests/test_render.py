"""Rendering runs headless (SDL_VIDEODRIVER=dummy, set in conftest)."""

import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO, shared_path
from racer_env import RacerEnv
from racer_env.sim.drivers import PurePursuit


class ScriptedSource:
    """A viewer source: ``steps`` steps of pure pursuit in an rgb_array env, counting the frames it yields."""

    def __init__(self, steps: int, speed: float = 2.0):
        self.env = RacerEnv(reward_function=lambda p: 1.0, mode="eval", render_mode="rgb_array")
        self.track = self.env.track
        self.steps, self.speed, self.yielded = steps, speed, 0

    def frame_count(self):
        return self.steps

    def frames(self):
        self.env.reset(seed=0)
        driver = PurePursuit(self.track, self.speed)
        for _ in range(self.steps):
            self.env.step(self.env.actions.to_action(*driver.controls(self.env.car)))
            self.yielded += 1
            yield self.env.frame()


def _drive_frames(env, n, speed=2.0):
    driver = PurePursuit(env.track, speed)
    frames = []
    for _ in range(n):
        env.step(env.actions.to_action(*driver.controls(env.car)))
        frames.append(env.render())
    return frames


def test_rgb_array_frame_shows_track_and_car_at_its_pixel():
    from racer_env.viewing import render

    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval", render_mode="rgb_array")
    env.reset(seed=0)
    frame = _drive_frames(env, 30)[-1]
    assert frame.shape == (480, 640, 3) and frame.dtype == np.uint8
    r = env._view.renderer
    # the params point is drawn as a white dot on the car
    px, py = (int(round(v)) for v in r.to_px(env.car.x, env.car.y))
    assert tuple(frame[py, px]) == (255, 255, 255)
    # the body, 0.1 m behind the params point, is car blue
    h = np.radians(env.car.heading)
    bx, by = (int(round(v)) for v in r.to_px(env.car.x - 0.14 * np.cos(h), env.car.y - 0.14 * np.sin(h)))
    assert tuple(frame[by, bx]) == render.CAR
    # asphalt half way to the start, grass well outside the track
    cx, cy = (int(round(v)) for v in r.to_px(*env.track.point_at(env.track.length * 0.6)[:2]))
    assert tuple(frame[cy, cx]) in (render.ASPHALT, render.CENTRE)
    assert tuple(frame[470, 630]) == render.GRASS


def test_a_wheel_off_the_track_shows():
    from racer_env.viewing import render

    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval", render_mode="rgb_array")
    x, y, seg = env.track.point_at(2.0)
    ox, oy = env.track.rows[seg, 4:6]
    n = np.array([ox - x, oy - y]) / np.hypot(ox - x, oy - y)
    heading = np.degrees(np.arctan2(env.track.center.dy[seg], env.track.center.dx[seg]))
    half = env.track.width / 2
    env.reset(options={"pose": (x + n[0] * half, y + n[1] * half, heading)})
    frame = env.render()
    assert not all(env.frame().wheels_on)
    assert (frame == render.CAR_OFF).all(axis=2).sum() > 20  # red wheels, red body, the banner


def test_human_mode_opens_a_window_in_the_dummy_driver():
    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval", render_mode="human")
    env.metadata = {**env.metadata, "render_fps": 1000}
    env.reset(seed=0)
    env.step(env.action_space.sample())
    assert env._view.window is not None
    env.close()


def test_no_pygame_unless_rendering_is_asked_for(tmp_path):
    code = (
        "import sys, racer_env\n"
        "from racer_env.training import TrainConfig, train\n"
        f"train(TrainConfig(timesteps=512, n_envs=2, out=r'{tmp_path / 'run'}', quiet=True, eval_laps=0))\n"
        "assert 'pygame' not in sys.modules, 'pygame was imported'\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_recorded_video_decodes_with_every_frame(tmp_path):
    import imageio.v2 as imageio

    from racer_env.viewing.viewer import record

    for name in ("lap.mp4", "lap.gif"):
        n = record(ScriptedSource(40), tmp_path / name)
        frames = [f for f in imageio.get_reader(tmp_path / name)]
        assert n == 40 and len(frames) == 40
        assert frames[0].shape[:2] == (480, 640)


def test_replay_of_the_aws_log(tmp_path):
    log = shared_path("logs", "console-eval-reinvent_base-2022-robomaker.log")
    track = shared_path("tracks", "reinvent_base.npy")
    out = tmp_path / "replay.mp4"
    proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "replay", str(log), "--track", str(track),
                           "--record", str(out), "--speed", "max", "--episode", "0"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    import imageio.v2 as imageio

    assert sum(1 for _ in imageio.get_reader(out)) == 247  # the rows of the first lap


def test_replay_of_the_2026_log_with_19_fields(tmp_path):
    from racer_env.env.logreader import read_sim_trace
    from racer_env.sim.track import Track
    from racer_env.viewing.viewer import LogSource

    trace = read_sim_trace(shared_path("logs", "droa-eval-Spain_track-2026-simulation.log"))
    source = LogSource(trace.episodes(), Track.load(shared_path("tracks", "Spain_track.npy")), episode=1)
    frames = list(source.frames())
    assert len(frames) == len(trace.episodes()[1]) and frames[-1].status == "lap_complete"


def test_replay_needs_a_track_it_can_find(tmp_path):
    # AWS's tracks ship with racer_env, so the log is made to name a world that is nowhere
    text = shared_path("logs", "console-eval-reinvent_base-2022-robomaker.log").read_text(errors="replace")
    log = tmp_path / "atlantis.log"
    log.write_text(text.replace("reinvent_base", "Atlantis_track"))
    proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "replay", str(log), "--record",
                           str(tmp_path / "x.mp4")], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 2 and "pass --track Atlantis_track.npy" in proc.stderr


def test_watch_without_display_says_what_to_do(tmp_path):
    from racer_env.training import TrainConfig, train

    run = tmp_path / "run"
    train(TrainConfig(timesteps=512, n_envs=2, out=str(run), quiet=True, eval_laps=1))
    assert list(run.glob("evaluation-*/trajectory.png"))
    proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "watch", str(run)], capture_output=True,
                          text=True, cwd=REPO, timeout=60, env={**__import__("os").environ,
                                                                "SDL_VIDEODRIVER": "dummy"})
    assert proc.returncode == 2 and "--record out.mp4" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "watch", str(run), "--record",
                           str(tmp_path / "w.gif"), "--speed", "2x"], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert proc.returncode == 0 and (tmp_path / "w.gif").stat().st_size > 1000, proc.stderr


def test_speed_option():
    from racer_env import RacerEnvError
    from racer_env.viewing.viewer import parse_speed

    assert parse_speed("1x") == 1.0 and parse_speed("2x") == 2.0 and parse_speed("max") is None
    with pytest.raises(RacerEnvError):
        parse_speed("fast")


def test_window_keys_pause_step_and_quit(monkeypatch):
    """The live viewer in SDL's dummy video driver: space pauses, n steps once, q quits."""
    import pygame

    from racer_env.viewing import viewer

    source = ScriptedSource(1000)
    monkeypatch.setattr(viewer, "display_available", lambda: True)
    pygame.display.init()
    keys = iter([[], [pygame.K_SPACE], [], [], [pygame.K_n], [], [pygame.K_q]])
    real_get = pygame.event.get

    def scripted_events():
        real_get()
        return [pygame.event.Event(pygame.KEYDOWN, key=k) for k in next(keys, [pygame.K_q])]

    monkeypatch.setattr(pygame.event, "get", scripted_events)
    viewer.show(source, speed=None)
    # frame 1 drawn, then paused (nothing drawn), one step with n, then quit
    assert source.yielded == 2


def test_the_c_key_shows_the_camera_beside_the_track_and_hides_it(monkeypatch):
    import pygame

    from racer_env.viewing import viewer

    source = ScriptedSource(1000)
    monkeypatch.setattr(viewer, "display_available", lambda: True)
    pygame.display.init()
    keys = iter([[], [pygame.K_c], [], [pygame.K_c], [], [pygame.K_q]])
    sizes = []
    real_get, real_flip = pygame.event.get, pygame.display.flip

    def scripted_events():
        real_get()
        return [pygame.event.Event(pygame.KEYDOWN, key=k) for k in next(keys, [pygame.K_q])]

    def flip():
        sizes.append(pygame.display.get_surface().get_size())
        real_flip()

    monkeypatch.setattr(pygame.event, "get", scripted_events)
    monkeypatch.setattr(pygame.display, "flip", flip)
    viewer.show(source, speed=None)
    assert (640, 480) in sizes and (960, 480) in sizes  # the camera's panel, 320 px wide, came and went
    assert sizes[0] == (640, 480) and sizes[-1] == (640, 480)


def test_a_recording_with_the_camera_has_its_view_beside_the_track(tmp_path):
    import imageio.v2 as imageio

    from racer_env.viewing.viewer import record

    assert record(ScriptedSource(10), tmp_path / "cam.mp4", camera=True) == 10
    frame = next(iter(imageio.get_reader(tmp_path / "cam.mp4")))
    assert frame.shape[:2] == (480, 960)
    panel = frame[:, 640:].astype(int)
    assert panel[:240].std() > 10 and panel[240:].std() > 10  # the colour frame above, the grey one below


def test_a_gif_streams_to_disk_as_frames_come(tmp_path):
    """Frames go to ffmpeg one at a time (memory stays flat): the GIF's lossless video grows during recording."""
    from racer_env.viewing.viewer import record

    out = tmp_path / "long.gif"
    sizes = []

    class Watching(ScriptedSource):
        def frames(self):
            for k, frame in enumerate(super().frames()):
                if k in (100, 200):
                    video = out.with_name(out.name + ".lossless.mp4")
                    sizes.append(video.stat().st_size if video.exists() else 0)
                yield frame

    n = record(Watching(240), out, speed=None)
    assert n == 240 and 0 < sizes[0] < sizes[1]  # written while frames were still coming
    assert not list(tmp_path.glob("*.mp4")) and not list(tmp_path.glob("*.png"))  # temporary files removed
    import imageio.v2 as imageio

    assert sum(1 for _ in imageio.get_reader(out)) == 240


def test_replay_picks_episodes_and_seconds_and_says_how_many_frames(tmp_path):
    log = REPO / "tests" / "data" / "short.log"  # three episodes, racer_env's own
    from racer_env.env.logreader import read_sim_trace
    from racer_env.sim.track import Track
    from racer_env.viewing.viewer import LogSource

    episodes = read_sim_trace(log).episodes()
    track = Track.load("harbour_loop")
    assert LogSource(episodes, track, 1, last_episode=2).frame_count() == len(episodes[1]) + len(episodes[2])
    assert LogSource(episodes, track, max_seconds=2.0).frame_count() == 30
    out = tmp_path / "r.mp4"
    proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "replay", str(log), "--track", "harbour_loop",
                           "--episodes", "0-1", "--max-seconds", "3", "--record", str(out), "--speed", "max"],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "recording 45 frames" in proc.stdout and "wrote" in proc.stdout
    import imageio.v2 as imageio

    assert sum(1 for _ in imageio.get_reader(out)) == 45


def test_replay_of_a_run_directory_reads_its_simtrace(tmp_path):
    from racer_env.training import TrainConfig, train

    run = tmp_path / "run"
    train(TrainConfig(timesteps=1024, n_envs=2, out=str(run), quiet=True, eval_laps=0))
    out = tmp_path / "run.mp4"
    proc = subprocess.run([sys.executable, "-m", "racer_env.cli", "replay", str(run), "--episode", "1", "--record",
                           str(out), "--speed", "max"], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 1000


def test_the_hud_shows_the_lap_time_at_lap_completion():
    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval", render_mode="rgb_array", laps=2)
    env.reset(seed=0)
    driver = PurePursuit(env.track, 2.0)
    while True:
        _, _, te, tr, info = env.step(env.actions.to_action(*driver.controls(env.car)))
        if info["episode_status"] == "lap_complete":
            break
    hud = env.frame().hud
    assert hud["lap time"].strip() == f"{info['lap_times'][0]:5.2f} s".strip() and info["lap_times"][0] > 5.0


@pytest.mark.parametrize("sees, labels", [
    ("grey", ("camera", "network input: grey")),
    ("rgb", ("network input: colour", "grey (not this model's input)")),
    ("stereo", ("network input: left camera, grey", "network input: right camera, grey")),
    (None, ("camera", "grey, as a camera model sees it")),
])
def test_the_camera_panel_says_what_the_network_sees(sees, labels):
    from racer_env.viewing.render import CameraPanel

    env = RacerEnv(reward_function=lambda p: 1.0, mode="eval", render_mode="rgb_array")
    env.reset(seed=0)
    (top, first), (bottom, second) = CameraPanel(env.track, 480, sees).images(env.frame())
    assert (first, second) == labels
    if sees == "stereo":  # two grey cameras 6 cm apart: not the same image
        assert (top[:, :, 0] == top[:, :, 1]).all() and not np.array_equal(top, bottom)
    else:  # the colour frame, and its grey
        assert not (top[:, :, 0] == top[:, :, 1]).all() and (bottom[:, :, 0] == bottom[:, :, 2]).all()


def test_watch_labels_the_panel_as_the_run_observes():
    from racer_env.env.config import EnvConfig

    stereo = EnvConfig.make(model_metadata={"action_space": {"steering_angle": {"low": -30, "high": 30},
                                                             "speed": {"low": 1, "high": 3}},
                                            "action_space_type": "continuous", "sensor": ["STEREO_CAMERAS"]})
    assert stereo.network_sees == "stereo" and EnvConfig.make().network_sees is None
    rgb = stereo.replace(actions=type(stereo.actions).from_dict({**stereo.actions.metadata,
                                                                "sensor": ["FRONT_FACING_CAMERA"],
                                                                "preprocess_type": "RGB"}))
    assert rgb.network_sees == "rgb"
