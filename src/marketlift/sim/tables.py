"""Arrow tables of the world and of each day's ground truth (written by the runner).

Example:
    >>> from marketlift.sim.config import SimConfig
    >>> from marketlift.sim.world import make_world
    >>> world = make_world(SimConfig(n_buyers=50))
    >>> table = listings_table(world, "r1")
    >>> table.num_rows, [c for c in table.column_names if c.startswith("title_")]
    (500, ['title_en', 'title_de', 'title_fr', 'title_es', 'title_it', 'title_ja'])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from marketlift.sim.effects import ACTIONS, MOMENTS
from marketlift.sim.funnel import Day
from marketlift.sim.jsonfrag import identifiers
from marketlift.sim.text import CATEGORIES, COUNTRY_OF, CURRENCY_OF, LOCALES
from marketlift.sim.world import PLATFORMS, TEXT_LOCALES, World

__all__ = ["buyers_table", "decisions_table", "listings_table", "sessions_table"]


def _ids(prefix: str, idx: npt.NDArray[np.int64], width: int) -> pa.Array:
    return identifiers(prefix, idx, width)


def _names(values: Sequence[str], idx: npt.NDArray[np.int64]) -> pa.Array:
    return pa.array(list(values)).take(pa.array(idx))


def buyers_table(world: World, run: str, arm: npt.NDArray[np.int64],
                 variants: Sequence[str]) -> pa.Table:  # fmt: skip
    """One row per buyer with hidden traits and the A/B variant (the policy in charge)."""
    b = world.buyers
    idx = np.arange(b.n, dtype=np.int64)
    keys = _ids("b", idx, 7)
    return pa.table({
        "run": pa.array([run] * b.n),
        "buyer_key": keys,
        "buyer_id": pc.if_else(pa.array(b.signed_in), keys, pa.nulls(b.n, pa.string())),
        "anonymous_prefix": _ids("d", idx, 7),
        "locale": _names(LOCALES, b.locale),
        "country": _names([COUNTRY_OF[x] for x in LOCALES], b.locale),
        "currency": _names([CURRENCY_OF[x] for x in LOCALES], b.locale),
        "platform": _names(PLATFORMS, b.platform),
        "price_sensitivity": b.price_sensitivity,
        "intent": b.intent,
        "activity": b.activity,
        "fatigue_sensitivity": b.fatigue_sensitivity,
        "top_category": _names(CATEGORIES, b.affinity.argmax(axis=1).astype(np.int64)),
        "push_opt_in": b.push_opt_in,
        "email_opt_in": b.email_opt_in,
        "signed_in": b.signed_in,
        "first_day": b.first_day,
        "variant": _names(variants, arm),
    })  # fmt: skip


def listings_table(world: World, run: str) -> pa.Table:
    """One row per listing with price, shop, popularity, reviews and texts in six languages."""
    lst = world.listings
    idx = np.arange(lst.n, dtype=np.int64)
    columns: dict[str, pa.Array | npt.NDArray[np.generic]] = {
        "run": pa.array([run] * lst.n),
        "listing_id": _ids("l", idx, 7),
        "shop_id": _ids("s", lst.shop, 5),
        "category": _names(CATEGORIES, lst.category),
        "price_usd_cents": lst.price_cents,
        "shipping_usd_cents": lst.shipping_cents,
        "popularity": lst.popularity,
        "stock": lst.stock,
        "review_count": lst.review_count,
        "rating": lst.rating,
    }
    for lang in TEXT_LOCALES:
        titles, descriptions = lst.text_arrays(lang)
        columns[f"title_{lang}"] = titles
        columns[f"description_{lang}"] = descriptions
    return pa.table(columns)


def sessions_table(day: Day, run: str, session_ids: pa.Array,
                   variants: Sequence[str]) -> pa.Table:  # fmt: skip
    """True funnel probabilities of each session (under the action taken and under none)."""
    rows = np.arange(day.n_sessions)
    p_purchase = day.probabilities[rows, day.action]
    return pa.table({
        "run": pa.array([run] * day.n_sessions),
        "day": np.full(day.n_sessions, day.day, dtype=np.int32),
        "session_id": session_ids,
        "buyer_key": _ids("b", day.buyer, 7),
        "moment": _names(MOMENTS, day.moment),
        "listing_id": _ids("l", day.listing, 7),
        "variant": _names(variants, day.arm),
        "action": _names([a.name for a in ACTIONS], day.action),
        "p_add_to_cart": day.p_add_to_cart,
        "p_checkout": day.p_checkout,
        "p_purchase_given_checkout": day.p_purchase_given_checkout,
        "p_purchase": p_purchase,
        "p_purchase_none": day.probabilities[:, 0],
        "added_to_cart": day.add_to_cart,
        "purchased": day.purchased,
        "revenue_usd_cents": day.revenue_cents,
    })  # fmt: skip


def decisions_table(day: Day, run: str, *, decision_ids: pa.Array, cart_decision_ids: pa.Array,
                    session_ids: pa.Array, variants: Sequence[str]) -> pa.Table:  # fmt: skip
    """Per decision: true purchase probability and expected revenue of every action."""
    c = day.carts
    session = np.concatenate([np.arange(day.n_sessions), c.session]).astype(np.int64)
    avail = np.concatenate([day.available, c.available])
    prob = np.where(avail, np.concatenate([day.probabilities, c.probabilities]), np.nan)
    value = np.where(avail, np.concatenate([day.values, c.values]), np.nan)
    action = np.concatenate([day.action, c.action])
    n = len(session)
    columns: dict[str, pa.Array | npt.NDArray[np.generic]] = {
        "run": pa.array([run] * n),
        "day": np.full(n, day.day, dtype=np.int32),
        "decision_id": pa.concat_arrays([decision_ids, cart_decision_ids]),
        "session_id": session_ids.take(pa.array(session)),
        "buyer_key": _ids("b", day.buyer[session], 7),
        "moment": _names(MOMENTS, np.concatenate([day.moment, c.moment])),
        "variant": _names(variants, np.concatenate([day.arm, c.arm])),
        "action": _names([a.name for a in ACTIONS], action),
        "propensity": np.concatenate([day.propensity, c.propensity]),
        "converted": np.concatenate([day.purchased, c.recovered]),
        "revenue_usd_cents": np.concatenate([day.revenue_cents, c.revenue_cents]),
    }
    for k, a in enumerate(ACTIONS):
        columns[f"p_{a.name}"] = pa.array(prob[:, k], from_pandas=True)
    for k, a in enumerate(ACTIONS):
        columns[f"value_{a.name}"] = pa.array(value[:, k], from_pandas=True)
    return pa.table(columns)
