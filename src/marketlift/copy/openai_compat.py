"""An OpenAI-compatible chat-completions client: hosted APIs, vLLM, llama.cpp's server.

It handles the protocol for you: a timeout per request, retries on 429, 5xx, timeouts and
connection errors with exponential backoff and full jitter (a ``Retry-After`` header wins,
capped), a concurrency cap, a requests-per-second limit, and token and cost accounting in
:class:`Usage`. A malformed answer (not JSON, no ``choices``, no surfaces) raises
:class:`~marketlift.copy.prompts.ProviderError` without a retry; the batch layer then serves
the template output with the reason recorded. Configuration is passed in; only the CLI reads
the environment (``MARKETLIFT_LLM_BASE_URL``, ``MARKETLIFT_LLM_API_KEY``,
``MARKETLIFT_LLM_MODEL``).

Example:
    >>> config = OpenAIConfig(base_url="http://127.0.0.1:8000/v1", model="qwen2.5-1.5b")
    >>> config.url
    'http://127.0.0.1:8000/v1/chat/completions'
    >>> OpenAIConfig(base_url="http://x/v1", model="m", concurrency=0)
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: OpenAIConfig.concurrency == 0, expected an integer >= 1.
    >>> backoff_s(3, base_s=0.5, max_s=8.0, rng=random.Random(0)) <= 4.0
    True
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx

from marketlift.copy.prompts import PROMPT_VERSION, ProviderError, build_messages, parse_parts
from marketlift.copy.request import CopyRequest, Draft
from marketlift.errors import ConfigError

__all__ = ["OpenAICompatibleProvider", "OpenAIConfig", "RateLimiter", "Usage", "backoff_s"]


@dataclass(frozen=True)
class OpenAIConfig:
    """How to reach an OpenAI-compatible endpoint.

    Attributes:
        base_url: API root, e.g. ``https://api.openai.com/v1`` or ``http://127.0.0.1:8080/v1``.
        model: Model name sent with every request (part of the cache key).
        api_key: Bearer token; ``None`` for local servers without auth.
        timeout_s: Timeout of one HTTP request, seconds.
        max_retries: Retries after the first attempt (429, 5xx, timeouts, connection errors).
        backoff_base_s: First backoff; attempt ``k`` waits up to ``base * 2**k`` (full jitter).
        backoff_max_s: Cap of any wait, ``Retry-After`` included.
        concurrency: Requests in flight at most.
        requests_per_second: Request starts per second at most (``None``: unlimited).
        usd_per_1k_prompt: Price of 1,000 prompt tokens, US dollars.
        usd_per_1k_completion: Price of 1,000 completion tokens, US dollars.
        temperature: Sampling temperature.
        max_tokens: Completion token cap.
        json_mode: Send ``response_format: {"type": "json_object"}``.
    """

    base_url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 20.0
    max_retries: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 20.0
    concurrency: int = 8
    requests_per_second: float | None = None
    usd_per_1k_prompt: float = 0.0
    usd_per_1k_completion: float = 0.0
    temperature: float = 0.2
    max_tokens: int = 400
    json_mode: bool = True

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError("OpenAIConfig.base_url", self.base_url, "an http(s) URL")
        if not self.model:
            raise ConfigError("OpenAIConfig.model", self.model, "a model name")
        if self.concurrency < 1:
            raise ConfigError("OpenAIConfig.concurrency", self.concurrency, "an integer >= 1")
        if self.max_retries < 0:
            raise ConfigError("OpenAIConfig.max_retries", self.max_retries, "an integer >= 0")
        if self.timeout_s <= 0:
            raise ConfigError("OpenAIConfig.timeout_s", self.timeout_s, "a number > 0")
        if self.requests_per_second is not None and self.requests_per_second <= 0:
            raise ConfigError("OpenAIConfig.requests_per_second", self.requests_per_second,
                              "a number > 0 or None")  # fmt: skip

    @property
    def url(self) -> str:
        """The chat-completions URL."""
        return self.base_url.rstrip("/") + "/chat/completions"


@dataclass
class Usage:
    """Running totals of one provider (one event loop; no locking needed).

    Attributes:
        requests: HTTP requests sent (retries included).
        retries: Requests that were retries.
        failures: Drafts that could not be produced.
        prompt_tokens: Prompt tokens reported by the server.
        completion_tokens: Completion tokens reported by the server.
        cost_usd: Cost of those tokens.
        max_in_flight: Most requests in flight at once (checks the concurrency cap).
    """

    requests: int = 0
    retries: int = 0
    failures: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    max_in_flight: int = 0

    def as_dict(self) -> dict[str, float]:
        """The totals as a plain dict (for JSON reports)."""
        return dataclasses.asdict(self)


def backoff_s(attempt: int, *, base_s: float, max_s: float, rng: random.Random) -> float:
    """Full-jitter exponential backoff: uniform in ``[0, min(max_s, base_s * 2**attempt)]``."""
    return rng.uniform(0.0, min(max_s, base_s * 2.0**attempt))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())


class RateLimiter:
    """Spaces request starts at least ``1 / rate`` seconds apart (``None``: no limit).

    Example:
        >>> async def starts():
        ...     limiter, t0 = RateLimiter(50.0), time.monotonic()
        ...     for _ in range(5):
        ...         await limiter.acquire()
        ...     return time.monotonic() - t0
        >>> asyncio.run(starts()) >= 0.079
        True
    """

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self._next = 0.0
        self._lock: asyncio.Lock | None = None

    async def acquire(self) -> None:
        """Wait for the next free start slot."""
        if self.rate is None:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            now = time.monotonic()
            wait = self._next - now
            self._next = max(now, self._next) + 1.0 / self.rate
        if wait > 0:
            await asyncio.sleep(wait)


class OpenAICompatibleProvider:
    """Drafts from an OpenAI-compatible ``/chat/completions`` endpoint.

    Args:
        config: Where and how to call.
        prompt_version: Which prompt to send (part of the cache key).
        random_state: Seed of the backoff jitter.
        transport: An ``httpx`` transport (tests, proxies); ``None`` for the default.
    """

    name = "openai"

    def __init__(
        self,
        config: OpenAIConfig,
        *,
        prompt_version: str = PROMPT_VERSION,
        random_state: int | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.prompt_version = prompt_version
        self.usage = Usage()
        self._rng = random.Random(random_state)  # noqa: S311 - jitter, not secrets
        self._transport = transport
        self._limiter = RateLimiter(config.requests_per_second)
        self._client: httpx.AsyncClient | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._in_flight = 0
        self._sleep = asyncio.sleep

    @property
    def model(self) -> str:
        """The configured model."""
        return self.config.model

    def _ensure(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        if self._client is None or self._semaphore is None:
            headers = {"Content-Type": "application/json"}
            if self.config.api_key:
                headers["Authorization"] = f"Bearer {self.config.api_key}"
            limits = httpx.Limits(max_connections=self.config.concurrency)
            self._client = httpx.AsyncClient(
                headers=headers, timeout=self.config.timeout_s, limits=limits,
                transport=self._transport,
            )  # fmt: skip
            self._semaphore = asyncio.Semaphore(self.config.concurrency)
        return self._client, self._semaphore

    async def aclose(self) -> None:
        """Close the HTTP client (call once the batch is done)."""
        if self._client is not None:
            await self._client.aclose()
        self._client, self._semaphore = None, None

    def _body(self, request: CopyRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": build_messages(request, self.prompt_version),
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        }
        if self.config.json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    async def _post(self, body: dict[str, Any]) -> httpx.Response:
        client, semaphore = self._ensure()
        async with semaphore:
            self._in_flight += 1
            self.usage.max_in_flight = max(self.usage.max_in_flight, self._in_flight)
            try:
                return await client.post(self.config.url, json=body)
            finally:
                self._in_flight -= 1

    async def generate(self, request: CopyRequest) -> Draft:
        """One draft, with retries; raises ``ProviderError`` when every attempt failed."""
        body = self._body(request)
        start = time.perf_counter()
        last = "no attempt"
        for attempt in range(self.config.max_retries + 1):
            if attempt:
                self.usage.retries += 1
            await self._limiter.acquire()
            self.usage.requests += 1
            wait: float | None = None
            try:
                response = await self._post(body)
            except httpx.TimeoutException:
                last = f"timed out after {self.config.timeout_s} s"
            except httpx.TransportError as exc:
                last = f"connection failed: {exc.__class__.__name__}"
            else:
                status = response.status_code
                if status == 429 or status >= 500:
                    last = f"HTTP {status}"
                    wait = _retry_after(response)
                elif status >= 400:
                    self.usage.failures += 1
                    raise ProviderError(f"HTTP {status}: {response.text[:200]}")
                else:
                    return self._draft(request, response, time.perf_counter() - start)
            if attempt < self.config.max_retries:
                cfg = self.config
                if wait is None:
                    wait = backoff_s(
                        attempt, base_s=cfg.backoff_base_s, max_s=cfg.backoff_max_s, rng=self._rng
                    )
                await self._sleep(min(wait, cfg.backoff_max_s))
        self.usage.failures += 1
        raise ProviderError(f"gave up after {self.config.max_retries + 1} attempts: {last}")

    def _draft(self, request: CopyRequest, response: httpx.Response, latency: float) -> Draft:
        try:
            data = response.json()
        except ValueError as exc:
            self.usage.failures += 1
            raise ProviderError(f"malformed JSON body: {response.text[:80]!r}") from exc
        try:
            choices = data["choices"]
            content = choices[0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            self.usage.failures += 1
            raise ProviderError("the response has no choices[0].message.content") from exc
        usage = data.get("usage") or {}
        prompt = int(usage.get("prompt_tokens") or 0)
        completion = int(usage.get("completion_tokens") or 0)
        cost = (prompt * self.config.usd_per_1k_prompt
                + completion * self.config.usd_per_1k_completion) / 1000.0  # fmt: skip
        self.usage.prompt_tokens += prompt
        self.usage.completion_tokens += completion
        self.usage.cost_usd += cost
        try:
            parts = parse_parts(content, request.touchpoint)
        except ProviderError:
            self.usage.failures += 1
            raise
        return Draft(parts, self.name, self.model, latency, prompt, completion, cost)
