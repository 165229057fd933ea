"""The layouts of the arrays the simulation's kernels share with the code around them (no numba here, so that
importing racer_env stays light).

* A car's state (:data:`CAR_STATE`): one row a car, the columns below.
* A fleet's params geometry (:data:`GEOMETRY`): each car's geometric params at its pose now, which its next
  step's params are made of.
"""

__all__ = ["CAR_STATE", "GEOMETRY"]

CAR_STATE = ("bx", "by", "yaw", "x", "y", "speed", "delta", "moved")
"""The columns of a car state array: body origin [m], yaw [rad], params point [m], speed during the last step
[m/s], wheel angle [rad], distance the params point moved in the last step [m]."""
C_BX, C_BY, C_YAW, C_X, C_Y, C_SPEED, C_DELTA, C_MOVED = range(len(CAR_STATE))

GEOMETRY = ("progress", "width", "heading", "left", "all_on", "none_on", "prv", "nxt", "closest")
"""The columns of a fleet's geometry array: progress [%], track_width [m], heading [deg], is_left_of_center,
all wheels on the road, none, the previous and next waypoint, and the nearer of the two (the log's
``closest_waypoint``); flags and indices as floats."""
G_PROGRESS, G_WIDTH, G_HEADING, G_LEFT, G_ALL_ON, G_NONE_ON, G_PRV, G_NXT, G_CLOSEST = range(len(GEOMETRY))
