"""``marketlift serve``: the HTTP service; ``marketlift ready``: wait until it answers.

``serve`` prints ``marketlift: ready on http://HOST:PORT (started in N s)`` on stderr once it
accepts connections, so a script that starts it in the background can wait with
``marketlift ready --url http://HOST:PORT`` (or ``curl --retry-connrefused``) before its first
request.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail

if TYPE_CHECKING:
    import uvicorn

_STARTED = time.perf_counter()
_MAX_WAIT_S = 3600.0

__all__ = ["register"]


def serve_cmd(
    data: DataDir = Path("marketlift-data"),
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port (1 to 65535).")] = 8000,
    sink: Annotated[
        str, typer.Option(help="Where events go: lake (embedded) or jetstream (scale-out).")
    ] = "lake",
    nats_url: Annotated[
        str, typer.Option(envvar="MARKETLIFT_NATS_URL", help="NATS URL for --sink jetstream.")
    ] = "nats://127.0.0.1:4222",
    experiments: Annotated[
        Path | None,
        typer.Option(
            help="TOML file of experiments for /v1/assign (default DATA/experiments.toml)."
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="HTTP processes; above 1 they validate in parallel and hand events to one "
            "lake writer (lake sink only)."
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    budget_ms: Annotated[
        float, typer.Option(help="Time budget of one /v1/decide answer, milliseconds.")
    ] = 25.0,
    store: Annotated[
        str, typer.Option(help="Online features for /v1/decide: memory (from the build) or redis.")
    ] = "memory",
    redis_url: Annotated[
        str, typer.Option(envvar="MARKETLIFT_REDIS_URL", help="Redis URL for --store redis.")
    ] = "redis://127.0.0.1:6379/0",
    store_timeout_ms: Annotated[
        float, typer.Option(help="Timeout of one feature read, milliseconds (0 to 10000].")
    ] = 5.0,
    breaker_failures: Annotated[
        int, typer.Option(help="Failed feature reads in a row that open the circuit breaker.")
    ] = 5,
    breaker_failure_rate: Annotated[
        float,
        typer.Option(
            help="Share of failed reads among the last --breaker-window that opens it (0, 1]."
        ),
    ] = 0.5,
    breaker_window: Annotated[
        int, typer.Option(help="Feature reads the breaker's failure rate is measured over.")
    ] = 100,
    breaker_retry_s: Annotated[
        float, typer.Option(help="Seconds the open breaker skips reads before one probe.")
    ] = 1.0,
    shadow_ranker: Annotated[
        str | None, typer.Option(help="Ranker version to score in shadow beside the live one.")
    ] = None,
    reload_interval: Annotated[
        float, typer.Option(help="Seconds between checks for promoted models (0: off).")
    ] = 2.0,
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="Parquet listing table for engagement copy (listing_id, title_en, "
            "price_usd_cents, ...); default: the simulator's listings when present."
        ),
    ] = None,
    demo: Annotated[
        bool, typer.Option("--demo", help="Also serve the demo storefront and the dashboard.")
    ] = False,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            help="Origin whose pages may call the API from a browser, such as "
            "https://shop.example (repeat for several; '*' for any, the default; 'none' for "
            "no CORS). /admin/* never sends CORS headers."
        ),
    ] = None,
    header_timeout: Annotated[
        float, typer.Option(help="Seconds a client has to send the request headers.")
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option(help="Seconds a client has to send the body after the headers.")
    ] = 30.0,
    keep_alive: Annotated[
        int, typer.Option(help="Seconds an idle kept-alive connection stays open.")
    ] = 5,
    limit_concurrency: Annotated[
        int, typer.Option(help="Most connections and requests per process at once (then 503).")
    ] = 2048,
    any_time: Annotated[
        bool,
        typer.Option(
            "--any-time",
            help="Accept events of any time (backfills); by default ts must lie within 30 "
            "days before and 10 minutes after the server clock.",
        ),
    ] = False,
) -> None:
    """Start the HTTP service: events, assignment, decisions, health, metrics, OpenAPI.

    Routes: POST /v1/events, /v1/assign, /v1/decide; GET /v1/stats, /healthz, /readyz,
    /metrics, /openapi.json; POST /admin/reload, GET /admin/status. Set MARKETLIFT_WRITE_KEY
    to require 'Authorization: Bearer <key>' on /v1/events, MARKETLIFT_DECIDE_KEY for
    /v1/assign and /v1/decide, MARKETLIFT_ADMIN_KEY for /admin/* (off without it).
    """
    import uvicorn

    from marketlift.serve.logs import configure_logging

    configure_logging("info" if log_level in ("info", "debug", "trace") else "warning")
    from marketlift.errors import ConfigError, LakeBusyError
    from marketlift.events import Limits
    from marketlift.experiments.config import load_experiments
    from marketlift.serve import JetStreamConfig, ServeConfig, create_app
    from marketlift.serve.config import DecideConfig, HttpConfig
    from marketlift.serve.connections import uvicorn_config

    try:
        decide = DecideConfig(
            budget_ms=budget_ms,
            store=store,
            redis_url=redis_url,
            store_timeout_ms=store_timeout_ms,
            breaker_failures=breaker_failures,
            breaker_failure_rate=breaker_failure_rate,
            breaker_window=breaker_window,
            breaker_retry_s=breaker_retry_s,
            shadow_ranker=shadow_ranker,
            reload_interval_s=reload_interval,
            catalog_file=catalog,
        )
        config = ServeConfig(
            data_dir=data,
            host=host,
            port=port,
            sink=sink,
            write_key=os.environ.get("MARKETLIFT_WRITE_KEY") or None,
            decide_key=os.environ.get("MARKETLIFT_DECIDE_KEY") or None,
            experiments_file=experiments,
            jetstream=JetStreamConfig(url=nats_url),
            decide=decide,
            admin_key=os.environ.get("MARKETLIFT_ADMIN_KEY") or None,
            demo=demo,
            cors_origins=_origins(cors_origin),
            limits=Limits.unbounded_time() if any_time else Limits(),
            http=HttpConfig(
                header_timeout_s=header_timeout,
                body_timeout_s=body_timeout,
                keep_alive_s=keep_alive,
                limit_concurrency=limit_concurrency,
            ),
        )
        if experiments is not None:
            load_experiments(experiments)  # fail here, clearly, not inside the server
        if catalog is not None and not catalog.is_file():
            fail(f"--catalog == {str(catalog)!r}, expected an existing Parquet file")
    except ConfigError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"--experiments: cannot read {experiments}: {exc}")
    if workers < 1 or workers > 64:
        fail(f"--workers == {workers}, expected an integer between 1 and 64")
    if workers > 1 and sink != "lake":
        fail(f"--workers == {workers} needs --sink lake (run several servers for jetstream)")
    if workers > 1:
        from marketlift.serve.workers import run_workers

        try:
            run_workers(config, workers, log_level=log_level)
        except LakeBusyError as exc:
            fail(str(exc))
        return
    server = uvicorn.Server(uvicorn_config(create_app(config), config, log_level=log_level))
    threading.Thread(target=_announce, args=(server, host, port), daemon=True).start()
    try:
        server.run()
    except LakeBusyError as exc:
        fail(str(exc))


def _origins(given: list[str] | None) -> tuple[str, ...]:
    """``--cors-origin`` values: none given means any origin, ``none`` means no CORS."""
    if not given:
        return ("*",)
    return tuple(o for o in given if o.lower() != "none")


def _announce(server: uvicorn.Server, host: str, port: int) -> None:
    """Print the ready line once the server accepts connections (start-up done)."""
    while not server.started:
        if server.should_exit:
            return
        time.sleep(0.02)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(
        f"marketlift: ready on http://{shown}:{port} "
        f"(started in {time.perf_counter() - _STARTED:.1f} s)",
        err=True,
    )


def ready_cmd(
    url: Annotated[str, typer.Option(help="Base URL of the server.")] = "http://127.0.0.1:8000",
    timeout: Annotated[float, typer.Option(help="Seconds to wait at most (up to 3600).")] = 60.0,
    path: Annotated[
        str, typer.Option(help="Route that must answer 200: /healthz (up) or /readyz (can decide).")
    ] = "/healthz",
    json_output: JsonFlag = False,
) -> None:
    """Wait until a marketlift server answers, then exit 0 (exit 1 after --timeout).

    Example: marketlift serve --data DIR --port 8000 & marketlift ready --url http://127.0.0.1:8000
    """
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        fail(f"--url == {url!r}, expected an http:// or https:// URL", json_output=json_output)
    if not 0 < timeout <= _MAX_WAIT_S:
        fail(f"--timeout == {timeout}, expected seconds in (0, 3600]", json_output=json_output)
    if not path.startswith("/"):
        fail(f"--path == {path!r}, expected a route starting with '/'", json_output=json_output)
    target = url.rstrip("/") + path
    start = time.monotonic()
    last = "no answer"
    while time.monotonic() - start < timeout:
        try:
            with urllib.request.urlopen(target, timeout=2) as response:  # noqa: S310 - http(s) only
                if response.status == 200:
                    waited = round(time.monotonic() - start, 2)
                    if json_output:
                        emit_json({"url": target, "ready": True, "waited_s": waited})
                    else:
                        typer.echo(f"ready: {target} answered 200 after {waited} s")
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
        time.sleep(0.1)
    fail(f"{target} not ready after {timeout} s (last: {last})", json_output=json_output, code=1)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``ready`` to the root command."""
    app.command("serve")(serve_cmd)
    app.command("ready")(ready_cmd)
