"""Catalog upserts per second over HTTP and from a file, beside a raw store write of the same rows.

End to end over HTTP: a real ``marketlift serve`` process receives ``POST /v1/listings``
batches (JSON objects of the issue's contract, ``--batch`` per request, ``--in-flight``
connections, bodies encoded beforehand) and answers once each batch is durable. From a file:
``marketlift.catalog.load_files`` on one CSV of the spreadsheet contract (read, validated,
stored in chunks). Baseline, measured in the same run: the same listings already validated as
Arrow versions, handed to ``CatalogStore.write`` in the same chunks (the store's share alone).
Target: at least 20,000 listings per second on both paths. Prints one JSON line with medians
over ``--repeats`` runs.

    .venv/bin/python benchmarks/catalog_ingest.py                       # 1,000,000 listings
    .venv/bin/python benchmarks/catalog_ingest.py --listings 100000 --repeats 1   # quick look
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from marketlift.catalog import CatalogStore, load_files, normalize

CATEGORIES = ("ceramics", "jewelry", "art", "home", "toys", "clothing")


def _listings(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    cents = rng.integers(100, 50_000, n)
    return pa.table({
        "listing_id": [f"L-{i:08d}" for i in range(n)],
        "title": [f"Handmade item {i}" for i in range(n)],
        "category": np.asarray(CATEGORIES)[rng.integers(0, len(CATEGORIES), n)],
        "price": [f"{c // 100}.{c % 100:02d}" for c in cents],
        "currency": ["EUR"] * n,
        "updated_at": ["2026-11-20T10:00:00Z"] * n,
        "colour": np.asarray(["blue", "red", "green"])[rng.integers(0, 3, n)],
    })  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bodies(table: pa.Table, batch: int) -> list[bytes]:
    rows = table.to_pylist()
    out = []
    for i in range(0, len(rows), batch):
        objects = [
            {"listing_id": r["listing_id"], "title": r["title"], "category": r["category"],
             "price": {"amount": r["price"], "currency": r["currency"]},
             "updated_at": r["updated_at"], "attributes": {"colour": r["colour"]}}
            for r in rows[i : i + batch]
        ]  # fmt: skip
        out.append(msgspec.json.encode(objects))
    return out


async def _post_all(port: int, bodies: list[bytes], in_flight: int) -> float:
    queue = list(reversed(bodies))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                answer = await client.post("/v1/listings", content=body)
                report = answer.json()
                if answer.status_code != 200 or report["rejected_count"]:
                    raise RuntimeError(f"unexpected answer {answer.status_code}: {report!s:.300}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(in_flight)))
        return time.perf_counter() - started


def _http_run(bodies: list[bytes], n: int, in_flight: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "marketlift", "serve", "--data", tmp, "--port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).is_success:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            seconds = asyncio.run(_post_all(port, bodies, in_flight))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
        stored = CatalogStore(tmp).versions().num_rows
    if stored != n:
        raise RuntimeError(f"{stored} versions stored, expected {n}")
    return seconds


def _file_run(csv: Path, n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report = load_files(tmp, [csv])
        seconds = time.perf_counter() - started
    if report.accepted != n:
        raise RuntimeError(f"{report.counts()}, expected {n} accepted")
    return seconds


def _raw_run(table: pa.Table, chunk: int) -> float:
    now = dt.datetime.now(dt.UTC)
    checked = [normalize(table.slice(i, chunk), received_at=now, source="bench")
               for i in range(0, table.num_rows, chunk)]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        store = CatalogStore(tmp)
        started = time.perf_counter()
        for part in checked:
            store.write(part)
        seconds = time.perf_counter() - started
        store.close()
    return seconds


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000, help="listings per HTTP request")
    parser.add_argument("--in-flight", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = args.listings
    table = _listings(n)
    bodies = _bodies(table, args.batch)
    http, file, raw = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "listings.csv"
        pacsv.write_csv(table, csv)
        for _ in range(args.repeats):
            file.append(_file_run(csv, n))
            raw.append(_raw_run(table, 250_000))
            http.append(_http_run(bodies, n, args.in_flight))
    http_rate, file_rate = n / statistics.median(http), n / statistics.median(file)
    raw_rate = n / statistics.median(raw)
    print(json.dumps({
        "benchmark": "catalog_ingest", "listings": n, "repeats": args.repeats,
        "http_batch": args.batch, "http_in_flight": args.in_flight,
        "http_listings_per_s": round(http_rate), "file_listings_per_s": round(file_rate),
        "baseline": "CatalogStore.write of pre-validated Arrow versions, same run",
        "baseline_listings_per_s": round(raw_rate),
        "http_vs_baseline": round(http_rate / raw_rate, 3),
        "file_vs_baseline": round(file_rate / raw_rate, 3),
        "target_listings_per_s": 20_000,
        "meets_target": bool(min(http_rate, file_rate) >= 20_000),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
