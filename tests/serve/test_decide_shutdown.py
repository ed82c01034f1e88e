"""SIGTERM drains in-flight decisions and writes every queued decision before the exit."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from marketlift.lake import query
from tests.conftest import free_port


def test_sigterm_drains_requests_and_writes_the_decision_log(served: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(served, data)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "marketlift", "serve", "--data", str(data), "--port", str(port),
         "--budget-ms", "5000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        answers: list[str] = []
        errors: list[str] = []
        stop = threading.Event()

        def load(k: int) -> None:
            with httpx.Client(base_url=url, timeout=10) as client:
                i = 0
                while not stop.is_set():
                    body = {"buyer_id": f"b{k}{i:06d}", "surface": "home", "platform": "web"}
                    try:
                        r = client.post("/v1/decide", json=body)
                    except httpx.TransportError:
                        return  # the server stopped accepting: expected after SIGTERM
                    if r.status_code == 200:
                        answers.append(r.json()["decision_id"])
                    else:
                        errors.append(f"{r.status_code} {r.text[:200]}")
                    i += 1

        threads = [threading.Thread(target=load, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        time.sleep(1.5)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        stop.set()
        for t in threads:
            t.join(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode in (0, -signal.SIGTERM), (
        proc.stderr.read().decode() if proc.stderr else ""
    )
    assert errors == []
    assert len(answers) > 10
    logged = query(data, "SELECT decision_id FROM events WHERE type = 'decision'").to_pylist()
    # every answered decision was written before the process exited
    assert set(answers) <= {r["decision_id"] for r in logged}
