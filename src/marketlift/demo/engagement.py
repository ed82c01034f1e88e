"""Steps 3b and 4: the engagement policy, learned from the lake's decision log, and its OPE.

The policy is learned as a marketplace would learn it, from the lake alone
(:func:`marketlift.policy.read_decision_log`: the history's ``decision`` events with their
propensities and eligible sets, joined to the purchases that followed within each channel's
attribution window, with the catalog's features point-in-time; :func:`marketlift.policy.
fit_policy`: a seed ensemble of S-learners behind uplift-greedy acting when the net uplift
exceeds 5 cents). It is saved with :func:`marketlift.policy.save` to
``DATA/policies/engagement.pkl``, the file the decision API serves.

Off-policy evaluation (:func:`marketlift.ope.evaluate` and :func:`marketlift.ope.gate`)
estimates the candidate's value per decision from the logging policy's decisions of held-out
buyers (30%, not used to fit the policy). The simulator's truth is read only for the "how good
was the estimate" lines beside it:

- ``true_value_on_log``: the candidate's exact expected revenue per decision on the logged
  contexts (``sum_a pi(a|x) q(x, a)`` with the simulator's true ``q``, from its truth table
  by decision id): what OPE estimates.
- ``simulated``: :func:`marketlift.sim.evaluate_policies` runs the candidate (on the features
  the online store has, :func:`marketlift.sim.features.online_features`), the logging policy,
  never-nudge and the oracle on the same world with common random numbers; this value
  includes what the log cannot show (fatigue and opt-outs that the candidate's nudges cause).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from marketlift.demo.progress import Steps
from marketlift.demo.sizes import DemoSize
from marketlift.sim import SimConfig

__all__ = ["HOLDOUT", "POLICY_FILE", "evaluate_offline", "policy_path", "train_policy"]

HOLDOUT = 0.3
"""Share of the history's buyers whose decisions are kept for off-policy evaluation."""
POLICY_FILE = Path("policies") / "engagement.pkl"
"""Where the engagement policy lives, relative to the data directory."""


def policy_path(data_dir: str | os.PathLike[str]) -> Path:
    """``DATA/policies/engagement.pkl``: the file the decision API loads."""
    return Path(data_dir) / POLICY_FILE


def train_policy(
    data_dir: str | os.PathLike[str], run: str, size: DemoSize, seed: int, steps: Steps
) -> tuple[Any, Any, dict[str, Any]]:
    """Fit the uplift policy on the lake's decision log and save it.

    The decisions of a random :data:`HOLDOUT` share of buyers are kept out of the fit: off-policy
    evaluation uses them, since a policy evaluated on the rows it learned from looks better
    than it is.

    Returns:
        The fitted policy, the held-out decision log and a summary.
    """
    from marketlift.policy import fit_policy, load_catalog, read_decision_log, save  # noqa: PLC0415
    from marketlift.policy.catalog import catalog_path  # noqa: PLC0415

    del run  # the lake holds one history; the decision log is all of it
    with steps.step("policy", "engagement policy from the decision log", total=1):
        catalog = load_catalog(catalog_path(data_dir))
        everything = read_decision_log(data_dir, catalog)
        buyers, inverse = np.unique(everything.buyers().astype(str), return_inverse=True)
        held = (np.random.default_rng(seed).random(len(buyers)) < HOLDOUT)[inverse]
        log, holdout = everything.subset(~held), everything.subset(held)
        policy = fit_policy(log, n_models=size.ensemble, threshold=0.05, random_state=seed)
        path = policy_path(data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        save(policy, path)
    summary = {
        "path": str(path),
        "decisions": len(log),
        "holdout_decisions": len(holdout),
        "logged_nudge_share": float((everything.action > 0).mean()),
        "features": list(log.feature_names),
        "flags": list(everything.flags),
        "learner": f"{size.ensemble} S-learners (LightGBM), uplift-greedy, 5 cent threshold",
    }
    return policy, holdout, summary


def _true_values(data_dir: str | os.PathLike[str], log: Any) -> np.ndarray:
    """The simulator's expected revenue (USD) of every action at each logged decision."""
    from marketlift.sim import read_truth  # noqa: PLC0415

    truth = read_truth(data_dir, "sim_truth_decisions")
    ids = truth.column("decision_id").to_pylist()
    where = {d: i for i, d in enumerate(ids)}
    rows = np.array([where[d] for d in log.rows.column("decision_id").to_pylist()])
    cols = [
        truth.column(f"value_{a}").to_numpy(zero_copy_only=False).astype(np.float64)[rows]
        for a in log.catalog.action_ids
    ]
    return np.column_stack(cols) / 100.0


def evaluate_offline(  # noqa: PLR0917
    policy: Any,
    log: Any,
    config: SimConfig,
    steps: Steps,
    seed: int,
    data_dir: str | os.PathLike[str],
) -> dict[str, Any]:
    """OPE of ``policy`` on the held-out decision log, with the simulator's truths beside it."""
    from marketlift.ope import evaluate, fit_reward_model, gate  # noqa: PLC0415
    from marketlift.ope.evaluate import target_probabilities  # noqa: PLC0415
    from marketlift.sim import evaluate_policies  # noqa: PLC0415

    with steps.step("ope", "off-policy evaluation against the logging policy", total=1):
        data = log.bandit()
        q = fit_reward_model(data, random_state=seed)
        report = evaluate(data, policy, estimators=("ips", "snips", "dr"), q=q)
        verdict = gate(data, policy, estimator="dr", q=q)
        target = target_probabilities(policy, data)
        assert target is not None
        truth = np.nan_to_num(_true_values(data_dir, log), nan=0.0)
        true_candidate = float((target * truth).sum(axis=1).mean())
        true_logging = float(truth[np.arange(len(log)), log.action].mean())
    label = "simulator's truth: candidate, logging, never, oracle"
    with steps.step("truth", label, total=4) as advance:
        policies: dict[str, Any] = {
            "candidate": policy,
            "logging": "logging",
            "never": "never",
            "oracle": "oracle",
        }
        values = {}
        for i, (name, pol) in enumerate(policies.items()):
            values.update(evaluate_policies(config, {name: pol}))
            advance(i + 1, len(policies))
    dr = report.get("dr")
    never = values["never"].expected_revenue_per_buyer
    gain = values["oracle"].expected_revenue_per_buyer - never
    candidate_value = values["candidate"].expected_revenue_per_buyer
    return {
        "estimator": "dr",
        "decisions": report.n,
        "estimate": dr.value,
        "interval": [dr.ci_low, dr.ci_high],
        "flags": list(dr.flags),
        "true_value_on_log": true_candidate,
        "covers_truth": bool(dr.ci_low <= true_candidate <= dr.ci_high),
        "error": dr.value - true_candidate,
        "logging_value": report.logged_value,
        "true_logging_value_on_log": true_logging,
        "lift": verdict.lift,
        "lift_interval": [verdict.ci_low, verdict.ci_high],
        "true_lift_on_log": true_candidate - true_logging,
        "worth_testing": verdict.worth_testing,
        "reason": verdict.reason,
        "estimators": {
            e.estimator: {"value": e.value, "interval": [e.ci_low, e.ci_high]}
            for e in report.estimates
        },
        "simulated": {
            "revenue_per_buyer": {k: v.expected_revenue_per_buyer for k, v in values.items()},
            "candidate_share_of_oracle_gain": (candidate_value - never) / gain if gain else None,
            "candidate_nudge_share": values["candidate"].nudges
            / max(values["candidate"].decisions, 1),
        },
    }
