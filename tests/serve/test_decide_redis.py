"""/v1/decide on the real Redis: features flow, a killed Redis degrades, recovery is automatic."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from starlette.testclient import TestClient

from marketlift.features.redis_store import RedisStore
from marketlift.features.store import write_table
from marketlift.lake import query
from marketlift.serve import DecideConfig, ServeConfig, create_app
from tests.conftest import free_port

ADMIN = "admin-key-123"
DECIDE = "decide-key-456"


def _fill(url: str, prefix: str, data: Path) -> None:
    store = RedisStore(url, prefix=prefix)
    folder = data / "features"
    write_table(store, "listing", pq.read_table(folder / "listing_features.parquet"), "listing_id")
    write_table(store, "buyer", pq.read_table(folder / "buyer_features.parquet"), "buyer")
    write_table(store, "session", pq.read_table(folder / "session_features.parquet"), "buyer")
    store.close()


def _start_redis(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail("redis-server did not start")


@pytest.fixture
def own_redis() -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A redis-server of this test's own (so the test may kill it)."""
    if shutil.which("redis-server") is None:
        message = "redis-server is not installed (apt install redis-server)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    procs = [_start_redis(port)]
    yield port, procs
    for proc in procs:
        proc.kill()
        proc.wait()


def _viewed(data: Path) -> list[str]:
    rows = query(
        data,
        "SELECT listing_id, count(*) AS n FROM events WHERE type = 'listing_view' "
        "GROUP BY 1 ORDER BY n DESC, 1 LIMIT 20",
    )
    return [r["listing_id"] for r in rows.to_pylist()]


def test_decide_reads_features_from_the_shared_redis_with_auth_and_reload(
    served: Path, tmp_path: Path, redis_url: str
) -> None:
    data = tmp_path / "data"
    shutil.copytree(served, data)
    prefix = f"test:{uuid.uuid4().hex}:"
    _fill(redis_url, prefix, data)
    decide = DecideConfig(store="redis", redis_url=redis_url, redis_prefix=prefix,
                          budget_ms=5000, reload_interval_s=0)  # fmt: skip
    config = ServeConfig(data_dir=data, decide=decide, decide_key=DECIDE, admin_key=ADMIN)
    viewed = _viewed(data)
    try:
        with TestClient(create_app(config)) as client:
            body = {"buyer_id": "b0000003", "surface": "listing", "platform": "web",
                    "context": {"listing_id": viewed[0]}}  # fmt: skip
            assert client.post("/v1/decide", json=body).status_code == 401
            client.headers["Authorization"] = f"Bearer {DECIDE}"
            answer = client.post("/v1/decide", json=body).json()
            assert answer["degraded"] is False, answer["degraded_reasons"]
            assert answer["listings"]
            ready = client.get("/readyz").json()
            assert ready["store"] == {"kind": "redis", "reachable": True, "breaker": "closed",
                                      "failures": 0, "last_error": None}  # fmt: skip
            assert client.post("/admin/reload").status_code == 401  # decide key: not admin
            reload = client.post("/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"})
            assert reload.json()["reloaded"] == []
    finally:
        RedisStore(redis_url, prefix=prefix).clear()


def test_killing_redis_degrades_within_budget_and_recovers_by_itself(
    served: Path, tmp_path: Path, own_redis: tuple[int, list[subprocess.Popen[bytes]]]
) -> None:
    port, procs = own_redis
    url = f"redis://127.0.0.1:{port}/0"
    data = tmp_path / "data"
    shutil.copytree(served, data)
    _fill(url, "t:", data)
    # generous timeout and budget: CI machines are loaded; a killed Redis refuses connections
    # at once, so the answers while it is down stay far inside even the default 25 ms
    budget_ms = 250.0
    decide = DecideConfig(
        store="redis",
        redis_url=url,
        redis_prefix="t:",
        budget_ms=budget_ms,
        store_timeout_ms=100,
        breaker_retry_s=0.2,
        reload_interval_s=0,
    )
    viewed = _viewed(data)
    body = {"buyer_id": "b0000003", "surface": "listing", "platform": "web",
            "context": {"listing_id": viewed[0]}}  # fmt: skip
    with TestClient(create_app(ServeConfig(data_dir=data, decide=decide))) as client:

        def ask(n: int) -> list[dict[str, object]]:
            out = []
            for _ in range(n):
                response = client.post("/v1/decide", json=body)
                assert response.status_code == 200
                out.append(response.json())
            return out

        before = ask(20)
        assert sum(a["degraded"] for a in before) <= 1  # a loaded machine may overrun once
        procs[0].kill()
        procs[0].wait()
        during = ask(50)
        assert all(a["degraded"] for a in during)
        assert all("features_unavailable" in a["degraded_reasons"] or
                   "engage:no_features" in a["degraded_reasons"] for a in during)  # fmt: skip
        assert all(a["listings"] for a in during)  # the popularity fallback answers
        totals = sorted(a["timings_ms"]["total"] for a in during)  # type: ignore[index]
        assert totals[len(totals) // 2] < 25.0  # the median: inside the default budget
        assert client.get("/readyz").status_code == 503
        procs.append(_start_redis(port))  # Redis is back (empty: no persistence)
        _fill(url, "t:", data)
        time.sleep(0.3)  # past breaker_retry_s: the next read is the probe
        deadline = time.monotonic() + 5
        while (last := ask(1)[0])["degraded"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not last["degraded"], last["degraded_reasons"]
        assert client.get("/readyz").status_code == 200
