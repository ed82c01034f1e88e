"""Protocol handling of the OpenAI-compatible client against a local HTTP server.

The server (127.0.0.1, a free port) plays a scripted list of answers; every test bounds the
client's retries, so no loop is unbounded.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from marketlift.copy.batch import generate
from marketlift.copy.facts import Facts
from marketlift.copy.openai_compat import OpenAICompatibleProvider, OpenAIConfig, backoff_s
from marketlift.copy.prompts import ProviderError
from marketlift.copy.request import CopyRequest

REQUEST = CopyRequest("search_rewrite", "en-US", Facts(query="blue mug"))
GOOD = {"query": "blue mug", "expansion_1": "ceramic mug"}


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    raw: bytes | None = None


def completion(parts: dict[str, str], prompt: int = 120, done: int = 30) -> dict[str, Any]:
    return {
        "choices": [{"message": {"role": "assistant", "content": json.dumps(parts)}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": done},
    }


class FakeServer:
    def __init__(self) -> None:
        self.script: list[Answer] = []
        self.default = Answer(body=completion(GOOD))
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.times: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                with server.lock:
                    server.bodies.append(body)
                    server.headers.append(dict(self.headers))
                    server.times.append(time.monotonic())
                    answer = server.script.pop(0) if server.script else server.default
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if answer.delay_s:
                        time.sleep(answer.delay_s)
                    payload = (
                        answer.raw if answer.raw is not None else json.dumps(answer.body).encode()
                    )
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in answer.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def log_message(self, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    srv = FakeServer()
    yield srv
    srv.close()


def provider(server: FakeServer, **overrides: Any) -> OpenAICompatibleProvider:
    settings: dict[str, Any] = {
        "base_url": server.url,
        "model": "test-model",
        "api_key": "sk-test",
        "timeout_s": 2.0,
        "max_retries": 3,
        "backoff_base_s": 0.01,
        "backoff_max_s": 0.05,
        "usd_per_1k_prompt": 0.5,
        "usd_per_1k_completion": 1.5,
    }
    settings.update(overrides)
    return OpenAICompatibleProvider(OpenAIConfig(**settings), random_state=0)


def run_one(p: OpenAICompatibleProvider, request: CopyRequest = REQUEST) -> Any:
    async def go() -> Any:
        try:
            return await p.generate(request)
        finally:
            await p.aclose()

    return asyncio.run(go())


def test_success_parses_parts_and_accounts_tokens_and_cost(server: FakeServer) -> None:
    p = provider(server)
    draft = run_one(p)
    assert draft.parts == GOOD
    assert (draft.prompt_tokens, draft.completion_tokens) == (120, 30)
    assert draft.cost_usd == pytest.approx(120 * 0.5 / 1000 + 30 * 1.5 / 1000)
    assert p.usage.requests == 1
    assert p.usage.retries == 0
    assert p.usage.cost_usd == pytest.approx(draft.cost_usd)
    body, headers = server.bodies[0], server.headers[0]
    assert body["model"] == "test-model"
    assert body["response_format"] == {"type": "json_object"}
    assert headers["Authorization"] == "Bearer sk-test"
    user = json.loads(body["messages"][1]["content"])
    assert user["facts"]["query_untrusted"] == "blue mug"
    assert user["surfaces"]["query"] == 80


def test_retries_429_honouring_retry_after(server: FakeServer) -> None:
    server.script = [Answer(429, {"error": "slow down"}, {"Retry-After": "0.3"})]
    p = provider(server, backoff_max_s=1.0)
    draft = run_one(p)
    assert draft.parts == GOOD
    assert p.usage.retries == 1
    assert server.times[1] - server.times[0] >= 0.28


def test_retry_after_is_capped_by_backoff_max(server: FakeServer) -> None:
    server.script = [Answer(429, {}, {"Retry-After": "30"})]
    p = provider(server, backoff_max_s=0.1)
    start = time.monotonic()
    assert run_one(p).parts == GOOD
    assert time.monotonic() - start < 2.0


def test_retries_5xx_with_backoff_then_succeeds(server: FakeServer) -> None:
    server.script = [Answer(500, {}), Answer(503, {}), Answer(502, {})]
    p = provider(server)
    assert run_one(p).parts == GOOD
    assert p.usage.requests == 4
    assert p.usage.retries == 3


def test_gives_up_after_max_retries(server: FakeServer) -> None:
    server.script = [Answer(500, {}) for _ in range(10)]
    p = provider(server, max_retries=2)
    with pytest.raises(ProviderError, match=r"gave up after 3 attempts: HTTP 500"):
        run_one(p)
    assert len(server.bodies) == 3
    assert p.usage.failures == 1


def test_timeout_is_retried(server: FakeServer) -> None:
    server.script = [Answer(delay_s=0.6, body=completion(GOOD))]
    p = provider(server, timeout_s=0.2)
    assert run_one(p).parts == GOOD
    assert p.usage.retries == 1


def test_client_errors_are_not_retried(server: FakeServer) -> None:
    server.script = [Answer(401, {"error": "bad key"})]
    p = provider(server)
    with pytest.raises(ProviderError, match="HTTP 401"):
        run_one(p)
    assert len(server.bodies) == 1


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (Answer(raw=b"{not json"), "malformed JSON body"),
        (Answer(body={"id": "x"}), r"no choices\[0\]"),
        (Answer(body={"choices": []}), r"no choices\[0\]"),
        (Answer(body={"choices": [{"message": {"content": "Sure! Here you go"}}]}), "not JSON"),
        (Answer(body=completion({"headline": "x"})), "none of the surfaces"),
    ],
)
def test_malformed_answers_raise_without_retry(
    server: FakeServer, answer: Answer, message: str
) -> None:
    server.script = [answer]
    p = provider(server)
    with pytest.raises(ProviderError, match=message):
        run_one(p)
    assert len(server.bodies) == 1


def test_concurrency_cap_holds(server: FakeServer) -> None:
    server.default = Answer(body=completion(GOOD), delay_s=0.05)
    p = provider(server, concurrency=3)

    async def go() -> list[Any]:
        try:
            return await asyncio.gather(*(p.generate(REQUEST) for _ in range(12)))
        finally:
            await p.aclose()

    drafts = asyncio.run(go())
    assert len(drafts) == 12
    assert server.max_in_flight <= 3
    assert p.usage.max_in_flight == 3


def test_rate_limit_spaces_request_starts(server: FakeServer) -> None:
    p = provider(server, requests_per_second=20.0, concurrency=8)

    async def go() -> None:
        try:
            await asyncio.gather(*(p.generate(REQUEST) for _ in range(6)))
        finally:
            await p.aclose()

    start = time.monotonic()
    asyncio.run(go())
    assert time.monotonic() - start >= 5 / 20 - 0.01  # six starts, 1/20 s apart
    assert server.times[-1] - server.times[1] >= 4 / 20 - 0.03  # the first paid the connect


def test_backoff_is_full_jitter_and_capped() -> None:
    import random

    rng = random.Random(1)
    waits = [backoff_s(k, base_s=0.5, max_s=4.0, rng=rng) for k in range(10) for _ in range(50)]
    assert max(waits) <= 4.0
    assert min(waits) >= 0.0
    assert len({round(w, 6) for w in waits}) > 400


def test_failed_and_bad_drafts_fall_back_to_template_in_a_batch(server: FakeServer) -> None:
    server.script = [Answer(400, {"error": "x"})]
    p = provider(server, concurrency=1)
    [result] = generate([REQUEST], p, concurrency=1)
    assert result.status == "fallback"
    assert result.reasons[0].startswith("provider: HTTP 400")
    assert result.parts["query"] == "blue mug"
    assert result.model == "test-model"


def test_config_errors_name_field_value_and_rule() -> None:
    with pytest.raises(ValueError, match=r"OpenAIConfig.base_url == 'ftp://x', expected an"):
        OpenAIConfig(base_url="ftp://x", model="m")
    with pytest.raises(ValueError, match=r"OpenAIConfig.timeout_s == 0"):
        OpenAIConfig(base_url="http://x", model="m", timeout_s=0)
