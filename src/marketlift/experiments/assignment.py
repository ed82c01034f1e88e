"""Deterministic assignment of units to variants (the spec shared with the JS SDK).

1. Layer: a unit is eligible only if ``layer.start <= bucket(layer.salt, unit) < layer.end``.
2. Holdout: ``hold = floor(holdout_pct * 100)``; ``b = bucket(salt, unit)``; ``b < hold`` is
   held out (no variant).
3. Variants: with weights ``w_i``, total ``W`` and cumulative sums ``c_i``, thresholds are
   ``t_i = hold + floor((10000 - hold) * c_i / W)`` in float64, the last forced to 10000; the
   variant is the first ``i`` with ``b < t_i``.

Example:
    >>> from marketlift.experiments.config import Experiment, Variant
    >>> exp = Experiment(key="ab", variants=(Variant("control"), Variant("treatment")))
    >>> assign_variant(exp, "buyer-1") in {"control", "treatment"}
    True
    >>> [a.variant for a in assign([exp], "buyer-1")] == [assign_variant(exp, "buyer-1")]
    True
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from marketlift.experiments.config import Experiment
from marketlift.experiments.hashing import BUCKETS, bucket

__all__ = ["Assignment", "assign", "assign_variant", "thresholds"]


class Assignment(msgspec.Struct, frozen=True):
    """One unit's variant in one experiment (what ``POST /v1/assign`` returns per experiment).

    Attributes:
        experiment_key: The experiment.
        variant: The assigned variant.
        unit: Which identifier was randomized (``buyer_id`` or ``anonymous_id``).
        unit_id: Its value.
    """

    experiment_key: str
    variant: str
    unit: str
    unit_id: str


def thresholds(weights: Iterable[float], holdout_pct: float) -> list[int]:
    """Bucket thresholds ``t_i`` of the variants.

    Example:
        >>> thresholds([1, 1], 0)
        [5000, 10000]
        >>> thresholds([1, 2, 1], 10)
        [3250, 7750, 10000]
    """
    hold = math.floor(float(holdout_pct) * 100.0)
    cums: list[float] = []
    cum = 0.0
    for w in weights:  # plain left-to-right float64 sums, as in JS (not compensated)
        cum += float(w)
        cums.append(cum)
    total = cums[-1]
    out = [hold + math.floor((BUCKETS - hold) * c / total) for c in cums]
    out[-1] = BUCKETS
    return out


def assign_variant(experiment: Experiment, unit_id: str) -> str | None:
    """The variant of ``unit_id``, or ``None`` outside the layer range or in the holdout.

    Hashing only: targeting and the schedule are checked by :func:`assign`.

    Example:
        >>> from marketlift.experiments.config import Experiment, Layer, Variant
        >>> exp = Experiment(key="ab", variants=(Variant("a"), Variant("b")),
        ...                  layer=Layer("home", 0, 1))
        >>> sum(assign_variant(exp, f"u{i}") is not None for i in range(10_000)) < 10
        True
    """
    layer = experiment.layer
    if layer is not None and not layer.start <= bucket(layer.salt, unit_id) < layer.end:
        return None
    hold = math.floor(float(experiment.holdout_pct) * 100.0)
    b = bucket(experiment.effective_salt, unit_id)
    if b < hold:
        return None
    for variant, t in zip(
        experiment.variants,
        thresholds((v.weight for v in experiment.variants), experiment.holdout_pct),
        strict=True,
    ):
        if b < t:
            return variant.name
    return None  # pragma: no cover - the last threshold is 10000 > b


def assign(
    experiments: Iterable[Experiment],
    unit_id: str | Mapping[str, str | None],
    attributes: Mapping[str, Any] | None = None,
    *,
    now: dt.datetime | None = None,
) -> list[Assignment]:
    """Assign one unit to every experiment it qualifies for.

    Args:
        experiments: Candidate experiments (for example ``load_experiments(path).values()``).
        unit_id: The unit's id for every experiment, or a mapping with ``buyer_id`` and/or
            ``anonymous_id`` so each experiment picks its own unit (a missing one skips it).
        attributes: ``platform``, ``locale``, ``country`` for targeting.
        now: The instant for the schedule check; defaults to the current UTC time.

    Returns:
        One :class:`Assignment` per experiment with a variant, in input order. Units outside
        targeting, schedule, layer range or in the holdout get none.

    Example:
        >>> from marketlift.experiments.config import Experiment, Targeting, Variant
        >>> exp = Experiment(key="ab", variants=(Variant("a"), Variant("b")),
        ...                  unit="anonymous_id", targeting=Targeting(platforms=("ios",)))
        >>> assign([exp], {"anonymous_id": "d1"}, {"platform": "web"})
        []
        >>> len(assign([exp], {"anonymous_id": "d1"}, {"platform": "ios"}))
        1
    """
    attrs = attributes or {}
    when = now if now is not None else dt.datetime.now(dt.UTC)
    out: list[Assignment] = []
    for exp in experiments:
        uid = unit_id if isinstance(unit_id, str) else unit_id.get(exp.unit)
        if not uid or not exp.is_active(when) or not exp.targeting.matches(attrs):
            continue
        variant = assign_variant(exp, uid)
        if variant is not None:
            out.append(Assignment(exp.key, variant, exp.unit, uid))
    return out
