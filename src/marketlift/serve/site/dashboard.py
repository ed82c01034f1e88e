"""The dashboard's data and HTML: experiment readouts, model versions, live figures.

Readouts come from :func:`marketlift.experiments.analyze_lake` for every experiment key that has
exposure events in the lake (with its configuration when ``experiments.toml`` names it); model
versions and their metrics from :class:`marketlift.models.registry.Registry`. Both are plain
data (:func:`experiments_summary`, :func:`models_summary`) rendered by :func:`render_dashboard`
into one HTML page with inline SVG interval charts; the live ingestion and decision-latency
figures are polled by ``dashboard.js`` from ``/v1/stats``.

Example:
    >>> import tempfile
    >>> experiments_summary(tempfile.mkdtemp(), [])
    []
    >>> interval_svg([]).startswith('<svg class="interval-chart"')
    True
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import msgspec

from marketlift.experiments.config import Experiment
from marketlift.experiments.results import MetricResult

__all__ = [
    "experiments_summary",
    "interval_svg",
    "models_summary",
    "monitoring_html",
    "monitoring_svg",
    "render_dashboard",
]

_METRIC_LABELS: Final = {
    "conversion": "Conversion (share of units that bought)",
    "revenue_per_unit": "Revenue per unit (USD)",
    "aov": "Average order value (USD)",
    "revenue_per_session": "Revenue per session (USD)",
}
_MIN_SHARE_FOR_BUYER: Final = 0.5
_MONITORED: Final = ("revenue_per_unit", "conversion")
"""The metric whose always-valid interval is drawn day by day (the first one present)."""


def _discover(data_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    from marketlift.lake import query  # noqa: PLC0415

    sql = (
        "SELECT experiment_key AS key, count(*) AS exposures, count(buyer_id) AS with_buyer, "
        "list(DISTINCT variant ORDER BY variant) AS variants, "
        "CAST(min(ts) AS VARCHAR) AS first_ts, CAST(max(ts) AS VARCHAR) AS last_ts "
        "FROM events WHERE type = 'exposure' AND experiment_key IS NOT NULL "
        "GROUP BY 1 ORDER BY max(ts) DESC, 1"
    )
    rows: list[dict[str, Any]] = query(data_dir, sql).to_pylist()
    return rows


def _plan(found: Mapping[str, Any], config: Experiment | None) -> dict[str, Any]:
    """Arguments of the lake readouts: the configuration, else control and unit guessed."""
    if config is not None:
        return {"experiment": config}  # fx: the data directory's currencies.toml
    variants = [str(v) for v in found["variants"]]
    control = "control" if "control" in variants else variants[0]
    share = found["with_buyer"] / max(1, found["exposures"])
    unit = "buyer_id" if share >= _MIN_SHARE_FOR_BUYER else "anonymous_id"
    return {"control": control, "unit": unit}


def _monitoring(
    data_dir: str | os.PathLike[str], key: str, plan: Mapping[str, Any]
) -> dict[str, Any]:
    """The cumulative readout by first-exposure day of the monitored metric, per treatment."""
    from marketlift.experiments import cumulative_lake  # noqa: PLC0415

    history = cumulative_lake(data_dir, key, **plan)
    names = {m.metric for _, r in history for m in r.metrics}
    metric = next((m for m in _MONITORED if m in names), None)
    points = [
        {
            "day": day,
            "variant": m.variant,
            "units": m.n_control + m.n_treatment,
            "effect": m.effect,
            "effect_lower": m.effect_lower,
            "effect_upper": m.effect_upper,
            "sequential_lower": m.sequential_lower,
            "sequential_upper": m.sequential_upper,
        }
        for day, result in history
        for m in result.metrics
        if m.metric == metric
    ]
    return {"metric": metric, "points": points}


def experiments_summary(
    data_dir: str | os.PathLike[str], configs: Sequence[Experiment]
) -> list[dict[str, Any]]:
    """One readout per experiment with exposures in the lake, most recently exposed first.

    Each item: ``key``, ``exposures``, ``first_ts``, ``last_ts``, ``configured``, ``result``
    (the :class:`~marketlift.experiments.results.AnalysisResult` as JSON-ready data),
    ``srm_status`` (``ok``, ``mismatch`` or ``n/a``), ``sequential_status`` per metric
    (``significant`` when the always-valid interval excludes zero, else ``continue``) and
    ``monitoring``: the monitored metric's cumulative estimate and intervals by first-exposure
    day (``{"metric", "points": [{day, variant, units, effect, effect_lower, effect_upper,
    sequential_lower, sequential_upper}]}``).
    """
    from marketlift.lake import load_currency_table  # noqa: PLC0415

    table = load_currency_table(data_dir)
    currency = None if table is None else table.reporting
    by_key = {c.key: c for c in configs}
    out: list[dict[str, Any]] = []
    for found in _discover(data_dir):
        key = str(found["key"])
        plan = _plan(found, by_key.get(key))
        try:
            from marketlift.experiments import analyze_lake  # noqa: PLC0415

            result = analyze_lake(data_dir, key, **plan)
            monitoring = _monitoring(data_dir, key, plan)
        except Exception as exc:  # noqa: BLE001 - one bad experiment must not hide the rest
            out.append({"key": key, "exposures": found["exposures"], "error": str(exc)})
            continue
        analyzed = len(result.arms) >= 2 and "no_exposures" not in result.flags
        srm = ("mismatch" if result.srm.mismatch else "ok") if analyzed else "n/a"
        sequential = {f"{m.metric}:{m.variant}": _sequential_status(m) for m in result.metrics}
        out.append({
            "key": key,
            "exposures": found["exposures"],
            "first_ts": found["first_ts"],
            "last_ts": found["last_ts"],
            "configured": key in by_key,
            "srm_status": srm,
            "sequential_status": sequential,
            "monitoring": monitoring,
            "currency": currency,
            "result": msgspec.to_builtins(result),
        })  # fmt: skip
    return out


def _sequential_status(m: MetricResult) -> str:
    lo, hi = m.sequential_lower, m.sequential_upper
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "n/a"
    return "significant" if lo > 0 or hi < 0 else "continue"


def models_summary(data_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every registered model: versions newest first, each with its metrics and whether promoted."""
    from marketlift.models.registry import Registry  # noqa: PLC0415

    registry = Registry(data_dir)
    out: list[dict[str, Any]] = []
    for entry in registry.listing():
        name = str(entry["name"])
        promoted = entry["promoted"]
        versions = []
        for version in reversed(entry["versions"]):
            try:
                meta = registry.get(name, version).meta
            except Exception:  # noqa: BLE001, S112 - a half-written version is skipped
                continue
            metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
            versions.append({
                "version": version,
                "promoted": version == promoted,
                "kind": meta.get("kind"),
                "created": meta.get("created") or meta.get("created_at"),
                "metrics": metrics,
            })  # fmt: skip
        out.append({"name": name, "promoted": promoted, "versions": versions})
    return out


# ---------------------------------------------------------------------------------------------
# HTML


def _fmt(x: Any, digits: int = 4) -> str:
    if isinstance(x, bool) or x is None:
        return html.escape(str(x))
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if not math.isfinite(x):
            return "n/a"
        return f"{x:.{digits}g}"
    return html.escape(str(x))


def interval_svg(metrics: Sequence[Mapping[str, Any]], width: int = 520) -> str:
    """An inline SVG of effect estimates with their intervals, one row per treatment.

    Each row draws the always-valid sequential interval (light, wide), the fixed-horizon
    confidence interval (dark) and the point estimate, on a common axis with a zero line.
    """
    rows = [
        m
        for m in metrics
        if all(math.isfinite(float(m[k])) for k in ("effect", "effect_lower", "effect_upper"))
    ]
    row_h, top, left, right = 26, 22, 90, 16
    height = top + row_h * max(1, len(rows)) + 8
    if not rows:
        return (
            f'<svg class="interval-chart" role="img" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}"><text x="8" y="20" class="muted">no estimate yet'
            "</text></svg>"
        )
    bounds = [0.0]
    for m in rows:
        bounds += [float(m["effect_lower"]), float(m["effect_upper"])]
        for k in ("sequential_lower", "sequential_upper"):
            if math.isfinite(float(m[k])):
                bounds.append(float(m[k]))
    lo, hi = min(bounds), max(bounds)
    pad = (hi - lo) * 0.05 or 1.0
    lo, hi = lo - pad, hi + pad
    span = width - left - right

    def x(v: float) -> float:
        return round(left + (v - lo) / (hi - lo) * span, 2)

    parts = [
        (
            f'<svg class="interval-chart" role="img" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        ),
        f"<title>Effect and intervals ({html.escape(str(rows[0]['metric']))})</title>",
        f'<line class="zero" x1="{x(0)}" y1="{top - 8}" x2="{x(0)}" y2="{height - 4}" />',
        f'<text class="axis" x="{left}" y="12">{_fmt(lo, 3)}</text>',
        f'<text class="axis" x="{width - right}" y="12" text-anchor="end">{_fmt(hi, 3)}</text>',
    ]
    for i, m in enumerate(rows):
        y = top + i * row_h + row_h / 2
        significant = bool(m.get("significant"))
        cls = "interval significant" if significant else "interval"
        parts.append(
            f'<text class="label" x="{left - 6}" y="{y + 4}" text-anchor="end">'
            f"{html.escape(str(m['variant']))}</text>"
        )
        s_lo, s_hi = float(m["sequential_lower"]), float(m["sequential_upper"])
        if math.isfinite(s_lo) and math.isfinite(s_hi):
            parts.append(
                f'<rect class="sequential" x="{x(s_lo)}" y="{y - 7}" '
                f'width="{max(1.0, x(s_hi) - x(s_lo)):.2f}" height="14">'
                f"<title>always-valid interval [{_fmt(s_lo)}, {_fmt(s_hi)}]</title></rect>"
            )
        e_lo, e_hi, e = float(m["effect_lower"]), float(m["effect_upper"]), float(m["effect"])
        parts.append(
            f'<line class="{cls}" x1="{x(e_lo)}" y1="{y}" x2="{x(e_hi)}" y2="{y}">'
            f"<title>{int((1 - 0.05) * 100)}% interval [{_fmt(e_lo)}, {_fmt(e_hi)}]</title></line>"
        )
        parts.append(
            f'<circle class="estimate" cx="{x(e)}" cy="{y}" r="4.5"><title>effect {_fmt(e)}'
            "</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def monitoring_svg(points: Sequence[Mapping[str, Any]], width: int = 520) -> str:
    """An inline SVG of the cumulative estimate by day with its always-valid band and 95% bars.

    One treatment (the first variant of ``points``); the band narrows as units accrue, and the
    experiment may stop as soon as it leaves zero.
    """
    if points:
        first = points[0]["variant"]
        points = [p for p in points if p["variant"] == first]
    keys = ("effect", "sequential_lower", "sequential_upper", "effect_lower", "effect_upper")
    points = [p for p in points if all(math.isfinite(float(p[k])) for k in keys)]
    height, top, bottom, left, right = 150, 14, 30, 48, 12
    head = (
        f'<svg class="monitoring-chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    )
    if len(points) < 2:
        return head + '<text x="8" y="20" class="muted">too few days to chart yet</text></svg>'
    values = [0.0] + [float(p[k]) for p in points for k in keys]
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.05 or 1.0
    lo, hi = lo - pad, hi + pad
    n = len(points)

    def x(i: int) -> float:
        return round(left + i * (width - left - right) / (n - 1), 2)

    def y(v: float) -> float:
        return round(top + (hi - v) / (hi - lo) * (height - top - bottom), 2)

    upper = " ".join(f"{x(i)},{y(float(p['sequential_upper']))}" for i, p in enumerate(points))
    lower = " ".join(
        f"{x(i)},{y(float(p['sequential_lower']))}" for i, p in reversed(list(enumerate(points)))
    )
    line = " ".join(f"{x(i)},{y(float(p['effect']))}" for i, p in enumerate(points))
    parts = [
        head,
        f"<title>Cumulative effect by day ({html.escape(str(points[0]['variant']))})</title>",
        f'<polygon class="band" points="{upper} {lower}" />',
        f'<line class="zero" x1="{left}" y1="{y(0)}" x2="{width - right}" y2="{y(0)}" />',
        f'<polyline class="effect" points="{line}" />',
        f'<text class="axis" x="{left - 4}" y="{top + 4}" text-anchor="end">{_fmt(hi, 3)}</text>',
        (
            f'<text class="axis" x="{left - 4}" y="{height - bottom}" text-anchor="end">'
            f"{_fmt(lo, 3)}</text>"
        ),
    ]
    for i, p in enumerate(points):
        parts.append(
            f'<line class="interval" x1="{x(i)}" y1="{y(float(p["effect_lower"]))}" '
            f'x2="{x(i)}" y2="{y(float(p["effect_upper"]))}" />'
            f'<circle class="estimate" cx="{x(i)}" cy="{y(float(p["effect"]))}" r="3">'
            f"<title>{html.escape(str(p['day']))}: {_fmt(p['effect'])} "
            f"({_fmt(p['units'])} units), always valid [{_fmt(p['sequential_lower'])}, "
            f"{_fmt(p['sequential_upper'])}]</title></circle>"
        )
    step = max(1, n // 6)
    parts.extend(
        f'<text class="axis" x="{x(i)}" y="{height - 10}" text-anchor="middle">'
        f"{html.escape(str(points[i]['day'])[5:])}</text>"
        for i in range(0, n, step)
    )
    parts.append("</svg>")
    return "".join(parts)


def _lift_row(m: Mapping[str, Any], status: str) -> str:
    return (
        f"<tr><td>{html.escape(m['variant'])}</td><td>{_fmt(m['control_mean'])}</td>"
        f"<td>{_fmt(m['treatment_mean'])}</td><td>{_fmt(m['effect'])} "
        f"[{_fmt(m['effect_lower'])}, {_fmt(m['effect_upper'])}]</td>"
        f"<td>{_fmt(100 * float(m['rel_effect']), 3)}%</td>"
        f"<td>{_fmt(m['pvalue_adjusted'], 3)}</td>"
        f'<td class="sequential-status" data-status="{status}">{status} '
        f"[{_fmt(m['sequential_lower'])}, {_fmt(m['sequential_upper'])}]</td></tr>"
    )


def _label(name: str, currency: str | None, flags: Sequence[str]) -> str:
    """The metric's title, with the reporting currency of the data directory's table."""
    label = _METRIC_LABELS.get(name, name)
    if "(USD)" not in label:
        return label
    if "mixed_currencies" in flags:
        return label.replace("(USD)", "(MIXED CURRENCIES, not converted: add currencies.toml)")
    return label.replace("(USD)", f"({currency})" if currency else "(as recorded)")


def _experiment_html(exp: Mapping[str, Any]) -> str:
    key = html.escape(str(exp["key"]))
    if "error" in exp:
        return (
            f'<section class="experiment" data-key="{key}"><h3>{key}</h3>'
            f'<p class="error">could not analyze: {html.escape(str(exp["error"]))}</p></section>'
        )
    result = exp["result"]
    srm = exp["srm_status"]
    arms = "".join(
        f"<tr><td>{html.escape(a['variant'])}</td><td>{_fmt(a['units'])}</td>"
        f"<td>{_fmt(a['expected'], 6)}</td></tr>"
        for a in result["arms"]
    )
    srm_p = result["srm"]["pvalue"]
    flags = ", ".join(result["flags"]) or "none"
    metrics_html = []
    by_metric: dict[str, list[Mapping[str, Any]]] = {}
    for m in result["metrics"]:
        by_metric.setdefault(str(m["metric"]), []).append(m)
    statuses: Mapping[str, str] = exp["sequential_status"]
    for name, rows in by_metric.items():
        table = "".join(_lift_row(m, statuses.get(f"{name}:{m['variant']}", "n/a")) for m in rows)
        label = html.escape(_label(name, exp.get("currency"), result["flags"]))
        metrics_html.append(
            f'<div class="metric" data-metric="{html.escape(name)}"><h4>{label}</h4>'
            f"{interval_svg(rows)}"
            '<table class="lifts"><thead><tr><th>variant</th><th>control</th><th>treatment</th>'
            "<th>effect [95% CI]</th><th>relative</th><th>p (adj.)</th>"
            "<th>sequential (always valid)</th></tr></thead>"
            f"<tbody>{table}</tbody></table></div>"
        )
    monitoring = exp.get("monitoring") or {}
    if monitoring.get("metric"):
        label = html.escape(_label(monitoring["metric"], exp.get("currency"), result["flags"]))
        metrics_html.insert(
            0,
            f'<div class="monitoring"><h4>Sequential monitoring: {label}, cumulative by '
            "first-exposure day</h4>"
            f"{monitoring_svg(monitoring['points'])}</div>",
        )
    configured = "configured" if exp["configured"] else "from exposures"
    return (
        f'<section class="experiment" data-key="{key}">'
        f"<h3>{key} <small>{_fmt(exp['exposures'])} exposures, {configured}, control "
        f"<b>{html.escape(result['control'])}</b></small></h3>"
        f'<p>Sample ratio: <span class="srm-status" data-status="{srm}">{srm}</span> '
        f"(chi-square p = {_fmt(srm_p, 3)}) · flags: {html.escape(flags)} · exposed "
        f"{html.escape(str(exp['first_ts'])[:19])} to {html.escape(str(exp['last_ts'])[:19])}</p>"
        f'<table class="arms"><thead><tr><th>arm</th><th>units</th><th>expected</th></tr></thead>'
        f"<tbody>{arms}</tbody></table>{_decisions(result)}{''.join(metrics_html)}</section>"
    )


def _decisions(result: Mapping[str, Any]) -> str:
    """Ship / don't ship / keep running per treatment, when the experiment names goals."""
    from marketlift.experiments.report import decisions_html  # noqa: PLC0415

    table = decisions_html(result.get("decisions") or ())
    return f'<div class="ship-decision"><h4>Decision</h4>{table}</div>' if table else ""


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _metrics_html(metrics: Mapping[str, Any]) -> str:
    """Flat metrics on one line; a group of metrics (such as a baseline's) on a line of its own."""
    flat = ", ".join(
        f"{html.escape(str(k))} {_fmt(v)}" for k, v in metrics.items() if _is_number(v)
    )
    groups = [
        f"<b>{html.escape(str(k))}</b>: "
        + ", ".join(f"{html.escape(str(n))} {_fmt(x)}" for n, x in v.items() if _is_number(x))
        for k, v in metrics.items()
        if isinstance(v, Mapping) and any(_is_number(x) for x in v.values())
    ]
    return "<br>".join(part for part in [flat, *groups] if part)


def _models_html(models: Sequence[Mapping[str, Any]]) -> str:
    if not models:
        return '<p class="muted">No model in the registry yet (marketlift train ...).</p>'
    rows = []
    for model in models:
        for v in model["versions"]:
            metrics = _metrics_html(v["metrics"])
            badge = '<span class="badge">promoted</span>' if v["promoted"] else ""
            rows.append(
                f'<tr class="model-version" data-model="{html.escape(model["name"])}">'
                f"<td>{html.escape(model['name'])}</td><td>{html.escape(v['version'])} {badge}"
                f"</td><td>{_fmt(v['kind'])}</td><td>{_fmt(v['created'])}</td>"
                f"<td>{metrics or '-'}</td></tr>"
            )
    return (
        '<table class="models"><thead><tr><th>model</th><th>version</th><th>kind</th>'
        f"<th>created</th><th>metrics</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def monitoring_html(data_dir: str | os.PathLike[str]) -> str:
    """The latest monitoring report (``DATA/monitor/latest.json``): its alerts and counts.

    Example:
        >>> import tempfile
        >>> "marketlift monitor" in monitoring_html(tempfile.mkdtemp())
        True
    """
    path = Path(data_dir) / "monitor" / "latest.json"
    head = '<section id="monitoring"><h2>Monitoring</h2>'
    try:
        doc = msgspec.json.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError):
        hint = "No report yet: run <code>marketlift monitor</code>."
        return f'{head}<p class="muted">{hint}</p></section>'
    rows = "".join(
        f"<tr><td>{html.escape(str(c['kind']))}</td><td>{html.escape(str(c['subject']))}</td>"
        f"<td>{_fmt(c['value'], 4)}</td><td>{_fmt(c['threshold'], 4)}</td>"
        f"<td>{html.escape(str(c['status']))}</td></tr>"
        for c in doc.get("alerting", [])
    )
    kinds = ", ".join(f"{html.escape(k)} {n}" for k, n in doc.get("checks_by_kind", {}).items())
    table = (
        '<table class="alerts"><thead><tr><th>kind</th><th>subject</th><th>value</th>'
        f"<th>limit</th><th>status</th></tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else '<p class="muted">No alerts.</p>'
    )
    return (
        f"{head}<p>Day {html.escape(str(doc.get('interval')))}: "
        f'<b class="alert-count">{int(doc.get("alerts", 0))}</b> alerts · checks: {kinds}</p>'
        f"{table}</section>"
    )


def render_dashboard(
    experiments: Sequence[Mapping[str, Any]],
    models: Sequence[Mapping[str, Any]],
    *,
    data_dir: str | os.PathLike[str],
    static: str,
    computed_at: str,
) -> str:
    """The whole dashboard page."""
    body = "".join(_experiment_html(e) for e in experiments) or (
        '<p class="muted">No exposure events in the lake yet.</p>'
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>marketlift dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{static}/site.css">
</head>
<body class="dashboard">
<header class="bar"><a class="brand" href="/shop/">marketlift</a>
<nav><a href="/shop/">Storefront</a> <a href="/dashboard">Dashboard</a></nav></header>
<main>
<h1>Dashboard</h1>
<p class="muted">Data directory {html.escape(str(Path(data_dir)))} · readouts computed
{html.escape(computed_at)} (cached a few seconds; reload for fresh figures)</p>
<section id="live" class="live">
<h2>Live</h2>
<dl>
<div><dt>events accepted</dt><dd id="stat-accepted">…</dd></div>
<div><dt>duplicates</dt><dd id="stat-duplicate">…</dd></div>
<div><dt>rejected</dt><dd id="stat-rejected">…</dd></div>
<div><dt>ingest rate (events/s)</dt><dd id="stat-rate">…</dd></div>
<div><dt>decisions</dt><dd id="stat-decisions">…</dd></div>
<div><dt>fallbacks</dt><dd id="stat-fallbacks">…</dd></div>
<div><dt>decide p50 (ms)</dt><dd id="stat-p50">…</dd></div>
<div><dt>decide p99 (ms)</dt><dd id="stat-p99">…</dd></div>
</dl>
<p id="stat-status" class="muted">polling /v1/stats …</p>
</section>
<section id="experiments"><h2>Experiments</h2>
<p class="muted">Dark bar: 95% confidence interval (fixed horizon, Holm-adjusted p-values);
light band: always-valid sequential interval, safe to read at any time.</p>
{body}</section>
<section id="models"><h2>Models</h2>{_models_html(models)}</section>
{monitoring_html(data_dir)}
</main>
<script type="module" src="{static}/dashboard.js"></script>
</body>
</html>
"""
