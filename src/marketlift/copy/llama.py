"""A local llama.cpp provider (in process, GGUF model), behind the ``llm-local`` extra.

The runtime is ``xllamacpp``, a prebuilt CPU wheel that embeds llama.cpp's server (no compiler
at install time); the model comes from a package of the extra and is found by
:func:`~marketlift.copy.local_model.find_model` (``model_path`` to choose another file). Every
request sends the compact prompt of :mod:`marketlift.copy.local_prompt` with its JSON schema
as ``response_format`` (llama.cpp turns it into a grammar: the answer always parses), a
completion cap per touchpoint and a time limit (``timeout_s``: llama.cpp's
``t_max_predict_ms`` stops the generation, an ``asyncio`` timeout stops the wait). ``slots``
requests run at once (llama.cpp's parallel slots share the ``threads`` cores); tokens, time,
timeouts and failures add up in :attr:`LlamaCppProvider.usage`. The same server also listens
on ``http://127.0.0.1:port/v1`` when ``port`` is given, so the OpenAI-compatible client can
talk to it.

Example:
    >>> import importlib.util
    >>> importlib.util.find_spec("xllamacpp") is not None
    True
    >>> LlamaCppProvider("missing.gguf")
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: model_path == 'missing.gguf', expected an existing GGUF file.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marketlift.copy.local_model import find_model
from marketlift.copy.local_prompt import (
    LOCAL_PROMPT_VERSION,
    build_local_messages,
    max_tokens_for,
    response_schema,
)
from marketlift.copy.prompts import ProviderError, parse_parts
from marketlift.copy.request import CopyRequest, Draft
from marketlift.errors import ConfigError, MissingDependencyError

__all__ = ["LlamaCppProvider", "LocalUsage"]


@dataclass
class LocalUsage:
    """Running totals of a local provider.

    Attributes:
        requests: Drafts asked.
        failures: Drafts not produced (timeouts included).
        timeouts: Drafts stopped by ``timeout_s``.
        prompt_tokens: Prompt tokens evaluated (cached prefix tokens included).
        completion_tokens: Tokens generated.
        generation_s: Summed wall time of the calls.
        max_in_flight: Most calls in flight at once (checks the slot cap).
        cost_usd: Always 0 (kept for the reports of hosted providers).
    """

    requests: int = 0
    failures: int = 0
    timeouts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    generation_s: float = 0.0
    max_in_flight: int = 0
    cost_usd: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """The totals as a plain dict (for JSON reports)."""
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in vars(self).items()}


class LlamaCppProvider:
    """Drafts from a GGUF model run by llama.cpp (``xllamacpp``) in this process.

    Args:
        model_path: GGUF file; ``None``: the model the ``llm-local`` extra installed.
        threads: CPU threads for generation and prompt evaluation (default: the cores, at
            most 2 on this project's machines: more threads than cores slows llama.cpp down).
        slots: Requests processed at once (llama.cpp parallel slots, one context each).
        n_ctx: Context window per slot, tokens.
        max_tokens: Completion cap; ``None``: per touchpoint (:func:`max_tokens_for`).
        timeout_s: Time limit of one draft, seconds.
        temperature: Sampling temperature (0: greedy, reproducible).
        seed: Sampling seed.
        port: Also serve llama.cpp's HTTP API (OpenAI-compatible) on this port.

    Raises:
        MissingDependencyError: ``xllamacpp`` (or, without ``model_path``, a model) is
            not installed.
        ConfigError: a bad argument (the name, the value and what was expected).
    """

    name = "llama_cpp"
    prompt_version = LOCAL_PROMPT_VERSION

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        threads: int | None = None,
        slots: int = 1,
        n_ctx: int = 2048,
        max_tokens: int | None = None,
        timeout_s: float = 60.0,
        temperature: float = 0.0,
        seed: int = 0,
        port: int | None = None,
    ) -> None:
        for field, value, low in (("slots", slots, 1), ("n_ctx", n_ctx, 256)):
            if not isinstance(value, int) or value < low:
                raise ConfigError(field, value, f"an integer >= {low}")
        if threads is not None and threads < 1:
            raise ConfigError("threads", threads, "an integer >= 1 or None")
        if max_tokens is not None and max_tokens < 1:
            raise ConfigError("max_tokens", max_tokens, "an integer >= 1 or None")
        if timeout_s <= 0:
            raise ConfigError("timeout_s", timeout_s, "a number > 0")
        path = Path(model_path) if model_path is not None else find_model()
        if not path.is_file():
            raise ConfigError("model_path", str(path), "an existing GGUF file")
        try:
            import xllamacpp  # noqa: PLC0415 - optional extra, heavy native module
        except ImportError as exc:
            raise MissingDependencyError("xllamacpp", "llm-local") from exc
        self.threads = threads or max(1, min(2, os.cpu_count() or 1))
        self.slots = slots
        self.max_tokens = max_tokens
        self.timeout_s = timeout_s
        self.temperature = temperature
        self.seed = seed
        self.path = path
        self.usage = LocalUsage()
        self._model = path.stem
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = n_ctx * slots
        params.n_parallel = slots
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.warmup = False
        params.verbosity = -1
        params.log_json = False
        if port is not None:
            params.port = port
        self._server: Any = xllamacpp.Server(params)
        self.base_url = f"{self._server.listening_address}/v1" if port is not None else None
        self._semaphore: asyncio.Semaphore | None = None
        self._in_flight = 0

    @property
    def model(self) -> str:
        """The model file's stem (part of the cache key)."""
        return self._model

    def body(self, request: CopyRequest) -> dict[str, Any]:
        """The chat-completions request for ``request`` (also valid for the HTTP API)."""
        schema = {"name": request.touchpoint, "schema": response_schema(request.touchpoint)}
        return {
            "model": self._model,
            "messages": build_local_messages(request),
            "max_tokens": self.max_tokens or max_tokens_for(request.touchpoint),
            "temperature": self.temperature,
            "seed": self.seed,
            "t_max_predict_ms": int(self.timeout_s * 1000),
            "response_format": {"type": "json_schema", "json_schema": schema},
        }

    async def generate(self, request: CopyRequest) -> Draft:
        """One draft; raises ``ProviderError`` on a timeout or an unusable answer."""
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.slots)
        body = self.body(request)
        self.usage.requests += 1
        start = time.perf_counter()
        async with self._semaphore:
            self._in_flight += 1
            self.usage.max_in_flight = max(self.usage.max_in_flight, self._in_flight)
            try:
                answer = await asyncio.wait_for(
                    asyncio.to_thread(self._server.handle_chat_completions, body),
                    timeout=self.timeout_s + 1.0,
                )
            except TimeoutError as exc:
                self.usage.failures += 1
                self.usage.timeouts += 1
                raise ProviderError(
                    f"timed out after {self.timeout_s} s", latency_s=time.perf_counter() - start
                ) from exc
            finally:
                self._in_flight -= 1
        latency = time.perf_counter() - start
        self.usage.generation_s += latency
        return self._draft(request, answer, latency)

    def _draft(self, request: CopyRequest, answer: Any, latency: float) -> Draft:
        try:
            choice = answer["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            self.usage.failures += 1
            detail = answer.get("error") if isinstance(answer, dict) else answer
            raise ProviderError(f"llama.cpp answered without choices: {detail!r:.120}") from exc
        usage = answer.get("usage") or {}
        prompt = int(usage.get("prompt_tokens") or 0)
        completion = int(usage.get("completion_tokens") or 0)
        self.usage.prompt_tokens += prompt
        self.usage.completion_tokens += completion
        if (
            choice.get("finish_reason") == "length"
            or answer.get("timings", {}).get("predicted_ms", 0) >= self.timeout_s * 1000
        ):
            stopped = "the time limit" if latency >= self.timeout_s else "the token cap"
            if stopped == "the time limit":
                self.usage.timeouts += 1
            self.usage.failures += 1
            raise ProviderError(
                f"the answer was cut by {stopped}: {content[:60]!r}",
                prompt_tokens=prompt, completion_tokens=completion, latency_s=latency,
            )  # fmt: skip
        try:
            parts = parse_parts(content, request.touchpoint)
        except ProviderError as exc:
            self.usage.failures += 1
            raise ProviderError(
                str(exc), prompt_tokens=prompt, completion_tokens=completion, latency_s=latency
            ) from exc
        return Draft(parts, self.name, self.model, latency, prompt, completion)
