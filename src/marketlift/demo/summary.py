"""The demo's outputs for people: the summary table on the terminal and the HTML report.

The summary is one JSON-ready dictionary (what ``--json`` prints); :func:`print_summary`
renders it as a table and :func:`render_demo_report` puts it above the experiment engine's
report (:func:`marketlift.experiments.render_report`).
"""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["print_summary", "render_demo_report", "summary_rows"]


def _interval(value: float, interval: list[float], fmt: str) -> str:
    low, high = interval
    return f"{value:{fmt}} [{low:{fmt}}, {high:{fmt}}]"


def _engine_rows(engine: dict[str, Any] | None) -> list[tuple[str, str]]:
    if not engine:
        return []
    text = (
        f"{engine['decisions']:,} decisions ({engine['ms_per_decision']} ms each), "
        f"{engine['reused']:,} reused by the truth runs, {engine['degraded']:,} degraded"
    )
    return [("5. decision engine", text)]


def _versus(ope: dict[str, Any]) -> str:
    """Why the offline gate and the A/B test can disagree (they answer different questions)."""
    verdict = (
        "the offline gate found it worth testing"
        if ope["worth_testing"]
        else "'not shown worth testing' means the interval includes 0 (too few logged decisions "
        "to tell), not that the policy is worse"
    )
    return (
        f"{verdict}; OPE compares the engagement policy with the logging policy on the logged "
        "decisions, the A/B test compares ranker + policy with popularity and no engagement, "
        "a bigger change measured on live buyers"
    )


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The summary as ``(label, text)`` rows, in the order of the loop."""
    rows: list[tuple[str, str]] = []
    hist = summary["history"]
    text = (
        f"{hist['events']:,} events, {hist['sessions']:,} sessions, {hist['buyers']:,} buyers, "
        f"{hist['decisions']:,} logged decisions; conversion {hist['session_conversion']:.2%} "
        "per session"
    )
    rows.append(("1. marketplace history", text))
    feats = summary["features"]["rows"]
    text = (
        f"{feats['buyer_features']:,} buyers, {feats['listing_features']:,} listings, "
        f"{feats['sessions']:,} sessions (DATA/features)"
    )
    rows.append(("2. features", text))
    intent = summary["models"]["intent"]
    text = (
        f"{intent['version']}: ROC AUC {intent['roc_auc']:.3f}, PR AUC {intent['pr_auc']:.3f}, "
        f"ECE {intent['ece']:.4f} on {intent['holdout']:,} held-out rows"
    )
    rows.append(("3. intent model", text))
    ranker = summary["models"]["ranker"]
    ndcg = ranker["ndcg_at_10"]
    text = (
        f"{ranker['version']}: NDCG@10 {ndcg['ranker']:.3f} vs popularity "
        f"{ndcg['popularity']:.3f}, session-kNN {ndcg['session_knn']:.3f}"
    )
    if not ranker["beats_baselines"]:
        text += " (does NOT beat the baselines)"
    rows.append(("3. ranker", text))
    pol = summary["policy"]
    rows.append(("3. engagement policy", f"{pol['learner']}; saved to {pol['path']}"))
    ope = summary["ope"]
    covered = "(covered)" if ope["covers_truth"] else f"(NOT covered, error {ope['error']:+.4f})"
    text = (
        f"{_interval(ope['estimate'], ope['interval'], '.4f')}; "
        f"true {ope['true_value_on_log']:.4f} {covered}; logging {ope['logging_value']:.4f}"
    )
    rows.append(("4. OPE (DR), $/decision", text))
    worth = "worth an A/B test" if ope["worth_testing"] else "not shown worth testing"
    text = (
        f"{_interval(ope['lift'], ope['lift_interval'], '+.4f')}; "
        f"true {ope['true_lift_on_log']:+.4f}; {worth}"
    )
    rows.extend([("4. OPE lift vs logging", text), ("4. OPE vs the A/B test", _versus(ope))])
    sim = ope["simulated"]
    share = sim["candidate_share_of_oracle_gain"]
    values = sim["revenue_per_buyer"]
    text = (
        f"candidate {values['candidate']:.3f}, logging {values['logging']:.3f}, never "
        f"{values['never']:.3f}, oracle {values['oracle']:.3f}"
    )
    if share is not None:
        text += f" ({share:.0%} of the oracle's gain over never)"
    rows.append(("4. simulator, $/buyer", text))
    ab = summary["experiment"]
    units = ", ".join(f"{k} {v:,}" for k, v in ab["units"].items())
    rows.extend([("5. A/B test", f"{ab['key']}: {units} buyers; {ab['note']}"),
                 *_engine_rows(ab.get("engine"))])  # fmt: skip
    conv = ab["conversion"]
    if conv is not None:
        rows.append(("6. lift: conversion", _interval(conv["lift"], conv["interval"], "+.4f")))
    rev = ab["revenue_per_buyer"]
    if rev is not None:
        verdict = "inside" if ab["truth_in_interval"] else "OUTSIDE"
        text = (
            f"{_interval(rev['lift'], rev['interval'], '+.4f')}; "
            f"true {ab['true_revenue_lift_per_buyer']:+.4f} ({verdict} the interval)"
        )
        rows.append(("6. lift: revenue/buyer ($)", text))
    rows.append(("6. sample ratio", "mismatch" if ab["srm_mismatch"] else "ok"))
    rows.append(("7. serving", f"{summary['experiments_toml']}; models promoted in DATA/models"))
    col = summary["collector"]
    text = (
        f"{col['accepted']:,} accepted, {col['duplicates']:,} duplicates (a retried batch), "
        f"{col['rejected']} rejected (see dead_letters)"
    )
    rows.append(("8. collector (HTTP)", text))
    rows.append(("report", summary["report"]))
    return rows


def print_summary(summary: dict[str, Any]) -> None:
    """Print the summary table on stdout."""
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    title = f"marketlift demo ({summary['size']}, {summary['seconds']} s)"
    table = Table(title=title, show_header=False)
    for label, text in summary_rows(summary):
        table.add_row(label, text)
    console = Console()
    console.print(table)
    console.print(
        f"Serve it: marketlift serve --demo --data {summary['data']}"
        "  (storefront http://127.0.0.1:8000/shop/, dashboard http://127.0.0.1:8000/dashboard)"
    )


def render_demo_report(summary: dict[str, Any], analysis: Any) -> str:
    """The experiment report with the demo's summary above it (one HTML page)."""
    from marketlift.experiments import render_report  # noqa: PLC0415

    page = render_report(analysis, title="marketlift demo: engagement policy vs no engagement")
    cells = "".join(
        f"<tr><th>{escape(label)}</th><td>{escape(text)}</td></tr>"
        for label, text in summary_rows(summary)
        if label != "report"
    )
    section = (
        "<h2>The loop</h2>"
        f'<p class="muted">{escape(summary["experiment"]["note"])}.</p>'
        f'<table id="demo-summary">{cells}</table>\n'
    )
    marker = "<h2>Arms</h2>"
    return page.replace(marker, section + marker, 1)
