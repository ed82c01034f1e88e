"""The naive decision endpoint: the baseline of ``benchmarks/decide_latency.py``.

What a straightforward implementation looks like: FastAPI with pydantic request and response
models, online features from a plain ``dict`` of ``dict`` (the features build's Parquet files
loaded at start-up), the ranker's index features from the same candidate index, and
LightGBM's Python ``Booster.predict`` on the promoted ranker's ``model.txt``
(``num_threads=1``, as the served path is single-threaded too). It ranks only: no
experiment assignment, no engagement policy, no copy, no decision log, so it does less work
than ``/v1/decide`` and the comparison flatters it.

    .venv/bin/python benchmarks/_naive_decide.py --data DIR --port 8123
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel, Field


class Context(BaseModel):
    """The page's context."""

    listing_id: str | None = None
    query: str | None = None
    cart: list[str] = Field(default_factory=list, max_length=200)
    recent: list[str] = Field(default_factory=list, max_length=50)


class DecideIn(BaseModel):
    """The request."""

    surface: Literal["home", "search", "listing", "cart", "push"]
    platform: Literal["web", "ios", "android"]
    buyer_id: str | None = None
    anonymous_id: str | None = None
    session_id: str | None = None
    locale: str = "en-US"
    country: str | None = None
    context: Context = Field(default_factory=Context)
    candidates: list[str] | None = Field(default=None, max_length=1000)
    limit: int = Field(default=20, ge=1, le=100)


class ListingOut(BaseModel):
    """One ranked listing."""

    listing_id: str
    score: float
    reason: str


class DecideOut(BaseModel):
    """The answer."""

    listings: list[ListingOut]
    models: dict[str, str | None]
    timings_ms: dict[str, float]


def _rows(path: Path, key: str) -> dict[str, dict[str, Any]]:
    import pyarrow.parquet as pq

    if not path.exists():
        return {}
    table = pq.read_table(path)
    keys = table.column(key).to_pylist()
    return dict(zip(keys, table.drop([key]).to_pylist(), strict=True))


def create_app(data: Path) -> FastAPI:
    """The naive app on a prepared data directory."""
    import lightgbm as lgb

    from marketlift.models.serving import RankerService

    ranker = RankerService.load(data)  # for its candidate index and feature names only
    booster = lgb.Booster(model_file=str(ranker.version.file("model.txt")))
    listings = _rows(data / "features" / "listing_features.parquet", "listing_id")
    buyers = _rows(data / "features" / "buyer_features.parquet", "buyer")
    sessions = _rows(data / "features" / "session_features.parquet", "buyer")
    store_names = list(ranker.store_features)
    app = FastAPI(title="naive decide")

    @app.post("/v1/decide")
    def decide(req: DecideIn) -> DecideOut:
        start = time.perf_counter()
        unit = req.buyer_id or req.anonymous_id or ""
        _buyer = buyers.get(unit)
        _session = sessions.get(unit)
        session_items = [*req.context.recent, *req.context.cart]
        if req.context.listing_id:
            session_items.append(req.context.listing_id)
        cands = list(dict.fromkeys(req.candidates or []))
        query = ranker.query(session_items, locale=req.locale)
        x_index = ranker.index_features(cands, query)
        store = [[(listings.get(c) or {}).get(n, math.nan) for n in store_names] for c in cands]
        x_store = np.array(store, dtype=np.float64).reshape(len(cands), len(store_names))
        x = np.hstack([x_index, x_store])
        scores = booster.predict(x, num_threads=1) if cands else np.zeros(0)
        why = ranker.reasons(x_index)
        order = np.argsort(-scores, kind="stable")[: req.limit]
        out = [ListingOut(listing_id=cands[i], score=float(scores[i]), reason=str(why[i]))
               for i in order.tolist()]  # fmt: skip
        total = (time.perf_counter() - start) * 1000
        return DecideOut(listings=out, models={"ranker": ranker.version.version},
                         timings_ms={"total": round(total, 3)})  # fmt: skip

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--port", type=int, default=8123)
    args = parser.parse_args()
    import uvicorn

    uvicorn.run(create_app(args.data), host="127.0.0.1", port=args.port, log_level="warning",
                access_log=False)  # fmt: skip


if __name__ == "__main__":
    main()
