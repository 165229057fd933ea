"""The tools around training: ``racer check`` for reward functions (``check/``) and ``racer drive`` (``drive``)."""
