"""DeepRacer-style reward functions that ship with racer_env: copy one, change it, pass your file to racer.

Each file is what you would paste into the AWS console: one ``def reward_function(params)``. racer_env loads
them by path (``--reward reward_functions/follow_center.py``) or by name (``--reward follow_center``); installed
from a wheel, they are the package ``racer_env.reward_functions``.
"""
