"""A local llama.cpp provider (in process, GGUF model file), behind the ``llm-local`` extra.

Install with ``pip install 'marketlift[llm-local]'``; without ``llama-cpp-python`` the
constructor raises :class:`~marketlift.errors.MissingDependencyError` naming the extra. The
prompt and the answer parsing are those of the OpenAI-compatible client, so both are guarded
alike. For a llama.cpp *server*, use :class:`~marketlift.copy.openai_compat.
OpenAICompatibleProvider` with its URL instead.

Example:
    >>> import importlib.util
    >>> if importlib.util.find_spec("llama_cpp") is None:
    ...     try:
    ...         LlamaCppProvider("model.gguf")
    ...     except ImportError as exc:
    ...         print(exc)
    ... else:
    ...     print("'llama-cpp-python' is not installed; install it with: pip install "
    ...           "'marketlift[llm-local]'")
    'llama-cpp-python' is not installed; install it with: pip install 'marketlift[llm-local]'
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from marketlift.copy.prompts import PROMPT_VERSION, ProviderError, build_messages, parse_parts
from marketlift.copy.request import CopyRequest, Draft
from marketlift.errors import ConfigError, MissingDependencyError

__all__ = ["LlamaCppProvider"]


class LlamaCppProvider:
    """Drafts from a GGUF model run by ``llama-cpp-python`` in this process.

    Args:
        model_path: Path of the GGUF file.
        n_ctx: Context window.
        n_threads: CPU threads (``None``: llama.cpp's default).
        prompt_version: Which prompt to send (part of the cache key).
        max_tokens: Completion token cap.
        temperature: Sampling temperature.
    """

    name = "llama_cpp"

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        prompt_version: str = PROMPT_VERSION,
        max_tokens: int = 400,
        temperature: float = 0.2,
    ) -> None:
        try:
            import llama_cpp  # noqa: PLC0415 - optional extra
        except ImportError as exc:
            raise MissingDependencyError("llama-cpp-python", "llm-local") from exc
        path = Path(model_path)
        if not path.is_file():
            raise ConfigError("model_path", str(path), "an existing GGUF file")
        self.prompt_version = prompt_version
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._model = path.stem
        self._llm: Any = llama_cpp.Llama(
            model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False
        )
        self._lock = asyncio.Lock()

    @property
    def model(self) -> str:
        """The model file's stem."""
        return self._model

    async def generate(self, request: CopyRequest) -> Draft:
        """One draft (calls run one at a time: a llama.cpp context is not reentrant)."""
        start = time.perf_counter()
        async with self._lock:
            answer = await asyncio.to_thread(
                self._llm.create_chat_completion,
                messages=build_messages(request, self.prompt_version),
                response_format={"type": "json_object"},
                max_tokens=self.max_tokens,
                temperature=self.temperature,
            )
        try:
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ProviderError("llama.cpp answered without choices") from exc
        usage = answer.get("usage") or {}
        parts = parse_parts(content, request.touchpoint)
        return Draft(
            parts, self.name, self.model, time.perf_counter() - start,
            int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0),
        )  # fmt: skip
