"""Experiment configuration: typed, validated on construction, loadable from TOML.

Example:
    >>> exp = Experiment(
    ...     key="checkout_copy",
    ...     variants=(Variant("control", 1), Variant("short_copy", 1)),
    ...     holdout_pct=5.0,
    ... )
    >>> exp.control, exp.effective_salt
    ('control', 'checkout_copy')
    >>> Experiment(key="x", variants=(Variant("a", 1),))
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: x.variants == ('a',), expected at least two variants.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from marketlift.errors import ConfigError
from marketlift.experiments.hashing import BUCKETS
from marketlift.experiments.values import ArmValues, arm_values_from_dict, check_value_layers

__all__ = [
    "Experiment",
    "Guardrail",
    "Layer",
    "Targeting",
    "Unit",
    "Variant",
    "experiment_from_dict",
    "load_experiments",
]

Unit = Literal["buyer_id", "anonymous_id"]
_UNITS: Final = ("buyer_id", "anonymous_id")
_SLUG: Final = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_PLATFORMS: Final = frozenset({"web", "ios", "android"})


@dataclass(frozen=True)
class Variant:
    """One arm of an experiment.

    Attributes:
        name: Lower-case slug, unique within the experiment (``control``, ``treatment``).
        weight: Relative share of traffic (any positive number; shares are weight / total).
        values: What the arm changes in the decision (see :mod:`marketlift.experiments.values`).
    """

    name: str
    weight: float = 1.0
    values: ArmValues = field(default_factory=ArmValues)


@dataclass(frozen=True)
class Layer:
    """A layer: experiments in the same layer own disjoint bucket ranges, so never overlap.

    Attributes:
        salt: The layer's salt; every experiment of the layer uses the same one.
        start: First layer bucket of this experiment (inclusive, 0..10000).
        end: End layer bucket of this experiment (exclusive, ``start < end <= 10000``).
    """

    salt: str
    start: int = 0
    end: int = BUCKETS


@dataclass(frozen=True)
class Targeting:
    """Who may enter: an empty tuple places no constraint on that attribute.

    Attributes:
        platforms: Allowed platforms (``web``, ``ios``, ``android``).
        locales: Allowed BCP 47 locales, compared exactly (``de-DE``).
        countries: Allowed ISO 3166-1 alpha-2 countries (``DE``).
    """

    platforms: tuple[str, ...] = ()
    locales: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        """Whether a unit with ``attributes`` (``platform``, ``locale``, ``country``) may enter.

        Example:
            >>> Targeting(countries=("DE",)).matches({"country": "DE", "platform": "ios"})
            True
            >>> Targeting(platforms=("web",)).matches({})
            False
        """
        for allowed, key in (
            (self.platforms, "platform"),
            (self.locales, "locale"),
            (self.countries, "country"),
        ):
            if allowed and attributes.get(key) not in allowed:
                return False
        return True


@dataclass(frozen=True)
class Guardrail:
    """A metric the experiment must not harm beyond a tolerance (a non-inferiority margin).

    Attributes:
        metric: Name of a metric definition (``metrics.toml``, or a built-in one).
        tolerance: Harm tolerated, relative to the control mean (0.02: 2% worse, in the
            metric's bad direction), ``>= 0``.
    """

    metric: str
    tolerance: float = 0.0


@dataclass(frozen=True)
class Experiment:
    """An experiment: key, variants, unit, salt, layer, holdout, targeting and schedule.

    Attributes:
        key: Lower-case slug (it is the ``experiment_key`` of exposure events).
        variants: At least two variants; the first is the control unless ``control`` is set.
        unit: ``buyer_id`` or ``anonymous_id``: what is randomized and analyzed.
        salt: Hash salt; defaults to ``key``. Changing it reshuffles every unit.
        layer: Optional layer shared with mutually exclusive experiments.
        holdout_pct: Percent of units (0..100) held out of every variant.
        targeting: Platform, locale and country constraints.
        start: First instant (timezone-aware) when units are assigned; ``None``: no start.
        end: Instant (exclusive) when assignment stops; ``None``: open-ended.
        control_variant: Name of the control; defaults to the first variant.
        goals: Metrics the experiment means to move (names of metric definitions).
        guardrails: Metrics it must not harm beyond their tolerance.
    """

    key: str
    variants: tuple[Variant, ...]
    unit: Unit = "buyer_id"
    salt: str | None = None
    layer: Layer | None = None
    holdout_pct: float = 0.0
    targeting: Targeting = field(default_factory=Targeting)
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    control_variant: str | None = None
    goals: tuple[str, ...] = ()
    guardrails: tuple[Guardrail, ...] = ()

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def effective_salt(self) -> str:
        """The salt used for hashing: ``salt`` or else ``key``."""
        return self.key if self.salt is None else self.salt

    @property
    def control(self) -> str:
        """Name of the control variant."""
        return self.variants[0].name if self.control_variant is None else self.control_variant

    @property
    def variant_names(self) -> tuple[str, ...]:
        """Variant names in configuration order."""
        return tuple(v.name for v in self.variants)

    def is_active(self, now: dt.datetime) -> bool:
        """Whether ``now`` lies in ``[start, end)``."""
        if self.start is not None and now < self.start:
            return False
        return not (self.end is not None and now >= self.end)


def _validate(exp: Experiment) -> None:
    if not isinstance(exp.key, str) or not _SLUG.match(exp.key):
        raise ConfigError("key", exp.key, "a lower-case slug matching ^[a-z][a-z0-9_]{0,63}$")
    k = exp.key
    names = tuple(getattr(v, "name", v) for v in exp.variants)
    if len(exp.variants) < 2:
        raise ConfigError(f"{k}.variants", names, "at least two variants")
    for i, v in enumerate(exp.variants):
        if not isinstance(v.name, str) or not _SLUG.match(v.name):
            raise ConfigError(f"{k}.variants[{i}].name", v.name, "a lower-case slug")
        if isinstance(v.weight, bool) or not isinstance(v.weight, int | float):
            raise ConfigError(f"{k}.variants[{i}].weight", v.weight, "a positive number")
        if not math.isfinite(v.weight) or v.weight <= 0:
            raise ConfigError(f"{k}.variants[{i}].weight", v.weight, "a positive finite number")
    if len(set(names)) != len(names):
        raise ConfigError(f"{k}.variants", names, "unique variant names")
    if exp.unit not in _UNITS:
        raise ConfigError(f"{k}.unit", exp.unit, "'buyer_id' or 'anonymous_id'")
    if exp.salt is not None and (not isinstance(exp.salt, str) or not exp.salt):
        raise ConfigError(f"{k}.salt", exp.salt, "a non-empty string")
    h = exp.holdout_pct
    if isinstance(h, bool) or not isinstance(h, int | float) or not 0 <= h < 100:
        raise ConfigError(f"{k}.holdout_pct", h, "a percentage in [0, 100)")
    if exp.layer is not None:
        lay = exp.layer
        if not isinstance(lay.salt, str) or not lay.salt:
            raise ConfigError(f"{k}.layer.salt", lay.salt, "a non-empty string")
        if not (isinstance(lay.start, int) and isinstance(lay.end, int)) or not (
            0 <= lay.start < lay.end <= BUCKETS
        ):
            raise ConfigError(
                f"{k}.layer", (lay.start, lay.end), "integers with 0 <= start < end <= 10000"
            )
    bad = set(exp.targeting.platforms) - _PLATFORMS
    if bad:
        raise ConfigError(f"{k}.targeting.platforms", sorted(bad), "web, ios or android")
    for name in ("start", "end"):
        value = getattr(exp, name)
        if value is not None and (not isinstance(value, dt.datetime) or value.tzinfo is None):
            raise ConfigError(f"{k}.{name}", value, "a timezone-aware datetime")
    if exp.start is not None and exp.end is not None and exp.end <= exp.start:
        raise ConfigError(f"{k}.end", exp.end, f"after start ({exp.start.isoformat()})")
    if exp.control_variant is not None and exp.control_variant not in names:
        raise ConfigError(f"{k}.control", exp.control_variant, f"one of {list(names)}")
    _validate_metrics(exp)


def _validate_metrics(exp: Experiment) -> None:
    k = exp.key
    if not all(isinstance(g, str) and g for g in exp.goals):
        raise ConfigError(f"{k}.goals", exp.goals, "a list of metric names")
    for i, g in enumerate(exp.guardrails):
        if not isinstance(g.metric, str) or not g.metric:
            raise ConfigError(f"{k}.guardrails[{i}].metric", g.metric, "a metric name")
        t = g.tolerance
        if isinstance(t, bool) or not isinstance(t, int | float) or not 0 <= t < math.inf:
            raise ConfigError(f"{k}.guardrails[{i}].tolerance", t, "a relative harm >= 0")
    both = sorted(set(exp.goals) & {g.metric for g in exp.guardrails})
    if both:
        raise ConfigError(f"{k}.guardrails", both, "metrics that are not also goals")


def check_metric_references(experiments: Any, metrics: Mapping[str, Any]) -> None:
    """Every goal and guardrail of ``experiments`` must name a metric of ``metrics``."""
    for exp in experiments:
        for i, goal in enumerate(exp.goals):
            if goal not in metrics:
                raise ConfigError(f"{exp.key}.goals[{i}]", goal, f"a metric of {sorted(metrics)}")
        for i, g in enumerate(exp.guardrails):
            if g.metric not in metrics:
                raise ConfigError(
                    f"{exp.key}.guardrails[{i}].metric", g.metric, f"a metric of {sorted(metrics)}"
                )


_KNOWN: Final = frozenset(
    {
        "key",
        "variants",
        "unit",
        "salt",
        "layer",
        "holdout_pct",
        "targeting",
        "start",
        "end",
        "control",
        "goals",
        "guardrails",
    }
)


def experiment_from_dict(raw: Mapping[str, Any]) -> Experiment:
    """Build an :class:`Experiment` from plain data (a TOML table or a JSON object).

    Variants are ``[{"name": ..., "weight": ...}]`` or a list of names (equal weights).

    Example:
        >>> exp = experiment_from_dict({"key": "ab", "variants": ["control", "treatment"],
        ...                             "layer": {"salt": "home", "start": 0, "end": 5000}})
        >>> exp.layer
        Layer(salt='home', start=0, end=5000)
        >>> experiment_from_dict({"key": "ab", "variants": ["a", "b"], "colour": 1})
        Traceback (most recent call last):
        ...
        marketlift.errors.ConfigError: ab.colour == 1, expected one of the known fields: ...
    """
    key = raw.get("key")
    unknown = set(raw) - _KNOWN
    if unknown:
        first = sorted(unknown)[0]
        raise ConfigError(
            f"{key}.{first}", raw[first], f"one of the known fields: {sorted(_KNOWN)}"
        )
    variants: list[Variant] = []
    raw_variants = raw.get("variants", [])
    if not isinstance(raw_variants, Sequence) or isinstance(raw_variants, str):
        raise ConfigError(f"{key}.variants", raw_variants, "a list of variants")
    for i, v in enumerate(raw_variants):
        if isinstance(v, str):
            variants.append(Variant(v))
        elif isinstance(v, Mapping) and "name" in v and not set(v) - {"name", "weight", "values"}:
            values = arm_values_from_dict(f"{key}.variants[{i}].values", v.get("values"))
            variants.append(Variant(v["name"], v.get("weight", 1.0), values))
        else:
            raise ConfigError(f"{key}.variants[{i}]", v, "a name or {name, weight, values}")
    layer = raw.get("layer")
    targeting = raw.get("targeting") or {}
    if not isinstance(targeting, Mapping):
        raise ConfigError(f"{key}.targeting", targeting, "a table of platform/locale/country")
    return Experiment(
        key=key,  # type: ignore[arg-type]  # validated in __post_init__
        variants=tuple(variants),
        unit=raw.get("unit", "buyer_id"),
        salt=raw.get("salt"),
        layer=None
        if layer is None
        else Layer(layer.get("salt", ""), layer.get("start", 0), layer.get("end", BUCKETS)),
        holdout_pct=raw.get("holdout_pct", 0.0),
        targeting=Targeting(
            platforms=tuple(_as_list(targeting.get("platform", ()))),
            locales=tuple(_as_list(targeting.get("locale", ()))),
            countries=tuple(_as_list(targeting.get("country", ()))),
        ),
        start=_as_datetime(raw.get("start")),
        end=_as_datetime(raw.get("end")),
        control_variant=raw.get("control"),
        goals=tuple(_as_list(raw.get("goals", ()))),
        guardrails=_guardrails(key, raw.get("guardrails", ())),
    )


def _guardrails(key: Any, raw: Any) -> tuple[Guardrail, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise ConfigError(f"{key}.guardrails", raw, "a list of {metric, tolerance} tables")
    out = []
    for i, item in enumerate(raw):
        g: Any = {"metric": item} if isinstance(item, str) else item
        if not isinstance(g, Mapping) or set(g) - {"metric", "tolerance"}:
            raise ConfigError(f"{key}.guardrails[{i}]", g, "{metric = NAME, tolerance = 0.02}")
        out.append(Guardrail(g.get("metric", ""), g.get("tolerance", 0.0)))
    return tuple(out)


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return value  # type: ignore[no-any-return]  # validated in __post_init__


def load_experiments(
    path: str | os.PathLike[str], *, metrics: Mapping[str, Any] | None = None
) -> dict[str, Experiment]:
    """Read experiments from a TOML file with one ``[[experiment]]`` table per experiment.

    Goals and guardrails must name metrics of ``metrics`` (default: ``metrics.toml`` beside
    the file, else the built-in four).

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "experiments.toml"
        >>> _ = p.write_text('''
        ... [[experiment]]
        ... key = "checkout_copy"
        ... unit = "anonymous_id"
        ... variants = [{name = "control", weight = 1}, {name = "short", weight = 1}]
        ... targeting = {platform = ["web"]}
        ... start = 2026-11-01T00:00:00Z
        ... ''')
        >>> exps = load_experiments(p)
        >>> exps["checkout_copy"].unit, exps["checkout_copy"].start.isoformat()
        ('anonymous_id', '2026-11-01T00:00:00+00:00')
    """
    with Path(path).open("rb") as fh:
        doc = tomllib.load(fh)
    out: dict[str, Experiment] = {}
    for i, raw in enumerate(doc.get("experiment", [])):
        exp = experiment_from_dict(raw)
        if exp.key in out:
            raise ConfigError(f"experiment[{i}].key", exp.key, "unique experiment keys")
        out[exp.key] = exp
    _check_layers(out.values())
    check_value_layers(out.values())
    if any(e.goals or e.guardrails for e in out.values()):
        if metrics is None:
            from marketlift.experiments.definitions import (  # noqa: PLC0415
                load_metric_definitions,
            )

            metrics = load_metric_definitions(Path(path).parent / "metrics.toml")
        check_metric_references(out.values(), metrics)
    return out


def _check_layers(experiments: Any) -> None:
    """Experiments in one layer must own disjoint bucket ranges."""
    by_layer: dict[str, list[Experiment]] = {}
    for exp in experiments:
        if exp.layer is not None:
            by_layer.setdefault(exp.layer.salt, []).append(exp)
    for salt, members in by_layer.items():
        ranges = sorted((e.layer.start, e.layer.end, e.key) for e in members if e.layer is not None)
        for (_, end_a, key_a), (start_b, _, key_b) in itertools.pairwise(ranges):
            if start_b < end_a:
                raise ConfigError(
                    f"{key_b}.layer", (salt, start_b), f"no overlap with {key_a} (ends at {end_a})"
                )
