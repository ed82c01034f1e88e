"""Slow clients are dropped: header and body read timeouts on a real uvicorn (issue 21.11)."""

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from marketlift.errors import ConfigError
from marketlift.serve import ServeConfig, create_app
from marketlift.serve.config import HttpConfig
from marketlift.serve.connections import uvicorn_config
from tests.conftest import free_port

TIMEOUT = 0.6


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServeConfig]:
    http = HttpConfig(header_timeout_s=TIMEOUT, body_timeout_s=TIMEOUT, keep_alive_s=1)
    config = ServeConfig(data_dir=tmp_path, port=free_port(), http=http)
    srv = uvicorn.Server(uvicorn_config(create_app(config), config, log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    yield config
    srv.should_exit = True
    thread.join(timeout=20)


def _trickle(port: int, head: bytes, step: bytes, seconds: float = 5.0) -> tuple[float, bytes]:
    """Send ``head``, then ``step`` every 50 ms; return when the server closed, and its answer."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(0.05)
        sock.sendall(head)
        answer = b""
        while time.monotonic() - started < seconds:
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                chunk = None
            if chunk == b"":
                return time.monotonic() - started, answer
            if chunk:
                answer += chunk
            try:
                sock.sendall(step)
            except (BrokenPipeError, ConnectionResetError):
                return time.monotonic() - started, answer
    return time.monotonic() - started, answer


def test_a_client_sending_headers_slowly_is_dropped(server: ServeConfig) -> None:
    took, answer = _trickle(server.port, b"POST /v1/events HTTP/1.1\r\nHost: x\r\n", b"X-A: b\r\n")
    assert took < TIMEOUT + 1.5, f"a slow header sender kept its connection for {took:.1f} s"
    assert answer.startswith(b"HTTP/1.1 408")
    assert b"headers did not arrive within 0.6 s" in answer


def test_a_client_sending_the_body_slowly_is_dropped(server: ServeConfig) -> None:
    head = b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n[{"
    took, _answer = _trickle(server.port, head, b" ")
    assert took < TIMEOUT + 1.5, f"a slow body sender kept its connection for {took:.1f} s"


def test_slow_sockets_do_not_stay_open_and_others_are_served(server: ServeConfig) -> None:
    sockets = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(50)]
    try:
        for sock in sockets:
            sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # never finished
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}") as client:
            for _ in range(3):  # kept alive across requests
                assert client.get("/healthz").status_code == 200
        time.sleep(TIMEOUT + 0.5)
        for sock in sockets:
            sock.settimeout(1.0)
            assert sock.recv(4096).startswith(b"HTTP/1.1 408")
            assert sock.recv(4096) == b""  # closed
    finally:
        for sock in sockets:
            sock.close()


def test_http_limits_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"http\.header_timeout_s == 0"):
        HttpConfig(header_timeout_s=0)
    with pytest.raises(ConfigError, match=r"http\.limit_concurrency == 0"):
        HttpConfig(limit_concurrency=0)
