"""A provider that replays recorded outputs (offline evaluation of a model's answers).

Record a model's outputs once (``request_key`` -> parts) as JSON lines, then evaluate the
guards, the fallback and the metrics on them any number of times without the model.

Example:
    >>> from marketlift.copy.facts import Facts
    >>> from marketlift.copy.request import CopyRequest
    >>> request = CopyRequest("search_rewrite", "es-ES", Facts(query="taza azul"))
    >>> provider = ReplayProvider({request_key(request): {"query": "taza azul"}})
    >>> import asyncio; asyncio.run(provider.generate(request)).parts
    {'query': 'taza azul'}
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

import msgspec

from marketlift.copy.facts import facts_hash
from marketlift.copy.prompts import PROMPT_VERSION, ProviderError
from marketlift.copy.request import CopyRequest, Draft

__all__ = ["ReplayProvider", "request_key"]


def request_key(request: CopyRequest) -> str:
    """``touchpoint|locale|facts_hash``: what a recorded output answers."""
    return f"{request.touchpoint}|{request.locale}|{facts_hash(request.facts)}"


class ReplayProvider:
    """Answers from a mapping of :func:`request_key` to parts.

    Args:
        outputs: Recorded parts per request key.
        model: The model that wrote them (part of the cache key).
        prompt_version: The prompt they answered.
    """

    name = "replay"

    def __init__(
        self,
        outputs: Mapping[str, Mapping[str, str]],
        *,
        model: str = "replay",
        prompt_version: str = PROMPT_VERSION,
    ) -> None:
        self.outputs = {k: dict(v) for k, v in outputs.items()}
        self.model = model
        self.prompt_version = prompt_version

    @classmethod
    def from_jsonl(cls, path: str | Path, *, model: str = "replay") -> ReplayProvider:
        """Load ``{"key": ..., "parts": {...}}`` lines."""
        outputs = {}
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = msgspec.json.decode(line)
                outputs[row["key"]] = row["parts"]
        return cls(outputs, model=model)

    async def generate(self, request: CopyRequest) -> Draft:
        """The recorded parts; ``ProviderError`` when none were recorded."""
        start = time.perf_counter()
        parts = self.outputs.get(request_key(request))
        if parts is None:
            raise ProviderError(f"no recorded output for {request_key(request)}")
        return Draft(dict(parts), self.name, self.model, time.perf_counter() - start)
