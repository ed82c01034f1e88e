"""The ``marketlift train`` group: one shared Typer app that command modules add commands to.

Other modules register their trainers here (``train_app.command("uplift")(...)`` in
:mod:`marketlift.cli.policy_cmd`; intent and ranker trainers in their own modules), and
:mod:`marketlift.cli.main` mounts it once as ``train``.
"""

from __future__ import annotations

import typer

__all__ = ["train_app"]

train_app = typer.Typer(
    help="Train models: uplift (and other trainers registered by their modules).",
    no_args_is_help=True,
)
