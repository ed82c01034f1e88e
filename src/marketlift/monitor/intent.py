"""Feature drift and calibration of the promoted intent model, on the shared intent rows.

The rows are the point-in-time intent training set of :func:`marketlift.features.training.
training_set` (one row per in-session engagement decision, with the ``b_*`` and ``s_*``
features the decision API reads from the online store at that moment), so the monitored day's
rows are what serving saw. The reference is the end of the model's own training window (its
``data_range`` in the registry, its last ``reference_days``: features that count a buyer's
history grow while a lake is young, so the start of a long window is not today's population);
the current side is the monitored day. A feature with fewer than ``min_rows`` values (not
missing) on either side is reported, not judged.

An age that the lake's own history bounds (``MonitorConfig.history_ages``: the hours a cart has
been kept since its first add, which nothing resets when a buyer never orders) grows with the
age of the lake: on a lake two weeks old its median moves by about 15 hours a day, a drift of
the data set, not of the marketplace. Such a feature is compared as the share of the history
it spans, its value over the time from the lake's first event to the row's cutoff
(:func:`history_share`); on an old lake that time is nearly the same for both sides, so the
index is the raw feature's.

- drift: per feature of the model, the population stability index
  (:func:`~marketlift.monitor.stats.psi`, category codes for categorical features), judged
  against the larger of ``psi_alert`` and the index that sampling noise exceeds with
  probability ``psi_alpha`` (:func:`~marketlift.monitor.stats.psi_critical`), and the change of
  the missing-value rate;
- calibration: the model's probabilities on the day's rows against their outcomes (``label``:
  a purchase later in the session), expected calibration error with equal-width bins (as the
  offline figure in the registry) and reliability by decile.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketlift.monitor.config import MonitorConfig
from marketlift.monitor.result import Check
from marketlift.monitor.stats import categorical_psi, psi, psi_critical, reliability

__all__ = ["drift_checks", "history_share", "intent_checks"]


def _window(table: pa.Table, start: dt.datetime, end: dt.datetime, *, closed: bool) -> pa.Table:
    ts = table["cutoff_ts"]
    upper = pc.less_equal(ts, end) if closed else pc.less(ts, end)
    return table.filter(pc.and_(pc.greater_equal(ts, start), upper))


def _parse(value: Any) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def history_share(values: Any, cutoff: pa.ChunkedArray | pa.Array, start: dt.datetime) -> Any:
    """An age over the time between ``start`` (the history's first event) and each row's cutoff.

    The unit of ``values`` does not matter (the index bins by quantiles); the time is in hours.
    A row at or before ``start`` gives NaN.

    Example:
        >>> t0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
        >>> cut = pa.array([t0 + dt.timedelta(hours=10), t0 + dt.timedelta(hours=40), t0])
        >>> history_share(np.array([5.0, 10.0, 1.0]), cut, t0).tolist()
        [0.5, 0.25, nan]
    """
    micros = pc.cast(cutoff, pa.timestamp("us", "UTC")).cast(pa.int64())
    cut_us = np.asarray(micros.to_numpy(zero_copy_only=False), dtype=np.float64)
    start_us = (start - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    hours = (cut_us - float(start_us)) / 3.6e9
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(hours > 0, np.asarray(values, dtype=np.float64) / hours, np.nan)


def _history_start(data_dir: str | os.PathLike[str], rows: pa.Table) -> dt.datetime | None:
    from marketlift.lake import connect  # noqa: PLC0415

    con = connect(data_dir)
    try:
        first = con.execute("SELECT min(ts) FROM events").fetchone()
    finally:
        con.close()
    value = first[0] if first else None
    if value is None and rows.num_rows:
        value = pc.min(rows["cutoff_ts"]).as_py()
    return _parse(value.isoformat()) if value is not None else None


def intent_checks(
    data_dir: str | os.PathLike[str],
    interval: dt.date,
    config: MonitorConfig,
    rows: pa.Table | None = None,
) -> list[Check]:
    """Drift of every feature of the promoted intent model, then its calibration.

    Args:
        data_dir: The data directory (lake and registry).
        interval: The monitored day (UTC).
        config: The thresholds.
        rows: The intent rows when the caller already has them (default: built from the lake).
    """
    from marketlift.models.metrics import expected_calibration_error  # noqa: PLC0415
    from marketlift.models.registry import Registry  # noqa: PLC0415
    from marketlift.models.serving import IntentService  # noqa: PLC0415
    from marketlift.models.tabular import FeatureSchema, encode  # noqa: PLC0415

    registry = Registry(data_dir)
    if registry.promoted("intent") is None:
        return [Check.unjudged("calibration", "model:intent", config.max_ece, "no_model")]
    version = registry.get("intent")
    schema = FeatureSchema.from_dict(version.meta["schema"])
    data_range = version.meta.get("data_range") or {}
    ref_start, ref_end = _parse(data_range.get("min")), _parse(data_range.get("max"))
    if rows is None:
        from marketlift.features.training import training_set  # noqa: PLC0415

        rows = training_set(data_dir, "intent", intent_cutoff="decision")
    start = dt.datetime.combine(interval, dt.time(), dt.UTC)
    current = _window(rows, start, start + dt.timedelta(days=1), closed=False)
    if ref_start is None or ref_end is None:
        reference = rows.slice(0, 0)
    else:
        ref_start = max(ref_start, ref_end - dt.timedelta(days=config.reference_days))
        reference = _window(rows, ref_start, ref_end, closed=True)
    checks = drift_checks(reference, current, schema, config, _history_start(data_dir, rows))
    if current.num_rows < config.min_rows:
        detail = {"rows": current.num_rows, "min_rows": config.min_rows}
        checks.append(
            Check.unjudged("calibration", "model:intent", config.max_ece, "too_few_rows", detail)
        )
        return checks
    service = IntentService(version)
    p = service.score_matrix(np.ascontiguousarray(encode(current, schema)))
    y = current["label"].to_numpy(zero_copy_only=False).astype(np.float64)
    ece = float(expected_calibration_error(y, p, n_bins=config.n_bins))
    rel = reliability(y, p, n_bins=10)
    offline = (version.meta.get("metrics") or {}).get("ece")
    detail = {
        "version": version.version,
        "rows": current.num_rows,
        "offline_ece": offline,
        "mean_predicted": float(p.mean()),
        "observed_rate": float(y.mean()),
        "reliability": rel._asdict(),
    }
    alert = ece > config.max_ece
    checks.append(
        Check(
            "calibration",
            "model:intent",
            ece,
            config.max_ece,
            alert,
            "above" if alert else "ok",
            detail,
        )
    )
    return checks


def drift_checks(
    reference: pa.Table,
    current: pa.Table,
    schema: Any,
    config: MonitorConfig,
    history_start: dt.datetime | None = None,
) -> list[Check]:
    """Drift and missing-value checks of every feature of ``schema``, reference against current.

    Args:
        reference: The reference rows (with ``cutoff_ts`` when a feature is a history age).
        current: The monitored rows.
        schema: The model's :class:`~marketlift.models.tabular.FeatureSchema`.
        config: The thresholds; ``history_ages`` names the features compared as
            :func:`history_share` (when ``history_start`` is known).
        history_start: The time of the lake's first event.
    """
    from marketlift.models.tabular import encode  # noqa: PLC0415

    too_few = min(reference.num_rows, current.num_rows) < config.min_rows
    if too_few:
        detail = {"reference_rows": reference.num_rows, "current_rows": current.num_rows}
        return [Check.unjudged("drift", "*", config.psi_alert, "too_few_rows", detail)]
    ref = encode(reference, schema)
    cur = encode(current, schema)
    checks: list[Check] = []
    for j, spec in enumerate(schema.columns):
        a, b = ref[:, j], cur[:, j]
        relative = history_start is not None and spec.name in config.history_ages
        if relative and history_start is not None:  # the second test narrows the type
            a = history_share(a, reference["cutoff_ts"], history_start)
            b = history_share(b, current["cutoff_ts"], history_start)
        present = min(int((~np.isnan(a)).sum()), int((~np.isnan(b)).sum()))
        if present < config.min_rows:
            detail = {
                "reference_values": int((~np.isnan(a)).sum()),
                "current_values": int((~np.isnan(b)).sum()),
            }
            checks.append(
                Check.unjudged("drift", spec.name, config.psi_alert, "too_few_values", detail)
            )
        else:
            n_a, n_b = int((~np.isnan(a)).sum()), int((~np.isnan(b)).sum())
            if spec.kind == "categorical":
                index = categorical_psi(a, b)
                bins = len(np.unique(np.concatenate([a[~np.isnan(a)], b[~np.isnan(b)]])))
            else:
                index = psi(a, b, n_bins=config.n_bins)
                bins = config.n_bins
            limit = max(config.psi_alert, psi_critical(n_a, n_b, bins, config.psi_alpha))
            detail = {"reference_values": n_a, "current_values": n_b, "kind": spec.kind,
                      "noise_critical": psi_critical(n_a, n_b, bins, config.psi_alpha),
                      "history_share": relative}  # fmt: skip
            alert = index >= limit
            checks.append(
                Check(
                    "drift",
                    spec.name,
                    index,
                    limit,
                    alert,
                    "above" if alert else "ok",
                    detail,
                )
            )
        miss_ref, miss_cur = float(np.isnan(a).mean()), float(np.isnan(b).mean())
        change = abs(miss_cur - miss_ref)
        alert = change >= config.missing_alert
        checks.append(
            Check(
                "missing",
                spec.name,
                change,
                config.missing_alert,
                alert,
                "above" if alert else "ok",
                {"reference_rate": miss_ref, "current_rate": miss_cur},
            )
        )
    return checks
