"""Steps that release: evaluate the candidates, promote what passed, reload serving, monitor.

- evaluate: the intent candidate passes when its holdout ROC AUC is at least the promoted
  model's minus ``INTENT_AUC_TOLERANCE`` (or nothing is promoted); the ranker when it beats its
  popularity and session-kNN baselines on NDCG@10 and MRR@20; the policy when the offline
  gate says it is worth an A/B test (its DR lift interval above 0), or no policy is served yet.
- promote: the registry's promotion (recorded, reversible with ``models rollback``) and an
  atomic replace of ``DATA/policies/engagement.pkl``.
- reload: ``POST /admin/reload`` on ``MARKETLIFT_SERVE_URL`` with ``MARKETLIFT_ADMIN_KEY``;
  without them it skips (``serve`` watches the registry and reloads promoted versions itself).
- monitor: :func:`marketlift.monitor.monitor` on the interval; the report is kept in
  ``DATA/monitor/latest.json`` (``serve``'s ``/metrics``) and its alerts are the step's status.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from marketlift.orchestration.context import StepInput, read_result
from marketlift.orchestration.data_steps import StepSkippedError

__all__ = ["INTENT_AUC_TOLERANCE", "evaluate", "monitor", "promote", "reload"]

INTENT_AUC_TOLERANCE: Final = 0.02
"""How much lower than the promoted model's ROC AUC an intent candidate may be."""


def _outputs(ctx: StepInput, step: str) -> dict[str, Any] | None:
    result = read_result(ctx, step)
    return None if result is None or result.status != "done" else result.outputs


def evaluate(ctx: StepInput) -> dict[str, Any]:
    """Decide which of the interval's candidates pass (nothing is promoted here)."""
    from marketlift.models.registry import Registry  # noqa: PLC0415

    registry = Registry(ctx.data_dir)
    verdicts: dict[str, Any] = {}
    intent = _outputs(ctx, "train-intent")
    if intent is not None:
        current = registry.promoted("intent")
        auc = float(intent["metrics"]["roc_auc"])
        floor = None
        if current is not None and current != intent["version"]:
            floor = float(registry.get("intent").meta["metrics"]["roc_auc"]) - INTENT_AUC_TOLERANCE
        verdicts["intent"] = {"version": intent["version"], "roc_auc": auc, "floor": floor,
                              "pass": floor is None or auc >= floor}  # fmt: skip
    ranker = _outputs(ctx, "train-ranker")
    if ranker is not None:
        verdicts["ranker"] = {"version": ranker["version"], "pass": ranker["beats_baselines"]}
    policy = _outputs(ctx, "policy-retrain")
    if policy is not None:
        served = (
            registry.promoted("engagement") is not None
            or (Path(ctx.data_dir) / "policies" / "engagement.pkl").exists()
        )
        verdicts["policy"] = {"version": policy["version"], "served_before": served,
                              "worth_testing": policy["worth_testing"],
                              "pass": policy["worth_testing"] or not served}  # fmt: skip
    return verdicts


def promote(ctx: StepInput) -> dict[str, Any]:
    """Promote the candidates that passed ``evaluate`` (a rerun promotes the same versions)."""
    from marketlift.models.registry import Registry  # noqa: PLC0415

    verdicts = _outputs(ctx, "evaluate") or {}
    registry = Registry(ctx.data_dir)
    promoted: dict[str, Any] = {}
    for name in ("intent", "ranker"):
        verdict = verdicts.get(name)
        if verdict and verdict["pass"]:
            if registry.promoted(name) != verdict["version"]:
                registry.promote(name, verdict["version"])
            promoted[name] = verdict["version"]
    policy = verdicts.get("policy")
    if policy and policy["pass"]:
        from marketlift.policy.registry import promote_policy  # noqa: PLC0415

        # the first policy is served even without a passing gate (nothing to compare with)
        if registry.promoted("engagement") != policy["version"]:
            promote_policy(ctx.data_dir, policy["version"], force=not policy["worth_testing"])
        promoted["policy"] = f"engagement@{policy['version']}"
    return {"promoted": promoted}


def reload(ctx: StepInput) -> dict[str, Any]:
    """Ask a running ``serve`` to reload the promoted models (``POST /admin/reload``)."""
    import json  # noqa: PLC0415
    import urllib.request  # noqa: PLC0415

    url = os.environ.get("MARKETLIFT_SERVE_URL")
    key = os.environ.get("MARKETLIFT_ADMIN_KEY")
    if not url or not key:
        raise StepSkippedError(
            "no MARKETLIFT_SERVE_URL and MARKETLIFT_ADMIN_KEY: serve's watcher reloads"
        )
    request = urllib.request.Request(  # noqa: S310 - the operator's own serve URL
        url.rstrip("/") + "/admin/reload", method="POST",
        headers={"Authorization": f"Bearer {key}"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        body: dict[str, Any] = json.loads(response.read() or b"{}")
    return {"status": response.status, "body": body}


def monitor(ctx: StepInput) -> dict[str, Any]:
    """Run every monitoring check on the interval and keep the report."""
    from marketlift.monitor import monitor as run_checks  # noqa: PLC0415
    from marketlift.monitor import write_report  # noqa: PLC0415

    report = run_checks(ctx.data_dir, ctx.interval)
    path = write_report(ctx.data_dir, report)
    alerting = [f"{c.kind}:{c.subject}" for c in report.alerts]
    return {"report": str(path), "alerts": len(alerting), "alerting": alerting}
