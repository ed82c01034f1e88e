"""``POST /v1/decide`` under sustained open-loop load: latency, errors, memory.

A real ``marketlift serve`` process serves the prepared data directory (see
:mod:`_decide_data`, shared with ``decide_latency.py``). A load generator in a SEPARATE
process first sends 1,000 requests one at a time on one keep-alive connection (the
one-at-a-time p99 of this run, by the same client code as the load), then sends requests at
a fixed rate (default 300/s for 60 s) on its own schedule: request ``i`` is due at
``start + i / rate`` whatever happened before, on whichever keep-alive connection is idle (a
new one is opened when none is), so a slow answer never delays the next send, and each
latency is measured from the INTENDED send time (no coordinated omission). The generator
speaks HTTP/1.1 over raw asyncio streams (bodies encoded beforehand) to keep the client's
own cost small.

Debian's ``wrk`` is closed-loop (each connection waits for its answer before sending the
next request, so a stall hides the requests that should have been sent meanwhile), which is
why this benchmark uses its own open-loop generator.

While the load runs, this process samples the server's resident memory (``VmRSS`` of
``/proc/<pid>/status``, summed with its worker processes under ``--workers N``) twice a
second. Prints ONE JSON line: achieved rate, p50/p99/max from
the intended send time, errors (non-200 answers and connection errors), RSS at start, middle
and end, and ``p99_load / p99_one_at_a_time`` (target at most 2).

    .venv/bin/python benchmarks/decide_load.py                       # 300/s for 60 s
    .venv/bin/python benchmarks/decide_load.py --rate 100 --duration 10 --buyers 2000 --trees 50
    .venv/bin/python benchmarks/decide_load.py --workers 2          # two server processes
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _decide_data as dd

MAX_CONNECTIONS = 2000
KEEPALIVE_S = 4.0
"""Idle connections older than this are dropped, not reused (uvicorn closes them after 5 s)."""


class _Conn:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.used = time.monotonic()

    @classmethod
    async def open(cls, port: int) -> _Conn:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def post(self, head: bytes, body: bytes) -> int:
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        close = False
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            lname = name.strip().lower()
            if lname == b"content-length":
                length = int(value.strip())
            elif lname == b"connection" and value.strip().lower() == b"close":
                close = True
        if length:
            await self.reader.readexactly(length)
        if close:
            raise ConnectionResetError("the server closed the connection")
        self.used = time.monotonic()
        return status

    def close(self) -> None:
        self.writer.close()


async def _sequential(conn: _Conn, heads: list[bytes], bodies: list[bytes], n: int) -> list[float]:
    """``n`` requests one at a time on one connection; milliseconds each."""
    out: list[float] = []
    for i in range(n):
        t0 = time.perf_counter_ns()
        status = await conn.post(heads[i % len(heads)], bodies[i % len(bodies)])
        out.append((time.perf_counter_ns() - t0) / 1e6)
        if status != 200:
            raise RuntimeError(f"a one-at-a-time request answered {status}")
    return out


class _Pool:
    """Keep-alive connections: an idle one when there is one, else a new one."""

    def __init__(self, port: int, idle: list[_Conn]) -> None:
        self.port = port
        self.idle = idle
        self.opened = len(idle)
        self.reconnects = 0

    async def _get(self) -> tuple[_Conn, bool]:
        while self.idle:
            conn = self.idle.pop()
            if time.monotonic() - conn.used < KEEPALIVE_S:
                return conn, True
            conn.close()  # the server may have closed it already: do not reuse it
        self.opened += 1
        return await _Conn.open(self.port), False

    async def post(self, head: bytes, body: bytes) -> int:
        """POST on a pooled connection; a kept-alive one the server closed is retried once."""
        conn, reused = await self._get()
        try:
            try:
                status = await conn.post(head, body)
            except (ConnectionError, asyncio.IncompleteReadError):
                if not reused:
                    raise
                conn.close()
                self.reconnects += 1
                self.opened += 1
                conn = await _Conn.open(self.port)
                status = await conn.post(head, body)
        except BaseException:
            conn.close()
            raise
        self.idle.append(conn)
        return status

    def close(self) -> None:
        for conn in self.idle:
            conn.close()


async def _generate(port: int, bodies: list[bytes], args: argparse.Namespace) -> dict[str, Any]:
    """One-at-a-time requests, then ``rate * duration`` requests on schedule (open loop)."""
    heads = [
        (f"POST /v1/decide HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
         f"Content-Type: application/json\r\nContent-Length: {len(b)}\r\n\r\n").encode()
        for b in bodies
    ]  # fmt: skip
    first = await _Conn.open(port)
    await _sequential(first, heads, bodies, args.warmup)
    one_at_a_time = await _sequential(first, heads, bodies, args.sequential)
    # fresh connections for the load, opened before it starts
    pool = _Pool(port, [first, *[await _Conn.open(port) for _ in range(63)]])
    try:
        result = await _open_loop(pool, heads, bodies, rate=args.rate, duration=args.duration)
    finally:
        pool.close()
    return result | {"one_at_a_time_ms": one_at_a_time}


async def _open_loop(
    pool: _Pool, heads: list[bytes], bodies: list[bytes], *, rate: float, duration: float
) -> dict[str, Any]:
    """Send ``rate * duration`` requests on schedule; latencies from the intended send time."""
    latencies: list[float] = []
    by_second: dict[int, list[float]] = {}
    lags: list[float] = []
    errors = {"non_200": 0, "connection": 0}
    statuses: dict[str, int] = {}
    total = int(rate * duration)
    loop = asyncio.get_running_loop()
    tasks: set[asyncio.Task[None]] = set()

    async def one(i: int, intended: float) -> None:
        lags.append(loop.time() - intended)
        try:
            status = await pool.post(heads[i % len(heads)], bodies[i % len(bodies)])
        except (OSError, asyncio.IncompleteReadError, ValueError):
            errors["connection"] += 1
        else:
            if status != 200:
                errors["non_200"] += 1
                statuses[str(status)] = statuses.get(str(status), 0) + 1
        latencies.append((loop.time() - intended) * 1000)
        by_second.setdefault(int(i / rate), []).append(latencies[-1])

    start = loop.time() + 0.05
    load_start_wall = time.time() + 0.05
    for i in range(total):
        intended = start + i / rate
        delay = intended - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(tasks) >= MAX_CONNECTIONS:  # a dead server: stop piling up connections
            errors["connection"] += total - i
            break
        task = loop.create_task(one(i, intended))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    sent_end = loop.time()
    if tasks:
        await asyncio.wait(tasks, timeout=60)
    end = loop.time()
    return {
        "sent": total, "answered": len(latencies), "latencies_ms": latencies,
        "send_seconds": sent_end - start, "seconds": end - start, "errors": errors,
        "statuses": statuses, "connections_opened": pool.opened, "reconnects": pool.reconnects,
        "send_lag_p99_ms": dd.percentile(lags, 99) * 1000 if lags else None,
        "load_start_wall": load_start_wall, "load_end_wall": time.time(),
        "max_ms_per_second": [round(max(v), 1) for _, v in sorted(by_second.items())],
    }  # fmt: skip


def _generator_main(args: argparse.Namespace) -> None:
    bodies = [line.encode() for line in Path(args.bodies).read_text().splitlines() if line]
    result = asyncio.run(_generate(args.port, bodies, args))
    Path(args.result).write_text(json.dumps(result))  # a file: a pipe could fill and block


def _run_load(
    server: subprocess.Popen[bytes], url: str, bodies: list[bytes], args: argparse.Namespace
) -> tuple[dict[str, Any], list[tuple[float, int]]]:
    """Run the generator process; sample the server's RSS (wall time, KiB) meanwhile."""
    work = Path(tempfile.mkdtemp(prefix="ml-load-"))
    bodies_file = work / "bodies.jsonl"
    bodies_file.write_bytes(b"\n".join(bodies))
    result_file = work / "result.json"
    port = url.rsplit(":", 1)[1]
    rss: list[tuple[float, int]] = [(time.time(), dd.rss_kib(server.pid))]
    gen = subprocess.Popen(
        [sys.executable, __file__, "--generate", "--port", port, "--bodies", str(bodies_file),
         "--result", str(result_file),
         "--rate", str(args.rate), "--duration", str(args.duration),
         "--sequential", str(args.sequential), "--warmup", str(args.warmup)],
    )  # fmt: skip
    while gen.poll() is None:
        time.sleep(0.5)
        if server.poll() is None:
            rss.append((time.time(), dd.rss_kib(server.pid)))
    if gen.returncode != 0:
        raise RuntimeError(f"the generator failed with {gen.returncode}")
    result = json.loads(result_file.read_text())
    shutil.rmtree(work, ignore_errors=True)
    return result, rss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=None, help="prepared (or to prepare) dir")
    parser.add_argument("--buyers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--rate", type=float, default=300.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--candidates", type=int, default=100)
    parser.add_argument("--sequential", type=int, default=1000, help="one-at-a-time requests")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1, help="marketlift serve --workers")
    # the generator process (started by this script)
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--bodies", default="", help=argparse.SUPPRESS)
    parser.add_argument("--result", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        _generator_main(args)
        return

    data = dd.prepare(args.data, buyers=args.buyers, days=args.days, trees=args.trees)
    bodies = [msgspec.json.encode(b)
              for b in dd.bodies(data, args.candidates, count=512, seed=7)]  # fmt: skip
    out: dict[str, Any] = {
        "benchmark": "decide_load", "buyers": args.buyers, "trees": args.trees,
        "candidates": args.candidates, "rate": args.rate, "duration_s": args.duration,
        "server_workers": args.workers,
        **dd.machine(),
    }  # fmt: skip
    server, url = dd.start_server(data, extra=("--workers", str(args.workers)))
    try:
        result, rss = _run_load(server, url, bodies, args)
    finally:
        dd.stop(server)
    seq: list[float] = result["one_at_a_time_ms"]
    p99_seq = dd.percentile(seq, 99)
    out["one_at_a_time"] = {"requests": len(seq), "p50_ms": round(dd.percentile(seq, 50), 3),
                            "p99_ms": round(p99_seq, 3)}  # fmt: skip
    lat: list[float] = result["latencies_ms"]
    p99 = dd.percentile(lat, 99) if lat else float("nan")
    t_start, t_end = result["load_start_wall"], result["load_end_wall"]
    before = [kib for t, kib in rss if t <= t_start] or [rss[0][1]]
    during = [kib for t, kib in rss if t_start < t <= t_end] or [rss[-1][1]]
    out["load"] = {
        "sent": result["sent"], "answered": result["answered"],
        "achieved_rate": round(result["answered"] / max(result["seconds"], 1e-9), 1),
        "send_rate": round(result["sent"] / max(result["send_seconds"], 1e-9), 1),
        "p50_ms": round(dd.percentile(lat, 50), 3) if lat else None,
        "p99_ms": round(p99, 3), "max_ms": round(max(lat), 3) if lat else None,
        "errors": result["errors"], "error_statuses": result["statuses"],
        "connections_opened": result["connections_opened"],
        "stale_connection_retries": result["reconnects"],
        "send_lag_p99_ms": round(result["send_lag_p99_ms"] or 0.0, 3),
        "max_ms_per_second": result["max_ms_per_second"],
    }  # fmt: skip
    out["rss_mib"] = {
        "start": round(before[-1] / 1024, 1), "middle": round(during[len(during) // 2] / 1024, 1),
        "end": round(during[-1] / 1024, 1), "max": round(max(during) / 1024, 1),
        "samples_during_load": len(during),
    }  # fmt: skip
    out["p99_load_over_one_at_a_time"] = round(p99 / p99_seq, 2)
    out["zero_errors"] = not any(result["errors"].values())
    out["load1_end"] = dd.machine()["load1"]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
