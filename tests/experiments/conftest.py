"""A small event lake with one experiment and its known per-unit truth."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest

from marketlift.events import Exposure, LineItem, Money, Purchase
from marketlift.events.table import events_to_arrow
from marketlift.experiments.assignment import assign_variant
from marketlift.experiments.config import Experiment, Variant
from marketlift.lake import LakeWriter

KEY = "checkout_copy"
EXPERIMENT = Experiment(key=KEY, variants=(Variant("control"), Variant("short_copy")))
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


@dataclass
class Lake:
    path: Path
    units: pa.Table  # the per-unit truth, computed in Python from the generated events
    key: str = KEY
    experiment: Experiment = EXPERIMENT


def _purchase(  # noqa: PLR0917 - one field each
    i: int, buyer: str, ts: dt.datetime, session: str, amount: float, platform: str
) -> Purchase:
    money = Money(f"{amount:.2f}", "EUR")
    return Purchase(
        event_id=f"p-{i}",
        schema_version=1,
        ts=ts,
        platform=platform,
        buyer_id=buyer,
        session_id=session,
        order_id=f"o-{i}",
        line_items=[LineItem(listing_id="l-1", quantity=1, unit_price=money)],
        revenue=money,
    )


def build_lake(path: Path, n_units: int = 800, seed: int = 0) -> Lake:
    rng = random.Random(seed)
    events: list[Exposure | Purchase] = []
    rows: list[dict] = []
    eid = 0
    for u in range(n_units):
        buyer = f"b{u}"
        variant = assign_variant(EXPERIMENT, buyer)
        assert variant is not None
        platform = rng.choice(["web", "ios", "android"])
        locale = rng.choice(["de-DE", "en-US"])
        first = START + dt.timedelta(days=rng.randrange(7), minutes=rng.randrange(1440))
        # pre-period purchases (the CUPED covariate)
        pre = [
            (
                first - dt.timedelta(days=rng.randrange(1, 20)),
                f"s{u}-pre{k}",
                round(rng.uniform(5, 80), 2),
            )
            for k in range(rng.choice([0, 0, 1, 2]))
        ]
        lift = 1.3 if variant == "short_copy" else 1.0
        n_post = rng.choice([0, 0, 0, 1, 1, 2]) if rng.random() < 0.5 * lift else 0
        post = [
            (
                first + dt.timedelta(hours=rng.randrange(1, 72)),
                f"s{u}-{k % 2}",
                round(rng.uniform(5, 80) * (1 + 0.1 * len(pre)), 2),
            )
            for k in range(n_post)
        ]
        exposures = [first] + ([first + dt.timedelta(days=1)] if rng.random() < 0.3 else [])
        for k, ts in enumerate(exposures):
            events.append(
                Exposure(
                    event_id=f"x-{u}-{k}",
                    schema_version=1,
                    ts=ts,
                    platform=platform,
                    locale=locale,
                    buyer_id=buyer,
                    session_id=f"s{u}-0",
                    experiment_key=KEY,
                    variant=variant,
                )
            )
        for ts, session, amount in pre + post:
            eid += 1
            events.append(_purchase(eid, buyer, ts, session, amount, platform))
        sessions_post = {s for _, s, _ in post} | {f"s{u}-0"}
        rows.append(
            {
                "unit": buyer,
                "variant": variant,
                "platform": platform,
                "locale": locale,
                "orders": len(post),
                "revenue": sum(a for _, _, a in post),
                "sessions": len(sessions_post),
                "converted": int(bool(post)),
                "conversion": int(bool(post)),
                "pre_orders": len(pre),
                "pre_revenue": sum(a for _, _, a in pre),
                "pre_sessions": len({s for _, s, _ in pre}),
                "pre_converted": int(bool(pre)),
                "pre_conversion": int(bool(pre)),
                "buyer_type": "returning" if pre else "new",
            }
        )
    # a buyer seen in both variants, and purchases of a buyer never exposed
    for k, v in enumerate(["control", "short_copy"]):
        events.append(
            Exposure(
                event_id=f"mixed-{k}",
                schema_version=1,
                ts=START,
                platform="web",
                buyer_id="mixed",
                experiment_key=KEY,
                variant=v,
            )
        )
    events.append(_purchase(10**6, "outsider", START, "s-out", 50.0, "web"))
    with LakeWriter(path, background=False) as writer:
        writer.append(events_to_arrow(events, received_at=START + dt.timedelta(days=30)))
    return Lake(path, pa.Table.from_pylist(rows))


@pytest.fixture(scope="session")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return build_lake(tmp_path_factory.mktemp("lake"))
