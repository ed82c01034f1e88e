"""The storefront's listing catalog: read once from the data directory, kept in memory.

The source is the lake's listing catalog (:mod:`marketlift.catalog`: titles and descriptions,
other languages' texts from the ``title_<lang>`` / ``description_<lang>`` attributes that the
simulator sends, price, shop, category, rating), ordered by the views in the lake's events. A
data directory without a catalog gets a catalog of the listings its events name, with plain
titles.

Prices are shown in the currency of the buyer's locale, converted with the simulator's rates.

Example:
    >>> import pyarrow as pa
    >>> table = pa.table({"listing_id": ["l1", "l2"], "shop_id": ["s1", "s1"],
    ...     "category": ["ceramics", "candles"], "price_usd_cents": [2490, 1200],
    ...     "popularity": [0.2, 0.9], "rating": [4.5, 4.0], "review_count": [10, 3],
    ...     "title_en": ["Blue mug", "Soy candle"], "title_de": ["Blaue Tasse", "Sojakerze"]})
    >>> cat = Catalog.from_table(table)
    >>> cat.popular(1)
    ['l2']
    >>> cat.search("tasse", "de-DE")
    ['l1']
    >>> cat.card("l1", "de-DE")["price"]
    {'amount': '22.91', 'currency': 'EUR'}
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

import pyarrow as pa

__all__ = ["CURRENCY_OF", "FX", "LOCALES", "Catalog", "load_catalog"]

LOCALES: Final = ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "it-IT", "ja-JP")
"""Locales of the storefront (those the simulator writes listing texts for)."""
CURRENCY_OF: Final = {
    "en-US": "USD", "en-GB": "GBP", "de-DE": "EUR", "fr-FR": "EUR",
    "es-ES": "EUR", "it-IT": "EUR", "ja-JP": "JPY",
}  # fmt: skip
FX: Final = {"USD": 1.0, "GBP": 0.79, "EUR": 0.92, "JPY": 150.0}
"""Display-currency units per US dollar (the simulator's rates)."""
_MINOR: Final = {"JPY": Decimal(1)}
_TOKEN: Final = re.compile(r"\w+", re.UNICODE)


def _lang(locale: str) -> str:
    return locale.split("-", 1)[0].lower()


def _fold(text: str) -> str:
    """Case- and accent-insensitive form: ``Crème`` and ``creme`` match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _tokens(text: str) -> set[str]:
    return set(_TOKEN.findall(_fold(text)))


@dataclasses.dataclass(frozen=True, slots=True)
class Catalog:
    """Listings by id, in popularity order, with texts per language.

    Attributes:
        rows: One dict per listing: ``listing_id``, ``shop_id``, ``category``,
            ``price_usd_cents``, ``popularity``, ``rating``, ``review_count``, and
            ``title_<lang>`` / ``description_<lang>`` where known.
        by_id: Index into ``rows``.
        order: Listing ids by popularity, most popular first.
        source: ``catalog``, ``events`` or ``empty``.
    """

    rows: tuple[dict[str, Any], ...]
    by_id: dict[str, int]
    order: tuple[str, ...]
    source: str
    _tokens: dict[str, list[set[str]]] = dataclasses.field(default_factory=dict, repr=False)
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_table(cls, table: pa.Table, source: str = "catalog") -> Catalog:
        """Build from an Arrow table with at least ``listing_id``."""
        keep = [c for c in table.column_names if c != "run"]
        rows = tuple(table.select(keep).to_pylist())
        by_id: dict[str, int] = {}
        for k, row in enumerate(rows):
            by_id.setdefault(str(row["listing_id"]), k)
        pop = {lid: float(rows[k].get("popularity") or 0.0) for lid, k in by_id.items()}
        order = tuple(sorted(by_id, key=lambda lid: (-pop[lid], lid)))
        return cls(rows, by_id, order, source if rows else "empty")

    def __len__(self) -> int:
        return len(self.by_id)

    def __contains__(self, listing_id: object) -> bool:
        return listing_id in self.by_id

    def categories(self) -> list[str]:
        """Distinct categories, sorted."""
        return sorted({str(r["category"]) for r in self.rows if r.get("category")})

    def popular(self, limit: int, category: str | None = None) -> list[str]:
        """The most popular listing ids (of one category when given)."""
        if category is None:
            return list(self.order[:limit])
        rows = self.rows
        picked = (i for i in self.order if rows[self.by_id[i]].get("category") == category)
        return [i for _, i in zip(range(limit), picked, strict=False)]

    def _title(self, row: dict[str, Any], lang: str) -> str:
        title = row.get(f"title_{lang}") or row.get("title_en") or row.get("title")
        return str(title) if title else f"Listing {row['listing_id']}"

    def search(self, query: str, locale: str, limit: int = 48) -> list[str]:
        """Listing ids whose title (in the locale's language or English) or category match.

        Words match case- and accent-insensitively, and as prefixes; ranked by the share of
        query words matched, then popularity.
        """
        words = _tokens(query)
        if not words:
            return []
        lang = _lang(locale)
        with self._lock:
            index = self._tokens.get(lang)
            if index is None:
                index = [
                    _tokens(f"{self._title(r, lang)} {r.get('title_en') or ''} {r.get('category')}")
                    | _tokens(str(r.get("category") or "").replace("_", " "))
                    for r in self.rows
                ]
                self._tokens[lang] = index
        scored: list[tuple[float, int, str]] = []
        for rank, lid in enumerate(self.order):
            toks = index[self.by_id[lid]]
            hit = sum(1 for w in words if w in toks or any(t.startswith(w) for t in toks))
            if hit:
                scored.append((-hit / len(words), rank, lid))
        scored.sort()
        return [lid for _, _, lid in scored[:limit]]

    def card(self, listing_id: str, locale: str) -> dict[str, Any] | None:
        """What the storefront shows of one listing in ``locale`` (``None`` if unknown)."""
        k = self.by_id.get(listing_id)
        if k is None:
            return None
        row = self.rows[k]
        lang = _lang(locale)
        currency = CURRENCY_OF.get(locale, "USD")
        cents = row.get("price_usd_cents")
        price = None
        if cents is not None:
            quantum = _MINOR.get(currency, Decimal("0.01"))
            value = Decimal(int(cents)) / 100 * Decimal(str(FX[currency]))
            price = {"amount": str(value.quantize(quantum, ROUND_HALF_UP)), "currency": currency}
        description = row.get(f"description_{lang}") or row.get("description_en") or ""
        rating = row.get("rating")
        return {
            "listing_id": listing_id,
            "shop_id": row.get("shop_id"),
            "category": row.get("category"),
            "title": self._title(row, lang),
            "description": str(description),
            "price": price,
            "rating": None if rating is None else round(float(rating), 1),
            "review_count": row.get("review_count"),
        }


def load_catalog(data_dir: str | os.PathLike[str]) -> Catalog:
    """Read the catalog of a data directory (the lake's listing catalog, else events' listings).

    Popularity is what the marketplace observes: the listing's views in the lake's events.
    """
    table = _listings_from_catalog(data_dir)
    if table.num_rows > 0:
        return Catalog.from_table(table, source="catalog")
    return Catalog.from_table(_listings_from_events(data_dir), source="events")


def _listings_from_catalog(data_dir: str | os.PathLike[str]) -> pa.Table:
    """Current listings of :mod:`marketlift.catalog` with their views in the lake's events."""
    import pyarrow.compute as pc  # noqa: PLC0415

    from marketlift.catalog import wide_listings  # noqa: PLC0415
    from marketlift.lake import query  # noqa: PLC0415

    wide = wide_listings(data_dir, FX)
    if wide.num_rows == 0:
        return wide
    views = query(
        data_dir,
        "SELECT listing_id, CAST(count(*) AS DOUBLE) AS popularity FROM events "
        "WHERE type = 'listing_view' AND listing_id IS NOT NULL GROUP BY 1",
    )
    at = pc.index_in(wide.column("listing_id"), value_set=views.column("listing_id"))
    popularity = pc.fill_null(views.column("popularity").take(at), 0.0)
    return wide.append_column("popularity", popularity)


def _listings_from_events(data_dir: str | os.PathLike[str]) -> pa.Table:
    from marketlift.lake import query  # noqa: PLC0415

    sql = (
        "SELECT listing_id, any_value(shop_id) AS shop_id, "
        "CAST(round(median(price) * 100) AS BIGINT) AS price_usd_cents, "
        "CAST(count(*) AS DOUBLE) AS popularity FROM events "
        "WHERE listing_id IS NOT NULL AND type = 'listing_view' GROUP BY 1 "
        "ORDER BY popularity DESC LIMIT 5000"
    )
    try:
        return query(data_dir, sql)
    except Exception:  # noqa: BLE001 - an empty or missing lake is an empty catalog
        return pa.table({"listing_id": pa.array([], pa.string())})
