"""Values an experiment's arm carries: what it changes in the decision (feature-flag style).

Each variant may declare ``values`` (GrowthBook feature values, Statsig parameters)::

    variants = [
        {name = "control", values = {ranker = "popularity", policy = "none"}},
        {name = "treatment"},                       # no values: the served models
    ]

Keys (every one optional; an absent key leaves that part of the decision as served):

- ``ranker``: ``"model"`` (the served ranker) or ``"popularity"`` (the baseline ranking),
- ``policy``: ``"model"`` (the served engagement policy) or ``"none"`` (no engagement),
- ``copy_variant``: cached copy to serve, ``"<model>@<prompt version>"`` or ``"template"``,
- ``actions_off``: engagement actions switched off, by their id in the engagement catalog
  (``["discount_coupon_email"]``),
- ``limit``: number of listings answered (1 to 100).

The decision engine applies the values of every running experiment the unit is assigned to;
two experiments changing the same key must share a layer (disjoint bucket ranges), so no
unit gets two of them: :func:`check_value_layers` refuses the file otherwise.

Example:
    >>> v = arm_values_from_dict("ab.variants[0].values", {"ranker": "popularity", "limit": 8})
    >>> v.ranker, v.limit, v.changed()
    ('popularity', 8, ('ranker', 'limit'))
    >>> arm_values_from_dict("ab.variants[0].values", {"ranker": "v7"})
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: ab.variants[0].values.ranker == 'v7', expected 'model' or 'popularity'.
"""  # noqa: E501 - a doctest line

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from marketlift.errors import ConfigError

__all__ = [
    "BASELINE",
    "VALUE_KEYS",
    "ArmValues",
    "arm_values_from_dict",
    "check_value_layers",
    "merge_values",
]

VALUE_KEYS: Final = ("ranker", "policy", "copy_variant", "actions_off", "limit")
_SLUG: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_MAX_LIMIT: Final = 100


@dataclass(frozen=True)
class ArmValues:
    """What one arm changes in the decision (``None``: unchanged).

    Attributes:
        ranker: ``"model"`` or ``"popularity"``.
        policy: ``"model"`` or ``"none"``.
        copy_variant: ``"<model>@<prompt version>"`` or ``"template"``.
        actions_off: Engagement actions switched off.
        limit: Number of listings answered.
    """

    ranker: str | None = None
    policy: str | None = None
    copy_variant: str | None = None
    actions_off: tuple[str, ...] = ()
    limit: int | None = None

    def changed(self) -> tuple[str, ...]:
        """The keys this arm sets."""
        return tuple(k for k in VALUE_KEYS if getattr(self, k) not in (None, ()))

    def as_dict(self) -> dict[str, Any]:
        """The keys this arm sets and their values (JSON-ready)."""
        out = {k: getattr(self, k) for k in self.changed()}
        if "actions_off" in out:
            out["actions_off"] = list(out["actions_off"])
        return out


BASELINE: Final = ArmValues(ranker="popularity", policy="none")
"""The baseline decision: popularity ranking and no engagement."""


def arm_values_from_dict(key: str, raw: Any) -> ArmValues:
    """Parse and check one variant's ``values`` table; ``key`` names it in errors."""
    if raw is None:
        return ArmValues()
    if not isinstance(raw, Mapping):
        raise ConfigError(key, raw, f"a table of {list(VALUE_KEYS)}")
    unknown = sorted(set(raw) - set(VALUE_KEYS))
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}", raw[unknown[0]], f"one of {list(VALUE_KEYS)}")
    ranker, policy = raw.get("ranker"), raw.get("policy")
    if ranker not in (None, "model", "popularity"):
        raise ConfigError(f"{key}.ranker", ranker, "'model' or 'popularity'")
    if policy not in (None, "model", "none"):
        raise ConfigError(f"{key}.policy", policy, "'model' or 'none'")
    copy = raw.get("copy_variant")
    if copy is not None and not (
        isinstance(copy, str) and (copy == "template" or re.match(r"^[^@\s]+@[^@\s]+$", copy))
    ):
        raise ConfigError(f"{key}.copy_variant", copy, "'<model>@<prompt version>' or 'template'")
    off = raw.get("actions_off", [])
    if not isinstance(off, list | tuple) or not all(isinstance(a, str) and _SLUG.match(a)
                                                    for a in off):  # fmt: skip
        raise ConfigError(f"{key}.actions_off", off, "a list of action names")
    limit = raw.get("limit")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _MAX_LIMIT
    ):
        raise ConfigError(f"{key}.limit", limit, f"an integer from 1 to {_MAX_LIMIT}")
    return ArmValues(ranker, policy, copy, tuple(off), limit)


def merge_values(arms: Iterable[ArmValues]) -> ArmValues:
    """One unit's values from the arms of every experiment it is in (layers keep keys apart).

    Example:
        >>> merge_values([ArmValues(ranker="popularity"), ArmValues(limit=5)])
        ArmValues(ranker='popularity', policy=None, copy_variant=None, actions_off=(), limit=5)
    """
    out: dict[str, Any] = {}
    for arm in arms:
        for k in arm.changed():
            out.setdefault(k, getattr(arm, k))
    return dataclasses.replace(ArmValues(), **out)


def check_value_layers(experiments: Iterable[Any]) -> None:
    """Experiments whose arms change the same key must share a layer (so never overlap).

    Raises:
        ConfigError: Naming the second experiment, the key and the first experiment.
    """
    owners: dict[str, tuple[str, str | None]] = {}
    for exp in experiments:
        layer = exp.layer.salt if exp.layer is not None else None
        keys = dict.fromkeys(k for v in exp.variants for k in v.values.changed())
        for k in keys:
            other = owners.setdefault(k, (exp.key, layer))
            if other[0] != exp.key and (layer is None or other[1] != layer):
                raise ConfigError(
                    f"{exp.key}.variants.values.{k}",
                    k,
                    f"a layer shared with {other[0]}, which changes {k!r} too",
                )
