"""Fuzz POST /v1/decide from its OpenAPI document: no generated request may get a 5xx.

A small version of ``benchmarks/decide_fuzz.py``: ``marketlift serve`` runs as a subprocess on
a small served data directory and ``schemathesis run`` (its command line) sends about 150
cases (the document's examples, boundary and invalid values, property-based cases) with the
``not_a_server_error`` check. The answers are also counted by status from schemathesis'
NDJSON event stream, so a 5xx fails the test even if the check were not run.
"""

from __future__ import annotations

import collections
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.serve.served import make_served_data

pytestmark = pytest.mark.slow

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``marketlift serve`` on a small served data directory; yields its URL and log file."""
    folder = tmp_path_factory.mktemp("fuzz")
    data = make_served_data(folder / "data", n_buyers=400, n_days=3)
    log = folder / "server.log"
    port = _free_port()
    cmd = [sys.executable, "-m", "marketlift", "serve", "--data", str(data),
           "--port", str(port), "--reload-interval", "0", "--budget-ms", "5000"]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.2)
        yield url, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.skipif(shutil.which(str(SCHEMATHESIS)) is None, reason="schemathesis not installed")
@pytest.mark.timeout(240)
def test_fuzzed_decide_requests_never_get_a_server_error(
    server: tuple[str, Path], tmp_path: Path
) -> None:
    url, log = server
    cmd = [str(SCHEMATHESIS), "run", f"{url}/openapi.json", "--checks", "not_a_server_error",
           "--include-path", "/v1/decide", "--max-examples", "60", "--workers", "1",
           "--phases", "examples,coverage,fuzzing", "--seed", "7", "--continue-on-failure",
           "--request-timeout", "30", "--suppress-health-check", "all",
           "--report", "ndjson", "--report-dir", str(tmp_path)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=200, check=False)
    streams = sorted(tmp_path.glob("ndjson-*.ndjson"))
    assert streams, done.stdout[-3000:] + done.stderr[-3000:]
    statuses: collections.Counter[int] = collections.Counter()
    server_errors = []
    for line in streams[-1].read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        for interaction in (finished.get("recorder") or {}).get("interactions", {}).values():
            response = interaction.get("response") or {}
            status = response.get("status_code")
            if status is None:
                continue
            statuses[int(status)] += 1
            if int(status) >= 500:
                server_errors.append((interaction.get("request"), response.get("content")))
    total = sum(statuses.values())
    assert not server_errors, (
        f"{len(server_errors)} server errors; first: {server_errors[0]}\n"
        f"server log:\n{log.read_text()[-5000:]}"
    )
    assert done.returncode == 0, done.stdout[-5000:]
    assert total >= 100, (total, dict(statuses))
    assert statuses[200] > 0, dict(statuses)  # valid cases were generated
    assert statuses[422] > 0, dict(statuses)  # and invalid ones
    print(f"fuzz: {total} requests, statuses {dict(sorted(statuses.items()))}")
