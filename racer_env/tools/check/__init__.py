"""``racer check``: test a reward function before training.

One module per tool: ``battery`` (thousands of states, failures as pytest snippets), ``probes``
(reward-hacking drivers), ``rescore`` (what-if on a log), ``pictures`` (heatmap, centre line), ``pitfalls``
(DeepRacer's known reward-function mistakes, read from the code with ``dataflow`` or seen in the behaviour),
and ``report``, which runs them all (``run_check``) and prints the result (``show_report``).
"""

from racer_env.tools.check.report import CheckReport, run_check, show_report

__all__ = ["CheckReport", "run_check", "show_report"]
