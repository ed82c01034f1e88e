"""Train the purchase-intent model on any table or on the lake, evaluate it, register it.

The holdout is the latest ``holdout_fraction`` of rows by ``time_column`` when one is given (the
lake path uses the decision time), else a seeded stratified random share.

Example:
    >>> import numpy as np, pyarrow as pa, tempfile
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=3000)
    >>> table = pa.table({"x": x, "device": rng.choice(["ios", "web"], 3000),
    ...                   "bought": (x + rng.normal(size=3000) > 1.5)})
    >>> result = train_intent(table, label="bought", n_estimators=20)
    >>> result.metrics.roc_auc > 0.7, result.sizes["train"] + result.sizes["holdout"]
    (True, 3000)
    >>> version = register_intent(tempfile.mkdtemp(), result, compile_=False)
    >>> version.version, version.meta["features"]
    ('v0001', ['x', 'device'])
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from marketlift.errors import ConfigError
from marketlift.models.compiled import compile_model, lleaves_available
from marketlift.models.intent import IntentClassifier
from marketlift.models.metrics import ClassificationMetrics, classification_metrics
from marketlift.models.registry import ModelVersion, Registry
from marketlift.models.tabular import FeatureSchema, encode, infer_schema, label_array

__all__ = [
    "IntentResult",
    "lake_intent_rows",
    "register_intent",
    "split_rows",
    "train_intent",
    "train_intent_lake",
]


@dataclasses.dataclass(frozen=True, slots=True)
class IntentResult:
    """A fitted intent model with its schema, holdout metrics, sizes and data range."""

    classifier: IntentClassifier
    schema: FeatureSchema
    metrics: ClassificationMetrics
    sizes: dict[str, int]
    data_range: dict[str, str | None]
    holdout_rows: npt.NDArray[np.int64]
    holdout_proba: npt.NDArray[np.float64]

    def summary(self) -> dict[str, Any]:
        """The JSON document of ``train intent``."""
        return {
            "model": "intent",
            "metrics": self.metrics.to_dict(),
            "sizes": self.sizes,
            "data_range": self.data_range,
            "features": self.schema.names,
            "schema_hash": self.schema.hash,
            "beats_baselines": self.beats_baselines(),
        }

    def beats_baselines(self) -> bool:
        """Whether the holdout log loss beats the constant base-rate predictor's and AUC > 0.5.

        The base rate is the holdout's share of positives, the best constant there (so the
        gate is a little generous to the baseline, never to the model).

        Example:
            >>> from marketlift.models.metrics import ClassificationMetrics
            >>> m = ClassificationMetrics(0.5, 0.1, 0.7, 0.2, 0.0, 100, 10)
            >>> _base_rate_log_loss(m) < 0.7
            True
        """
        return self.metrics.roc_auc > 0.5 and self.metrics.log_loss < _base_rate_log_loss(
            self.metrics
        )


def _base_rate_log_loss(m: ClassificationMetrics) -> float:
    """Log loss of always predicting the holdout's share of positives."""
    p = m.positives / m.n if m.n else 0.0
    if p in (0.0, 1.0):
        return 0.0
    return float(-(p * np.log(p) + (1 - p) * np.log(1 - p)))


def split_rows(
    table: pa.Table,
    y: npt.NDArray[np.int64],
    *,
    holdout_fraction: float,
    time_column: str | None,
    random_state: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Train and holdout row indices: latest rows by time, else stratified at random."""
    if not 0 < holdout_fraction < 1:
        raise ConfigError("holdout_fraction", holdout_fraction, "a number in (0, 1)")
    n = table.num_rows
    if time_column is not None:
        order = np.asarray(pc.sort_indices(table[time_column]).to_numpy(), dtype=np.int64)
        cut = round(n * (1 - holdout_fraction))
        return np.sort(order[:cut]), np.sort(order[cut:])
    rng = np.random.default_rng(random_state)
    hold: list[npt.NDArray[np.int64]] = []
    for cls in (0, 1):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        hold.append(idx[: round(len(idx) * holdout_fraction)])
    holdout = np.sort(np.concatenate(hold))
    train = np.setdiff1d(np.arange(n), holdout)
    return train, holdout


def train_intent(
    table: pa.Table,
    *,
    label: str,
    drop: Sequence[str] = (),
    categorical: Sequence[str] = (),
    time_column: str | None = None,
    holdout_fraction: float = 0.25,
    n_estimators: int = 200,
    class_weight: str | None = None,
    num_threads: int = 1,
    random_state: int = 0,
) -> IntentResult:
    """Fit :class:`IntentClassifier` on ``table`` and measure it on a holdout.

    Raises:
        ColumnError: the label or a column cannot be used (the message names it).
        ConfigError: a parameter breaks its rule, or a split has a single class.
    """
    y = label_array(table, label)
    excluded = [*drop, *([time_column] if time_column and time_column not in drop else [])]
    schema = infer_schema(table, label=label, drop=excluded, categorical=categorical)
    train, holdout = split_rows(
        table, y, holdout_fraction=holdout_fraction, time_column=time_column,
        random_state=random_state,
    )  # fmt: skip
    X = encode(table, schema)  # noqa: N806
    clf = IntentClassifier(
        n_estimators=n_estimators, class_weight=class_weight,  # type: ignore[arg-type]
        num_threads=num_threads, random_state=random_state,
    )  # fmt: skip
    clf.fit(
        X[train], y[train], categorical_features=schema.categorical_indices,
        feature_names=schema.names,
    )  # fmt: skip
    proba = clf.predict_proba(X[holdout])[:, 1]
    data_range: dict[str, str | None] = {"column": time_column, "min": None, "max": None}
    if time_column is not None:
        bounds = pc.min_max(table[time_column]).as_py()
        data_range.update(min=str(bounds["min"]), max=str(bounds["max"]))
    return IntentResult(
        classifier=clf,
        schema=schema,
        metrics=classification_metrics(y[holdout], proba),
        sizes={
            "rows": table.num_rows,
            "train": len(train),
            "holdout": len(holdout),
            "positives": int(y.sum()),
            "features": len(schema.columns),
        },
        data_range=data_range,
        holdout_rows=holdout,
        holdout_proba=proba,
    )


def lake_intent_rows(
    data_dir: str | os.PathLike[str], *, rows: str = "features", at: str = "cart"
) -> tuple[pa.Table, str, list[str], str]:
    """The lake's intent rows, their label, non-feature columns and time column.

    ``rows="features"`` takes the shared point-in-time training set of
    :func:`marketlift.features.training.training_set`: by default one row per in-session
    engagement decision with the ``b_*`` and ``s_*`` features just before it (what the
    decision API reads from the online store when it scores intent); ``at="events"`` takes
    the older cut-off after each session's third event. ``rows="events"`` takes
    :func:`marketlift.models.intent_data.intent_rows` with snapshot ``at`` (``cart``: just
    before the add-to-cart; ``decision``: at the engagement decision).
    """
    if rows == "features":
        from marketlift.features.training import training_set  # noqa: PLC0415

        cutoff = "events" if at == "events" else "decision"
        table = training_set(data_dir, "intent", intent_cutoff=cutoff)
        ids = ["row_id", "decision_id", "buyer", "session_no", "label_revenue"]
        return table, "label", [c for c in ids if c in table.column_names], "cutoff_ts"
    if rows == "events":
        from marketlift.models.intent_data import ID_COLUMNS, INTENT_LABEL, intent_rows  # noqa: PLC0415

        table = intent_rows(data_dir, at=at)  # type: ignore[arg-type]
        return table, INTENT_LABEL, [c for c in ID_COLUMNS if c != "ts"], "ts"
    raise ConfigError("rows", rows, "'features' or 'events'")


def train_intent_lake(
    data_dir: str | os.PathLike[str], *, rows: str = "features", at: str = "cart", **kwargs: Any
) -> tuple[IntentResult, pa.Table]:
    """Train on the lake's point-in-time intent rows; returns the result and the rows."""
    table, label, drop, time_column = lake_intent_rows(data_dir, rows=rows, at=at)
    if table.num_rows == 0:
        raise ConfigError("--data", str(data_dir), "a lake with sessions to train on")
    result = train_intent(table, label=label, drop=drop, time_column=time_column, **kwargs)
    return result, table


def register_intent(
    data_dir: str | os.PathLike[str],
    result: IntentResult,
    *,
    name: str = "intent",
    compile_: bool = True,
    source: str | None = None,
) -> ModelVersion:
    """Store the model (and its compiled binary when lleaves is installed) in the registry."""
    clf = result.classifier
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "model.txt"
        clf.booster_.save_model(model)
        files: dict[str, bytes | os.PathLike[str]] = {"model.txt": model}
        compiled = compile_ and lleaves_available()
        if compiled:
            files["model.compiled"] = compile_model(model, Path(tmp) / "model.compiled")
        meta = {
            "kind": "intent",
            "features": result.schema.names,
            "schema": result.schema.to_dict(),
            "schema_hash": result.schema.hash,
            "platt": list(clf.calibration_),
            "data_range": result.data_range,
            "metrics": result.metrics.to_dict(),
            "sizes": result.sizes,
            "params": clf.lgb_params() | {"n_estimators": clf.n_estimators},
            "compiled": "lleaves" if compiled else None,
            "source": source,
        }
        return Registry(data_dir).register(name, files, meta)
