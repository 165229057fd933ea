"""The policy's observation: DeepRacer's camera image, or a small vector that a policy learns from quickly.

**The camera** (``observation="camera"``, the default when model_metadata's ``sensor`` lists a camera) is what
the simulator's network sees (:mod:`racer_env.sim.camera`): a ``Dict`` keyed by the sensor's name, as the
simulator's observation is,

=========================  ===================================================  ==============================
key                        value                                                space
=========================  ===================================================  ==============================
``FRONT_FACING_CAMERA``    the front camera, grey (``preprocess_type``           Box(0, 255, (120, 160, 1),
(or ``observation``,       ``GREY_SCALE``, the simulator's input filter) or      uint8); (120, 160, 3) RGB;
``LEFT_CAMERA``)           colour (``RGB``, racer_env's option)                  times ``frame_stack`` channels
``STEREO_CAMERAS``         the left and right cameras (0.06 m apart), grey       Box(0, 255, (120, 160, 2), uint8)
``LIDAR``, ...             the LIDAR's observation, when the sensor lists one    as in the vector below
=========================  ===================================================  ==============================

**Randomised or perturbed** (``EnvConfig.randomize``, ``EnvConfig.perturbation``): each car's frames are seen
through its own look (:mod:`racer_env.sim.randomize`, :class:`CameraLooks`): its camera's mount, the colours, the
light, the sensor's noise and blur; the spaces are the same.

The simulator stacks one frame whatever ``stack_size`` says ([SIM] ``sagemaker_graph_manager.py`` hard-codes
``ObservationStackingFilter(1)``); ``frame_stack`` > 1 stacks the newest frames, oldest first, on the channel
axis (the stack starts full of the first frame, as rl_coach's filter does).

**The vector** (``observation="vector"``, the default otherwise) is not DeepRacer's: it is privileged state that
no real car has, and it trains in seconds on a CPU. It holds what a driver needs (all in the car's frame, x
forward and y left, from the params point):

=====  ============================================================  ===========
index  value                                                         bounds
=====  ============================================================  ===========
0-19   10 centre-line points 0.2–3.0 m ahead along the track, (x, y)  [-2, 2]
       each, divided by 3 m
20     signed distance from the centre line / half the track width   [-3, 3]
       (positive: left of the centre line)
21     actual speed / 4 m/s                                          [0, 1.5]
22     the wheels' steering angle now / 30° (positive left)          [-1.5, 1.5]
23-24  the last two steering commands, older first / 30°: where     [-1.5, 1.5]
       the wheels are turning to (they lag the command)
25     the newest speed command / 4 m/s                              [0, 1.5]
=====  ============================================================  ===========

Values are clipped to the bounds. Computing it costs the same on any track:
the centre line is resampled once per track, and a step only indexes it.

**With objects** (object avoidance, head-to-bot) ten values follow, five for each of the two nearest
objects ahead along the track (within 5 m), nearest first:

=====  ============================================================  ===========
index  value                                                         bounds
=====  ============================================================  ===========
26     1 when there is such an object, else 0 (and the rest 0)      [0, 1]
27-28  its centre in the car's frame (x forward, y left) / 3 m        [-2, 2]
29     its offset from the centre line / half the track width       [-3, 3]
       (positive: left of the centre line)
30     its speed along the track / 4 m/s (0 for obstacles)          [0, 1.5]
31-35  the same for the second object
=====  ============================================================  ===========

**LIDAR** (model_metadata ``sensor`` lists ``LIDAR``, ``SECTOR_LIDAR`` or ``DISCRETIZED_SECTOR_LIDAR``): the
simulator's observation of its 64-beam scan follows (:func:`racer_env.sim.sensors.lidar_observation`: 64
ranges in [0.15, 1], 8 sector flags, or ``num_sectors × num_values_per_sector`` one-hot bins), from a scan
refreshed at 10 Hz as the simulator's is.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Sequence

import numpy as np
from gymnasium import spaces

from racer_env.constants import (CAMERA_IMAGE_H, CAMERA_IMAGE_W, LOOKAHEAD_M, MAX_SPEED_MPS, OBJECT_SLOTS,
                                 OBJECTS_AHEAD_M, STEREO_BASELINE_M)
from racer_env.env.actions import CAMERA_SENSORS, PREPROCESS_TYPES, ActionSpec
from racer_env.env.params import objects_array
from racer_env.sim.camera import Camera
from racer_env.sim.objects import TrackObject
from racer_env.sim.randomize import PERTURBATIONS, Randomization, Shading, draw, pick, shade, shadow_mask
from racer_env.sim.sensors import LIDAR_SENSORS, lidar_observation, lidar_scan, lidar_size
from racer_env.sim.track import Projection, Track
from racer_env.sim.vehicle import Car

__all__ = ["LOOKAHEAD_M", "observation_space", "observe", "OBS_SIZE", "Observer", "CameraObserver", "make_observer",
           "OBJECT_SLOTS", "CAMERA_SENSORS", "PREPROCESS_TYPES", "OBSERVATIONS", "CameraLooks"]

OBS_SIZE = 2 * len(LOOKAHEAD_M) + 6
_LOW = np.array([-2.0] * (2 * len(LOOKAHEAD_M)) + [-3.0, 0.0, -1.5, -1.5, -1.5, 0.0], dtype=np.float32)
_HIGH = np.array([2.0] * (2 * len(LOOKAHEAD_M)) + [3.0, 1.5, 1.5, 1.5, 1.5, 1.5], dtype=np.float32)


def observation_space() -> spaces.Box:
    """The Box of :func:`observe` (see the module docstring for each entry)."""
    return spaces.Box(_LOW.copy(), _HIGH.copy(), dtype=np.float32)


def _clip(v: float, lo: float, hi: float) -> float:
    return lo if v < lo else (hi if v > hi else v)


def observe(track: Track, car: Car, where: Projection) -> np.ndarray:
    """The observation of ``car``, whose params point projects at ``where`` on the centre line (the table in
    the module docstring; :func:`racer_env.sim.kernels.vector_observation`, which a fleet runs for every car)."""
    import racer_env.sim.kernels as kernels

    out = np.empty(OBS_SIZE)
    older, newer = car.recent_steering
    kernels.vector_observation(*track.kernel, car.x, car.y, car.yaw, int(where.seg), float(where.arc),
                               float(where.distance), car.speed, car.wheel_angle, older, newer,
                               car.last_speed_command, out)
    return out.astype(np.float32)


_OBJ_LOW = [0.0, -2.0, -2.0, -3.0, 0.0]
_OBJ_HIGH = [1.0, 2.0, 2.0, 3.0, 1.5]
_LIDAR_PERIOD_S = 0.1  # the scan's update rate, 10 Hz: objects spec §7.2
OBSERVATIONS = ("vector", "camera")


class _Lidar:
    """A LIDAR's observation, from a scan refreshed at 10 Hz."""

    def __init__(self, sensor: str, config: dict | None):
        self.sensor, self.config = sensor, config
        self.size = lidar_size(sensor, config)
        self.rng = random.Random()
        self._scan: np.ndarray | None = None
        self._scan_time = -1.0

    def reset(self, seed: int | None) -> None:
        if seed is not None:
            self.rng.seed(seed)
        self._scan, self._scan_time = None, -1.0

    def __call__(self, car: Car, things: Sequence[TrackObject], sim_time: float) -> np.ndarray:
        if self._scan is None or sim_time - self._scan_time >= _LIDAR_PERIOD_S - 1e-9:
            self._scan = lidar_scan(car.bx, car.by, car.yaw, things, self.rng)
            self._scan_time = sim_time
        return lidar_observation(self.sensor, self._scan, self.config)

    @property
    def low(self) -> float:
        return 0.15 if self.sensor == "LIDAR" else 0.0


def _lidar(sensors: Sequence[str], config: dict | None) -> _Lidar | None:
    lidars = [s for s in sensors if s in LIDAR_SENSORS]
    return _Lidar(lidars[0], config) if lidars else None


class Observer:
    """The vector observation for a race and a model_metadata's sensors: the default vector, the objects ahead
    when the race has objects, and a LIDAR observation when ``sensors`` asks for one (module docstring).

    Args:
        objects: the race has obstacles or bot cars.
        sensors: model_metadata's ``sensor`` list (only a LIDAR in it counts).
        lidar_config: model_metadata's ``lidar_config`` (DISCRETIZED_SECTOR_LIDAR).
        bot_speed: the bot cars' speed [m/s].
    """

    kind = "vector"

    def __init__(self, objects: bool = False, sensors: Sequence[str] = (), lidar_config: dict | None = None,
                 bot_speed: float = 0.0):
        self.objects, self.bot_speed = objects, bot_speed
        self.lidar = _lidar(sensors, lidar_config)
        low, high = list(_LOW), list(_HIGH)
        if objects:
            low += _OBJ_LOW * OBJECT_SLOTS
            high += _OBJ_HIGH * OBJECT_SLOTS
        if self.lidar:
            low += [self.lidar.low] * self.lidar.size
            high += [1.0] * self.lidar.size
        self.space = spaces.Box(np.array(low, dtype=np.float32), np.array(high, dtype=np.float32), dtype=np.float32)

    def reset(self, seed: int | None = None) -> None:
        if self.lidar:
            self.lidar.reset(seed)

    def __call__(self, track: Track, car: Car, where: Projection, things: Sequence[TrackObject] = (),
                 sim_time: float = 0.0) -> np.ndarray:
        base = observe(track, car, where)
        if not self.objects and not self.lidar:
            return base
        return np.concatenate([base, self.extras(track, car, where, things, sim_time)])

    def extras(self, track: Track, car: Car, where: Projection, things: Sequence[TrackObject] = (),
               sim_time: float = 0.0, things_array: np.ndarray | None = None) -> np.ndarray:
        """What follows the 26 values of :func:`observe`: the objects ahead and the LIDAR's observation, as the
        race and the sensors ask (float32). ``things_array``: the objects as an array, when the caller has it."""
        values = np.array(self._ahead(track, car, where, things, things_array) if self.objects else [],
                          dtype=np.float32)
        if not self.lidar:
            return values
        return np.concatenate([values, self.lidar(car, things, sim_time).astype(np.float32)])

    def _ahead(self, track: Track, car: Car, where: Projection, things: Sequence[TrackObject],
               things_array: np.ndarray | None = None) -> np.ndarray:
        """The objects ahead (module docstring; :func:`racer_env.sim.kernels.objects_ahead`)."""
        import racer_env.sim.kernels as kernels

        out = np.empty(5 * OBJECT_SLOTS)
        objs = things_array if things_array is not None else objects_array(things)
        kernels.objects_ahead(*track.kernel, objs, car.x, car.y, car.yaw, float(where.arc),
                              int(where.seg), *self.ahead_settings(), out)
        return out

    def ahead_settings(self) -> tuple[float, int, float]:
        """What :func:`racer_env.sim.kernels.objects_ahead` takes beside the car and the objects: a bot car's
        value (its speed over the car's top speed, clipped to [0, 1.5]), the slots, and the reach [m]."""
        return _clip(self.bot_speed / MAX_SPEED_MPS, 0.0, 1.5), OBJECT_SLOTS, OBJECTS_AHEAD_M


class CameraObserver:
    """The camera observation (module docstring): a dict of the camera's frames and the LIDAR's observation.

    Args:
        track: the track the camera sees.
        sensors: model_metadata's ``sensor`` list, with one camera.
        preprocess_type: ``"GREY_SCALE"`` (the simulator's) or ``"RGB"``; the stereo pair is always grey.
        frame_stack: frames stacked on the channel axis, newest last (1: the simulator's).
        lidar_config: model_metadata's ``lidar_config``.
    """

    kind = "camera"

    def __init__(self, track: Track, sensors: Sequence[str], preprocess_type: str = "GREY_SCALE",
                 frame_stack: int = 1, lidar_config: dict | None = None):
        cameras = [s for s in sensors if s in CAMERA_SENSORS]
        if len(cameras) != 1:
            raise ValueError(f"sensor: expected one camera of {', '.join(CAMERA_SENSORS)}, got {list(sensors)}")
        if preprocess_type not in PREPROCESS_TYPES:
            raise ValueError(f"preprocess_type: expected one of {', '.join(PREPROCESS_TYPES)}, got {preprocess_type!r}")
        if frame_stack < 1:
            raise ValueError(f"frame_stack: expected a whole number >= 1, got {frame_stack}")
        self.key, self.frame_stack = cameras[0], int(frame_stack)
        half = STEREO_BASELINE_M / 2
        grey = preprocess_type == "GREY_SCALE" or self.key == "STEREO_CAMERAS"
        offsets = {"STEREO_CAMERAS": (half, -half), "LEFT_CAMERA": (half,)}.get(self.key, (0.0,))
        self.cameras = [Camera(track, lateral_m=o, grey=grey) for o in offsets]  # left first, as the simulator
        self.channels = (len(self.cameras) if grey else 3) * self.frame_stack
        self.lidar = _lidar(sensors, lidar_config)
        parts: dict[str, spaces.Space] = {
            self.key: spaces.Box(0, 255, (CAMERA_IMAGE_H, CAMERA_IMAGE_W, self.channels), dtype=np.uint8)}
        if self.lidar:
            parts[self.lidar.sensor] = spaces.Box(self.lidar.low, 1.0, (self.lidar.size,), dtype=np.float32)
        self.space = spaces.Dict(parts)
        self._frames: deque[np.ndarray] = deque(maxlen=self.frame_stack)

    def reset(self, seed: int | None = None) -> None:
        self._frames.clear()
        if self.lidar:
            self.lidar.reset(seed)

    def frame(self, car: Car, things: Sequence[TrackObject] = ()) -> np.ndarray:
        """The cameras' image now: (120, 160, channels of one frame) uint8."""
        shots = [cam.frame(car.bx, car.by, car.yaw, things) for cam in self.cameras]
        if len(shots) == 1:
            return shots[0] if shots[0].ndim == 3 else shots[0][:, :, None]
        return np.stack(shots, axis=2)

    def frames(self, bx: np.ndarray, by: np.ndarray, yaw: np.ndarray,
               things: Sequence[Sequence[TrackObject]] = ()) -> np.ndarray:
        """The cameras' images of N cars at once (body origins ``bx``, ``by`` [m], headings ``yaw`` [rad]):
        (N, 120, 160, channels of one frame) uint8, the same as :meth:`frame` of each."""
        shots = [cam.frames(bx, by, yaw, things) for cam in self.cameras]
        if len(shots) == 1:
            return shots[0] if shots[0].ndim == 4 else shots[0][..., None]
        return np.stack(shots, axis=3)

    def __call__(self, track: Track, car: Car, where: Projection, things: Sequence[TrackObject] = (),
                 sim_time: float = 0.0) -> dict[str, np.ndarray]:
        return self.assemble(self.frame(car, things), car, things, sim_time)

    def assemble(self, frame: np.ndarray, car: Car, things: Sequence[TrackObject] = (),
                 sim_time: float = 0.0) -> dict[str, np.ndarray]:
        """The observation from this step's ``frame`` of the car: the frame stack, and the LIDAR's."""
        if self.frame_stack == 1:
            image = frame
        else:
            if not self._frames:
                self._frames.extend([frame] * self.frame_stack)
            else:
                self._frames.append(frame)
            image = np.concatenate(self._frames, axis=2)
        out = {self.key: image}
        if self.lidar:
            out[self.lidar.sensor] = self.lidar(car, things, sim_time)
        return out


class CameraLooks:
    """How each of ``n`` cars' cameras look (:mod:`racer_env.sim.randomize`): every episode a look drawn from
    ``randomization``, or the fixed look of the ``perturbation`` named. Each car draws from its own generator,
    restarted from the car's seed: a car of a fleet and a RacerEnv seeded alike see the same frames, bit for bit.

    Args:
        observer: the cars' camera observer; its cameras render every car's frame.
        n: cars.
        randomization: the ranges of the drawn looks.
        perturbation: a name of :data:`racer_env.sim.randomize.PERTURBATIONS`, whose look replaces a drawn one.
    """

    def __init__(self, observer: CameraObserver, n: int, randomization: Randomization | None = None,
                 perturbation: str | None = None):
        if randomization is None and perturbation is None:
            raise ValueError("CameraLooks: expected a randomization or a perturbation")
        self.observer, self.randomization = observer, randomization
        self.perturbation = PERTURBATIONS[perturbation] if perturbation is not None else None
        self.tables = [cam.mount_table(n) for cam in observer.cameras]
        camera = observer.cameras[0]
        self.shading = Shading(n, camera.grey, camera.look)
        self.rngs = [np.random.default_rng() for _ in range(n)]

    def seed(self, k: int, seed: int | None) -> None:
        """Restart car ``k``'s draws from ``seed`` (None: leave them)."""
        if seed is not None:
            self.rngs[k] = np.random.default_rng(int(seed) & 0xFFFFFFFFFFFFFFFF)

    def reset(self, k: int, seed: int | None = None) -> None:
        """Car ``k``'s next episode: its draws restarted from ``seed`` when given, then its look drawn."""
        self.seed(k, seed)
        if self.perturbation is not None:
            look = self.perturbation.look
        else:
            assert self.randomization is not None
            look = draw(self.rngs[k], self.randomization)
        for cam, table in zip(self.observer.cameras, self.tables):
            table.set(k, cam.mount(look.height_m, look.pitch_rad))
        self.shading.set(k, look)

    def frames(self, bx: np.ndarray, by: np.ndarray, yaw: np.ndarray, cars: np.ndarray,
               things: Sequence[Sequence[TrackObject]] = ()) -> np.ndarray:
        """The frames of the cars ``cars`` (body origins ``bx``, ``by`` [m], headings ``yaw`` [rad]), each through
        its look: (m, 120, 160, channels of one frame) uint8, as :meth:`CameraObserver.frames`."""
        shots = []
        for cam, table in zip(self.observer.cameras, self.tables):
            tagged = cam.tagged_frames(bx, by, yaw, table, cars, things)
            looks = [self.shading.looks[k] for k in cars.tolist()]
            picks = np.array([pick(self.rngs[k], look) for k, look in zip(cars.tolist(), looks)], dtype=np.int64)
            offsets = None
            if any(look.shadows for look in looks):
                offsets = self.shading.offsets[cars]
                for j, k in enumerate(cars.tolist()):
                    if looks[j].shadows:
                        mask = shadow_mask(table.views[k].ground, float(bx[j]), float(by[j]), float(yaw[j]))
                        offsets[j] = self.shading.shadowed(k, mask)
            shots.append(shade(tagged, self.shading, cars, picks.reshape(-1, 5), offsets))
        if len(shots) == 1:
            return shots[0] if shots[0].ndim == 4 else shots[0][..., None]
        return np.stack(shots, axis=3)


def make_observer(kind: str | None, track: Track, actions: ActionSpec, frame_stack: int = 1, bot_speed: float = 0.0,
                  objects: bool = False) -> Observer | CameraObserver:
    """The observer of ``kind`` (``"vector"`` or ``"camera"``; None: as model_metadata's ``sensor`` says) for an
    action space's sensors (see the module docstring).

    Raises:
        ValueError: an unknown kind, or the camera without a camera in the sensor list.
    """
    kind = kind or actions.observation
    if kind == "camera":
        if not actions.camera:
            raise ValueError(f"observation: 'camera' needs a camera in model_metadata's sensor list, got "
                             f"{actions.sensors}")
        return CameraObserver(track, actions.sensors, actions.preprocess_type, frame_stack, actions.lidar_config)
    if kind == "vector":
        return Observer(objects, actions.sensors, actions.lidar_config, bot_speed)
    raise ValueError(f"observation: expected one of {', '.join(OBSERVATIONS)}, got {kind!r}")
