"""The simulation core: track geometry, the car's physics and scripted drivers.

Pure functions and small value objects in SI units; nothing here knows about
Gymnasium, reward functions, files of runs, torch or pygame.
"""

from racer_env.sim.drivers import PurePursuit
from racer_env.sim.track import DEFAULT_TRACK, Projection, Track, bundled_tracks
from racer_env.sim.vehicle import Car

__all__ = ["Car", "DEFAULT_TRACK", "Projection", "PurePursuit", "Track", "bundled_tracks"]
