"""Ingestion throughput through HTTP vs a raw append of the same events, side by side.

End to end: a real ``marketlift serve`` process (uvicorn, validation on, durable group
commits to the Parquet lake) receives batches of 500 realistic events from a load generator
in this process (asyncio + httpx, bodies encoded beforehand, a fixed number in flight).
Baseline: the same events, already converted to Arrow batches of 500, appended with
``LakeWriter.append`` (same storage, same dedupe, one durable commit per batch).

Half the batches measure saturation throughput (closed loop, ``--in-flight`` connections);
the other half are sent open loop at ``--rate`` events/s (the 20,000 events/s target) to
measure acknowledgement latency at that load. Prints one JSON line: events/s end to end,
ack p50/p99 at the paced rate, the baseline's events/s and the ratio, medians over
``--repeats`` runs.

    .venv/bin/python benchmarks/ingest.py                # defaults: 200 batches x 3 repeats
    .venv/bin/python benchmarks/ingest.py --batches 50 --repeats 1   # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec

from marketlift.events import Limits, validate_batch
from marketlift.events.samples import sample_events
from marketlift.events.table import events_to_arrow
from marketlift.lake import LakeWriter, query

BATCH = 500


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(data: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "marketlift",
            "serve",
            "--data",
            str(data),
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not start")


class _Connection:
    """A lean HTTP/1.1 keep-alive client, so the load generator leaves the CPU to the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def post(self, body: bytes) -> tuple[int, bytes]:
        head = (
            "POST /v1/events HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        headers = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in headers.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        payload = await self.reader.readexactly(length)
        return int(status_line.split()[1]), payload

    def close(self) -> None:
        self.writer.close()


def _check(status: int, payload: bytes) -> None:
    report = json.loads(payload)
    if status != 200 or report["accepted"] != BATCH:
        raise RuntimeError(f"unexpected answer {status}: {report!s:.300}")


async def _saturate(port: int, bodies: list[bytes], in_flight: int) -> float:
    """Closed loop: ``in_flight`` connections send back to back; returns seconds."""
    queue = list(reversed(bodies))
    conns = [await _Connection.open(port) for _ in range(in_flight)]

    async def worker(conn: _Connection) -> None:
        while queue:
            _check(*await conn.post(queue.pop()))

    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in conns))
    seconds = time.perf_counter() - started
    for conn in conns:
        conn.close()
    return seconds


async def _paced(port: int, bodies: list[bytes], rate: float) -> tuple[float, list[float]]:
    """Open loop: one batch every ``1/rate`` s whatever the answers; returns latencies."""
    pool = [await _Connection.open(port) for _ in range(16)]
    latencies: list[float] = []

    async def one(body: bytes) -> None:
        conn = pool.pop()
        started = time.perf_counter()
        _check(*await conn.post(body))
        latencies.append(time.perf_counter() - started)
        pool.append(conn)

    tasks = []
    started = time.perf_counter()
    for i, body in enumerate(bodies):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(body)))
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    for conn in pool:
        conn.close()
    return seconds, latencies


def _http_run(
    events: list[dict[str, object]], in_flight: int, rate: float, workers: int
) -> dict[str, float]:
    half = len(events) // 2 // BATCH * BATCH
    bodies = [msgspec.json.encode(events[i : i + BATCH]) for i in range(0, len(events), BATCH)]
    saturate, paced = bodies[: half // BATCH], bodies[half // BATCH :]
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = _start_server(Path(tmp), workers)
        port = int(url.rsplit(":", 1)[1])
        try:
            # Warm every worker up (connections spread over them) on events not timed.
            warm = sample_events(BATCH * 32, random_state=999)
            warm_bodies = [
                msgspec.json.encode(warm[i : i + BATCH]) for i in range(0, len(warm), BATCH)
            ]
            asyncio.run(_saturate(port, warm_bodies, 16))
            seconds = asyncio.run(_saturate(port, saturate, in_flight))
            paced_seconds, latencies = asyncio.run(_paced(port, paced, rate / BATCH))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        stored = query(tmp, "SELECT count(*) AS n FROM events").to_pylist()[0]["n"]
    assert stored == len(events) + BATCH * 32, stored
    latencies.sort()
    return {
        "events_per_s": len(saturate) * BATCH / seconds,
        "paced_events_per_s": len(paced) * BATCH / paced_seconds,
        "p50_ms": latencies[len(latencies) // 2] * 1e3,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1e3,
    }


def _raw_run(events: list[dict[str, object]]) -> float:
    now = dt.datetime.now(dt.UTC)
    limits = Limits(max_past=None, max_future=None, max_events=BATCH)
    tables = []
    for i in range(0, len(events), BATCH):
        batch = validate_batch(msgspec.json.encode(events[i : i + BATCH]), now=now, limits=limits)
        tables.append(events_to_arrow(batch.events, received_at=now))
    with tempfile.TemporaryDirectory() as tmp, LakeWriter(tmp) as writer:
        started = time.perf_counter()
        for table in tables:
            writer.append(table)
        return len(events) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batches", type=int, default=200, help="batches of 500 per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--in-flight", type=int, default=4, help="connections at saturation")
    parser.add_argument(
        "--rate", type=float, default=20_000, help="events/s of the paced latency run"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="HTTP processes (marketlift serve --workers)"
    )
    args = parser.parse_args()
    events = sample_events(args.batches * BATCH, random_state=1, buyers=20_000)
    http_runs, raw_runs = [], []
    for _ in range(args.repeats):
        http_runs.append(_http_run(events, args.in_flight, args.rate, args.workers))
        raw_runs.append(_raw_run(events))
    eps = statistics.median(r["events_per_s"] for r in http_runs)
    raw = statistics.median(raw_runs)
    print(
        json.dumps(
            {
                "benchmark": "ingest",
                "events": len(events),
                "batch": BATCH,
                "in_flight": args.in_flight,
                "workers": args.workers,
                "repeats": args.repeats,
                "http_events_per_s": round(eps),
                "paced_rate_events_per_s": args.rate,
                "paced_achieved_events_per_s": round(
                    statistics.median(r["paced_events_per_s"] for r in http_runs)
                ),
                "ack_p50_ms": round(statistics.median(r["p50_ms"] for r in http_runs), 2),
                "ack_p99_ms": round(statistics.median(r["p99_ms"] for r in http_runs), 2),
                "baseline": "LakeWriter.append of prebuilt Arrow batches (durable, same lake)",
                "baseline_events_per_s": round(raw),
                "ratio": round(eps / raw, 3),
                "targets": {"events_per_s": 20000, "ack_p99_ms": 20, "ratio": 0.5},
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
