r"""Locale-correct numbers, prices, percentages, dates, lists and plurals (Babel, CLDR data).

Example:
    >>> from marketlift.copy.facts import Money
    >>> price(Money(123450, "EUR"), "de-DE")
    '1.234,50\xa0€'
    >>> price(Money(1200, "JPY"), "ja-JP"), price(Money(1999, "GBP"), "en-GB")
    ('￥1,200', '£19.99')
    >>> percent(15, "fr-FR"), percent(15, "nl-NL")
    ('15\xa0%', '15%')
    >>> import datetime as dt
    >>> day(dt.date(2026, 11, 26), "en-US"), day(dt.date(2026, 11, 26), "de-DE")
    ('Nov 26', '26. Nov.')
    >>> plural("fr-FR", 0, one="{n} article", other="{n} articles")
    '0 article'
    >>> plural("en-US", 0, one="{n} item", other="{n} items")
    '0 items'
    >>> join(["quality", "packaging", "value"], "en-US")
    'quality, packaging, and value'
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from decimal import Decimal

from babel import Locale
from babel.dates import format_skeleton
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal, format_percent

from marketlift.copy.facts import Money

__all__ = ["babel_locale", "day", "join", "number", "percent", "plural", "price", "rating"]


@functools.lru_cache(maxsize=32)
def babel_locale(locale: str) -> Locale:
    """The Babel locale of a BCP 47 tag such as ``en-GB`` (cached)."""
    return Locale.parse(locale.replace("-", "_"))


def price(money: Money, locale: str) -> str:
    """Format an amount with its currency the way ``locale`` writes prices.

    Whole amounts keep their decimals (``£19.00``) except in zero-decimal currencies.
    """
    return str(format_currency(money.amount, money.currency, locale=babel_locale(locale)))


def number(value: int | float | Decimal, locale: str) -> str:
    """Format a number (grouping and decimal separator of ``locale``)."""
    return str(format_decimal(value, locale=babel_locale(locale)))


def rating(value: float, locale: str) -> str:
    """Format a rating with one decimal (``4.8``, ``4,8``)."""
    return str(format_decimal(round(value, 1), format="0.0", locale=babel_locale(locale)))


def percent(pct: int, locale: str) -> str:
    """Format a whole percentage (``15`` -> ``15%``, ``15 %``)."""
    return str(format_percent(Decimal(pct) / 100, locale=babel_locale(locale)))


def day(date: dt.date, locale: str) -> str:
    """A short day-and-month date (``Nov 26``, ``26. Nov.``, ``11月26日``)."""
    return str(format_skeleton("MMMd", date, locale=babel_locale(locale)))


def join(items: Sequence[str], locale: str) -> str:
    """Join a list the way ``locale`` does (``a, b and c``; ``a、b、c``)."""
    return str(format_list(list(items), locale=babel_locale(locale)))


def plural(locale: str, n: int, *, one: str, other: str, many: str | None = None) -> str:
    """Pick the CLDR plural form of ``n`` in ``locale`` and fill ``{n}`` (locale-formatted).

    Languages without a ``one`` form (Japanese) always take ``other``; French uses ``one``
    for 0 and 1; ``many`` (French, Spanish, Italian millions) falls back to ``other``.
    """
    form = babel_locale(locale).plural_form(n)
    template = {"one": one, "many": many or other}.get(form, other)
    return template.format(n=number(n, locale))
