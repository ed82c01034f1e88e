"""Touchpoints, their surfaces and the length limit of every surface.

A *touchpoint* is a place where the buyer reads generated copy (a nudge, listing highlights, a
review summary, a search query rewrite, a translated title). Each touchpoint writes one or more
*surfaces* (push title, push body, email subject, in-app banner, bullets...), and every surface
has a hard character limit that the guards enforce.

Example:
    >>> surfaces("nudge")[0]
    Surface(name='push_title', max_chars=50)
    >>> limit("highlights", "bullet_2")
    60
    >>> check_touchpoint("push")
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: touchpoint == 'push', expected one of nudge, highlights, \
review_summary, search_rewrite, translation.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from marketlift.errors import ConfigError

__all__ = [
    "ACTIONS",
    "LOCALES",
    "TOUCHPOINTS",
    "Surface",
    "check_action",
    "check_locale",
    "check_touchpoint",
    "limit",
    "surfaces",
]

LOCALES: Final = ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "it-IT", "nl-NL", "ja-JP")
"""Locales with full template copy (language-region, BCP 47 style)."""

ACTIONS: Final = (
    "cart_reminder",
    "price_drop",
    "free_shipping",
    "similar_items",
    "review_highlight",
    "discount_coupon",
)
"""Engagement actions that have nudge copy."""


class Surface(NamedTuple):
    """Where a piece of copy is shown and how many characters fit there."""

    name: str
    max_chars: int


_SURFACES: Final[dict[str, tuple[Surface, ...]]] = {
    "nudge": (
        Surface("push_title", 50),
        Surface("push_body", 150),
        Surface("email_subject", 70),
        Surface("banner", 90),
    ),
    "highlights": (Surface("bullet_1", 60), Surface("bullet_2", 60), Surface("bullet_3", 60)),
    "review_summary": (Surface("summary", 240),),
    "search_rewrite": (
        Surface("query", 80),
        Surface("expansion_1", 80),
        Surface("expansion_2", 80),
        Surface("expansion_3", 80),
    ),
    "translation": (Surface("title", 140),),
}
TOUCHPOINTS: Final = tuple(_SURFACES)
"""Every touchpoint, in a stable order."""


def check_touchpoint(touchpoint: str) -> str:
    """Return ``touchpoint`` if known, else raise :class:`~marketlift.errors.ConfigError`."""
    if touchpoint not in _SURFACES:
        raise ConfigError("touchpoint", touchpoint, f"one of {', '.join(TOUCHPOINTS)}")
    return touchpoint


def check_locale(locale: str) -> str:
    """Return ``locale`` if it has template copy, else raise ``ConfigError``.

    Example:
        >>> check_locale("nl-NL")
        'nl-NL'
    """
    if locale not in LOCALES:
        raise ConfigError("locale", locale, f"one of {', '.join(LOCALES)}")
    return locale


def check_action(action: str | None) -> str:
    """Return ``action`` if it is an engagement action with nudge copy, else raise."""
    if action not in ACTIONS:
        raise ConfigError("action", action, f"one of {', '.join(ACTIONS)}")
    return action


def surfaces(touchpoint: str) -> tuple[Surface, ...]:
    """The surfaces a touchpoint writes, in display order."""
    return _SURFACES[check_touchpoint(touchpoint)]


def limit(touchpoint: str, surface: str) -> int:
    """The character limit of ``surface`` in ``touchpoint``."""
    for s in surfaces(touchpoint):
        if s.name == surface:
            return s.max_chars
    names = ", ".join(s.name for s in surfaces(touchpoint))
    raise ConfigError("surface", surface, f"one of {names} for touchpoint {touchpoint!r}")
