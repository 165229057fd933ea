"""The camera: frames that look like the track from the car, where the geometry says, and the observation built
from them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from racer_env import RacerEnv, Track
from racer_env.constants import CAMERA_IMAGE_H, CAMERA_IMAGE_W
from racer_env.env.actions import ActionSpec
from racer_env.errors import ModelMetadataError
from racer_env.sim.camera import HORIZON_ROW, Camera, ground_point, pixel_of
from racer_env.sim.objects import TrackObject
from racer_env.sim.scenery import REINVENT_2018, luma

WIDTH_M = 0.76
LINE = int(luma(np.array(REINVENT_2018.border_line, dtype=np.uint8)))
ROAD = int(luma(np.array(REINVENT_2018.road, dtype=np.uint8)))
DASH = int(luma(np.array(REINVENT_2018.centre_line, dtype=np.uint8)))


def _straight(length: float = 12.0) -> Track:
    """An open straight along +x, 0.76 m wide, inner border on the left (y > 0)."""
    x = np.linspace(0.0, length, 61)
    return Track(np.column_stack([x, 0 * x, x, 0 * x + WIDTH_M / 2, x, 0 * x - WIDTH_M / 2]), name="straight")


def _circle(radius: float = 2.0) -> Track:
    """A counter-clockwise loop: every turn is a left turn."""
    a = np.linspace(0.0, 2 * math.pi, 121)
    c, s = np.cos(a), np.sin(a)
    rows = np.column_stack([radius * c, radius * s, (radius - WIDTH_M / 2) * c, (radius - WIDTH_M / 2) * s,
                            (radius + WIDTH_M / 2) * c, (radius + WIDTH_M / 2) * s])
    rows[-1] = rows[0]
    return Track(rows, name="circle")


STRAIGHT = _straight()


def _line_columns(row: np.ndarray) -> np.ndarray:
    """Where a row of a grey frame shows a white line (far away it blends a little with what is beside it)."""
    return np.flatnonzero(np.abs(row.astype(int) - LINE) <= 20)


def test_on_a_straight_centred_the_two_borders_are_symmetric_about_the_centre_column():
    image = Camera(STRAIGHT).frame(2.0, 0.0, 0.0)
    assert image.shape == (CAMERA_IMAGE_H, CAMERA_IMAGE_W) and image.dtype == np.uint8
    checked = 0
    for r in range(int(HORIZON_ROW) + 4, CAMERA_IMAGE_H):
        cols = _line_columns(image[r])
        left, right = cols[cols < 80], cols[cols >= 80]
        if len(left) and len(right):
            # each line's middle mirrors the other's about the middle of the image (columns 79 and 80)
            assert abs(left.mean() + right.mean() - (CAMERA_IMAGE_W - 1)) <= 1.0, r
            checked += 1
    assert checked >= 20
    # and the dashed centre line is in the middle
    dash_cols = np.flatnonzero(np.abs(image[70:].astype(int) - DASH) <= 3) % CAMERA_IMAGE_W
    assert dash_cols.size and abs(np.median(dash_cols) - 79.5) <= 1


def test_the_borders_appear_where_the_pinhole_geometry_puts_them():
    image = Camera(STRAIGHT).frame(2.0, 0.0, 0.0)
    for ahead in (0.7, 0.85, 1.0):  # the middle of each white line, ahead of the car's origin
        for side in (1, -1):
            row, col = pixel_of(ahead, side * (WIDTH_M / 2 - 0.0381))
            assert abs(int(image[int(row), int(col)]) - LINE) <= 3, (ahead, side, row, col)
            # just beside the line, on the road side: road
            row, col = pixel_of(ahead, side * (WIDTH_M / 2 - 0.15))
            assert abs(int(image[int(row), int(col)]) - ROAD) <= 3


def test_a_car_left_of_centre_sees_the_centre_line_to_its_right():
    image = Camera(STRAIGHT).frame(2.0, 0.15, 0.0)
    dash_cols = np.flatnonzero(np.abs(image[70:].astype(int) - DASH) <= 3) % CAMERA_IMAGE_W
    assert np.median(dash_cols) > 90


def test_a_left_turn_ahead_bends_the_centre_line_to_the_left():
    track = _circle()
    x, y, yaw = track.pose_at(1.0)
    image = Camera(track).frame(x - 0.14 * math.cos(yaw), y - 0.14 * math.sin(yaw), yaw)
    near = np.flatnonzero(np.abs(image[110:120].astype(int) - DASH) <= 3) % CAMERA_IMAGE_W
    far = np.flatnonzero(np.abs(image[45:60].astype(int) - DASH) <= 3) % CAMERA_IMAGE_W
    assert near.size and far.size and np.median(far) < np.median(near) - 10


def test_above_the_horizon_the_wall_or_the_background_below_the_ground():
    image = Camera(STRAIGHT, grey=False).frame(2.0, 0.0, 0.0)
    top = {tuple(p) for p in image[: int(HORIZON_ROW)].reshape(-1, 3)}
    assert top <= {REINVENT_2018.wall, REINVENT_2018.sky}
    assert tuple(image[-1, 80]) == REINVENT_2018.road


def test_a_box_ahead_is_drawn_where_it_stands():
    box = TrackObject(3.0, -0.19, 0.0, "box", 3.0, -0.19)
    camera = Camera(STRAIGHT, grey=False)
    image = camera.frame(2.0, 0.0, 0.0, [box])
    row, col = pixel_of(1.0, -0.19, 0.1)  # its centre, 1 m ahead of the origin, on the right lane
    assert tuple(image[int(row), int(col)]) == (123, 97, 79)
    assert tuple(camera.frame(2.0, 0.0, 0.0)[int(row), int(col)]) != (123, 97, 79)
    behind = camera.frame(2.0, 0.0, math.pi, [box])  # facing away: not drawn
    assert not np.any(np.all(behind == (123, 97, 79), axis=2))


def test_ground_points_and_pixels_are_inverse():
    for row, col in ((119.5, 0.5), (80.5, 100.5), (40.5, 159.5)):
        x, y = ground_point(row, col)
        assert pixel_of(x, y) == pytest.approx((row, col), abs=1e-6)
    assert ground_point(10.5, 80.0) is None  # above the horizon


def _metadata(tmp_path, **extra) -> str:
    meta = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 2}},
            "action_space_type": "continuous", "sensor": ["FRONT_FACING_CAMERA"], "version": "5", **extra}
    path = tmp_path / "model_metadata.json"
    path.write_text(json.dumps(meta))
    return str(path)


def test_a_camera_in_model_metadata_gives_the_simulators_observation(tmp_path):
    env = RacerEnv(model_metadata=_metadata(tmp_path), reward_function=lambda p: 1.0)
    assert env.observation == "camera"
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"FRONT_FACING_CAMERA"}
    assert obs["FRONT_FACING_CAMERA"].shape == (120, 160, 1) and obs["FRONT_FACING_CAMERA"].dtype == np.uint8
    assert env.observation_space.contains(obs)
    obs2, *_ = env.step(env.action_space.sample())
    assert env.observation_space.contains(obs2)
    # the vector, on request; and racer_env's default model_metadata has no camera
    assert RacerEnv(model_metadata=_metadata(tmp_path), observation="vector").observation_space.shape == (26,)
    assert RacerEnv().observation == "vector"


@pytest.mark.parametrize("extra, key, shape", [
    ({"preprocess_type": "RGB"}, "FRONT_FACING_CAMERA", (120, 160, 3)),
    ({"sensor": ["STEREO_CAMERAS"]}, "STEREO_CAMERAS", (120, 160, 2)),
    ({"sensor": ["FRONT_FACING_CAMERA", "LIDAR"]}, "LIDAR", (64,)),
])
def test_colour_stereo_and_lidar(tmp_path, extra, key, shape):
    env = RacerEnv(model_metadata=_metadata(tmp_path, **extra), reward_function=lambda p: 1.0)
    obs, _ = env.reset(seed=0)
    assert obs[key].shape == shape and env.observation_space.contains(obs)


def test_stacked_frames_start_as_copies_and_then_follow_the_car(tmp_path):
    env = RacerEnv(model_metadata=_metadata(tmp_path), reward_function=lambda p: 1.0, frame_stack=3)
    obs, _ = env.reset(seed=0)
    image = obs["FRONT_FACING_CAMERA"]
    assert image.shape == (120, 160, 3) and np.array_equal(image[..., 0], image[..., 2])
    for _ in range(5):
        obs, *_ = env.step(np.array([0.0, 1.0], dtype=np.float32))
    image = obs["FRONT_FACING_CAMERA"]
    assert not np.array_equal(image[..., 0], image[..., 2])  # the car moved between the oldest and the newest


@pytest.mark.parametrize("extra, field", [
    ({"neural_network": "DEEP_CONVOLUTIONAL_NETWORK_WIDE"}, "neural_network"),
    ({"preprocess_type": "BINARY"}, "preprocess_type"),
    ({"sensor": ["FRONT_FACING_CAMERA", "STEREO_CAMERAS"]}, "sensor"),
    ({"sensor": ["INFRARED"]}, "sensor"),
])
def test_bad_camera_fields_are_named(tmp_path, extra, field):
    with pytest.raises(ModelMetadataError, match=f"model_metadata.json: field '{field}'"):
        RacerEnv(model_metadata=_metadata(tmp_path, **extra))


def test_the_camera_observation_needs_a_camera():
    with pytest.raises(ValueError, match="observation: 'camera' needs a camera"):
        RacerEnv(model_metadata=ActionSpec.default(), observation="camera")


@pytest.fixture(scope="module")
def camera_run(tmp_path_factory):
    """A tiny camera training (a few updates): enough to check what a run keeps and how it is driven."""
    from racer_env.cli import main

    work = tmp_path_factory.mktemp("camrun")
    meta = work / "camera.json"
    meta.write_text(json.dumps({"action_space": {"steering_angle": {"low": -30, "high": 30},
                                                 "speed": {"low": 0.5, "high": 2}},
                                "action_space_type": "continuous", "sensor": ["FRONT_FACING_CAMERA"],
                                "version": "5"}))
    run = work / "run"
    assert main(["train", "--model-metadata", str(meta), "--timesteps", "512", "--n-envs", "2", "--out", str(run),
                 "--quiet", "--eval-laps", "0"]) == 0
    return run, meta


def test_a_camera_run_keeps_its_observation_and_network(camera_run):
    run, _ = camera_run
    info = json.loads((run / "run.json").read_text())
    assert info["env"]["observation"] == "camera" and info["neural_network"] == "DEEP_CONVOLUTIONAL_NETWORK_SHALLOW"
    from racer_env.training.rundir import RunDir

    model, config = RunDir(run).model_and_env()
    assert config.observation == "camera"
    assert model.policy.features_extractor.__class__.__name__ == "DeepRacerNetwork"
    conv = [m for m in model.policy.features_extractor.modules() if m.__class__.__name__ == "Conv2d"]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in conv] == [(32, 8, 4), (64, 4, 2), (64, 3, 1)]


def test_a_camera_model_evaluates_and_is_watched_with_its_camera(camera_run, tmp_path):
    from racer_env.cli import main

    run, _ = camera_run
    assert main(["evaluate", str(run), "--laps", "1"]) == 0
    video = tmp_path / "watch.mp4"
    assert main(["watch", str(run), "--record", str(video)]) == 0
    import imageio.v2 as imageio

    assert next(iter(imageio.get_reader(video))).shape[:2] == (480, 960)  # the camera's panel, on by default


def test_a_camera_model_refuses_the_vector_and_the_reverse_in_one_line(camera_run, tmp_path, capsys):
    from racer_env.cli import main

    run, meta = camera_run
    assert main(["evaluate", str(run), "--observation", "vector"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run.json: field 'observation'" in err[0] and "trained on the camera" in err[0]
    assert main(["train", "--resume", str(run), "--observation", "vector", "--timesteps", "512", "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "run.json: field 'observation'" in err[0]
    assert main(["train", "--observation", "camera", "--timesteps", "512", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "field 'sensor'" in err[0] and "needs a camera" in err[0]


@pytest.mark.parametrize("extra, field", [
    ({"neural_network": "RESNET"}, "neural_network"),
    ({"preprocess_type": "EDGES"}, "preprocess_type"),
    ({"sensor": ["CAMERA"]}, "sensor"),
])
def test_bad_camera_files_stop_train_in_one_line(extra, field, tmp_path, capsys):
    from racer_env.cli import main

    path = _metadata(tmp_path, **extra)
    assert main(["train", "--model-metadata", path, "--timesteps", "512", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{path}: field '{field}'" in err[0], err
