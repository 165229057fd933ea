"""Errors raised for bad input. Each message names the file, the field or line, what was expected and what came."""


class RacerEnvError(Exception):
    """Base class of every error that racer_env raises for bad input."""


class TrackFileError(RacerEnvError, ValueError):
    """A track file cannot be used: wrong shape, NaN, too short, or borders crossing the centre line."""


class RewardFunctionError(RacerEnvError):
    """A reward function failed to load, raised, or returned something DeepRacer rejects.

    When raised by a call, ``where`` is ``file:line``, ``what`` the failure and ``params`` the input.
    """

    where: str = ""
    what: str = ""
    params: dict | None = None


class ModelMetadataError(RacerEnvError, ValueError):
    """A model_metadata.json file is malformed."""


class HyperparametersError(RacerEnvError, ValueError):
    """A hyperparameters.json file is malformed."""


class RunDirError(RacerEnvError):
    """A run directory is missing, incomplete, or in use by another process."""


class LogFormatError(RacerEnvError, ValueError):
    """A DeepRacer log or simtrace file cannot be read."""


class ExportError(RacerEnvError):
    """A run cannot be exported as a DeepRacer physical model: not a camera model the car can run, or the
    output file cannot be written."""


class ActionRateError(RacerEnvError, ValueError):
    """A car's action rate cannot be driven: not 60 Hz divided by a whole number, or not with this model."""
