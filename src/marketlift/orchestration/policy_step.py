"""The policy step behind one small function: :func:`retrain_policy`.

It runs what ``marketlift policy retrain`` runs (:func:`marketlift.policy.retrain.retrain`): the
engagement policy learned from the lake's decision log alone, evaluated off-policy on held-out
buyers, gated against the logging policy and registered as a version of ``engagement``; the
``promote`` step serves it when the gate passed.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["HOLDOUT", "retrain_policy"]

HOLDOUT = 0.3
"""Share of buyers whose logged decisions are kept out of the fit, for the offline gate."""


def retrain_policy(
    data_dir: str | os.PathLike[str], interval: str, *, random_state: int = 0
) -> dict[str, Any]:
    """Fit the engagement policy on the decision log, gate it offline (DR) and register it.

    Args:
        data_dir: The data directory (events, ``engagement.toml``).
        interval: The pipeline's interval (the registry version records its training range).
        random_state: Seed of the holdout split and the learners.

    Returns:
        The registered version, the decisions it learned from, and the gate's verdict
        (``worth_testing``, ``lift`` and its interval) on the held-out buyers' decisions.

    Raises:
        ConfigError: the data directory has no catalog or no logged decisions to learn from.
    """
    from marketlift.policy import load_catalog, read_decision_log  # noqa: PLC0415
    from marketlift.policy.catalog import catalog_path  # noqa: PLC0415
    from marketlift.policy.retrain import retrain  # noqa: PLC0415

    log = read_decision_log(data_dir, load_catalog(catalog_path(data_dir)))
    result = retrain(data_dir, log, holdout=HOLDOUT, random_state=random_state)
    gate = result["gate"]
    return {
        "interval": interval,
        "version": result["version"],
        "decisions": result["decisions"],
        "holdout_decisions": result["ope"]["decisions"],
        "worth_testing": bool(gate["worth_testing"]),
        "lift": float(gate["lift"]),
        "lift_interval": [float(x) for x in gate["interval"]],
        "flags": result["flags"],
    }
