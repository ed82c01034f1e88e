"""Progress of the demo's steps: one bar per step on a rich :class:`~rich.progress.Progress`.

Example:
    >>> steps = Steps(None)
    >>> with steps.step("quiet", "nothing shown", total=2) as advance:
    ...     advance(1, 2)
    >>> list(steps.seconds)
    ['quiet']
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.progress import Progress

__all__ = ["Advance", "Steps"]

Advance = Callable[[int, int], None]
"""Report ``(done, total)`` of the running step."""


class Steps:
    """Adds a bar per step to ``progress`` (``None``: silent) and completes it at the end.

    ``seconds`` keeps each step's wall time by key.
    """

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def step(self, key: str, label: str, total: int | None = None) -> Iterator[Advance]:
        """A step: yields a callback for ``(done, total)``; the bar completes on exit.

        ``key`` names it in :attr:`seconds`, ``label`` is shown on its bar.
        """
        started = time.perf_counter()
        try:
            with self._bar(label, total) as advance:
                yield advance
        finally:
            self.seconds[key] = round(time.perf_counter() - started, 2)

    @contextlib.contextmanager
    def _bar(self, label: str, total: int | None) -> Iterator[Advance]:
        progress = self.progress
        if progress is None:
            yield lambda _done, _total: None
            return
        task = progress.add_task(label, total=total)

        def advance(done: int, total_: int) -> None:
            progress.update(task, completed=done, total=total_)

        yield advance
        final = progress.tasks[task].total or 1
        progress.update(task, total=final, completed=final)
