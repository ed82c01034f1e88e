"""``POST /v1/decide``: rank, engage and write copy in one call, within a latency budget.

One decision runs six timed stages on one snapshot of the served models
(:class:`~marketlift.serve.resources.Resources`):

1. ``assign``: experiment variants of the unit (exposures logged off the request path); the
   values of every assigned arm apply (:mod:`marketlift.serve.experiment_values`): ranker
   (model or popularity), policy (model or none), copy variant, actions switched off, the
   number of listings. The decision event records the values applied.
2. ``candidates``: the request's candidates, or the ranker's (co-visitation, session-kNN,
   recently viewed, popularity, text similarity) from the session's listings.
3. ``features``: one read of the buyer, the live session and every candidate listing from the
   online store, through a circuit breaker (a dead store costs nothing).
4. ``score``: the compiled ranker on index features joined with online listing features.
5. ``engage``: the purchase-intent gate and the engagement policy with its propensity.
6. ``copy``: the nudge copy in the buyer's locale from the copy cache (template on a miss);
   never a model call.

Before each stage the deadline (``budget_ms``) is checked; a stage that cannot run (deadline
passed, store down, model missing) is replaced by its fallback and named in
``degraded_reasons``. The decision, the impressions and the exposures are queued for the
:class:`~marketlift.serve.decision_log.DecisionLog`, which writes them to the event sink after
the answer is sent.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import msgspec
import numpy as np

from marketlift.features.store import OnlineFeatures
from marketlift.policy.context import policy_feature_names
from marketlift.serve.assign import Assigner, AssignRequest
from marketlift.serve.decide_schema import DecideRequest, DecideResponse, EngagementOut, ListingOut
from marketlift.serve.engage import engage
from marketlift.serve.experiment_values import ValuesIndex
from marketlift.serve.guard import GuardedStore
from marketlift.serve.resources import ModelWatcher, Resources

__all__ = ["STAGES", "Catalog", "DecisionEngine", "DecisionRecord"]

STAGES: Final = ("assign", "candidates", "features", "score", "engage", "copy")


class Catalog:
    """Listing rows for copy facts, and facts per (listing, locale) made once.

    Args:
        rows: Listing rows by id (``listing_id``, ``title_en``, ``price_usd_cents`` ...).
    """

    def __init__(self, rows: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.rows = dict(rows or {})
        self._facts: dict[tuple[str, str], Any] = {}

    @classmethod
    def load(cls, data_dir: str | os.PathLike[str], path: str | os.PathLike[str] | None) -> Catalog:
        """From a Parquet file, else the lake's listing catalog (its live versions), else empty."""
        import pyarrow.parquet as pq  # noqa: PLC0415

        if path is not None:
            table = pq.read_table(Path(path))
        else:
            from marketlift.catalog import wide_listings  # noqa: PLC0415
            from marketlift.copy.sources import FX  # noqa: PLC0415

            table = wide_listings(data_dir, FX)
        if "listing_id" not in table.column_names:
            return cls()
        keys = table.column("listing_id").to_pylist()
        return cls(dict(zip(keys, table.to_pylist(), strict=True)))

    def price_usd(self, listing_id: str | None) -> float:
        """The listing's price in US dollars (0 when unknown)."""
        row = self.rows.get(listing_id or "")
        cents = row.get("price_usd_cents") if row else None
        return float(cents) / 100.0 if cents is not None else 0.0

    def facts(self, listing_id: str, locale: str) -> Any:
        """:class:`~marketlift.copy.facts.ListingFacts` of a listing in a locale, or ``None``."""
        key = (listing_id, locale)
        if key in self._facts:
            return self._facts[key]
        row = self.rows.get(listing_id)
        found = None
        if row is not None:
            from marketlift.copy.sources import listing_facts_from_rows  # noqa: PLC0415

            try:
                found = listing_facts_from_rows([row], locale)[0]
            except Exception:  # noqa: BLE001 - a row we cannot describe gets no copy
                found = None
        if len(self._facts) > 100_000:
            self._facts.clear()
        self._facts[key] = found
        return found


@dataclasses.dataclass(slots=True)
class DecisionRecord:
    """What the decision log needs after the answer went out."""

    request: DecideRequest
    response: DecideResponse
    ts: float
    u: float
    intent: float | None
    session_items: list[str]
    candidates: list[str] | None
    resources: Resources
    listing_rows: Sequence[Any] = ()
    action: str = "none"
    """The action taken (``none`` included): what the decision event logs."""
    propensity: float = 1.0
    """The probability the serving policy had of taking ``action`` under this request's masks
    (1 for the baseline of the ``control`` arm and for the fallback: both never nudge)."""
    eligible: tuple[str, ...] = ("none",)
    """The actions the policy chose from (``none`` first)."""
    probabilities: tuple[float, ...] = (1.0,)
    """The probability of each action of ``eligible``."""
    moment: str | None = None
    """The engagement moment of the decision."""
    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    """The experiment arm values applied (:meth:`ArmValues.as_dict`)."""


class DecisionEngine:
    """Runs the decision stages within the budget.

    Args:
        store: The guarded online store.
        watcher: Holds the served models (hot reloaded).
        assigner: Experiment assignment (logs exposures through the sink).
        catalog: Listing rows for copy facts.
        copy_reader: Cached copy (``None``: no copy).
        budget_ms: The total budget.
        intent_skip_above: No engagement above this purchase probability.
        copy_variant: The copy variant to serve (``None``: the template variant).
        random_state: Seed of the policy's uniform draws (``None``: unseeded).
    """

    def __init__(
        self,
        *,
        store: GuardedStore | None,
        watcher: ModelWatcher,
        assigner: Assigner,
        catalog: Catalog,
        copy_reader: Any = None,
        budget_ms: float = 25.0,
        intent_skip_above: float = 0.9,
        copy_variant: Any = None,
        random_state: int | None = None,
    ) -> None:
        self.store = store
        self.watcher = watcher
        self.assigner = assigner
        self.catalog = catalog
        self.copy_reader = copy_reader
        self.budget_s = budget_ms / 1000.0
        self.values = ValuesIndex(assigner.experiments)
        self.intent_skip_above = intent_skip_above
        self.copy_variant = copy_variant
        self._random = random.Random(random_state)  # noqa: S311 - policy randomization
        self._copy_memo: dict[tuple[Any, ...], tuple[float, dict[str, str], str]] = {}
        self._arm_copy: dict[str, Any] = {}
        self.copy_memo_ttl_s = 60.0
        """Copy per (listing, locale, action) is kept this long in memory (a new batch of
        generated copy shows within a minute)."""

    # -- one decision ---------------------------------------------------------------------
    def decide(  # noqa: PLR0915
        self, req: DecideRequest, *, control: bool | None = None, u: float | None = None
    ) -> DecisionRecord:
        """Decide for one request; the record holds the answer and what the log needs.

        Args:
            req: The validated request.
            control: Replays only (the HTTP route never sets it): ``True`` serves the baseline,
                ``False`` the models, whatever the unit's variants; ``None`` applies the values
                of every assigned arm.
            u: Replays only: the policy's uniform draw (``None``: a fresh one), so a simulator
                can give two runs the same random numbers.
        """
        clock = time.perf_counter
        start = clock()
        deadline = start + self.budget_s
        res = self.watcher.current
        timings: dict[str, float] = {}
        reasons: list[str] = []
        decision_id = "d-" + uuid.uuid4().hex
        if u is None:
            u = self._random.random()

        # 1. assign
        t = clock()
        answer = self.assigner.assign(
            AssignRequest(
                req.platform, req.buyer_id, req.anonymous_id, req.session_id, req.locale,
                req.country,
            )
        )  # fmt: skip
        assignments = [
            {"experiment_key": a.experiment_key, "variant": a.variant, "unit": a.unit}
            for a in answer.assignments
        ]
        values = self.values.for_assignments(
            ((a.experiment_key, a.variant) for a in answer.assignments), control=control
        )
        req = _with_limit(req, values.limit)
        baseline_rank, no_policy = values.ranker == "popularity", values.policy == "none"
        timings["assign"] = _ms(clock() - t)

        # 2. candidates
        t = clock()
        ctx = req.context
        session_items = list(dict.fromkeys([*ctx.recent, *ctx.cart, *([ctx.listing_id] if
                                            ctx.listing_id else [])]))  # fmt: skip
        ranker = None if baseline_rank else res.ranker
        query = None
        X_index: np.ndarray | None = None  # noqa: N806
        candidates: list[str]
        candidates = list(dict.fromkeys(req.candidates)) if req.candidates is not None else []
        if ranker is None and not baseline_rank and res.ranker is None:
            reasons.append("ranker_unavailable")
        if ranker is not None and clock() < deadline:
            query = ranker.query(session_items, locale=req.locale)
            if query is not None:
                if req.candidates is None:
                    candidates, X_index = ranker.generate(query)  # noqa: N806
                else:
                    X_index = ranker.index_features(candidates, query)  # noqa: N806
        elif ranker is not None:
            reasons.append("budget:candidates")
        timings["candidates"] = _ms(clock() - t)

        # 3. features
        t = clock()
        online: OnlineFeatures | None = None
        if self.store is not None:
            if clock() < deadline:
                online = self.store.read(req.unit, candidates)
                if online is None:
                    reasons.append("features_unavailable")
            else:
                reasons.append("budget:features")
        timings["features"] = _ms(clock() - t)

        # 4. score
        t = clock()
        listings: list[ListingOut] | None = None
        if ranker is not None and X_index is not None and candidates:
            if clock() >= deadline:
                reasons.append("budget:score")
            elif online is None and ranker.store_features:
                reasons.append("score:no_features")
            else:
                rows = online.listings if online is not None else [None] * len(candidates)
                X = ranker.full_matrix(X_index, rows)  # noqa: N806
                scores = ranker.score(X)
                why = ranker.reasons(X_index)
                exclude = set(ctx.cart)
                if ctx.listing_id:
                    exclude.add(ctx.listing_id)
                order = np.argsort(-scores, kind="stable")
                listings = []
                for i in order.tolist():
                    lid = candidates[i]
                    if lid in exclude:
                        continue
                    listings.append(ListingOut(lid, round(float(scores[i]), 6), str(why[i])))
                    if len(listings) >= req.limit:
                        break
        if listings is None:
            listings = self._popular(res, candidates, req, ctx.cart, ctx.listing_id)
        timings["score"] = _ms(clock() - t)

        # 5. engage
        t = clock()
        engagement: EngagementOut | None = None
        action: str | None = None
        propensity = 1.0
        intent_p: float | None = None
        eligible: tuple[str, ...] = ("none",)
        probabilities: tuple[float, ...] = (1.0,)
        moment: str | None = None
        policy = res.policy
        focus = ctx.listing_id or (ctx.cart[-1] if ctx.cart else None) or (
            listings[0].listing_id if listings else None)  # fmt: skip
        if no_policy:
            pass
        elif policy is None:
            if self.watcher.policy_file.exists():
                reasons.append("policy_unavailable")
        elif clock() >= deadline:
            reasons.append("budget:engage")
        elif self.store is not None and online is None:
            reasons.append("engage:no_features")
        elif res.engagement is None:
            reasons.append("catalog_unavailable")
        elif tuple(getattr(policy, "feature_names_", ())) != policy_feature_names(res.engagement):
            reasons.append("policy_features")
        else:
            buyer = online.buyer if online is not None else None
            session = online.session if online is not None else None
            if res.intent is not None:
                row = {**(buyer or {}), **(session or {}), "platform": req.platform}
                intent_p = float(res.intent.score([row])[0])
            engaged = engage(
                res.engagement, policy, req.surface, buyer, session, ctx.channels, u=u,
                suppress=intent_p is not None and intent_p > self.intent_skip_above,
                off=values.actions_off,
            )  # fmt: skip
            action, propensity = engaged.action, engaged.propensity
            eligible, probabilities, moment = (
                engaged.eligible,
                engaged.probabilities,
                engaged.moment,
            )
        timings["engage"] = _ms(clock() - t)

        # 6. copy
        t = clock()
        if action is not None and action != "none" and res.engagement is not None:
            spec = res.engagement.action(action)
            engagement = self._engagement(
                action, spec.channel, spec.copy, propensity, focus, req.locale, deadline, reasons,
                copy_variant=self._copy_variant(values.copy_variant),
            )  # fmt: skip
        timings["copy"] = _ms(clock() - t)

        timings["total"] = _ms(clock() - start)
        response = DecideResponse(
            decision_id=decision_id,
            listings=listings,
            engagement=engagement,
            assignments=assignments,
            models=_served_versions(res.versions(), baseline_rank, no_policy),
            degraded=bool(reasons),
            degraded_reasons=reasons,
            timings_ms=timings,
        )  # fmt: skip
        return DecisionRecord(
            req, response, time.time(), u, intent_p, session_items,
            candidates if req.candidates is not None else None, res,
            online.listings if online is not None else (),
            action or "none", propensity, eligible, probabilities, moment, values.as_dict(),
        )  # fmt: skip

    def warm(self) -> None:
        """Run each stage once (imports, template tables per locale) before the first request."""
        res = self.watcher.current
        first = next(iter(self.catalog.rows), None)
        if first is not None and self.copy_reader is not None and res.engagement is not None:
            for locale in _COPY_LOCALES:
                for spec in res.engagement.actions[1:]:
                    self._engagement(
                        spec.id, spec.channel, spec.copy, 1.0, first, locale, math.inf, []
                    )
        if res.intent is not None:
            res.intent.score([{}])
        names = getattr(res.policy, "feature_names_", None)
        if res.policy is not None and names is not None:
            res.policy.decide(np.zeros(len(names)))
        ranker = res.ranker
        if ranker is not None and ranker.item_ids:
            query = ranker.query(ranker.item_ids[:1])
            if query is not None:
                _, X = ranker.generate(query)  # noqa: N806
                ranker.score(ranker.full_matrix(X, [None] * len(X)))

    # -- stages' helpers ------------------------------------------------------------------
    def _copy_variant(self, spec: str | None) -> Any:
        """The copy variant an experiment arm names (``<model>@<prompt>``), built once."""
        if spec is None:
            return None
        variant = self._arm_copy.get(spec)
        if variant is None:
            from marketlift.copy.variants import CopyVariant  # noqa: PLC0415

            model, _, prompt = spec.partition("@")
            variant = (
                CopyVariant(f"arm:{spec}") if spec == "template"
                else CopyVariant(f"arm:{spec}", provider="openai", model=model,
                                 prompt_version=prompt)
            )  # fmt: skip
            self._arm_copy[spec] = variant
        return variant

    def _popular(
        self, res: Resources, candidates: Sequence[str], req: DecideRequest,
        cart: Sequence[str], current: str | None,
    ) -> list[ListingOut]:  # fmt: skip
        exclude = set(cart)
        if current:
            exclude.add(current)
        pop = res.pop_score
        if req.candidates is not None:
            pool = [c for c in candidates if c not in exclude]
            pool.sort(key=lambda c: -pop.get(c, 0.0))
        else:
            pool = [c for c in res.popular[: req.limit + len(exclude)] if c not in exclude]
        return [ListingOut(c, round(pop.get(c, 0.0), 6), "popular") for c in pool[: req.limit]]

    def _engagement(  # noqa: PLR0917
        self, action: str, channel: str, copy_action: str | None, propensity: float,
        listing_id: str | None, locale: str, deadline: float, reasons: list[str], *,
        copy_variant: Any = None,
    ) -> EngagementOut:  # fmt: skip
        parts: dict[str, str] = {}
        status = "none"
        if copy_action is None or self.copy_reader is None or listing_id is None:
            pass
        elif time.perf_counter() >= deadline:
            reasons.append("budget:copy")
        else:
            parts, status = self._copy(listing_id, _copy_locale(locale), copy_action, copy_variant)
        return EngagementOut(action, channel, round(propensity, 6), "nudge", parts, status)

    def _copy(
        self, listing_id: str, locale: str, action: str, variant: Any = None
    ) -> tuple[dict[str, str], str]:
        """Nudge copy of a listing: the cache's (or the template's), memoized for a minute.

        ``variant``: an experiment arm's copy variant instead of the served one.
        """
        variant = self.copy_variant if variant is None else variant
        key = (listing_id, locale, action, getattr(variant, "name", None))
        now = time.monotonic()
        memo = self._copy_memo.get(key)
        if memo is not None and now - memo[0] < self.copy_memo_ttl_s:
            return memo[1], memo[2]
        parts: dict[str, str] = {}
        status = "none"
        facts = self.catalog.facts(listing_id, locale)
        if facts is not None:
            from marketlift.copy.sources import requests_for  # noqa: PLC0415

            [request] = requests_for("nudge", [facts], locale, actions=[action])
            if variant is not None:
                result = self.copy_reader.copy_for(request, variant)
            else:
                result = self.copy_reader.copy_for(request)
            parts, status = dict(result.parts), str(result.status)
        if len(self._copy_memo) >= 100_000:
            self._copy_memo.clear()
        self._copy_memo[key] = (now, parts, status)
        return parts, status


def _with_limit(req: DecideRequest, limit: int | None) -> DecideRequest:
    """The request with an experiment arm's number of listings (checked at config load)."""
    return req if limit is None else msgspec.structs.replace(req, limit=limit)


def _served_versions(
    versions: Mapping[str, str | None], baseline_rank: bool, no_policy: bool
) -> dict[str, str | None]:
    """Model versions that served the answer (``None`` where an arm replaced the model)."""
    out = dict(versions)
    if baseline_rank:
        out["ranker"] = None
    if no_policy:
        out["intent"] = out["policy"] = None
    return out


_COPY_LOCALES: Final = ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "it-IT", "nl-NL", "ja-JP")
_BY_LANGUAGE: Final = {loc.split("-")[0]: loc for loc in reversed(_COPY_LOCALES)}


def _copy_locale(locale: str) -> str:
    """The nearest locale with copy (``de-AT`` -> ``de-DE``; unknown -> ``en-US``)."""
    if locale in _COPY_LOCALES:
        return locale
    return _BY_LANGUAGE.get(locale.split("-", maxsplit=1)[0].lower(), "en-US")


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 4)


def catalog_pop(path: Path) -> dict[str, float]:
    """Popularity (purchases, then views) per listing from the features build, if present."""
    if not path.exists():
        return {}
    import pyarrow.parquet as pq  # noqa: PLC0415

    table = pq.read_table(path)
    names = table.column_names
    if "listing_id" not in names:
        return {}
    ids = table.column("listing_id").to_pylist()
    buys = (np.nan_to_num(table.column("l_purchases").to_numpy(zero_copy_only=False)
                          .astype(np.float64)) if "l_purchases" in names else 0.0)  # fmt: skip
    views = (np.nan_to_num(table.column("l_views").to_numpy(zero_copy_only=False)
                           .astype(np.float64)) if "l_views" in names else 0.0)  # fmt: skip
    score = np.log1p(buys * 20.0 + views) * np.ones(len(ids))
    return {k: float(v) for k, v in zip(ids, score.tolist(), strict=True) if not math.isnan(v)}
