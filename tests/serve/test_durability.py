"""kill -9 under sustained ingestion loses no acknowledged event and duplicates none."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from marketlift.events.samples import sample_events
from marketlift.lake import LakeLayout, query
from tests.conftest import free_port

pytestmark = pytest.mark.slow


class Server:
    def __init__(self, data: Path, workers: int = 1) -> None:
        self.data = data
        self.workers = workers
        self.tmp = data / "tmp"  # the writer socket folders of --workers go here
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "marketlift",
                "serve",
                "--data",
                str(self.data),
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "TMPDIR": str(self.tmp)},
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"the server did not start: {self.proc.stderr}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        # Workers die with their parent: nothing may keep answering on the port.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/healthz", timeout=0.5)
            except httpx.TransportError:
                return
            time.sleep(0.1)
        raise AssertionError("something still answers on the port after kill -9")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


@pytest.fixture(params=[1, 2], ids=["one-process", "two-workers"])
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    srv = Server(tmp_path, workers=request.param)
    srv.start()
    yield srv
    srv.stop()


def test_kill_9_loses_no_acknowledged_event(server: Server) -> None:
    events = sample_events(40_000, random_state=41, buyers=5000)
    batches = [events[i : i + 200] for i in range(0, len(events), 200)]
    acked: list[str] = []
    sent_bodies: list[bytes] = []
    lock = threading.Lock()
    stop = threading.Event()

    def pump(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            for n, batch in enumerate(batches[worker::2]):
                if stop.is_set():
                    return
                body = msgspec.json.encode(batch)
                try:
                    response = client.post("/v1/events", content=body)
                    if n % 5 == 4:  # a client retrying a batch it already sent
                        response = client.post("/v1/events", content=body)
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    with lock:
                        acked.extend(e["event_id"] for e in batch)
                        sent_bodies.append(body)

    workers = [threading.Thread(target=pump, args=(w,)) for w in range(2)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 20
    while len(acked) < 6000 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill9()
    stop.set()
    for w in workers:
        w.join()
    assert len(acked) >= 6000, "the load did not get going before the kill"

    _restart_cleans_the_socket_folder(server)
    stored = query(server.data, "SELECT event_id, count(*) AS n FROM events GROUP BY 1").to_pylist()
    counts = {r["event_id"]: r["n"] for r in stored}
    missing = set(acked) - counts.keys()
    assert not missing, f"{len(missing)} acknowledged events were lost"
    assert max(counts.values()) == 1, "an event was stored twice"
    # The id index was rebuilt from disk: every acknowledged batch is now a duplicate.
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for body in sent_bodies[:10]:
            report = client.post("/v1/events", content=body).json()
            assert report["accepted"] == 0
            assert report["duplicates"] == 200
    server.stop()
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status shows it.
    assert server.proc is not None
    assert server.proc.returncode in (0, -signal.SIGTERM)
    assert server.proc.stderr is not None
    assert b"Traceback" not in server.proc.stderr.read()
    # A graceful stop compacts: no incoming file is live any more.
    live = LakeLayout(server.data).live_files("events")
    assert live
    assert not [f for f in live if "incoming" in f.as_posix()]
    assert len(query(server.data, "SELECT event_id FROM events")) == len(counts)


def _restart_cleans_the_socket_folder(server: Server) -> None:
    """Start again after kill -9: the new server removes the socket folder left (issue 21.16)."""
    left = sorted(server.tmp.glob("marketlift-*"))
    assert len(left) == (1 if server.workers > 1 else 0)  # kill -9 left the socket folder
    server.start()  # same data directory, a new process
    if server.workers > 1:
        assert not [f for f in left if f.exists()]
        assert len(list(server.tmp.glob("marketlift-writer-*"))) == 1


@pytest.mark.parametrize("server", [1], indirect=True, ids=["one-process"])
def test_pid_file_names_the_holder(server: Server) -> None:
    lock = (server.data / ".writer.lock").read_text()
    assert server.proc is not None
    assert lock == str(server.proc.pid)
    result = subprocess.run(
        [sys.executable, "-m", "marketlift", "compact", "--data", str(server.data), "--json"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ},
    )
    assert result.returncode == 2
    assert f"pid {server.proc.pid}" in msgspec.json.decode(result.stdout)["error"]
