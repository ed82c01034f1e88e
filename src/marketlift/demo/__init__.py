"""``marketlift demo``: the loop end to end on the embedded default, with no services needed.

1. Simulate a marketplace and ingest its events (and, last of all, send events to the real
   collector over HTTP: the live path, kept out of the models' training rows);
2. build the feature tables;
3. train, register and promote the intent model and the ranker, and fit the uplift model
   behind the engagement policy (saved where the decision API loads it);
4. evaluate the policy offline against the logging policy, with the simulator's truth beside
   the estimate;
5. run a simulated A/B test (no engagement against the saved policy);
6. analyze it with the experiment engine and write an HTML report;
7. leave ``experiments.toml`` so ``marketlift serve`` assigns the same experiment.

Module map:

- :mod:`~marketlift.demo.sizes`: :class:`DemoSize` and :data:`SIZES`.
- :mod:`~marketlift.demo.progress`: one progress bar per step.
- :mod:`~marketlift.demo.collect`: the collector over HTTP.
- :mod:`~marketlift.demo.market`: the simulated history under the logging policy.
- :mod:`~marketlift.demo.models`: features, intent model and ranker.
- :mod:`~marketlift.demo.engagement`: the uplift policy and its offline evaluation.
- :mod:`~marketlift.demo.abtest`: the A/B test, ``experiments.toml`` and the analysis.
- :mod:`~marketlift.demo.summary`: the summary table and the HTML report.
- :mod:`~marketlift.demo.pipeline`: :func:`run_demo`, every step in order.
"""

from marketlift.demo.pipeline import MARKER, prepare_data_dir, run_demo
from marketlift.demo.sizes import DEFAULT_SIZE, SIZES, DemoSize
from marketlift.demo.summary import print_summary, render_demo_report, summary_rows

__all__ = [
    "DEFAULT_SIZE",
    "MARKER",
    "SIZES",
    "DemoSize",
    "prepare_data_dir",
    "print_summary",
    "render_demo_report",
    "run_demo",
    "summary_rows",
]
