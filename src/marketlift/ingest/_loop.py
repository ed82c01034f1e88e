"""An asyncio event loop on a daemon thread, for sinks that synchronous callers use."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """Runs coroutines on its own loop; :meth:`run` returns a thread-safe future.

    Example:
        >>> async def answer() -> int:
        ...     return 42
        >>> loop = LoopThread("example")
        >>> loop.run(answer()).result()
        42
        >>> loop.stop()
    """

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Schedule a coroutine on the loop."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    @property
    def closed(self) -> bool:
        """Whether :meth:`stop` has run."""
        return self.loop.is_closed()

    def stop(self) -> None:
        """Stop the loop and join the thread (idempotent)."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
