"""``marketlift demo``: the loop on the embedded default, with no services needed.

1. Starts the collector (the real HTTP app) on a free local port and sends it realistic events
   over HTTP, including a retried batch and an invalid event.
2. Simulates a marketplace A/B test (never nudge vs the oracle policy) into the same lake.
3. Analyzes the experiment from the lake and writes an HTML report beside it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail, stderr_console

__all__ = ["register"]

_SIZES = {"small": (2_000, 7), "medium": (20_000, 14), "large": (100_000, 30)}


def demo_cmd(
    data: DataDir = Path("marketlift-data"),
    size: Annotated[str, typer.Option(help="small, medium or large.")] = "small",
    seed: Annotated[int, typer.Option(help="Seed of the simulation.")] = 0,
    json_output: JsonFlag = False,
) -> None:
    """Run the loop end to end on the embedded default and print a summary."""
    if size not in _SIZES:
        fail(f"--size == {size!r}, expected one of {', '.join(_SIZES)}", json_output=json_output)
    from marketlift.errors import LakeBusyError

    try:
        summary = _run(data, size, seed, quiet=json_output)
    except LakeBusyError as exc:
        fail(str(exc), json_output=json_output)
    if json_output:
        emit_json(summary)
    else:
        _print(summary)


def _run(data: Path, size: str, seed: int, *, quiet: bool) -> dict[str, Any]:
    from rich.progress import Progress

    from marketlift.experiments import analyze_lake, render_report
    from marketlift.sim import SimConfig, run_ab
    from marketlift.sim.world import FX

    buyers, days = _SIZES[size]
    summary: dict[str, Any] = {"data": str(data), "size": size}
    with Progress(console=stderr_console, transient=True, disable=quiet) as progress:
        step = progress.add_task("collector: events over HTTP", total=None)
        summary["collector"] = _collect(data)
        progress.update(step, total=1, completed=1)
        step = progress.add_task(f"simulating {buyers:,} buyers over {days} days", total=days)

        def advance(done: int, total: int, _events: int) -> None:
            progress.update(step, completed=done, total=total)

        sim = run_ab(
            SimConfig(n_buyers=buyers, n_days=days, seed=seed),
            {"control": "never", "treatment": "oracle"},
            data,
            experiment_key="demo_engagement",
            progress=advance,
        )
        step = progress.add_task("analyzing the A/B test", total=None)
        result = analyze_lake(data, "demo_engagement", control="control", unit="buyer_id", fx=FX)
        report = data / "reports" / "demo_engagement.html"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(render_report(result, title="Demo: oracle engagement vs none"))
        progress.update(step, total=1, completed=1)
    assert sim.experiment is not None
    summary["simulation"] = {
        "events": sim.events,
        "sessions": sim.sessions,
        "buyers": sim.buyers,
        "seconds": round(sim.seconds, 2),
        "session_conversion": sim.funnel.session_conversion,
        "add_to_cart_rate": sim.funnel.add_to_cart_rate,
        "cart_abandonment": sim.funnel.cart_abandonment,
    }
    metrics = {m.metric: m for m in result.metrics if m.variant == "treatment"}
    revenue = metrics.get("revenue_per_unit")
    conversion = metrics.get("conversion")
    summary["experiment"] = {
        "key": "demo_engagement",
        "srm_mismatch": result.srm.mismatch,
        "flags": list(result.flags),
        "true_revenue_lift_per_buyer": sim.experiment.true_effect.get("treatment"),
        "revenue_lift_per_buyer": None if revenue is None else revenue.effect,
        "revenue_lift_interval": None
        if revenue is None
        else [revenue.effect_lower, revenue.effect_upper],
        "conversion_lift": None if conversion is None else conversion.effect,
        "conversion_lift_interval": None
        if conversion is None
        else [conversion.effect_lower, conversion.effect_upper],
        "report": str(report),
    }
    return summary


def _collect(data: Path) -> dict[str, Any]:
    """Send sample events to a real collector over HTTP and report what it answered."""
    import httpx
    import msgspec
    import uvicorn

    from marketlift.events.samples import sample_events
    from marketlift.serve import ServeConfig, create_app

    port = _free_port()
    config = ServeConfig(data_dir=data, port=port)
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), port=port, log_level="error", lifespan="on")
    )
    events = sample_events(2000, random_state=1)
    bad = dict(events[0], event_id="demo-bad-1", platform="smart-tv")
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "requests": 0}
    with _serving(server, port):
        url = f"http://127.0.0.1:{port}/v1/events"
        batches = [events[i : i + 500] for i in range(0, 2000, 500)] + [[*events[:500], bad]]
        with httpx.Client(timeout=10) as client:
            for batch in batches:
                report = client.post(url, content=msgspec.json.encode(batch)).json()
                totals["accepted"] += report["accepted"]
                totals["duplicates"] += report["duplicates"]
                totals["rejected"] += len(report["rejected"])
                totals["requests"] += 1
    return totals


@contextlib.contextmanager
def _serving(server: Any, port: int) -> Iterator[None]:
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            msg = f"the collector did not start on port {port}"
            raise RuntimeError(msg)
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _print(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    collector = summary["collector"]
    sim = summary["simulation"]
    exp = summary["experiment"]
    table = Table(title="marketlift demo", show_header=False)
    table.add_row(
        "collector (HTTP)",
        f"{collector['accepted']:,} accepted, {collector['duplicates']:,} duplicates "
        f"(a retried batch), {collector['rejected']} rejected (see dead_letters)",
    )
    table.add_row(
        "simulation",
        f"{sim['events']:,} events, {sim['sessions']:,} sessions, {sim['buyers']:,} buyers "
        f"in {sim['seconds']} s",
    )
    table.add_row(
        "funnel",
        f"add to cart {sim['add_to_cart_rate']:.1%}, conversion {sim['session_conversion']:.2%},"
        f" cart abandonment {sim['cart_abandonment']:.1%}",
    )
    if exp["revenue_lift_per_buyer"] is not None:
        low, high = exp["revenue_lift_interval"]
        table.add_row(
            "A/B revenue per buyer",
            f"{exp['revenue_lift_per_buyer']:+.3f} [{low:+.3f}, {high:+.3f}] "
            f"(true {exp['true_revenue_lift_per_buyer']:+.3f})",
        )
    if exp["conversion_lift"] is not None:
        low, high = exp["conversion_lift_interval"]
        table.add_row("A/B conversion", f"{exp['conversion_lift']:+.4f} [{low:+.4f}, {high:+.4f}]")
    table.add_row("sample ratio", "mismatch" if exp["srm_mismatch"] else "ok")
    table.add_row("report", exp["report"])
    console = Console()
    console.print(table)
    example = '"SELECT type, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"'
    console.print(f"Try: marketlift query --data {summary['data']} {example}")


def register(app: typer.Typer) -> None:
    """Add ``demo`` to the root command."""
    app.command("demo")(demo_cmd)
