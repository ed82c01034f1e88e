"""A self-contained HTML report: inline SVG interval charts, cumulative lift, SRM status.

No scripts, fonts or stylesheets are fetched: the file opens offline and can be mailed.

Example:
    >>> from marketlift.experiments.table import analyze_table
    >>> import pyarrow as pa
    >>> r = analyze_table(pa.table({"v": ["a", "b"] * 50, "y": [1.0, 2.0, 2.0, 4.0] * 25}),
    ...                   variant="v", control="a", metrics=["y"])
    >>> html = render_report(r)
    >>> html.startswith("<!DOCTYPE html>") and "<svg" in html and "http" not in html
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

import msgspec

from marketlift.experiments.results import AnalysisResult, MetricResult

__all__ = ["decisions_html", "render_report"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1f2933}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border-bottom:1px solid #d9e2ec;padding:.3rem .6rem;text-align:right}
th:first-child,td:first-child{text-align:left}
.srm{padding:.6rem 1rem;border-radius:6px;display:inline-block;font-weight:600}
.ok{background:#e3f9e5;color:#05400a}.bad{background:#ffe3e3;color:#610404}
.flags{color:#8d2b0b}.muted{color:#616e7c;font-size:.85rem}
svg text{font-size:11px;fill:#3e4c59}
"""
_POS = "#2f8132"
_NEG = "#c62828"
_NEUTRAL = "#486581"


def _pct(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x * 100:+.2f}%"


def _num(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.4g}"


def _color(r: MetricResult) -> str:
    if not r.significant:
        return _NEUTRAL
    return _POS if r.effect > 0 else _NEG


def _interval_chart(results: Sequence[MetricResult]) -> str:
    """Forest plot of relative lifts: fixed-horizon interval (bold) and sequential (thin)."""
    rows = [r for r in results if math.isfinite(r.rel_effect)]
    if not rows:
        return '<p class="muted">No finite lifts to chart.</p>'
    bounds = [0.0]
    for r in rows:
        bounds += [b for b in (r.rel_lower, r.rel_upper) if math.isfinite(b)]
        seq = _seq_rel(r)
        bounds += [b for b in seq if math.isfinite(b)]
    lo, hi = min(bounds), max(bounds)
    pad = (hi - lo) * 0.08 or 0.01
    lo, hi = lo - pad, hi + pad
    width, left, right, row_h = 720, 230, 20, 30
    height = 30 + row_h * len(rows)

    def x(v: float) -> float:
        return left + (v - lo) / (hi - lo) * (width - left - right)

    parts = [
        (
            f'<svg class="chart intervals" role="img" aria-label="Relative lift intervals" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            ">"
        ),
        (
            f'<line x1="{x(0):.1f}" y1="5" x2="{x(0):.1f}" y2="{height - 20}" stroke="#9aa5b1" '
            'stroke-dasharray="4 3"/>'
        ),
        f'<text x="{x(0):.1f}" y="{height - 6}" text-anchor="middle">0%</text>',
        f'<text x="{x(lo + pad):.1f}" y="{height - 6}" text-anchor="start">{_pct(lo + pad)}</text>',
        f'<text x="{x(hi - pad):.1f}" y="{height - 6}" text-anchor="end">{_pct(hi - pad)}</text>',
    ]
    for i, r in enumerate(rows):
        y = 20 + i * row_h
        c = _color(r)
        label = escape(f"{r.metric} · {r.variant}")
        parts.append(f'<text x="4" y="{y + 4}">{label}</text>')
        s_lo, s_hi = _seq_rel(r)
        if math.isfinite(s_lo) and math.isfinite(s_hi):
            parts.append(
                f'<line x1="{x(max(s_lo, lo)):.1f}" y1="{y}" x2="{x(min(s_hi, hi)):.1f}" '
                f'y2="{y}" stroke="{c}" stroke-width="1.5" opacity="0.5"/>'
            )
        if math.isfinite(r.rel_lower) and math.isfinite(r.rel_upper):
            parts.append(
                f'<line x1="{x(r.rel_lower):.1f}" y1="{y}" x2="{x(r.rel_upper):.1f}" y2="{y}" '
                f'stroke="{c}" stroke-width="6" stroke-linecap="round"/>'
            )
        parts.append(
            f'<circle cx="{x(r.rel_effect):.1f}" cy="{y}" r="5" fill="#fff" '
            f'stroke="{c}" stroke-width="2"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _seq_rel(r: MetricResult) -> tuple[float, float]:
    if r.control_mean == 0 or not math.isfinite(r.control_mean):
        return float("nan"), float("nan")
    return r.sequential_lower / r.control_mean, r.sequential_upper / r.control_mean


def _cumulative_chart(metric: str, series: Sequence[tuple[str, MetricResult]]) -> str:
    """Relative lift over time with its interval band (one treatment)."""
    pts = [(d, r) for d, r in series if math.isfinite(r.rel_effect)]
    if len(pts) < 2:
        return ""
    # Scale to the days with at least a fifth of the final units: the first days' intervals
    # are so wide that they would flatten the rest; they are clipped to the frame instead.
    final = pts[-1][1].n_control + pts[-1][1].n_treatment
    settled = [r for _, r in pts if r.n_control + r.n_treatment >= 0.2 * final]
    vals = [0.0]
    for r in settled:
        vals += [v for v in (r.rel_effect, r.rel_lower, r.rel_upper) if math.isfinite(v)]
    lo, hi = min(vals), max(vals)
    pad = (hi - lo) * 0.08 or 0.01
    lo, hi = lo - pad, hi + pad
    width, height, left, bottom = 720, 220, 60, 30

    def x(i: int) -> float:
        return left + i / (len(pts) - 1) * (width - left - 20)

    def y(v: float) -> float:
        return 10 + (hi - min(max(v, lo), hi)) / (hi - lo) * (height - bottom - 10)

    upper = [(x(i), y(r.rel_upper)) for i, (_, r) in enumerate(pts) if math.isfinite(r.rel_upper)]
    lower = [(x(i), y(r.rel_lower)) for i, (_, r) in enumerate(pts) if math.isfinite(r.rel_lower)]
    band = " ".join(f"{a:.1f},{b:.1f}" for a, b in [*upper, *reversed(lower)])
    line = " ".join(f"{x(i):.1f},{y(r.rel_effect):.1f}" for i, (_, r) in enumerate(pts))
    name = escape(f"{metric} · {pts[-1][1].variant}")
    return (
        f'<svg class="chart cumulative" role="img" aria-label="Cumulative lift of {name}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        ">"
        f'<polygon points="{band}" fill="{_NEUTRAL}" opacity="0.18"/>'
        f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - 20}" y2="{y(0):.1f}" stroke="#9aa5b1" '
        'stroke-dasharray="4 3"/>'
        f'<polyline points="{line}" fill="none" stroke="{_NEUTRAL}" stroke-width="2"/>'
        f'<text x="4" y="{y(0) + 4:.1f}">0%</text>'
        f'<text x="4" y="{y(hi - pad) + 4:.1f}">{_pct(hi - pad)}</text>'
        f'<text x="4" y="{y(lo + pad) + 4:.1f}">{_pct(lo + pad)}</text>'
        f'<text x="{left}" y="{height - 8}">{escape(pts[0][0])}</text>'
        f'<text x="{width - 20}" y="{height - 8}" text-anchor="end">{escape(pts[-1][0])}</text>'
        f'<text x="{width / 2:.0f}" y="{height - 8}" text-anchor="middle">{name}</text>'
        "</svg>"
    )


def _metric_table(results: Sequence[MetricResult]) -> str:
    head = (
        "<tr><th>metric</th><th>variant</th><th>control</th><th>treatment</th>"
        "<th>rel. lift</th><th>95% interval</th><th>p (adj.)</th><th>P(beat ctrl)</th>"
        "<th>CUPED var. red.</th><th>flags</th></tr>"
    )
    rows = [
        f"<tr><td>{escape(r.metric)}</td><td>{escape(r.variant)}</td>"
        f"<td>{_num(r.control_mean)}</td><td>{_num(r.treatment_mean)}</td>"
        f'<td style="color:{_color(r)}">{_pct(r.rel_effect)}</td>'
        f"<td>[{_pct(r.rel_lower)}, {_pct(r.rel_upper)}]</td>"
        f"<td>{_num(r.pvalue_adjusted)}</td><td>{_num(r.chance_to_beat_control)}</td>"
        f"<td>{_pct(r.variance_reduction)}</td>"
        f'<td class="flags">{escape(", ".join(r.flags))}</td></tr>'
        for r in results
    ]
    return f'<table class="metrics">{head}{"".join(rows)}</table>'


def decisions_html(decisions: Sequence[Mapping[str, Any]]) -> str:
    """The ship decisions (``AnalysisResult.decisions`` as plain data) as an HTML table.

    Example:
        >>> d = {"variant": "t", "decision": "ship", "reasons": ["every goal better"],
        ...      "guardrails": [{"metric": "refunds", "status": "ok", "harm": 0.001,
        ...                      "harm_lower": -0.002, "harm_upper": 0.004, "margin": 0.01}]}
        >>> 'data-decision="ship"' in decisions_html([d])
        True
    """
    if not decisions:
        return ""
    rows = []
    for d in decisions:
        guards = "; ".join(
            f"{escape(str(g['metric']))}: {escape(str(g['status']))}, harm {_num(g['harm'])} "
            f"[{_num(g['harm_lower'])}, {_num(g['harm_upper'])}] vs margin {_num(g['margin'])}"
            for g in d.get("guardrails", ())
        )
        rows.append(
            f'<tr class="decision" data-variant="{escape(str(d["variant"]))}" '
            f'data-decision="{escape(str(d["decision"]))}"><td>{escape(str(d["variant"]))}</td>'
            f"<td><b>{escape(str(d['decision']).replace('_', ' '))}</b></td>"
            f"<td>{escape('; '.join(map(str, d['reasons'])))}</td><td>{guards or 'none'}</td></tr>"
        )
    return (
        '<table class="decisions"><tr><th>variant</th><th>decision</th><th>why</th>'
        f"<th>guardrails (harm, always-valid interval)</th></tr>{''.join(rows)}</table>"
    )


def _interactions_html(interactions: Sequence[Any]) -> str:
    """Segments whose effect differs from the rest of their dimension (corrected p-values)."""
    rows = [
        f"{escape(i.metric)} ({escape(i.variant)}): effect {_num(i.effect)} vs "
        f"{_num(i.effect_rest)} elsewhere, p adj. {i.pvalue_adjusted:.3g}"
        for i in interactions
        if i.differs
    ]
    if not rows:
        return ""
    return f'<p class="flags heterogeneous">heterogeneous: {"; ".join(rows)}</p>'


def render_report(
    result: AnalysisResult,
    cumulative: Sequence[tuple[str, AnalysisResult]] = (),
    *,
    title: str | None = None,
) -> str:
    """Render one analysis (and optional cumulative readouts by day) as an HTML page."""
    name = escape(title or f"Experiment {result.experiment}")
    srm = result.srm
    srm_class = "bad" if srm.mismatch else "ok"
    srm_text = (
        f"Sample ratio mismatch: p = {srm.pvalue:.3g} (chi-square {srm.statistic:.3g})"
        if srm.mismatch
        else f"Sample ratio OK: p = {srm.pvalue:.3g} (chi-square {srm.statistic:.3g})"
    )
    arms = "".join(
        f"<tr><td>{escape(a.variant)}</td><td>{a.units}</td><td>{a.expected:.1f}</td></tr>"
        for a in result.arms
    )
    sections = [
        f"<h1>{name}</h1>",
        (
            f'<p class="muted">control: {escape(result.control)} · alpha {result.alpha} · '
            f"correction: {escape(result.correction)}</p>"
        ),
        f'<div id="srm" class="srm {srm_class}">{escape(srm_text)}</div>',
    ]
    if result.flags:
        sections.append(f'<p class="flags">flags: {escape(", ".join(result.flags))}</p>')
    if result.decisions:
        plain = msgspec.to_builtins(result.decisions)
        sections += ["<h2>Decision</h2>", decisions_html(plain)]
    sections += [
        (
            f"<h2>Arms</h2><table><tr><th>variant</th><th>units</th><th>expected</th></tr>{arms}"
            "</table>"
        ),
        "<h2>Lift by metric</h2>",
        '<p class="muted">Bold bar: 95% interval; thin bar: always-valid sequential interval.</p>',
        _interval_chart(result.metrics),
        _metric_table(result.metrics),
    ]
    if cumulative:
        sections.append("<h2>Cumulative lift over time</h2>")
        keys = [(r.metric, r.variant) for r in result.metrics]
        for metric, variant in keys:
            series = [
                (day, r)
                for day, res in cumulative
                for r in res.metrics
                if r.metric == metric and r.variant == variant
            ]
            sections.append(_cumulative_chart(metric, series))
    if result.segments:
        sections.append("<h2>Segments</h2>")
        for seg in result.segments:
            seg_srm = " · SRM!" if seg.srm.mismatch else ""
            sections.append(
                f"<h3>{escape(seg.dimension)} = {escape(seg.value)}{seg_srm}</h3>"
                + _interactions_html(seg.interactions)
                + _metric_table(seg.metrics)
            )
    body = "\n".join(s for s in sections if s)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{name}</title><style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )
