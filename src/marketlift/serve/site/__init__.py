"""The demo storefront and the dashboard, served by ``marketlift serve --demo``.

:func:`site_routes` returns the routes to mount beside the API:

- ``/`` and ``/shop`` redirect to ``/shop/``.
- ``/shop/``, ``/shop/search?q=``, ``/shop/listing/{listing_id}``, ``/shop/cart``: the
  storefront, one HTML shell driven by ``static/shop.js`` on the JS SDK (served at
  ``/shop/sdk/index.js``). It logs events to ``/v1/events`` and asks ``/v1/decide`` what to
  show on every page.
- ``/shop/api/listings?ids=a,b&locale=``, ``/shop/api/search?q=&locale=``,
  ``/shop/api/popular?locale=&category=``, ``/shop/api/buyers``: the catalog as JSON, read
  once from the data directory (the lake's listing catalog) and kept in memory.
- ``/dashboard`` (HTML) and ``/dashboard/api/summary`` (JSON): experiment readouts, model
  versions with metrics; the page polls ``/v1/stats`` for live figures.
- ``/shop/static/...``: CSS and scripts.

Example:
    >>> import tempfile
    >>> from starlette.applications import Starlette
    >>> from starlette.testclient import TestClient
    >>> from marketlift.serve.config import ServeConfig
    >>> app = Starlette(routes=site_routes(ServeConfig(data_dir=tempfile.mkdtemp())))
    >>> with TestClient(app) as client:
    ...     client.get("/shop/api/search", params={"q": "mug"}).json()["listings"]
    []
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
from pathlib import Path
from typing import Any, Final

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from marketlift.experiments.config import Experiment
from marketlift.serve.config import ServeConfig
from marketlift.serve.engine_setup import experiments_of
from marketlift.serve.site.catalog import CURRENCY_OF, LOCALES, Catalog, load_catalog
from marketlift.serve.site.dashboard import experiments_summary, models_summary, render_dashboard

__all__ = ["STATIC_DIR", "sdk_path", "site_routes"]

STATIC_DIR: Final = Path(__file__).resolve().parent / "static"
"""CSS and scripts of the storefront and the dashboard."""
_STATIC_URL: Final = "/shop/static"
_SDK_URL: Final = "/shop/sdk/index.js"
_JSON: Final = "application/json"
_MAX_IDS: Final = 200
_DASHBOARD_TTL_S: Final = 5.0
_EMPTY_CATALOG_RETRY_S: Final = 30.0
_LOCALE: Final = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$")
UI_LOCALES: Final = ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "it-IT")
"""Locales the storefront offers in its switcher (texts of ``shop.js``)."""


def sdk_path() -> Path:
    """The JS SDK's module file: shipped in the wheel, else ``sdk/js/src/index.js`` of the repo."""
    packaged = STATIC_DIR / "sdk" / "index.js"
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parents[4] / "sdk" / "js" / "src" / "index.js"


def site_routes(config: ServeConfig) -> list[BaseRoute]:
    """The storefront's and the dashboard's routes for an app serving ``config``."""
    site = _Site(config)
    return [
        Route("/", _redirect_to_shop, methods=["GET"]),
        Route("/shop", _redirect_to_shop, methods=["GET"]),
        Route("/shop/", site.page, methods=["GET"]),
        Route("/shop/search", site.page, methods=["GET"]),
        Route("/shop/cart", site.page, methods=["GET"]),
        Route("/shop/listing/{listing_id}", site.page, methods=["GET"]),
        Route(_SDK_URL, site.sdk, methods=["GET"]),
        Route("/shop/api/listings", site.listings, methods=["GET"]),
        Route("/shop/api/search", site.search, methods=["GET"]),
        Route("/shop/api/popular", site.popular, methods=["GET"]),
        Route("/shop/api/buyers", site.buyers, methods=["GET"]),
        Route("/dashboard", site.dashboard, methods=["GET"]),
        Route("/dashboard/api/summary", site.summary, methods=["GET"]),
        Mount(_STATIC_URL, app=StaticFiles(directory=STATIC_DIR), name="site-static"),
    ]


async def _redirect_to_shop(_request: Request) -> Response:
    return RedirectResponse("/shop/", status_code=307)


def _json(body: Any, status: int = 200) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type=_JSON)


def _locale(request: Request) -> str:
    """The request's ``locale`` when the catalog has texts for it, else ``en-US``."""
    value = request.query_params.get("locale", "en-US")
    return value if value in LOCALES else "en-US"


def _limit(request: Request, default: int, most: int) -> int:
    raw = request.query_params.get("limit", "")
    return max(1, min(most, int(raw))) if raw.isdigit() else default


class _Site:
    """State shared by the routes: the catalog, the buyers and the dashboard cache."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.data_dir = Path(config.data_dir)
        self._catalog: Catalog | None = None
        self._catalog_at = 0.0
        self._catalog_lock = asyncio.Lock()
        self._buyers: list[dict[str, Any]] | None = None
        self._summary: tuple[float, dict[str, Any]] | None = None
        self._summary_lock = asyncio.Lock()
        self._shell: str | None = None

    # -- catalog -------------------------------------------------------------------------------

    async def catalog(self) -> Catalog:
        """The catalog, read on first use (off the event loop); an empty one is retried later."""
        fresh = self._catalog is not None and (
            len(self._catalog) > 0 or time.monotonic() - self._catalog_at < _EMPTY_CATALOG_RETRY_S
        )
        if fresh:
            assert self._catalog is not None
            return self._catalog
        async with self._catalog_lock:
            if self._catalog is None or len(self._catalog) == 0:
                self._catalog = await run_in_threadpool(load_catalog, self.data_dir)
                self._catalog_at = time.monotonic()
            return self._catalog

    async def listings(self, request: Request) -> Response:
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        if len(ids) > _MAX_IDS:
            return _json(
                {"error": f"ids: {len(ids)} listing ids, expected at most {_MAX_IDS}"}, 422
            )
        catalog = await self.catalog()
        locale = _locale(request)
        cards = [catalog.card(i, locale) for i in ids]
        return _json({
            "locale": locale,
            "listings": [c for c in cards if c is not None],
            "missing": [i for i, c in zip(ids, cards, strict=True) if c is None],
        })  # fmt: skip

    async def search(self, request: Request) -> Response:
        catalog = await self.catalog()
        locale = _locale(request)
        query = request.query_params.get("q", "")[:512]
        ids = catalog.search(query, locale, limit=_limit(request, 48, 200))
        cards = [c for c in (catalog.card(i, locale) for i in ids) if c is not None]
        return _json({"query": query, "locale": locale, "listing_ids": ids, "listings": cards})

    async def popular(self, request: Request) -> Response:
        catalog = await self.catalog()
        locale = _locale(request)
        category = request.query_params.get("category") or None
        ids = catalog.popular(_limit(request, 12, 100), category)
        cards = [c for c in (catalog.card(i, locale) for i in ids) if c is not None]
        return _json({
            "locale": locale, "category": category, "categories": catalog.categories(),
            "source": catalog.source, "listings": cards,
        })  # fmt: skip

    async def buyers(self, request: Request) -> Response:
        """A few signed-in buyers of the lake's events to browse as (most active first)."""
        if self._buyers is None:
            self._buyers = await run_in_threadpool(_event_buyers, self.data_dir, 200)
        return _json({"buyers": self._buyers[: _limit(request, 20, 200)]})

    # -- pages ---------------------------------------------------------------------------------

    async def page(self, _request: Request) -> Response:
        if self._shell is None:
            self._shell = _render_shell(self.config)
        return HTMLResponse(self._shell, headers={"Cache-Control": "no-store"})

    async def sdk(self, _request: Request) -> Response:
        path = sdk_path()
        if not path.exists():
            return _json({"error": f"the JS SDK is missing at {path}"}, 404)
        return FileResponse(path, media_type="text/javascript; charset=utf-8")

    # -- dashboard -----------------------------------------------------------------------------

    async def _computed(self) -> dict[str, Any]:
        cached = self._summary
        if cached is not None and time.monotonic() - cached[0] < _DASHBOARD_TTL_S:
            return cached[1]
        async with self._summary_lock:
            cached = self._summary
            if cached is not None and time.monotonic() - cached[0] < _DASHBOARD_TTL_S:
                return cached[1]
            summary = await run_in_threadpool(self._compute)
            self._summary = (time.monotonic(), summary)
            return summary

    def _compute(self) -> dict[str, Any]:
        return {
            "computed_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "experiments": experiments_summary(self.data_dir, _experiments(self.config)),
            "models": models_summary(self.data_dir),
        }

    async def summary(self, _request: Request) -> Response:
        return _json(await self._computed())

    async def dashboard(self, _request: Request) -> Response:
        summary = await self._computed()
        page = render_dashboard(
            summary["experiments"],
            summary["models"],
            data_dir=self.data_dir,
            static=_STATIC_URL,
            computed_at=summary["computed_at"],
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})


def _experiments(config: ServeConfig) -> list[Experiment]:
    try:
        return experiments_of(config)
    except Exception:  # noqa: BLE001 - the dashboard still shows readouts without configuration
        return []


def _event_buyers(data_dir: Path, limit: int) -> list[dict[str, Any]]:
    """Signed-in buyers of the lake's events, most active first.

    Each with the latest locale and country, and the most viewed category (listing catalog).
    """
    from marketlift.catalog import connect_catalog  # noqa: PLC0415
    from marketlift.lake import connect  # noqa: PLC0415

    con = connect_catalog(data_dir, connect(data_dir))
    try:
        rows = con.sql(_BUYERS_SQL, params=[limit]).to_arrow_table().to_pylist()
    finally:
        con.close()
    return [{"buyer_id": r["buyer_id"], "locale": r["locale"], "country": r["country"],
             "top_category": r["top_category"]} for r in rows]  # fmt: skip


_BUYERS_SQL: Final = """
WITH b AS (
    SELECT buyer_id, arg_max(locale, ts) FILTER (WHERE locale IS NOT NULL) AS locale,
           arg_max(country, ts) FILTER (WHERE country IS NOT NULL) AS country, count(*) AS n
    FROM events WHERE buyer_id IS NOT NULL GROUP BY 1
), c AS (
    SELECT e.buyer_id, l.category, count(*) AS views FROM events e
    JOIN listings l USING (listing_id)
    WHERE e.type = 'listing_view' AND e.buyer_id IS NOT NULL GROUP BY 1, 2
)
SELECT b.buyer_id, b.locale, b.country,
       (SELECT arg_max(c.category, c.views) FROM c WHERE c.buyer_id = b.buyer_id) AS top_category
FROM b WHERE b.locale IS NOT NULL ORDER BY b.n DESC, b.buyer_id LIMIT $1
"""


def _render_shell(config: ServeConfig) -> str:
    settings = {
        "endpoint": "",
        "sdk": _SDK_URL,
        "static": _STATIC_URL,
        "locales": list(UI_LOCALES),
        "currencies": {loc: CURRENCY_OF[loc] for loc in UI_LOCALES},
        "decideKeyRequired": config.decide_key is not None,
        "writeKey": config.write_key,
    }
    blob = json.dumps(settings).replace("<", "\\u003c")
    shell = (STATIC_DIR / "shop.html").read_text(encoding="utf-8")
    return shell.replace("<!--SETTINGS-->", blob)
