"""Requests, drafts and results: what providers are asked, answer, and what is served.

:class:`CopyRequest` is what a provider is asked, :class:`Draft` what it answers and
:class:`CopyResult` what is served and cached.

Example:
    >>> from marketlift.copy.facts import Facts, ListingFacts, Money
    >>> listing = ListingFacts("l1", "Linen cushion", "cushion", Money(2450, "EUR"))
    >>> CopyRequest("highlights", "de-DE", Facts(listing=listing)).action is None
    True
    >>> CopyRequest("nudge", "de-DE", Facts(listing=listing))
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: facts.terms == None, expected ActionTerms for touchpoint \
'nudge'.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from marketlift.copy.facts import Facts
from marketlift.copy.touchpoints import check_action, check_locale, check_touchpoint
from marketlift.errors import ConfigError

__all__ = ["CopyRequest", "CopyResult", "Draft"]

_NEEDS: dict[str, tuple[str, ...]] = {
    "nudge": ("listing", "terms"),
    "highlights": ("listing",),
    "review_summary": ("reviews",),
    "search_rewrite": ("query",),
    "translation": ("listing",),
}


@dataclass(frozen=True, slots=True)
class CopyRequest:
    """One piece of copy to write: where it is shown, for which locale, from which facts.

    Attributes:
        touchpoint: One of :data:`~marketlift.copy.touchpoints.TOUCHPOINTS`.
        locale: One of :data:`~marketlift.copy.touchpoints.LOCALES`.
        facts: Everything the copy may say (the only input of a prompt or a template).
    """

    touchpoint: str
    locale: str
    facts: Facts

    def __post_init__(self) -> None:
        check_touchpoint(self.touchpoint)
        check_locale(self.locale)
        for part in _NEEDS[self.touchpoint]:
            if getattr(self.facts, part) is None:
                expected = {"listing": "ListingFacts", "terms": "ActionTerms",
                            "reviews": "ReviewFacts", "query": "a query string"}[part]  # fmt: skip
                raise ConfigError(
                    f"facts.{part}", None, f"{expected} for touchpoint {self.touchpoint!r}"
                )
        terms = self.facts.terms
        if self.touchpoint == "nudge" and terms is not None:
            check_action(terms.action)
            if terms.action == "price_drop" and (
                terms.old_price is None or terms.new_price is None
            ):
                raise ConfigError("facts.terms.new_price", terms.new_price,
                                  "old_price and new_price for action 'price_drop'")  # fmt: skip
            if terms.action == "discount_coupon" and not terms.discount_pct:
                raise ConfigError("facts.terms.discount_pct", terms.discount_pct,
                                  "a percentage in 1..99 for action 'discount_coupon'")  # fmt: skip

    @property
    def action(self) -> str | None:
        """The engagement action of a nudge (``None`` for other touchpoints)."""
        if self.touchpoint != "nudge" or self.facts.terms is None:
            return None
        return self.facts.terms.action


@dataclass(frozen=True, slots=True)
class Draft:
    """A provider's answer before the guards see it.

    Attributes:
        parts: Text per surface (``push_title`` -> text).
        provider: Provider name (``template``, ``openai``, ``llama_cpp``, ``replay``).
        model: Model name (``template`` for the template provider).
        latency_s: Wall time of the call, seconds.
        prompt_tokens: Tokens sent (0 for templates).
        completion_tokens: Tokens received.
        cost_usd: Cost of the call in US dollars.
    """

    parts: dict[str, str]
    provider: str
    model: str
    latency_s: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    error: str | None = field(default=None)


class CopyResult(msgspec.Struct, frozen=True):
    """Copy ready to serve, as cached (msgspec Struct: compact, fast to decode).

    Attributes:
        key: Content address (see :func:`marketlift.copy.cache.cache_key`).
        touchpoint: The touchpoint.
        locale: The locale.
        action: The engagement action of a nudge, else ``None``.
        parts: Text per surface, guarded.
        provider: Who wrote ``parts`` (``template`` after a fallback).
        model: The model asked (the cache is keyed by it, also after a fallback).
        prompt_version: The prompt (or phrase book) version asked.
        facts_hash: SHA-256 of the facts.
        status: ``ok`` (the provider's text passed every guard) or ``fallback``.
        reasons: Why the provider's text was rejected (``price: ...``), empty when ``ok``.
        latency_ms: Provider latency in milliseconds.
        prompt_tokens: Tokens sent.
        completion_tokens: Tokens received.
        cost_usd: Cost in US dollars.
    """

    key: str
    touchpoint: str
    locale: str
    action: str | None
    parts: dict[str, str]
    provider: str
    model: str
    prompt_version: str
    facts_hash: str
    status: str = "ok"
    reasons: tuple[str, ...] = ()
    latency_ms: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
