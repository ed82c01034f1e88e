"""Copy variants as experiment arms: which provider, model and prompt a buyer's copy uses.

An experiment (or a bandit) assigns a buyer a variant name; :func:`variant_for` maps that name
to a :class:`CopyVariant`, whose ``model`` and ``prompt_version`` select the cached copy (see
:class:`~marketlift.copy.serving.CopyReader`). Units outside the experiment (held out, not
targeted: ``None``) get the default. Exposure and outcome logging stay with the experiment,
so clicks and purchases per copy variant are measured like any other A/B test.

Example:
    >>> from marketlift.experiments import Experiment, Variant, assign_variant
    >>> experiment = Experiment(key="push_copy", variants=(Variant("control"), Variant("llm")))
    >>> arms = {"control": CopyVariant("control"),
    ...         "llm": CopyVariant("llm", provider="openai", model="qwen2.5-7b-instruct",
    ...                            prompt_version="v1")}
    >>> variant = variant_for(assign_variant(experiment, "b0000042"), arms)
    >>> variant.name in arms
    True
    >>> variant_for(None, arms).name
    'control'
    >>> variant_for("treatment", arms)
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: variant == 'treatment', expected one of control, llm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from marketlift.copy.providers import PROVIDERS
from marketlift.copy.template import TEMPLATE_PLAIN_VERSION, TEMPLATE_VERSION
from marketlift.errors import ConfigError

__all__ = ["PLAIN_TEMPLATE_VARIANT", "TEMPLATE_VARIANT", "CopyVariant", "variant_for"]


@dataclass(frozen=True)
class CopyVariant:
    """One arm of a copy experiment.

    Attributes:
        name: The experiment's variant (or bandit arm) name.
        provider: Provider that wrote the copy (``template``, ``openai``, ``llama_cpp``).
        model: Model name (``template`` for the template provider); part of the cache key.
        prompt_version: Prompt version (``tpl-1`` for templates); part of the cache key.
    """

    name: str
    provider: str = "template"
    model: str = "template"
    prompt_version: str = TEMPLATE_VERSION

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ConfigError("CopyVariant.provider", self.provider, f"one of {PROVIDERS}")


TEMPLATE_VARIANT = CopyVariant("template")
"""The offline default: template copy."""
PLAIN_TEMPLATE_VARIANT = CopyVariant("template_plain", prompt_version=TEMPLATE_PLAIN_VERSION)
"""Template copy in the plain style: an offline second arm."""


def variant_for(
    assigned: str | None, arms: Mapping[str, CopyVariant], default: CopyVariant | None = None
) -> CopyVariant:
    """The copy variant of an assigned experiment variant or bandit arm.

    Args:
        assigned: What ``marketlift.experiments.assign_variant`` (or a bandit) returned;
            ``None`` for units outside the experiment.
        arms: Copy variant per variant name.
        default: For ``None``; defaults to the ``control`` arm, else the template variant.
    """
    if assigned is None:
        return default or arms.get("control", TEMPLATE_VARIANT)
    if assigned not in arms:
        raise ConfigError("variant", assigned, f"one of {', '.join(arms)}")
    return arms[assigned]
