"""Options and output helpers shared by every ``marketlift`` command.

Every command that touches data takes ``--data DIR`` (env ``MARKETLIFT_DATA``, default
``./marketlift-data``). Commands that produce results take ``--json`` and then print exactly
one JSON document on stdout; progress and logs go to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import msgspec
import typer
from rich.console import Console

__all__ = ["DataDir", "JsonFlag", "emit_json", "fail", "stderr_console"]

DataDir = Annotated[
    Path,
    typer.Option(
        "--data",
        envvar="MARKETLIFT_DATA",
        help="The embedded data directory (lake, registry, configs).",
        file_okay=False,
        show_default=True,
    ),
]
JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print exactly one JSON document on stdout.")
]

stderr_console = Console(stderr=True)


def emit_json(document: Any) -> None:
    """Print one JSON document on stdout (msgspec handles dates, decimals and Structs)."""
    sys.stdout.write(msgspec.json.encode(document).decode() + "\n")
    sys.stdout.flush()


def fail(message: str, *, json_output: bool = False, code: int = 2) -> NoReturn:
    """Exit with a clear error: on stderr, and as ``{"error": ...}`` on stdout with ``--json``."""
    if json_output:
        emit_json({"error": message})
    stderr_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)
