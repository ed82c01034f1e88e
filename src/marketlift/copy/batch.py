"""Batch generation: provider, guards, template fallback, cache.

For every request: look the key up in the cache; on a miss ask the provider, check the draft
with :func:`~marketlift.copy.guards.check`, and serve the template output instead when the
provider failed or any guard objected (status ``fallback``, the reasons recorded). Results are
cached under the *asked* provider's model and prompt version, so the decision API finds them
for that variant whatever happened.

Example:
    >>> from marketlift.copy.facts import Facts
    >>> from marketlift.copy.replay import ReplayProvider, request_key
    >>> from marketlift.copy.request import CopyRequest
    >>> request = CopyRequest("search_rewrite", "en-US", Facts(query="blue mug"))
    >>> bad = ReplayProvider({request_key(request): {"query": "blue mug 50% off today only"}})
    >>> [result] = generate([request], bad)
    >>> result.status, result.parts["query"], result.reasons[0]
    ('fallback', 'blue mug', 'percent: query: 50% is not in the terms')
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from marketlift.copy.cache import CopyCache, cache_key
from marketlift.copy.facts import facts_hash
from marketlift.copy.guards import check
from marketlift.copy.prompts import ProviderError
from marketlift.copy.providers import Provider
from marketlift.copy.request import CopyRequest, CopyResult, Draft
from marketlift.copy.template import render

__all__ = ["Progress", "agenerate", "generate", "guarded"]

Progress = Callable[[int], None]
"""Called with the number of requests just finished (a progress bar's ``advance``)."""


def guarded(
    request: CopyRequest,
    draft: Draft | None,
    *,
    model: str,
    prompt_version: str,
    error: str | None = None,
    spent: ProviderError | None = None,
) -> CopyResult:
    """The servable result of a draft: the draft if every guard passes, else the template.

    Without a draft, ``spent`` (the provider's error) carries the tokens and time the failed
    call still cost, so the result accounts for them.
    """
    fh = facts_hash(request.facts)
    key = cache_key(request.touchpoint, prompt_version, fh, request.locale, model)
    if draft is not None:
        violations = check(request, draft.parts)
        if not violations:
            return CopyResult(
                key, request.touchpoint, request.locale, request.action, draft.parts,
                draft.provider, model, prompt_version, fh, "ok", (),
                draft.latency_s * 1000, draft.prompt_tokens, draft.completion_tokens,
                draft.cost_usd,
            )  # fmt: skip
        reasons = tuple(str(v) for v in violations)
    else:
        reasons = (f"provider: {error}",)
    start = time.perf_counter()
    parts = render(request)
    spent_s = draft.latency_s if draft else (spent.latency_s if spent else 0.0)
    latency = spent_s + time.perf_counter() - start
    if draft is not None:
        tokens: tuple[int, int, float] = (
            draft.prompt_tokens, draft.completion_tokens, draft.cost_usd,
        )  # fmt: skip
    elif spent is not None:
        tokens = (spent.prompt_tokens, spent.completion_tokens, 0.0)
    else:
        tokens = (0, 0, 0.0)
    return CopyResult(
        key, request.touchpoint, request.locale, request.action, parts, "template", model,
        prompt_version, fh, "fallback", reasons, latency * 1000, *tokens,
    )  # fmt: skip


async def agenerate(
    requests: Sequence[CopyRequest],
    provider: Provider,
    *,
    cache: CopyCache | None = None,
    concurrency: int = 8,
    progress: Progress | None = None,
    flush_every: int = 500,
) -> list[CopyResult]:
    """Generate (or read from ``cache``) guarded copy for ``requests``, in order.

    ``concurrency`` workers pull requests; cached results are reused; new results are written
    to ``cache`` every ``flush_every`` results and at the end.
    """
    results: list[CopyResult | None] = [None] * len(requests)
    pending: list[CopyResult] = []
    model, version = provider.model, provider.prompt_version
    queue = iter(range(len(requests)))

    def flush() -> None:
        if cache is not None and pending:
            cache.put_many(pending)
        pending.clear()

    async def worker() -> None:
        for i in queue:
            request = requests[i]
            key = cache_key(request.touchpoint, version, facts_hash(request.facts),
                            request.locale, model)  # fmt: skip
            hit = cache.get(key) if cache is not None else None
            if hit is not None:
                results[i] = hit
            else:
                try:
                    draft: Draft | None = await provider.generate(request)
                    error = None
                    spent: ProviderError | None = None
                except ProviderError as exc:
                    draft, error, spent = None, str(exc), exc
                result = guarded(request, draft, model=model, prompt_version=version,
                                 error=error, spent=spent)  # fmt: skip
                results[i] = result
                pending.append(result)
                if len(pending) >= flush_every:
                    flush()
            if progress is not None:
                progress(1)

    try:
        await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    finally:  # an interruption keeps what was generated: a rerun resumes from the cache
        flush()
    return [r for r in results if r is not None]


def generate(
    requests: Sequence[CopyRequest],
    provider: Provider,
    *,
    cache: CopyCache | None = None,
    concurrency: int = 8,
    progress: Progress | None = None,
    flush_every: int = 500,
) -> list[CopyResult]:
    """Synchronous :func:`agenerate` (runs its own event loop; closes HTTP clients).

    A slow model should flush often (``flush_every=1``): what reached the cache before an
    interruption (Ctrl-C, a crash) is not generated again by the next run.
    """

    async def run() -> list[CopyResult]:
        try:
            return await agenerate(
                requests, provider, cache=cache, concurrency=concurrency, progress=progress,
                flush_every=flush_every,
            )  # fmt: skip
        finally:
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()

    return asyncio.run(run())
