"""The live path: the real collector (the HTTP app) on a free local port, sent events over HTTP.

It runs last, so its sample events (stamped with today's clock, with ids of their own) stay out
of the models' training rows and of the experiment.

The batches include a retried batch (its events come back as duplicates) and an invalid event
(rejected to the dead letters), so the summary shows the collector's guarantees at work.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["collect_over_http"]


def collect_over_http(data_dir: str | os.PathLike[str], n_events: int = 2000) -> dict[str, int]:
    """Send ``n_events`` sample events (plus a retry and a bad event) to a live collector.

    Returns:
        Counts the collector answered: ``accepted``, ``duplicates``, ``rejected``, ``requests``.
    """
    import httpx  # noqa: PLC0415
    import msgspec  # noqa: PLC0415
    import uvicorn  # noqa: PLC0415

    from marketlift.events.samples import sample_events  # noqa: PLC0415
    from marketlift.serve import ServeConfig, create_app  # noqa: PLC0415

    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    port = _free_port()
    config = ServeConfig(data_dir=Path(data_dir), port=port)
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), port=port, log_level="error", lifespan="on")
    )
    events = sample_events(n_events, random_state=1)
    bad = dict(events[0], event_id="demo-bad-1", platform="smart-tv")
    step = 500
    batches = [events[i : i + step] for i in range(0, n_events, step)]
    batches.append([*events[:step], bad])
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "requests": 0}
    with _serving(server, port), httpx.Client(timeout=10) as client:
        url = f"http://127.0.0.1:{port}/v1/events"
        for batch in batches:
            report = client.post(url, content=msgspec.json.encode(batch)).json()
            totals["accepted"] += report["accepted"]
            totals["duplicates"] += report["duplicates"]
            totals["rejected"] += len(report["rejected"])
            totals["requests"] += 1
    return totals


@contextlib.contextmanager
def _serving(server: Any, port: int) -> Iterator[None]:
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            msg = f"the collector did not start on port {port}"
            raise RuntimeError(msg)
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
