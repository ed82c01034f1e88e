"""What every step takes (:class:`StepInput`) and returns (:class:`StepResult`), and the ledger.

A step is idempotent for its data interval: its result is recorded in
``DATA/pipeline/<interval>/<step>.json`` when it succeeds, and a rerun of the same step and
interval returns that record (``skipped: true``) without doing the work again, unless forced.
A step that fails records nothing, so a rerun does it again; each step writes its outputs
atomically (registry versions, Parquet files, the policy file), so a half-done step leaves no
half-written output behind.

Example:
    >>> import datetime as dt, tempfile
    >>> ctx = StepInput(tempfile.mkdtemp(), dt.date(2026, 11, 7))
    >>> ctx.ledger_path("compact").relative_to(ctx.data_dir).as_posix()
    'pipeline/2026-11-07/compact.json'
    >>> StepInput.from_strings(ctx.data_dir, "2026-11-07").end.isoformat()
    '2026-11-08T00:00:00+00:00'
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from marketlift.errors import ConfigError

__all__ = ["StepInput", "StepResult", "read_result", "write_result"]


@dataclasses.dataclass(frozen=True, slots=True)
class StepInput:
    """The input of every step: where the data is and which day it is for.

    Attributes:
        data_dir: The data directory (lake, features, registry, policies).
        interval: The data interval: one UTC day.
        seed: Seed of the model fits (``random_state``).
        force: Do the step again even when the ledger says it is done.
    """

    data_dir: Path | str
    interval: dt.date
    seed: int = 0
    force: bool = False

    def __post_init__(self) -> None:
        """Check the fields."""
        if not isinstance(self.interval, dt.date) or isinstance(self.interval, dt.datetime):
            raise ConfigError("interval", self.interval, "a date (one UTC day)")
        if not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError("seed", self.seed, "an integer >= 0")

    @classmethod
    def from_strings(
        cls, data_dir: str, interval: str, seed: int = 0, *, force: bool = False
    ) -> StepInput:
        """Build from the strings an orchestrator passes (``interval`` as ``YYYY-MM-DD``)."""
        try:
            day = dt.date.fromisoformat(interval[:10])
        except ValueError:
            raise ConfigError("interval", interval, "a day as YYYY-MM-DD") from None
        return cls(data_dir, day, seed, force)

    @property
    def start(self) -> dt.datetime:
        """The interval's start (UTC midnight)."""
        return dt.datetime.combine(self.interval, dt.time(), dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """The interval's end (exclusive): the next UTC midnight."""
        return self.start + dt.timedelta(days=1)

    def ledger_path(self, step: str) -> Path:
        """Where the step's result for this interval is recorded."""
        return Path(self.data_dir) / "pipeline" / self.interval.isoformat() / f"{step}.json"


@dataclasses.dataclass(frozen=True, slots=True)
class StepResult:
    """What a step did.

    Attributes:
        step: The step's name.
        interval: The data interval (``YYYY-MM-DD``).
        status: ``done``, ``skipped`` (nothing to do, with ``reason``) or ``failed_gate``.
        outputs: What it wrote or measured (JSON-ready), read by later steps.
        seconds: Wall time.
        reused: True when a rerun returned the recorded result instead of redoing the step.
        reason: Why it was skipped.
    """

    step: str
    interval: str
    status: str = "done"
    outputs: dict[str, Any] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    reused: bool = False
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dataclasses.asdict(self)


def read_result(ctx: StepInput, step: str) -> StepResult | None:
    """The recorded result of ``step`` for the interval, or ``None``."""
    path = ctx.ledger_path(step)
    if not path.exists():
        return None
    doc = json.loads(path.read_text())
    return StepResult(**doc)


def write_result(ctx: StepInput, result: StepResult) -> None:
    """Record ``result`` atomically (write a temporary file, then rename it)."""
    path = ctx.ledger_path(result.step)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result.to_dict(), indent=1, default=str))
    tmp.replace(path)
