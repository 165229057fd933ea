"""Objects on the track, against the objects spec's worked examples: lanes, placement, the shrinking gap,
bot cars' paths, the crash test at the corners, the camera frustum and the LIDAR."""

import math
import random

import numpy as np
import pytest

from conftest import shared_path
from racer_env.env.race import race_settings
from racer_env.env.traffic import Traffic
from racer_env.sim.objects import Lanes, TrackObject, contact, fixed_layout, generated_layout
from racer_env.sim.sensors import beam_angles, in_camera, lidar_observation, lidar_scan
from racer_env.sim.track import Track


@pytest.fixture(scope="module")
def reinvent2019():
    return Track.load(shared_path("tracks", "reInvent2019_track.npy"))


def test_tracks_of_the_worked_examples(reinvent, reinvent2019):
    assert reinvent.length == pytest.approx(17.709, abs=1e-3) and reinvent.width == pytest.approx(0.762, abs=1e-3)
    assert reinvent2019.length == pytest.approx(23.118, abs=1e-3)


def test_lanes_are_midlines_a_quarter_width_from_the_centre(reinvent):
    lanes = Lanes(reinvent)
    lengths = [float(np.linalg.norm(np.diff(p, axis=0), axis=1).sum()) for p in lanes.points]
    assert lengths == pytest.approx([16.515, 18.904], abs=1e-3)  # objects spec §3.1
    box = lanes.obstacle(5.0, 0, "box")
    assert box.offset == pytest.approx(reinvent.width / 4, abs=0.01) and box.distance == pytest.approx(5.0, abs=0.01)
    assert lanes.obstacle(5.0, 1, "box").offset == pytest.approx(-reinvent.width / 4, abs=0.01)


def test_evenly_spaced_obstacles_in_metres_alternate_lanes(reinvent):
    """Objects spec §2.3: reinvent_base, 6 obstacles, the gap in metres (before October 2024)."""
    layout = generated_layout(reinvent.length, 6, 2.0, None)
    assert [round(d, 3) for d, _ in layout] == [2.000, 4.942, 7.884, 10.825, 13.767, 16.709]
    assert [lane for _, lane in layout] == [0, 1, 0, 1, 0, 1]  # inner first
    traffic = Traffic(reinvent, race_settings({"NUMBER_OF_OBSTACLES": 6, "obstacle_gap": "metres"}))
    traffic.reset()
    assert [round(o.distance, 2) for o in traffic.obstacles] == [2.0, 4.94, 7.88, 10.83, 13.77, 16.71]


def test_the_gap_shrinks_every_episode_since_october_2024(reinvent):
    """Objects spec §2.3: g is read as a percentage of L and stored back: 0.354 m at start-up, then 0.063,
    0.011, 0.002 m: obstacle 0 drifts to the start line."""
    traffic = Traffic(reinvent, race_settings({"NUMBER_OF_OBSTACLES": 6}))
    firsts = []
    for _ in range(3):
        traffic.reset()
        firsts.append(traffic.obstacles[0].distance)
    assert firsts == pytest.approx([0.063, 0.011, 0.002], abs=1e-3)
    intended = Traffic(reinvent, race_settings({"NUMBER_OF_OBSTACLES": 6, "obstacle_gap": "percent"}))
    for _ in range(3):
        intended.reset()
        assert intended.obstacles[0].distance == pytest.approx(0.354, abs=1e-3)


def test_randomised_obstacles_keep_their_order_and_redraw_every_episode(reinvent2019):
    """Objects spec §2.3: reInvent2019_track, 6 random obstacles, 300 episodes with the shrinking gap: the
    smallest neighbour gap has a median of about 0.5 m and reaches 0."""
    traffic = Traffic(reinvent2019, race_settings({"NUMBER_OF_OBSTACLES": 6, "RANDOMIZE_OBSTACLE_LOCATIONS": True}))
    traffic.rng.seed(7)
    smallest, layouts = [], set()
    L = reinvent2019.length
    for _ in range(300):
        traffic.reset()
        d = [o.distance - L if o.distance > L - 0.5 else o.distance for o in traffic.obstacles]  # ~0: unwrap
        assert d == sorted(d) and d[-1] <= L - 1.0 + 0.01
        smallest.append(min(np.diff(d)))
        layouts.add(tuple(round(v, 3) for v in d))
    assert len(layouts) == 300
    assert float(np.median(smallest)) == pytest.approx(0.5, abs=0.08) and min(smallest) < 0.02


def test_fixed_positions_are_fractions_of_a_lap_and_lane_minus_one_is_outer(reinvent):
    assert fixed_layout(reinvent.length, ["0.25,1", "0.5, -1", "0.75,3"]) == \
        [(pytest.approx(reinvent.length / 4), 0), (pytest.approx(reinvent.length / 2), 1),
         (pytest.approx(reinvent.length * 0.75), 0)]
    traffic = Traffic(reinvent, race_settings({"OBJECT_POSITIONS": ["0.25,1", "0.5,-1"]}))
    traffic.reset()
    first = [(o.x, o.y) for o in traffic.obstacles]
    traffic.reset()
    assert [(o.x, o.y) for o in traffic.obstacles] == first  # the same in every episode


def test_bot_cars_start_in_metres_without_shrinking(reinvent):
    """Objects spec §3.2: reinvent_base, 3 bots: 2.000 m inner, 9.355 m outer, 16.709 m inner."""
    traffic = Traffic(reinvent, race_settings({"NUMBER_OF_BOT_CARS": 3}))
    for _ in range(3):
        traffic.reset()
        assert [(round(b.start, 3), b.lane) for b in traffic.bots] == [(2.0, 0), (9.355, 1), (16.709, 0)]


def test_a_bot_car_follows_its_lane_at_the_centre_line_speed(reinvent):
    lanes = Lanes(reinvent)
    for lane in (0, 1):
        poses = [lanes.bot(s, lane) for s in np.arange(0.0, reinvent.length, 0.05)]
        for p in poses:
            assert abs(p.offset) == pytest.approx(reinvent.width / 4, abs=0.02)
        path = sum(math.hypot(b.x - a.x, b.y - a.y) for a, b in zip(poses, poses[1:] + poses[:1]))
        assert path == pytest.approx([16.515, 18.904][lane], rel=0.01)  # a lap of its lane in L / speed


def test_a_lane_change_is_a_smooth_s_over_its_distance(reinvent):
    lanes = Lanes(reinvent)
    start, length = 4.0, 1.0
    offsets = [lanes.changing(start + f * length, start, length, 0).offset for f in np.linspace(0, 1, 11)]
    assert offsets[0] == pytest.approx(reinvent.width / 4, abs=0.02)
    assert offsets[-1] == pytest.approx(-reinvent.width / 4, abs=0.02)
    assert offsets[5] == pytest.approx(0.0, abs=0.02)
    assert all(b < a for a, b in zip(offsets, offsets[1:]))  # monotone


def test_the_crash_test_takes_only_the_cars_corners_strictly_inside(reinvent):
    """Objects spec §4.1: the box's crash rectangle is 0.50 m along by 0.40 m across; only the agent's four
    corners count."""
    box = TrackObject(0.0, 0.0, 0.0, "box", 0.0, 0.0)
    half_len, half_wid = 0.25, 0.20
    car_half = 0.32352 / 2
    assert contact([box], half_len + car_half - 0.001, 0.0, 0.0) == 0  # its rear corners just inside the box
    assert contact([box], half_len + car_half, 0.0, 0.0) == -1  # strictly inside only
    # the car straddling the box's corner with none of its own corners inside: not seen, as in the simulator
    assert contact([box], half_len + 0.05, half_wid + 0.05, math.radians(45)) == -1
    assert contact([box], 2.0, 2.0, 0.0) == -1


def test_the_camera_sees_from_a_third_of_a_metre_ahead_within_its_field_of_view():
    """Objects spec §6.8: ground points are visible from about 0.32 m ahead of the car origin, within about
    ±32° of the heading; behind the car nothing is."""
    def ground(x, y):
        return TrackObject(x, y, 0.0, "bot", 0.0, 0.0)

    def sees(x, y):  # a single point: a tiny object
        o = ground(x, y)
        return in_camera(0.0, 0.0, 0.0, o._replace(kind="bot"))

    assert not in_camera(0.0, 0.0, 0.0, TrackObject(-1.0, 0.0, 0.0, "bot", 0.0, 0.0))
    assert in_camera(0.0, 0.0, 0.0, TrackObject(2.0, 0.0, 0.0, "bot", 0.0, 0.0))
    import racer_env.sim.kernels as kernels

    assert not kernels._visible(0.0, 0.0, 1.0, 0.0, 0.30, 0.0, 0.0)
    assert kernels._visible(0.0, 0.0, 1.0, 0.0, 0.34, 0.0, 0.0)
    assert kernels._visible(0.0, 0.0, 1.0, 0.0, 0.36, 0.0, 0.1) and not kernels._visible(0.0, 0.0, 1.0, 0.0, 0.33, 0.0, 0.1)
    assert kernels._visible(0.0, 0.0, 1.0, 0.0, 5.0, 5.0 * math.tan(math.radians(30)), 0.0)
    assert not kernels._visible(0.0, 0.0, 1.0, 0.0, 5.0, 5.0 * math.tan(math.radians(36)), 0.0)
    assert sees(50.0, 0.0)


def test_lidar_beams_face_backwards_with_a_blind_cone_ahead():
    angles = np.degrees(beam_angles()) % 360
    assert len(angles) == 64 and angles[0] == pytest.approx(30.0, abs=0.01) and angles[-1] == pytest.approx(330.0, abs=0.01)
    assert np.diff(angles) == pytest.approx(300 / 63, abs=1e-4)


@pytest.mark.parametrize("bearing_deg, range_m", [(90.0, 1.0), (180.0, 0.6), (270.0, 2.5), (45.0, 0.8)])
def test_lidar_sees_a_box_at_its_bearing_and_range(bearing_deg, range_m):
    """A box whose near face is ``range_m`` from the sensor, square to the beam at ``bearing_deg``."""
    b = math.radians(bearing_deg)
    sensor_x = 0.02913
    centre = range_m + 0.15  # the box's near long side faces the sensor (0.30 m across: its centre 0.15 further)
    box = TrackObject(sensor_x + centre * math.cos(b), centre * math.sin(b), b + math.pi / 2, "box", 0.0, 0.0)
    ranges = lidar_scan(0.0, 0.0, 0.0, [box])
    beam = int(np.argmin(np.abs((np.degrees(beam_angles()) - bearing_deg + 180) % 360 - 180)))
    offset = math.radians(abs(((math.degrees(beam_angles()[beam]) - bearing_deg + 180) % 360) - 180))
    assert ranges[beam] == pytest.approx(range_m / math.cos(offset), abs=1e-6)
    assert np.isinf(ranges).sum() > 50  # the rest of the circle sees nothing
    noisy = lidar_scan(0.0, 0.0, 0.0, [box], random.Random(1))
    assert noisy[beam] == pytest.approx(ranges[beam], abs=0.05) and noisy[beam] == round(noisy[beam], 2)


def test_a_box_straight_ahead_is_in_the_blind_cone():
    assert np.isinf(lidar_scan(0.0, 0.0, 0.0, [TrackObject(1.0, 0.0, 0.0, "box", 0.0, 0.0)])).all()


def test_the_three_lidar_observations():
    ranges = np.full(64, np.inf)
    ranges[10] = 0.4
    ranges[40] = 1.7
    lidar = lidar_observation("LIDAR", ranges)
    assert lidar.shape == (64,) and lidar[10] == pytest.approx(0.4) and lidar[40] == 1.0 and lidar.min() >= 0.15
    assert lidar_observation("SECTOR_LIDAR", ranges).tolist() == [0, 1, 0, 0, 0, 0, 0, 0]
    disc = lidar_observation("DISCRETIZED_SECTOR_LIDAR", ranges).reshape(8, 8)
    assert disc[1].tolist() == [0, 1, 0, 0, 0, 0, 0, 0]  # 0.4 m in bins of 0.25 m
    assert disc[5].tolist() == [0, 0, 0, 0, 0, 0, 1, 0]  # 1.7 m
    assert disc[[0, 2, 3, 4, 6, 7]].sum() == 0  # nothing within 2 m
    four = lidar_observation("DISCRETIZED_SECTOR_LIDAR", ranges, {"num_sectors": 4, "num_values_per_sector": 2,
                                                                  "clipping_dist": 1.0})
    assert four.tolist() == [1, 0, 0, 0, 0, 0, 0, 0]
