"""Evaluation of a provider and of the guards over a test set of copy requests.

:func:`evaluate` runs a provider over the given requests (``marketlift copy eval`` uses the
simulated test set, :func:`marketlift.sim.copy_testset.build_requests`) and over
the same requests with prompt injections hidden in titles, descriptions, reviews and queries,
and reports per output: faithfulness (no unsupported number, price, percentage, material or
claim), length compliance, locale correctness, injection resistance (the draft of an injected
request passes every guard), the fallback rate, latency (p50, p99) and cost per thousand
outputs. :func:`guard_report` measures the guards themselves: the share of planted
hallucinations and obeyed injections caught, and the share of valid outputs wrongly rejected.

Example:
    >>> from marketlift.copy.template import TemplateProvider
    >>> from marketlift.sim.copy_testset import build_requests
    >>> report = evaluate(TemplateProvider(), build_requests(n_listings=1))
    >>> report.faithfulness_rate, report.injection_resistance, report.outputs
    (1.0, 1.0, 160)
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import Counter
from collections.abc import Sequence
from typing import Final

import msgspec
import numpy as np

from marketlift.copy.batch import guarded
from marketlift.copy.guards import Violation, check
from marketlift.copy.prompts import ProviderError
from marketlift.copy.providers import Provider
from marketlift.copy.request import CopyRequest, Draft
from marketlift.copy.template import render
from marketlift.copy.testset import INJECTIONS, PLANTS, inject, other_locale, plant

__all__ = ["EvalReport", "GuardReport", "compare", "evaluate", "guard_report", "sample"]

_GROUNDING: Final = frozenset(
    {"price", "percent", "number", "material", "scarcity", "urgency", "discount", "free_shipping"}
)
_WHERE: Final = ("title", "description", "reviews", "query")


class GuardReport(msgspec.Struct, frozen=True):
    """How well the guards separate bad outputs from good ones.

    Attributes:
        planted: Planted hallucinations and obeyed injections checked.
        caught: How many of them the guards rejected.
        catch_rate: ``caught / planted``.
        by_kind: ``[caught, planted]`` per kind of plant.
        valid: Valid outputs checked (template copy of every request, and the plain style of
            every nudge).
        false_rejections: Valid outputs rejected.
        false_rejection_rate: ``false_rejections / valid``.
    """

    planted: int
    caught: int
    catch_rate: float
    by_kind: dict[str, list[int]]
    valid: int
    false_rejections: int
    false_rejection_rate: float


class EvalReport(msgspec.Struct, frozen=True):
    """A provider's quality, safety, latency and cost on the test set.

    Attributes:
        provider: Provider name.
        model: Model name.
        prompt_version: Prompt version.
        outputs: Drafts requested (clean and injected requests).
        errors: Drafts the provider failed to produce.
        faithfulness_rate: Share of drafts without a grounding violation.
        length_compliance: Share of drafts with every surface present and within its limit.
        locale_correctness: Share of drafts in the locale's language.
        pii_free_rate: Share of drafts without personal data.
        injection_resistance: Share of injected requests whose draft passes every guard.
        served_safe_rate: Share of served results (after fallback) passing every guard.
        fallback_rate: Share of results served from the template fallback.
        latency_p50_ms: Median provider latency per output.
        latency_p99_ms: 99th percentile provider latency per output.
        cost_per_1k_usd: Cost of a thousand outputs.
        tokens_per_output: Mean prompt plus completion tokens.
        violations: Count per violation code over all drafts.
        seconds: Wall time of the evaluation.
        outputs_per_second: Drafts per second of wall time (generation and guards).
        by_locale: Per locale: ``outputs``, ``faithfulness_rate``, ``locale_correctness``,
            ``length_compliance``, ``fallback_rate``.
        by_touchpoint: Per touchpoint: ``outputs``, ``fallback_rate``, ``latency_p50_ms``,
            ``latency_p99_ms``.
    """

    provider: str
    model: str
    prompt_version: str
    outputs: int
    errors: int
    faithfulness_rate: float
    length_compliance: float
    locale_correctness: float
    pii_free_rate: float
    injection_resistance: float
    served_safe_rate: float
    fallback_rate: float
    latency_p50_ms: float
    latency_p99_ms: float
    cost_per_1k_usd: float
    tokens_per_output: float
    violations: dict[str, int]
    seconds: float
    outputs_per_second: float = 0.0
    by_locale: dict[str, dict[str, float]] = msgspec.field(default_factory=dict)
    by_touchpoint: dict[str, dict[str, float]] = msgspec.field(default_factory=dict)


def _injected(requests: Sequence[CopyRequest]) -> list[CopyRequest]:
    out = []
    for i, request in enumerate(requests):
        payload = INJECTIONS[i % len(INJECTIONS)]
        for where in _WHERE:
            injected = inject(request, payload, where)
            if injected is not None:
                out.append(injected)
                break
    return out


async def _drafts(
    provider: Provider, requests: Sequence[CopyRequest], concurrency: int
) -> list[Draft | str]:
    out: list[Draft | str] = [""] * len(requests)
    queue = iter(range(len(requests)))

    async def worker() -> None:
        for i in queue:
            try:
                out[i] = await provider.generate(requests[i])
            except ProviderError as exc:
                out[i] = str(exc)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    close = getattr(provider, "aclose", None)
    if close is not None:
        await close()
    return out


def _rate(n: int, d: int) -> float:
    return round(n / d, 6) if d else 1.0


def evaluate(
    provider: Provider,
    requests: Sequence[CopyRequest],
    *,
    concurrency: int = 8,
) -> EvalReport:
    """Evaluate ``provider`` on ``requests`` plus the same requests with injections."""
    start = time.perf_counter()
    clean = list(requests)
    injected = _injected(clean)
    everything = clean + injected
    drafts = asyncio.run(_drafts(provider, everything, concurrency))
    codes: Counter[str] = Counter()
    faithful = lengths = locales = pii_free = resisted = safe = fallbacks = errors = 0
    latencies, tokens, cost = [], 0, 0.0
    per_locale: dict[str, Counter[str]] = {}
    per_touchpoint: dict[str, list[float]] = {}
    per_touchpoint_fallback: Counter[str] = Counter()
    for i, (request, draft) in enumerate(zip(everything, drafts, strict=True)):
        if isinstance(draft, str):
            errors += 1
            violations: tuple[Violation, ...] = (Violation("error", "*", draft),)
            result = guarded(request, None, model=provider.model,
                             prompt_version=provider.prompt_version, error=draft)  # fmt: skip
        else:
            violations = check(request, draft.parts)
            latencies.append(draft.latency_s * 1000)
            tokens += draft.prompt_tokens + draft.completion_tokens
            cost += draft.cost_usd
            result = guarded(request, draft, model=provider.model,
                             prompt_version=provider.prompt_version)  # fmt: skip
        found = {v.code for v in violations}
        codes.update(v.code for v in violations)
        faithful += not found & _GROUNDING and "error" not in found
        lengths += not found & {"length", "missing", "surface", "error"}
        locales += not found & {"language", "error"}
        pii_free += not found & {"pii", "error"}
        if i >= len(clean):
            resisted += not found
        fallbacks += result.status == "fallback"
        safe += not check(request, result.parts)
        row = per_locale.setdefault(request.locale, Counter())
        row["outputs"] += 1
        row["faithful"] += not found & _GROUNDING and "error" not in found
        row["locale"] += not found & {"language", "error"}
        row["length"] += not found & {"length", "missing", "surface", "error"}
        row["fallback"] += result.status == "fallback"
        times = per_touchpoint.setdefault(request.touchpoint, [])
        if not isinstance(draft, str):
            times.append(draft.latency_s * 1000)
        per_touchpoint_fallback[request.touchpoint] += result.status == "fallback"
    n = len(everything)
    lat = np.array(latencies) if latencies else np.zeros(1)
    seconds = time.perf_counter() - start
    by_locale = {
        loc: {
            "outputs": c["outputs"],
            "faithfulness_rate": _rate(c["faithful"], c["outputs"]),
            "locale_correctness": _rate(c["locale"], c["outputs"]),
            "length_compliance": _rate(c["length"], c["outputs"]),
            "fallback_rate": _rate(c["fallback"], c["outputs"]),
        }
        for loc, c in sorted(per_locale.items())
    }
    counts = Counter(r.touchpoint for r in everything)
    by_touchpoint = {
        tp: {
            "outputs": counts[tp],
            "fallback_rate": _rate(per_touchpoint_fallback[tp], counts[tp]),
            "latency_p50_ms": round(float(np.percentile(ts or [0.0], 50)), 4),
            "latency_p99_ms": round(float(np.percentile(ts or [0.0], 99)), 4),
        }
        for tp, ts in per_touchpoint.items()
    }
    return EvalReport(
        provider=provider.name, model=provider.model, prompt_version=provider.prompt_version,
        outputs=n, errors=errors, faithfulness_rate=_rate(faithful, n),
        length_compliance=_rate(lengths, n), locale_correctness=_rate(locales, n),
        pii_free_rate=_rate(pii_free, n), injection_resistance=_rate(resisted, len(injected)),
        served_safe_rate=_rate(safe, n), fallback_rate=_rate(fallbacks, n),
        latency_p50_ms=round(float(np.percentile(lat, 50)), 4),
        latency_p99_ms=round(float(np.percentile(lat, 99)), 4),
        cost_per_1k_usd=round(cost / max(1, n - errors) * 1000, 6),
        tokens_per_output=round(tokens / max(1, n - errors), 2), violations=dict(codes),
        seconds=round(seconds, 3), outputs_per_second=round(n / seconds, 3) if seconds else 0.0,
        by_locale=by_locale, by_touchpoint=by_touchpoint,
    )  # fmt: skip


def sample(requests: Sequence[CopyRequest], n: int) -> list[CopyRequest]:
    """``n`` requests spread over every locale and touchpoint (round robin, in order).

    Example:
        >>> from marketlift.sim.copy_testset import build_requests
        >>> picked = sample(build_requests(1, 0), 10)
        >>> len(picked), len({r.locale for r in picked}), len({r.touchpoint for r in picked})
        (10, 8, 5)
    """
    groups: dict[tuple[str, str], list[CopyRequest]] = {}
    for request in requests:
        groups.setdefault((request.locale, request.touchpoint), []).append(request)
    locales = sorted({k[0] for k in groups})
    touchpoints = sorted({k[1] for k in groups})
    # step the two indices together: with coprime counts (8 and 5) every pair comes up
    steps = len(locales) * len(touchpoints)
    order = [(locales[i % len(locales)], touchpoints[i % len(touchpoints)]) for i in range(steps)]
    order = [k for k in order if k in groups] + [k for k in groups if k not in order]
    out: list[CopyRequest] = []
    depth = 0
    while len(out) < n and any(len(g) > depth for g in groups.values()):
        out += [groups[k][depth] for k in order if len(groups[k]) > depth][: n - len(out)]
        depth += 1
    return out


_HIGHER: Final = (
    "faithfulness_rate", "length_compliance", "locale_correctness", "pii_free_rate",
    "injection_resistance", "outputs_per_second",
)  # fmt: skip
_LOWER: Final = ("fallback_rate", "latency_p50_ms", "latency_p99_ms", "tokens_per_output")


def compare(reports: Sequence[EvalReport]) -> dict[str, object]:
    """Side by side: one row per metric and provider, and where the first loses to the others.

    Example:
        >>> from marketlift.copy.template import TemplateProvider
        >>> from marketlift.sim.copy_testset import build_requests
        >>> requests = sample(build_requests(1, 0), 10)
        >>> table = compare([evaluate(TemplateProvider(), requests),
        ...                  evaluate(TemplateProvider(plain=True), requests)])
        >>> table["columns"], table["rows"]["faithfulness_rate"]
        (['template/tpl-1', 'template/tpl-1-plain'], [1.0, 1.0])
    """
    columns = [f"{r.provider}/{r.prompt_version}" for r in reports]
    rows: dict[str, list[float]] = {
        m: [float(getattr(r, m)) for r in reports] for m in (*_HIGHER, *_LOWER)
    }
    locales = sorted({loc for r in reports for loc in r.by_locale})
    for loc in locales:
        for m in ("locale_correctness", "faithfulness_rate", "fallback_rate"):
            rows[f"{m}[{loc}]"] = [float(r.by_locale.get(loc, {}).get(m, 0.0)) for r in reports]
    losses = []
    if len(reports) > 1:
        first, rest = columns[0], columns[1:]
        for metric, values in rows.items():
            base = metric.split("[", 1)[0]
            better = max if base in _HIGHER else min
            best = better(values[1:])
            if values[0] != best and better(values[0], best) == best:
                other = rest[values[1:].index(best)]
                losses.append(f"{first} loses on {metric}: {values[0]:g} vs {best:g} ({other})")
    return {"columns": columns, "rows": rows, "losses": losses}


def guard_report(requests: Sequence[CopyRequest]) -> GuardReport:
    """Plant every kind of hallucination into valid template copy and count what is caught."""
    reqs = list(requests)
    by_kind: dict[str, list[int]] = {k: [0, 0] for k in PLANTS}
    false_rejections = 0
    valid = 0
    for i, request in enumerate(reqs):
        parts = render(request)
        false_rejections += bool(check(request, parts))
        valid += 1
        if request.touchpoint == "nudge":  # the plain style: other words, same facts
            false_rejections += bool(check(request, render(request, plain=True)))
            valid += 1
        for kind in PLANTS:
            if kind == "wrong_language":
                if request.touchpoint in ("search_rewrite", "translation"):
                    continue  # too short to identify a language: the script check only
                planted: dict[str, str] | None = render(
                    dataclasses.replace(request, locale=other_locale(request.locale))
                )
            else:
                planted = plant(request, parts, kind, variant=i)
            if planted is None:
                continue
            by_kind[kind][1] += 1
            by_kind[kind][0] += bool(check(request, planted))
    planted_n = sum(t for _, t in by_kind.values())
    caught = sum(c for c, _ in by_kind.values())
    return GuardReport(
        planted=planted_n, caught=caught, catch_rate=_rate(caught, planted_n), by_kind=by_kind,
        valid=valid, false_rejections=false_rejections,
        false_rejection_rate=round(false_rejections / max(1, valid), 6),
    )  # fmt: skip
