"""The tools around training: ``racer check`` for reward functions (``check/``), ``racer raceline``
(``raceline``), ``racer sweep`` (``sweep``) and ``racer drive`` (``drive``)."""
