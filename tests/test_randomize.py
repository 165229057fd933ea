"""Domain randomisation of the camera (racer_env.sim.randomize): off by default and then the plain render bit for
bit; on, frames that differ, stay in range and come again from the same seed; each mount where the pinhole
geometry puts it; the fleet as RacerEnv; the option refused on the vector, kept in run.json."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from racer_env import RacerEnv, Track
from racer_env.constants import CAMERA_PITCH_RAD, CAMERA_Z_M, RANDOM_HEIGHT_M, RANDOM_PITCH_RAD
from racer_env.env.config import EnvConfig
from racer_env.env.fleet import Fleet
from racer_env.errors import ModelMetadataError
from racer_env.sim.camera import Camera, horizon_row, pixel_of
from racer_env.sim.randomize import PERTURBATIONS, PLAIN, CameraLook, Randomization, Shading, draw, shade
from racer_env.sim.scenery import REINVENT_2018, luma

CAMERA = {"action_space": {"steering_angle": {"low": -30, "high": 30}, "speed": {"low": 0.5, "high": 3}},
          "action_space_type": "continuous", "sensor": ["FRONT_FACING_CAMERA"], "version": "5"}
WIDTH_M = 0.76
LINE = int(luma(np.array(REINVENT_2018.border_line, dtype=np.uint8)))


def _straight(length: float = 12.0) -> Track:
    """An open straight along +x, 0.76 m wide, inner border on the left (y > 0)."""
    x = np.linspace(0.0, length, 61)
    return Track(np.column_stack([x, 0 * x, x, 0 * x + WIDTH_M / 2, x, 0 * x - WIDTH_M / 2]), name="straight")


STRAIGHT = _straight()


def _config(**changes) -> EnvConfig:
    return EnvConfig.make(track="harbour_loop", reward=lambda p: 1.0, model_metadata=CAMERA, **changes)


def _frames(env: RacerEnv, steps: int, seed: int) -> list[np.ndarray]:
    obs, _ = env.reset(seed=seed)
    out = [obs["FRONT_FACING_CAMERA"]]
    for _ in range(steps):
        obs, _, te, tr, _ = env.step(np.array([0.1, 0.0], dtype=np.float32))
        out.append(obs["FRONT_FACING_CAMERA"])
        if te or tr:
            obs, _ = env.reset()
    return out


def _look_at(camera: Camera, look: CameraLook, bx: float = 2.0, by: float = 0.0, yaw: float = 0.0) -> np.ndarray:
    """One frame of a car at (bx, by, yaw) seen with ``look`` (no noise drawn)."""
    table = camera.mount_table(1)
    table.set(0, camera.mount(look.height_m, look.pitch_rad))
    shading = Shading(1, camera.grey)
    shading.set(0, look)
    tagged = camera.tagged_frames(np.array([bx]), np.array([by]), np.array([yaw]), table)
    return shade(tagged, shading, np.arange(1), np.zeros((1, 5), dtype=np.int64))[0]


def test_off_by_default_and_then_the_plain_render_bit_for_bit():
    config = _config()
    assert config.randomize is None and config.perturbation is None
    env = RacerEnv(config)
    assert env.fleet.looks is None
    camera = Camera(env.track)
    for frame in _frames(env, 5, seed=0)[-1:]:
        car = env.car
        assert np.array_equal(frame[..., 0], camera.frame(car.bx, car.by, car.yaw))
    # the randomising pipeline itself, with the plain look, gives the plain render's pixels
    for grey in (True, False):
        cam = Camera(env.track, grey=grey)
        x, y, yaw = env.track.pose_at(3.0)
        assert np.array_equal(_look_at(cam, PLAIN, x, y, yaw), cam.frame(x, y, yaw))


def test_on_frames_differ_but_stay_uint8_images_of_the_space():
    plain = RacerEnv(_config())
    randomised = RacerEnv(_config(randomize=True))
    assert randomised.fleet.looks is not None
    a, b = _frames(plain, 30, seed=3), _frames(randomised, 30, seed=3)
    differ = 0
    for fa, fb in zip(a, b):
        assert fb.dtype == np.uint8 and fb.shape == fa.shape == (120, 160, 1)
        assert randomised.observation_space.contains({"FRONT_FACING_CAMERA": fb})
        differ += not np.array_equal(fa, fb)
    assert differ == len(a)
    # colour frames too
    rgb = RacerEnv(EnvConfig.make(track="harbour_loop", reward=lambda p: 1.0, randomize=True,
                                  model_metadata={**CAMERA, "preprocess_type": "RGB"}))
    obs, _ = rgb.reset(seed=1)
    assert obs["FRONT_FACING_CAMERA"].shape == (120, 160, 3) and rgb.observation_space.contains(obs)


def test_the_same_seed_draws_the_same_frames_and_another_seed_others():
    one, two = RacerEnv(_config(randomize=True)), RacerEnv(_config(randomize=True))
    a, b = _frames(one, 40, seed=7), _frames(two, 40, seed=7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    c = _frames(two, 40, seed=8)
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    assert draw(np.random.default_rng(5), Randomization()) == draw(np.random.default_rng(5), Randomization())


def test_evaluation_drives_on_the_plain_render():
    assert Fleet(_config(randomize=True), 2, mode="eval").looks is None
    assert Fleet(_config(randomize=True), 2, mode="train").looks is not None
    assert Fleet(_config(perturbation="dim"), 1, mode="eval").looks is not None


def test_the_horizon_rises_as_the_camera_pitches_down_where_the_geometry_says():
    camera = Camera(STRAIGHT, grey=False)
    # looking along the straight from x = 2 m: the wall at the field's far end, 11 m away; the sky above it
    wall_x = camera.scenery.x1 - 2.0
    rows = []
    for pitch in (CAMERA_PITCH_RAD - RANDOM_PITCH_RAD, CAMERA_PITCH_RAD, CAMERA_PITCH_RAD + RANDOM_PITCH_RAD):
        image = _look_at(camera, CameraLook(pitch_rad=pitch))
        sky = np.flatnonzero(np.all(image[:, 80] == REINVENT_2018.sky, axis=1))
        predicted, _ = pixel_of(wall_x, 0.0, REINVENT_2018.wall_height_m, pitch_rad=pitch)
        assert abs(sky.max() + 1 - predicted) <= 1.0, (pitch, sky.max(), predicted)  # the wall's top edge
        rows.append(predicted)
    # pitched down 2° more, everything moves up the image (the wall's top edge 4.9 rows), and the horizon too
    assert rows[0] - rows[1] > 4.5 and rows[1] - rows[2] > 4.5
    up, down = horizon_row(CAMERA_PITCH_RAD + RANDOM_PITCH_RAD), horizon_row(CAMERA_PITCH_RAD - RANDOM_PITCH_RAD)
    assert horizon_row() - up == pytest.approx(4.8, abs=0.1) and down - horizon_row() == pytest.approx(4.7, abs=0.1)


def test_a_higher_camera_sees_the_border_lines_lower_in_the_image_where_the_geometry_says():
    camera = Camera(STRAIGHT)
    rows = []
    for height in (CAMERA_Z_M - RANDOM_HEIGHT_M, CAMERA_Z_M, CAMERA_Z_M + RANDOM_HEIGHT_M):
        image = _look_at(camera, CameraLook(height_m=height))
        for side in (1, -1):
            row, col = pixel_of(0.85, side * (WIDTH_M / 2 - 0.0381), height_m=height)
            assert abs(int(image[int(row), int(col)]) - LINE) <= 3, (height, side, row, col)
        rows.append(row)
    assert rows[0] < rows[1] < rows[2]  # the same ground point, 0.85 m ahead, lower in the image


def test_a_fleet_randomises_every_car_as_a_racer_env_does_bit_for_bit():
    n = 3
    envs = [RacerEnv(_config(randomize=True), mode="train", start_offset=k / n) for k in range(n)]
    fleet = Fleet(_config(randomize=True), n, mode="train")
    for k, env in enumerate(envs):
        env.reset(seed=k)
        fleet.seed(k, k)
        fleet.reset(k, k)
    rng = np.random.default_rng(4)
    for _ in range(25):
        actions = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
        _, terminated, truncated, _ = fleet.step(actions)
        for k, env in enumerate(envs):
            obs, _, te, tr, _ = env.step(actions[k])
            assert np.array_equal(fleet.observation(k)["FRONT_FACING_CAMERA"], obs["FRONT_FACING_CAMERA"])
            if te or tr:
                env.reset()
                fleet.reset(k)


@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_each_perturbation_changes_the_frames(name):
    env = RacerEnv(_config(perturbation=name), mode="eval")
    plain = RacerEnv(_config(), mode="eval")
    a, b = _frames(env, 3, seed=0), _frames(plain, 3, seed=0)
    assert all(not np.array_equal(x, y) for x, y in zip(a, b))
    assert all(env.observation_space.contains({"FRONT_FACING_CAMERA": x}) for x in a)


def test_the_vector_refuses_randomize_in_one_line(tmp_path, capsys):
    from racer_env.cli import main

    assert main(["train", "--randomize", "--timesteps", "512", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "randomize" in err[0] and "camera" in err[0], err
    assert not (tmp_path / "r").exists()
    with pytest.raises(ModelMetadataError, match="perturbation"):
        EnvConfig.make(perturbation="shadows")
    with pytest.raises(ModelMetadataError, match="perturbation: expected one of"):
        _config(perturbation="fog")
    with pytest.raises(ModelMetadataError, match="'noise'"):
        _config(randomize={"noise": -1})


def test_run_json_keeps_it_and_a_resumed_run_evaluations_and_watching_read_it_back(tmp_path):
    from racer_env.training.rundir import RunDir
    from racer_env.training.trainer import training_env

    ranges = Randomization(noise=3.0, blur_p=0.0)
    config = EnvConfig.make(track="harbour_loop", reward="follow_center", model_metadata=CAMERA, randomize=ranges)
    assert EnvConfig.from_json(config.to_json()) == config
    assert EnvConfig.from_json(json.loads(json.dumps(config.to_json()))).randomize == ranges
    run = RunDir(tmp_path / "run")
    run.path.mkdir()
    run.write_info({"env": run.keep_env(config)})
    assert json.loads(run.info_path.read_text())["env"]["randomize"]["noise"] == 3.0
    assert run.env_config().randomize == ranges  # what evaluate and watch read (their fleets in "eval" mode)
    assert training_env(run.path).randomize == ranges  # a resumed run goes on randomising
    assert training_env(run.path, randomize=False).randomize is None  # --no-randomize
    assert EnvConfig.from_json({**config.to_json(), "randomize": True}).randomize == Randomization()


def test_the_defaults_stay_within_the_mounts_tolerances():
    rng = np.random.default_rng(0)
    looks = [draw(rng, Randomization()) for _ in range(200)]
    assert max(abs(lk.height_m - CAMERA_Z_M) for lk in looks) <= RANDOM_HEIGHT_M + 1e-12
    assert max(abs(lk.pitch_rad - CAMERA_PITCH_RAD) for lk in looks) <= RANDOM_PITCH_RAD + 1e-12
    assert len({(lk.height_m, lk.pitch_rad) for lk in looks}) > 20
    assert PERTURBATIONS["tilt"].look.pitch_rad > CAMERA_PITCH_RAD + RANDOM_PITCH_RAD
    assert math.isclose(PLAIN.exposure, 1.0)
