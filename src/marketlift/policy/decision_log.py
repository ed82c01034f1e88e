r"""The training set of engagement policies, from the decision log and the outcomes in the lake.

One row per logged ``decision`` event: the catalog's action id, the propensity of the chosen
action, the eligible set (and every eligible action's probability when the serving policy
logged them), the policy that served, the moment, the catalog's declared features of the buyer
and the session **at the decision** (point-in-time, the feature store's definitions:
:func:`marketlift.features.training_set`), and the outcomes after it:

- ``revenue``: purchases of the buyer within the attribution window of the action's channel
  (the catalog's ``attribution``: a duration from the decision, or ``"session"``: the rest of
  the decision's session), in the catalog's reporting currency (``[reporting] rates``); a
  purchase inside the windows of several decisions goes to the latest (last touch);
- ``converted``: at least one such purchase;
- ``harms``: events of the catalog's ``harms`` types (dismissal, opt-out ...) that follow the
  decision: those naming its ``decision_id``, and those of the buyer within the window that
  name no decision.

``none`` decisions take the longest window of the catalog (what would have been attributed to
any action). Features see only events strictly before the decision; outcomes only events at or
after it and before the window closes.

Example:
    >>> import tempfile
    >>> from marketlift.policy.catalog import loads
    >>> cat = loads('[channels.onsite]\n[[moments]]\nid = "browsing"\nsurfaces = ["home"]\n')
    >>> decision_rows(tempfile.mkdtemp(), cat).num_rows
    0
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketlift.errors import ConfigError
from marketlift.policy.catalog import EngagementCatalog
from marketlift.policy.context import feature_matrix, policy_feature_names

__all__ = ["DecisionLog", "decision_rows", "read_decision_log"]

_HOUR_US: Final = 3_600_000_000
_ROW_COLUMNS: Final = (
    "decision_id", "buyer", "ts_us", "session_id", "action", "propensity", "policy", "moment",
    "eligible", "probabilities", "revenue", "converted", "harms",
)  # fmt: skip


def _outcomes_sql(catalog: EngagementCatalog) -> str:
    windows = {c.id: c.attribution_hours for c in catalog.channels.values()}
    hours = [h for h in windows.values() if h is not None]
    longest = max(hours) if hours else 24.0
    cases = " ".join(
        f"WHEN '{cid}' THEN {(-1 if h is None else round(h * _HOUR_US))}"
        for cid, h in windows.items()
    )
    rates = " ".join(f"WHEN '{c}' THEN {float(r)!r}" for c, r in catalog.rates.items())
    rate = f"CASE revenue_currency WHEN '{catalog.currency}' THEN 1.0 {rates} ELSE NULL END"
    harms = ", ".join(f"'{h}'" for h in catalog.harms) or "''"
    ids = ", ".join(f"('{a.id}', '{a.channel}')" for a in catalog.actions[1:]) or "(NULL, NULL)"
    return f"""
WITH acts(id, ch) AS (VALUES {ids}),
d AS (
    SELECT e.decision_id, COALESCE(e.buyer_id, e.anonymous_id) AS buyer, e.session_id,
        epoch_us(e.ts) AS ts_us, e.propensity,
        COALESCE(a1.id, a2.id, CASE WHEN COALESCE(e.action, 'none') = 'none' THEN 'none' END)
            AS action,
        COALESCE(e.action, 'none') AS logged_action,
        json_extract_string(e.payload, '$.policy') AS policy,
        COALESCE(json_extract_string(e.payload, '$.moment'),
                 json_extract_string(e.payload, '$.properties.moment')) AS moment,
        CAST(json_extract(e.payload, '$.eligible') AS VARCHAR[]) AS eligible,
        CAST(json_extract(e.payload, '$.probabilities') AS DOUBLE[]) AS probabilities
    FROM events e
    LEFT JOIN acts a1 ON a1.id = e.action
    LEFT JOIN acts a2 ON a2.id = e.action || '_' || e.channel
    WHERE e.type = 'decision' AND COALESCE(e.buyer_id, e.anonymous_id) IS NOT NULL
), w AS (
    SELECT d.*, COALESCE(CASE acts.ch {cases} END, {round(longest * _HOUR_US)}) AS window_us
    FROM d LEFT JOIN acts ON acts.id = d.action
), o AS (
    SELECT event_id, COALESCE(buyer_id, anonymous_id) AS buyer, session_id,
        epoch_us(ts) AS ts_us, type, decision_id,
        CAST(revenue AS DOUBLE) * ({rate}) AS revenue,
        revenue IS NOT NULL AND ({rate}) IS NULL AS unknown_currency
    FROM events p WHERE type = 'purchase' OR type IN ({harms})
), pairs AS (
    SELECT w.decision_id, p.type, p.revenue, p.unknown_currency, ROW_NUMBER() OVER (
        PARTITION BY p.event_id ORDER BY w.ts_us DESC, w.decision_id DESC) AS rk
    FROM w JOIN o p ON p.buyer = w.buyer AND p.ts_us >= w.ts_us AND (
        (p.type = 'purchase' AND (
            (w.window_us >= 0 AND p.ts_us < w.ts_us + w.window_us)
            OR (w.window_us < 0 AND p.session_id = w.session_id)))
        OR (p.type <> 'purchase' AND (p.decision_id = w.decision_id OR (p.decision_id IS NULL
            AND p.ts_us < w.ts_us + CASE WHEN w.window_us < 0 THEN {round(longest * _HOUR_US)}
                                         ELSE w.window_us END))))
)
SELECT w.decision_id, w.buyer, w.ts_us, w.session_id, w.action, w.logged_action,
    w.propensity, w.policy, w.moment, w.eligible, w.probabilities,
    COALESCE(SUM(CASE WHEN x.type = 'purchase' THEN x.revenue END), 0.0) AS revenue,
    COUNT(CASE WHEN x.type = 'purchase' THEN 1 END) > 0 AS converted,
    COUNT(CASE WHEN x.type <> 'purchase' THEN 1 END) AS harms,
    COUNT(CASE WHEN x.unknown_currency THEN 1 END) AS unknown_currency
FROM w LEFT JOIN (SELECT * FROM pairs WHERE rk = 1) x ON x.decision_id = w.decision_id
GROUP BY ALL
ORDER BY w.ts_us, w.decision_id"""  # noqa: S608 - ids and numbers of a validated catalog


def decision_rows(data_dir: str | os.PathLike[str], catalog: EngagementCatalog) -> pa.Table:
    """Every logged decision with its action id, propensities, eligible set and outcomes.

    Columns: ``decision_id``, ``buyer``, ``ts_us``, ``session_id``, ``action`` (the catalog's
    id; NULL when the catalog has no such action), ``logged_action``, ``propensity``,
    ``policy``, ``moment``, ``eligible``, ``probabilities``, ``revenue``, ``converted``,
    ``harms``, ``unknown_currency`` (purchases in a currency without a rate: not counted).
    """
    from marketlift.lake import query  # noqa: PLC0415

    try:
        return query(data_dir, _outcomes_sql(catalog))
    except Exception as exc:
        if "events" in str(exc) and ("does not exist" in str(exc) or "not found" in str(exc)):
            return pa.table({c: pa.array([], pa.string()) for c in _ROW_COLUMNS})
        raise


@dataclasses.dataclass(frozen=True, slots=True)
class DecisionLog:
    """The decision log as a policy's training set and as off-policy evaluation's data.

    Attributes:
        catalog: The engagement catalog.
        rows: :func:`decision_rows` joined with the point-in-time features.
        features: ``(n, d)`` policy features (:func:`~marketlift.policy.context.feature_matrix`).
        action: Index into ``catalog.action_ids``.
        propensity: The logged propensity of the chosen action.
        available: ``(n, k)`` eligible sets (logged, else what the moment allows).
        reward: Revenue minus the action's cost (reporting currency).
        flags: Data conditions found (``dropped_unknown_action:N``,
            ``eligible_from_catalog:N``, ``unknown_currency:N`` ...).
    """

    catalog: EngagementCatalog
    rows: pa.Table
    features: np.ndarray
    action: np.ndarray
    propensity: np.ndarray
    available: np.ndarray
    reward: np.ndarray
    flags: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.action)

    def subset(self, rows: np.ndarray) -> DecisionLog:
        """The decisions selected by a boolean mask or an index array."""
        idx = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows)
        return dataclasses.replace(
            self,
            rows=self.rows.take(pa.array(idx, pa.int64())),
            features=self.features[idx],
            action=self.action[idx],
            propensity=self.propensity[idx],
            available=self.available[idx],
            reward=self.reward[idx],
        )

    def buyers(self) -> np.ndarray:
        """The buyer of each decision (``buyer_id``, else ``anonymous_id``)."""
        return np.asarray(self.rows.column("buyer").to_pylist(), dtype=object)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Column names of :attr:`features`."""
        return policy_feature_names(self.catalog)

    @property
    def action_names(self) -> np.ndarray:
        """The action taken, by id (the treatment labels of uplift learners)."""
        return np.asarray(np.asarray(self.catalog.action_ids)[self.action], dtype=str)

    def training_range(self) -> tuple[int, int]:
        """First and last decision time (microseconds since the epoch)."""
        ts = self.rows.column("ts_us").to_numpy()
        return (int(ts.min()), int(ts.max())) if len(ts) else (0, 0)

    def policies(self) -> dict[str, int]:
        """Decisions per logged policy version."""
        names = self.rows.column("policy").to_pylist()
        out: dict[str, int] = {}
        for n in names:
            out[str(n)] = out.get(str(n), 0) + 1
        return out

    def bandit(self) -> Any:
        """The log as :class:`marketlift.ope.LoggedBandit` (refuses bad propensities)."""
        from marketlift.ope.data import LoggedBandit  # noqa: PLC0415

        return LoggedBandit.build(
            actions=self.catalog.action_ids,
            action=self.action,
            reward=self.reward,
            propensity=self.propensity,
            context=self.features,
            available=self.available,
            context_names=self.feature_names,
        )


def _features_at_decisions(data_dir: str | os.PathLike[str]) -> pa.Table:
    from marketlift.features.training import training_set  # noqa: PLC0415

    return training_set(data_dir, "uplift")


def read_decision_log(
    data_dir: str | os.PathLike[str],
    catalog: EngagementCatalog,
    *,
    start_us: int | None = None,
    end_us: int | None = None,
) -> DecisionLog:
    """The decision log of a lake as a training set (see the module doc).

    Raises:
        ConfigError: No decisions; a decision without a propensity or with one outside
            (0, 1]; a logged chosen action outside its logged eligible set.
    """
    rows = decision_rows(data_dir, catalog)
    if start_us is not None or end_us is not None:
        ts = rows.column("ts_us")
        keep = pc.and_(
            pc.greater_equal(ts, start_us if start_us is not None else -(2**62)),
            pc.less(ts, end_us if end_us is not None else 2**62),
        )
        rows = rows.filter(keep)
    if rows.num_rows == 0:
        raise ConfigError("data", str(data_dir), "a lake with logged decision events")
    flags: list[str] = []
    unknown = pc.is_null(rows.column("action"))
    n_unknown = int(pc.sum(unknown).as_py() or 0)
    if n_unknown:
        names = sorted(set(rows.filter(unknown).column("logged_action").to_pylist()))
        flags.append(f"dropped_unknown_action:{n_unknown}:{','.join(map(str, names))[:200]}")
        rows = rows.filter(pc.invert(unknown))
    prop = rows.column("propensity").to_numpy(zero_copy_only=False).astype(np.float64)
    missing = np.isnan(prop)
    if missing.any():
        raise ConfigError(
            "decision.propensity",
            f"missing on {int(missing.sum())} of {len(prop)} decisions",
            "every decision logged with the probability of its action (off-policy "
            "evaluation cannot weigh a decision without it)",
        )
    bad = ~((prop > 0) & (prop <= 1))
    if bad.any():
        raise ConfigError("decision.propensity", float(prop[bad][0]), "probabilities in (0, 1]")
    n_currency = int(pc.sum(rows.column("unknown_currency")).as_py() or 0)
    if n_currency:
        flags.append(f"unknown_currency:{n_currency}")
    feats = _features_at_decisions(data_dir)
    joined = _join_features(rows, feats, catalog)
    ids = catalog.action_ids
    index = {a: i for i, a in enumerate(ids)}
    action = np.array([index[a] for a in joined.column("action").to_pylist()], dtype=np.int64)
    available, n_from_catalog = _available(joined, catalog, action)
    if n_from_catalog:
        flags.append(f"eligible_from_catalog:{n_from_catalog}")
    cost = np.array([_cost(catalog, a) for a in ids])[action]
    revenue = joined.column("revenue").to_numpy(zero_copy_only=False).astype(np.float64)
    return DecisionLog(
        catalog=catalog,
        rows=joined,
        features=feature_matrix(catalog, joined),
        action=action,
        propensity=joined.column("propensity").to_numpy(zero_copy_only=False).astype(np.float64),
        available=available,
        reward=revenue - cost,
        flags=tuple(flags),
    )


def _cost(catalog: EngagementCatalog, action_id: str) -> float:
    if action_id == "none":
        return 0.0
    a = catalog.action(action_id)
    return a.cost + catalog.channels[a.channel].cost


def _join_features(rows: pa.Table, feats: pa.Table, catalog: EngagementCatalog) -> pa.Table:
    """Rows with the declared features at each decision (joined on the decision id)."""
    keep = ["decision_id", *catalog.features]
    missing = [c for c in keep if c not in feats.column_names]
    if missing:
        raise ConfigError("features", missing, "features the training set computes")
    where = pc.index_in(rows.column("decision_id"), value_set=feats.column("decision_id"))
    out = rows
    for name in catalog.features:
        out = out.append_column(name, feats.column(name).take(where))
    return out


def _available(
    rows: pa.Table, catalog: EngagementCatalog, action: np.ndarray
) -> tuple[np.ndarray, int]:
    ids = catalog.action_ids
    n, k = rows.num_rows, len(ids)
    out = np.zeros((n, k), dtype=bool)
    eligible = rows.column("eligible").combine_chunks()
    flat = pc.list_flatten(eligible)
    parent = pc.list_parent_indices(eligible).to_numpy()
    col = pc.index_in(flat, value_set=pa.array(ids, pa.string()))
    ok = pc.is_valid(col).to_numpy(zero_copy_only=False)
    out[parent[ok], col.to_numpy(zero_copy_only=False)[ok].astype(np.int64)] = True
    logged = pc.fill_null(pc.greater(pc.list_value_length(eligible), 0), fill_value=False).to_numpy(
        zero_copy_only=False
    )
    allowed = np.ones((len(catalog.moments) + 1, k), dtype=bool)  # last row: unknown moment
    for m, moment in enumerate(catalog.moment_ids):
        allowed[m] = np.isin(ids, catalog.actions_at(moment))
    midx = pc.fill_null(
        pc.index_in(rows.column("moment"), value_set=pa.array(catalog.moment_ids, pa.string())),
        len(catalog.moments),
    ).to_numpy(zero_copy_only=False)
    out[~logged] = allowed[midx[~logged]]
    from_catalog = int((~logged).sum())
    out[:, 0] = True
    if not out[np.arange(n), action].all():
        row = int(np.flatnonzero(~out[np.arange(n), action])[0])
        raise ConfigError(
            "decision.action",
            f"{ids[action[row]]} (decision {rows.column('decision_id')[row].as_py()})",
            "an action of the decision's logged eligible set",
        )
    return out, from_catalog
