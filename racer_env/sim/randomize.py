"""Domain randomisation of the camera: how a training episode's frames may differ from the simulator's, and the
perturbations an evaluation may put a model to that training never drew.

A model trained on racer_env's render sees one camera mount, one set of colours and perfect light. A physical car
sees none of them exactly. With ``python train.py --randomize`` each training episode of each car draws a
:class:`CameraLook` from the ranges of a :class:`Randomization` (:func:`draw`):

* **the mount**: the camera's height and pitch, within the tolerances of :mod:`racer_env.constants`
  (``RANDOM_HEIGHT_M``, ``RANDOM_PITCH_RAD``), rendered by :meth:`racer_env.sim.camera.Camera.mount`;
* **the colours** of the road, the lines and the surroundings, each on its own: a brightness factor, a tint of
  each channel, an offset (a grey camera sees a tint as the change of the class's luma);
* **the light**: the exposure (a gain on the whole image), the tone curve (gamma) and a lighting gradient
  across the image, in any direction;
* **the sensor**, every frame: Gaussian noise (its sigma drawn an episode, a new pattern each frame) and, on some
  frames, a blur.

:data:`PERTURBATIONS` are fixed looks outside those ranges (hard shadow bands, a light road, a bright and a dim
room, a motion blur, a camera tilt, lens vignetting), which ``benchmarks/randomize.py`` evaluates models on. (A
colour cast is not among them: a grey camera sees a cast only as each class's change of luma, which training's
brightness and tint already span.)

How a frame is made: the camera renders each pixel *tagged* with its class (:func:`racer_env.sim.scenery.tag`:
``class * 512 + 128 + value``), with each car's mount (:class:`racer_env.sim.camera.MountTable`). A car's look
is then one lookup table (:class:`Shading`) from a tagged value, a band of the lighting gradient and a channel to
the output value, made once an episode: the class's colour change, the exposure, the light of the band, the
gamma. A frame is one pass (:func:`racer_env.sim.kernels.camera_shade`): each pixel's tagged value, plus its
band's and channel's offset, plus its noise, indexes the table; then the frames drawn to be blurred are blurred.
The noise comes from a bank of Gaussian patterns made once (from a fixed seed), read at a random tile and shift
each frame. With :data:`PLAIN` the table is the identity: the frames are the plain render's, bit for bit.

Everything here is a pure function of its arguments or a table of numbers; every random draw comes from a
``numpy.random.Generator`` the caller gives (the fleet keeps one a car, seeded from the car's seed). Units:
metres, radians, grey levels (0-255); image rows from the top, columns from the left.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from racer_env.constants import (CAMERA_IMAGE_H, CAMERA_IMAGE_W, CAMERA_PITCH_RAD, CAMERA_Z_M, RANDOM_BLUR_P,
                                 RANDOM_CLASS_BRIGHTNESS, RANDOM_CLASS_OFFSET, RANDOM_CLASS_TINT, RANDOM_EXPOSURE,
                                 RANDOM_GAMMA, RANDOM_GRADIENT, RANDOM_HEIGHT_M, RANDOM_HEIGHT_STEP_M, RANDOM_NOISE,
                                 RANDOM_PITCH_RAD, RANDOM_PITCH_STEP_RAD)
from racer_env.sim.scenery import CLASSES, OBJECTS, REINVENT_2018, TAG_STRIDE, TAG_ZERO, Look, luma

__all__ = ["Randomization", "CameraLook", "PLAIN", "draw", "Perturbation", "PERTURBATIONS", "Shading", "pick",
           "shade", "shadow_mask", "BLURS"]

_H, _W = CAMERA_IMAGE_H, CAMERA_IMAGE_W
_C = len(CLASSES)
_BANDS = 16  # the lighting gradient's steps in a car's table: 2 % of light each at the widest gradient
_TILES, _SHIFT = 8, 16  # the noise bank: patterns, and the shifts (rows, columns) each is read at
_NOISE_SEED = 20260426  # the bank's patterns are the same in every process
NOISE_STEP = 0.5
"""The noise's sigma is kept to this [grey levels]: the bank holds a set of integer patterns for each step."""
BLURS = ("soft", "motion")
"""``soft``: a [1, 2, 1] x [1, 2, 1] / 16 kernel, once or twice (sigma 0.7 or 1.0 px), as training draws it;
``motion``: a horizontal box of :data:`MOTION_BLUR_PX` pixels (a perturbation)."""
MOTION_BLUR_PX = 9
"""The motion-blur perturbation's length [px]: a fast turn's smear across 9 of the 160 columns in a frame's
exposure (racer_env's choice; the training blur is at most 1 px)."""


@dataclass(frozen=True)
class Randomization:
    """The ranges a training episode's :class:`CameraLook` is drawn from (defaults: :mod:`racer_env.constants`,
    where each is explained). A factor ``f`` is drawn log-uniformly in [1/f, f]; a ``±`` range uniformly.

    Attributes:
        height_m: the camera's height, ± about the simulator's 0.130 m [m], in steps of 2.5 mm.
        pitch_rad: its pitch, ± about the simulator's 15° down [rad], in steps of 0.5°.
        class_brightness: each class's brightness factor (road, lines, surroundings on their own).
        class_tint: each class's factor on each channel, on top.
        class_offset: grey levels added to each class, ±.
        exposure: the whole image's gain factor.
        gamma: the tone curve's exponent factor.
        gradient: a lighting gradient's strength: the light is 1 ± up to this at opposite edges.
        noise: the sensor noise's sigma, drawn in [0, noise] grey levels an episode.
        blur_p: the chance that a frame is blurred.
    """

    height_m: float = RANDOM_HEIGHT_M
    pitch_rad: float = RANDOM_PITCH_RAD
    class_brightness: float = RANDOM_CLASS_BRIGHTNESS
    class_tint: float = RANDOM_CLASS_TINT
    class_offset: float = RANDOM_CLASS_OFFSET
    exposure: float = RANDOM_EXPOSURE
    gamma: float = RANDOM_GAMMA
    gradient: float = RANDOM_GRADIENT
    noise: float = RANDOM_NOISE
    blur_p: float = RANDOM_BLUR_P

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"randomize: field {f.name!r}: expected a number, got {value!r}")
            factor = f.name in _FACTORS
            if (factor and value < 1.0) or (not factor and value < 0.0):
                raise ValueError(f"randomize: field {f.name!r}: expected a number >= {1 if factor else 0}, got "
                                 f"{value!r}")
        if self.blur_p > 1.0:
            raise ValueError(f"randomize: field 'blur_p': expected a chance in [0, 1], got {self.blur_p!r}")
        if self.pitch_rad > 0.2 or self.height_m > 0.1:  # the camera would look above the horizon, or lie down
            raise ValueError(f"randomize: the mount's ranges (height_m {self.height_m}, pitch_rad {self.pitch_rad}) "
                             f"are beyond what the camera can render: expected at most 0.1 m and 0.2 rad")

    def to_json(self) -> dict[str, float]:
        """The ranges as run.json keeps them."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Randomization":
        """The ranges :meth:`to_json` wrote (a range left out keeps its default).

        Raises:
            ValueError: an unknown field or a bad value, named.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"randomize: unknown field {unknown[0]!r} (expected some of {', '.join(sorted(known))})")
        return cls(**{k: data[k] for k in data})


_FACTORS = ("class_brightness", "class_tint", "exposure", "gamma")
RGBF = tuple[float, float, float]
_ONES: tuple[RGBF, ...] = ((1.0, 1.0, 1.0),) * _C
_ZEROS: tuple[RGBF, ...] = ((0.0, 0.0, 0.0),) * _C


def _rgb(values: Any) -> RGBF:
    """Three numbers as a (R, G, B) tuple of floats."""
    return float(values[0]), float(values[1]), float(values[2])


@dataclass(frozen=True)
class CameraLook:
    """How one car's camera sees the track for an episode: its mount, the colours, the light, the sensor.

    Attributes:
        height_m: the camera's height above the ground [m].
        pitch_rad: its pitch down [rad].
        gain: for each class of :data:`racer_env.sim.scenery.CLASSES`, a factor on each channel (R, G, B).
        offset: for each class, grey levels added to each channel (after ``gain``; the result is clipped to
            0-255, as paint's colour is).
        exposure: the whole image's gain.
        gamma: the tone curve: out = 255 (in / 255) ** gamma.
        gradient: the light across the image: 1 ± ``gradient`` at opposite edges (0: even light).
        gradient_angle: the direction the light rises along [rad]: 0 to the right, π/2 down the image.
        vignette: the lens's fall-off: the light is 1 - ``vignette`` × r², r = 1 in the corners.
        noise: the sensor noise's sigma [grey levels] (to :data:`NOISE_STEP`), a new pattern each frame.
        blur_p: the chance that a frame is blurred.
        blur: how (:data:`BLURS`).
        shadows: hard shadow bands lie across the track (:func:`shadow_mask`).
    """

    height_m: float = CAMERA_Z_M
    pitch_rad: float = CAMERA_PITCH_RAD
    gain: tuple[RGBF, ...] = _ONES
    offset: tuple[RGBF, ...] = _ZEROS
    exposure: float = 1.0
    gamma: float = 1.0
    gradient: float = 0.0
    gradient_angle: float = 0.0
    vignette: float = 0.0
    noise: float = 0.0
    blur_p: float = 0.0
    blur: str = "soft"
    shadows: bool = False


PLAIN = CameraLook()
"""The simulator's camera: the plain render, unchanged."""


def _log_uniform(rng: np.random.Generator, factor: float, size: Any = None) -> Any:
    return np.exp(rng.uniform(-math.log(factor), math.log(factor), size))


def _on_grid(rng: np.random.Generator, half: float, step: float) -> float:
    """A draw in [-half, half], uniform on the multiples of ``step`` there (0 when ``half`` < ``step``)."""
    k = int(math.floor(half / step + 1e-9))
    return step * int(rng.integers(-k, k + 1))


def draw(rng: np.random.Generator, ranges: Randomization) -> CameraLook:
    """A training episode's look, drawn from ``ranges`` (always the same number of draws, in the same order).

    >>> look = draw(np.random.default_rng(0), Randomization())
    >>> abs(look.height_m - 0.13033) <= 0.01, abs(look.pitch_rad - 0.2618) <= 0.0349, look.blur
    (True, True, 'soft')
    """
    height = CAMERA_Z_M + _on_grid(rng, ranges.height_m, RANDOM_HEIGHT_STEP_M)
    pitch = CAMERA_PITCH_RAD + _on_grid(rng, ranges.pitch_rad, RANDOM_PITCH_STEP_RAD)
    brightness = _log_uniform(rng, ranges.class_brightness, _C - 1)
    tint = _log_uniform(rng, ranges.class_tint, (_C - 1, 3))
    offset = rng.uniform(-ranges.class_offset, ranges.class_offset, _C - 1)
    gain = tuple(_rgb(brightness[c] * tint[c]) for c in range(_C - 1)) + ((1.0, 1.0, 1.0),)
    offsets = tuple(_rgb((o, o, o)) for o in offset) + ((0.0, 0.0, 0.0),)  # objects keep their colours
    exposure = float(_log_uniform(rng, ranges.exposure))
    gamma = float(_log_uniform(rng, ranges.gamma))
    gradient = float(rng.uniform(0.0, ranges.gradient))
    angle = float(rng.uniform(-math.pi, math.pi))
    noise = float(rng.uniform(0.0, ranges.noise))
    return CameraLook(float(height), float(pitch), gain, offsets, exposure, gamma, gradient, angle, 0.0, noise,
                      ranges.blur_p, "soft", False)


# ---------------------------------------------------------------- perturbations
@dataclass(frozen=True)
class Perturbation:
    """A fixed look that training never draws, for evaluation: its name, what it is, and the look."""

    name: str
    what: str
    look: CameraLook


_ROAD_LIGHT = (150, 150, 150)  # a concrete-grey road: luma 150 where the simulator's road is 47
SHADOW_LIGHT = 0.4
"""A shadow band's light: 40 % of the rest (training's gradient never goes below 70 %, and never has an edge)."""
SHADOW_PERIOD_M, SHADOW_WIDTH_M, SHADOW_ANGLE_RAD = 2.5, 0.5, 0.6
"""Shadow bands 0.5 m wide every 2.5 m across the field, at 0.6 rad to its x axis (a roof's beams, a window's
bars)."""


def _road_painted(rgb: tuple[int, int, int], look: Look = REINVENT_2018) -> CameraLook:
    """The plain look with the road painted ``rgb`` instead of its own colour (an offset on each channel)."""
    road = _rgb([a - b for a, b in zip(rgb, look.road)])
    return replace(PLAIN, offset=(road,) + _ZEROS[1:])


PERTURBATIONS: dict[str, Perturbation] = {p.name: p for p in (
    Perturbation("shadows", f"hard shadow bands {SHADOW_WIDTH_M} m wide every {SHADOW_PERIOD_M} m across the track, "
                 f"{SHADOW_LIGHT * 100:.0f} % light: edges that training never has (its light changes smoothly)",
                 replace(PLAIN, shadows=True)),
    Perturbation("light_road", "the road painted concrete grey (150, 150, 150): brighter than the field beside it "
                 "(luma 150 against 120; training's road stays darker than its field, at most 0.97 of it)",
                 _road_painted(_ROAD_LIGHT)),
    Perturbation("glare", "a bright room: exposure x2.2, the lines and the field white (training: x1.4 at most, "
                 "x1.8 at the bright edge of the strongest gradient)", replace(PLAIN, exposure=2.2)),
    Perturbation("motion_blur", f"every frame smeared along its rows by a {MOTION_BLUR_PX}-pixel box (training: "
                 "30 % of frames, at most sigma 1 px, both axes)", replace(PLAIN, blur_p=1.0, blur="motion")),
    Perturbation("tilt", "the camera pitched 20° down (training: 13-17°): the horizon 12 rows higher up",
                 replace(PLAIN, pitch_rad=math.radians(20.0))),
    Perturbation("vignette", "lens vignetting: 45 % light in the corners (training: none)",
                 replace(PLAIN, vignette=0.55)),
    Perturbation("dim", "a dim room: exposure x0.35 (training: x0.71 at the least, x0.5 at the dark edge of the "
                 "strongest gradient)", replace(PLAIN, exposure=0.35)),
)}
"""The evaluation's perturbations, by name: each is outside what ``--randomize`` draws, as its ``what`` says."""


# -------------------------------------------------------------------- shading
_U = np.tile((np.arange(_W) + 0.5 - _W / 2) / (_W / 2), (_H, 1))  # -1 at the image's left edge, 1 at its right
_V = np.tile(((np.arange(_H) + 0.5 - _H / 2) / (_H / 2))[:, None], (1, _W))  # -1 at the top, 1 at the bottom
_R2 = (_U**2 + (_V * _H / _W) ** 2) / (1.0 + (_H / _W) ** 2)  # the squared distance from the centre, 1 in a corner


def light_map(look: CameraLook) -> np.ndarray:
    """(120, 160) float: the light falling on each pixel, from the look's gradient and vignetting (1: even)."""
    if not look.gradient and not look.vignette:
        return np.ones((_H, _W))
    c, s = math.cos(look.gradient_angle), math.sin(look.gradient_angle)
    light = 1.0 + look.gradient / (abs(c) * _U[0, -1] + abs(s) * _V[-1, 0]) * (_U * c + _V * s)
    if look.vignette:
        light *= 1.0 - look.vignette * _R2
    return light


def _grey_gain(look: CameraLook, colours: tuple) -> tuple[np.ndarray, np.ndarray]:
    """A grey camera's gain and offset of each class: the change of the luma of the class's colour."""
    weights = np.array([0.2989, 0.5870, 0.1140])
    gain = np.array(look.gain, dtype=float)
    ref = np.array(colours, dtype=float)
    g = (gain * ref) @ weights / np.maximum(ref @ weights, 1e-9)
    return g[:, None], (np.array(look.offset, dtype=float) @ weights)[:, None]


class Shading:
    """The tables that turn ``n`` cars' tagged frames into what each car's camera gives (module docstring).

    For car ``k``: :attr:`lut` ``[k]``, its lookup table (bands × channels × classes × 512 values, uint8), and
    :attr:`offsets` ``[k]``, each pixel's band and channel offset into it ((120, 160 × channels) int32); its
    :attr:`looks` ``[k]`` and :attr:`light` ``[k]`` (the light map its bands were cut from).

    Args:
        n: cars.
        grey: grey frames (one channel), or RGB.
        look: the scenery's colours: a grey camera sees a class's tint as the change of the luma of its colour.
    """

    def __init__(self, n: int, grey: bool = True, look: Look = REINVENT_2018):
        self.grey, self.channels = grey, 1 if grey else 3
        self._colours = (look.road, look.border_line, look.field, (128, 128, 128))
        self.size = _BANDS * self.channels * _C * TAG_STRIDE
        self.lut = np.empty((n, self.size), dtype=np.uint8)
        self.offsets = np.empty((n, _H, _W * self.channels), dtype=np.int32)
        self.looks: list[CameraLook] = [PLAIN] * n
        self.light: list[np.ndarray] = [np.ones((_H, _W))] * n
        self._bands: list[tuple[float, float]] = [(1.0, 0.0)] * n
        for k in range(n):
            self.set(k, PLAIN)

    def set(self, k: int, look: CameraLook) -> None:
        """Car ``k`` sees with ``look`` from now on."""
        light = light_map(look)
        low, high = float(light.min()), float(light.max())
        if look.shadows:
            low *= SHADOW_LIGHT
        step = (high - low) / (_BANDS - 1)
        bands = _BANDS if step > 1e-9 else 1
        factors = low + step * np.arange(bands) if bands > 1 else np.array([low])
        self.looks[k], self.light[k], self._bands[k] = look, light, (low, step)
        self.lut[k, :bands * self.size // _BANDS] = _table(look, factors, self.grey, self._colours).ravel()
        self.offsets[k] = self._offsets(light, low, step)

    def _offsets(self, light: np.ndarray, low: float, step: float) -> np.ndarray:
        """Each pixel's offset into its car's table: its band's, then its channel's."""
        band = np.rint((light - low) / step).astype(np.int32) if step > 1e-9 else np.zeros(light.shape, np.int32)
        per_band = self.channels * _C * TAG_STRIDE
        off = band * per_band
        if self.channels == 1:
            return off
        return (off[:, :, None] + np.arange(3, dtype=np.int32) * (_C * TAG_STRIDE)).reshape(_H, _W * 3)

    def shadowed(self, k: int, mask: np.ndarray) -> np.ndarray:
        """Car ``k``'s offsets for a frame whose pixels under ``mask`` (120, 160) lie in a shadow band."""
        low, step = self._bands[k]
        return self._offsets(np.where(mask, self.light[k] * SHADOW_LIGHT, self.light[k]), low, step)


def _table(look: CameraLook, factors: np.ndarray, grey: bool, colours: tuple) -> np.ndarray:
    """A car's lookup table (bands, channels, classes, 512) uint8: for each band's light factor, channel, class
    and tagged slot (a value 0-255 at 128-383, with the noise's room round it), the output value."""
    if grey:
        gain, offset = _grey_gain(look, colours)
    else:
        gain, offset = np.array(look.gain, dtype=float), np.array(look.offset, dtype=float)
    paint = np.clip(_SLOTS * gain.T[:, :, None] + offset.T[:, :, None], 0.0, 255.0)  # (channels, classes, 512)
    light = np.minimum(paint[None] * (look.exposure * factors)[:, None, None, None], 255.0)
    if look.gamma == 1.0:
        return np.floor(light + 0.5).astype(np.uint8)
    # the tone curve, read from a table a quarter of a grey level fine
    tone = np.floor(255.0 * (np.arange(4 * 255 + 1) / (4 * 255)) ** look.gamma + 0.5).astype(np.uint8)
    return tone[np.floor(light * 4.0 + 0.5).astype(np.intp)]


_SLOTS = np.clip(np.arange(TAG_STRIDE) - TAG_ZERO, 0, 255).astype(float)  # a tagged slot's value, noise clipped


@lru_cache(maxsize=4)
def _noise_bank(channels: int, levels: int) -> np.ndarray:
    """(levels, tiles, 120 + shift, (160 + shift) × channels) int8: Gaussian patterns of sigma ``level`` ×
    :data:`NOISE_STEP` grey levels (rounded, within ±127), the same in every process."""
    rng = np.random.default_rng(_NOISE_SEED)
    unit = rng.standard_normal((_TILES, _H + _SHIFT, (_W + _SHIFT) * channels))
    sigma = NOISE_STEP * np.arange(levels)
    return np.clip(np.floor(sigma[:, None, None, None] * unit + 0.5), -127, 127).astype(np.int8)


def _noise_level(look: CameraLook) -> int:
    return int(math.floor(look.noise / NOISE_STEP + 0.5))


_DEFAULT_LEVELS = int(math.floor(RANDOM_NOISE / NOISE_STEP + 0.5)) + 1  # the bank's levels for training's noise


def pick(rng: np.random.Generator, look: CameraLook) -> tuple[int, int, int, int, int]:
    """A frame's random draws for a car with ``look``: the noise pattern (its level, tile, row shift, column
    shift; level 0: no noise) and the blur (0: none; 1 or 2 passes of the soft kernel, or 1 of the motion blur).
    Always four draws from ``rng``."""
    u = rng.random(4)
    blur = 0
    if u[3] < look.blur_p:
        blur = 1 if look.blur == "motion" or u[3] < look.blur_p / 2 else 2
    return _noise_level(look), int(u[0] * _TILES), int(u[1] * _SHIFT), int(u[2] * _SHIFT), blur


def shadow_mask(ground: np.ndarray, bx: float, by: float, yaw: float) -> np.ndarray:
    """(120, 160) bool: the pixels whose ground points (``ground``: (2, 120 × 160) in the car's frame [m], NaN
    above the horizon; :attr:`racer_env.sim.camera.MountView.ground`) lie in a shadow band, for a car with its
    body origin at (bx, by) [m] heading ``yaw`` [rad]."""
    c, s = math.cos(yaw), math.sin(yaw)
    x = bx + c * ground[0] - s * ground[1]
    y = by + s * ground[0] + c * ground[1]
    across = x * math.cos(SHADOW_ANGLE_RAD) + y * math.sin(SHADOW_ANGLE_RAD)
    with np.errstate(invalid="ignore"):
        return (np.mod(across, SHADOW_PERIOD_M) < SHADOW_WIDTH_M).reshape(_H, _W)


def shade(tagged: np.ndarray, shading: Shading, cars: np.ndarray, picks: np.ndarray,
          offsets: np.ndarray | None = None) -> np.ndarray:
    """The frames the cars ``cars`` see: their ``tagged`` frames ((m, 120, 160[, 3]) uint16,
    :meth:`racer_env.sim.camera.Camera.tagged_frames`) through their tables in ``shading``, with the noise and
    blur of ``picks`` ((m, 5) of :func:`pick`). ``offsets``: the cars' band offsets for this frame (default:
    their tables' own). Returns (m, 120, 160[, 3]) uint8."""
    import racer_env.sim.kernels as kernels

    m = len(cars)
    channels = shading.channels
    if offsets is None:
        offsets = shading.offsets if m == len(shading.offsets) and np.array_equal(cars, np.arange(m)) \
            else shading.offsets[cars]
    levels = int(picks[:, 0].max()) + 1 if m else 1
    bank = _noise_bank(channels, max(levels, _DEFAULT_LEVELS))
    out = np.empty(tagged.shape, dtype=np.uint8)
    kernels.camera_shade(tagged.reshape(m, _H, _W * channels), offsets, shading.lut, cars, bank, picks[:, :4],
                         channels, out.reshape(m, _H, _W * channels))
    blurred = np.flatnonzero(picks[:, 4]).tolist()
    if blurred:
        flat = out.reshape(m, _H, _W * channels)
        scratch = np.empty((_H, _W * channels), dtype=np.int32)
        for j in blurred:
            if shading.looks[int(cars[j])].blur == "motion":
                kernels.camera_smear(flat[j], MOTION_BLUR_PX, channels, scratch[0])
            else:
                kernels.camera_blur(flat[j], int(picks[j, 4]), channels, scratch)
    return out
