"""``marketlift copy generate`` and ``marketlift copy eval``: grounded, localized copy.

Model providers read their endpoint from the environment here and only here:
``MARKETLIFT_LLM_BASE_URL``, ``MARKETLIFT_LLM_API_KEY``, ``MARKETLIFT_LLM_MODEL``.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from marketlift.cli._common import DataDir, JsonFlag, emit_json, fail, stderr_console

if TYPE_CHECKING:
    from marketlift.copy.providers import Provider

__all__ = ["app"]

app = typer.Typer(
    help="Grounded, localized copy: precompute it into the cache, evaluate providers.",
    no_args_is_help=True,
)

ProviderOpt = Annotated[
    str,
    typer.Option(
        "--provider",
        help="template (offline default), template_plain, openai, llama_cpp, replay.",
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="MARKETLIFT_LLM_BASE_URL",
        help="OpenAI-compatible API root, e.g. http://127.0.0.1:8080/v1.",
    ),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        envvar="MARKETLIFT_LLM_MODEL",
        help="Model name (openai); for llama_cpp an installed model: gemma-3-270m "
        "(default), smollm2-135m.",
    ),
]
ModelPathOpt = Annotated[
    Path | None,
    typer.Option(
        "--model-path", help="GGUF file for --provider llama_cpp (default: the installed model)."
    ),
]
ReplayOpt = Annotated[
    Path | None, typer.Option("--replay", help="JSON lines of recorded outputs (replay).")
]
ConcurrencyOpt = Annotated[
    int,
    typer.Option(
        "--concurrency",
        min=1,
        help="Requests in flight (llama_cpp: parallel slots sharing 2 threads; 2 fits 2 cores).",
    ),
]
RpsOpt = Annotated[
    float | None, typer.Option("--rps", help="Request starts per second at most (openai).")
]
TimeoutOpt = Annotated[
    float, typer.Option("--timeout-s", min=0.001, help="Timeout of one model request, seconds.")
]
RetriesOpt = Annotated[
    int, typer.Option("--max-retries", min=0, help="Retries on 429, 5xx and timeouts (openai).")
]
PriceInOpt = Annotated[
    float, typer.Option("--usd-per-1k-prompt", help="Price of 1,000 prompt tokens (openai).")
]
PriceOutOpt = Annotated[
    float, typer.Option("--usd-per-1k-completion", help="Price of 1,000 completion tokens.")
]


def _provider(
    name: str,
    *,
    base_url: str | None,
    model: str | None,
    model_path: Path | None,
    replay: Path | None,
    concurrency: int,
    rps: float | None,
    timeout_s: float,
    max_retries: int,
    usd_in: float,
    usd_out: float,
    json_output: bool,
) -> Provider:
    from marketlift.copy.providers import PROVIDERS, make_provider
    from marketlift.errors import ConfigError, MissingDependencyError

    try:
        if name == "openai":
            from marketlift.copy.openai_compat import OpenAIConfig

            if not base_url or not model:
                fail(
                    "--provider openai needs --base-url and --model (or MARKETLIFT_LLM_BASE_URL "
                    "and MARKETLIFT_LLM_MODEL)",
                    json_output=json_output,
                )
            config = OpenAIConfig(
                base_url=base_url,
                model=model,
                api_key=os.environ.get("MARKETLIFT_LLM_API_KEY"),
                concurrency=concurrency,
                requests_per_second=rps,
                timeout_s=timeout_s,
                max_retries=max_retries,
                usd_per_1k_prompt=usd_in,
                usd_per_1k_completion=usd_out,
            )
            return make_provider("openai", config=config)
        if name == "llama_cpp":
            from marketlift.copy.local_model import find_model

            path = model_path if model_path is not None else find_model(model)
            return make_provider(
                "llama_cpp", model_path=path, slots=concurrency, timeout_s=timeout_s
            )
        if name == "replay":
            if replay is None:
                fail("--provider replay needs --replay FILE.jsonl", json_output=json_output)
            return make_provider("replay", path=replay)
        if name == "template_plain":
            from marketlift.copy.template import TemplateProvider

            return TemplateProvider(plain=True)
        if name not in PROVIDERS:
            fail(
                f"--provider == {name!r}, expected one of {', '.join(PROVIDERS)}",
                json_output=json_output,
            )
        return make_provider(name)
    except (ConfigError, MissingDependencyError, OSError) as exc:
        fail(str(exc), json_output=json_output)


def _rows(data: Path, listings: Path | None, json_output: bool) -> list[dict[str, Any]]:
    import pyarrow as pa

    if listings is not None:
        if not listings.is_file():
            fail(
                f"--listings == '{listings}', expected an existing Parquet or CSV file",
                json_output=json_output,
            )
        if listings.suffix.lower() == ".csv":
            import pyarrow.csv as pacsv

            table: pa.Table = pacsv.read_csv(listings)
        else:
            import pyarrow.parquet as pq

            table = pq.read_table(listings)
        return list(table.to_pylist())
    from marketlift.catalog import wide_listings
    from marketlift.copy.sources import FX

    table = wide_listings(data, FX)
    if table.num_rows == 0:
        fail(
            f"no listings under {data}: load them with `marketlift catalog load FILE --data "
            f"{data}` (or `marketlift simulate --data {data}`) or pass --listings FILE",
            json_output=json_output,
        )
    return list(table.to_pylist())


def _split(value: str, name: str, allowed: tuple[str, ...], json_output: bool) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        fail(
            f"{name} == {value!r}, expected a comma-separated list of {', '.join(allowed)}",
            json_output=json_output,
        )
    return items


@app.command("generate")
def generate_cmd(
    touchpoint: Annotated[
        str,
        typer.Option(
            "--touchpoint", help="nudge, highlights, review_summary, search_rewrite or translation."
        ),
    ],
    data: DataDir = Path("marketlift-data"),
    locales: Annotated[str, typer.Option("--locales", help="Comma-separated locales.")] = (
        "en-US,en-GB,de-DE,fr-FR,es-ES,it-IT,nl-NL,ja-JP"
    ),
    provider: ProviderOpt = "template",
    concurrency: ConcurrencyOpt = 8,
    actions: Annotated[
        str, typer.Option("--actions", help="Nudge actions, comma-separated.")
    ] = "cart_reminder,price_drop,free_shipping,similar_items,review_highlight,discount_coupon",
    listings: Annotated[
        Path | None,
        typer.Option(
            "--listings",
            help="Listings table (Parquet or CSV); default: "
            "the lake's listing catalog under --data.",
        ),
    ] = None,
    queries: Annotated[
        Path | None,
        typer.Option(
            "--queries", help="Search queries, one per line (--touchpoint search_rewrite)."
        ),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="First N listings.")] = None,
    discount_pct: Annotated[int, typer.Option(min=1, max=99, help="Coupon percent.")] = 10,
    price_drop_pct: Annotated[int, typer.Option(min=1, max=99, help="Price drop percent.")] = 5,
    expires: Annotated[
        str | None,
        typer.Option(help="Last day of the coupon offer (YYYY-MM-DD); none: copy names no date."),
    ] = None,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    model_path: ModelPathOpt = None,
    replay: ReplayOpt = None,
    rps: RpsOpt = None,
    timeout_s: TimeoutOpt = 20.0,
    max_retries: RetriesOpt = 4,
    usd_per_1k_prompt: PriceInOpt = 0.0,
    usd_per_1k_completion: PriceOutOpt = 0.0,
    json_output: JsonFlag = False,
) -> None:
    """Precompute guarded copy into DATA/copy/cache.sqlite (progress bar on stderr).

    Example: marketlift copy generate --data DIR --touchpoint nudge --locales de-DE,ja-JP --json
    """
    import datetime as dt
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from marketlift.copy.batch import generate
    from marketlift.copy.cache import CopyCache, cache_key
    from marketlift.copy.facts import facts_hash
    from marketlift.copy.request import CopyRequest
    from marketlift.copy.sources import listing_facts_from_rows, query_requests, requests_for
    from marketlift.copy.touchpoints import ACTIONS, LOCALES, TOUCHPOINTS

    _split(touchpoint, "--touchpoint", TOUCHPOINTS, json_output)
    locale_list = _split(locales, "--locales", LOCALES, json_output)
    action_list = _split(actions, "--actions", ACTIONS, json_output)
    try:
        expires_on = dt.date.fromisoformat(expires) if expires else None
    except ValueError:
        fail(f"--expires == {expires!r}, expected a date YYYY-MM-DD", json_output=json_output)
    requests: list[CopyRequest] = []
    if touchpoint == "search_rewrite":
        if queries is None or not queries.is_file():
            fail(
                "--touchpoint search_rewrite needs --queries FILE (one query per line)",
                json_output=json_output,
            )
        lines = queries.read_text(encoding="utf-8").splitlines()[:limit]
        for locale in locale_list:
            requests += query_requests(lines, locale)
    else:
        rows = _rows(data, listings, json_output)[:limit]
        for locale in locale_list:
            facts = listing_facts_from_rows(rows, locale)
            requests += requests_for(
                touchpoint,
                facts,
                locale,
                actions=action_list,
                discount_pct=discount_pct,
                price_drop_pct=price_drop_pct,
                expires=expires_on,
            )
    chosen = _provider(
        provider,
        base_url=base_url,
        model=model,
        model_path=model_path,
        replay=replay,
        concurrency=concurrency,
        rps=rps,
        timeout_s=timeout_s,
        max_retries=max_retries,
        usd_in=usd_per_1k_prompt,
        usd_out=usd_per_1k_completion,
        json_output=json_output,
    )
    start = time.perf_counter()
    with CopyCache(data) as cache:
        hits = sum(
            cache.get(
                cache_key(
                    r.touchpoint, chosen.prompt_version, facts_hash(r.facts), r.locale, chosen.model
                )
            )
            is not None
            for r in requests
        )
        bar = Progress(
            TextColumn(f"copy {touchpoint}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=stderr_console,
            transient=json_output,
        )
        try:
            with bar:
                task = bar.add_task("generate", total=len(requests))
                results = generate(
                    requests,
                    chosen,
                    cache=cache,
                    concurrency=concurrency,
                    progress=lambda n: bar.advance(task, n),
                    flush_every=500 if chosen.name == "template" else 1,
                )
        except KeyboardInterrupt:
            stderr_console.print(
                f"interrupted: {len(cache)} results in {cache.path}; "
                "run the same command again to resume"
            )
            raise typer.Exit(130) from None
        rows_in_cache = len(cache)
    seconds = time.perf_counter() - start
    reasons: Counter[str] = Counter(
        reason.split(":", 1)[0] for r in results if r.status == "fallback" for reason in r.reasons
    )
    usage = getattr(chosen, "usage", None)
    document = {
        "touchpoint": touchpoint,
        "locales": locale_list,
        "provider": chosen.name,
        "model": chosen.model,
        "prompt_version": chosen.prompt_version,
        "requests": len(requests),
        "cache_hits": hits,
        "generated": len(requests) - hits,
        "ok": sum(r.status == "ok" for r in results),
        "fallback": sum(r.status == "fallback" for r in results),
        "fallback_reasons": dict(reasons),
        "cache": str(cache.path),
        "cache_rows": rows_in_cache,
        "seconds": round(seconds, 3),
        "outputs_per_second": round(len(requests) / seconds, 1) if seconds else None,
        "usage": usage.as_dict() if usage is not None else None,
    }
    if json_output:
        emit_json(document)
    else:
        typer.echo(", ".join(f"{k} {v}" for k, v in document.items() if k != "usage"))


@app.command("eval")
def eval_cmd(
    provider: ProviderOpt = "template",
    listings: Annotated[
        int,
        typer.Option(
            "--listings",
            min=1,
            help="Simulated listings in the test set "
            "(each yields about 80 requests over the 8 locales).",
        ),
    ] = 10,
    seed: Annotated[int, typer.Option(help="Seed of the simulated world.")] = 0,
    concurrency: ConcurrencyOpt = 8,
    base_url: BaseUrlOpt = None,
    model: ModelOpt = None,
    model_path: ModelPathOpt = None,
    replay: ReplayOpt = None,
    rps: RpsOpt = None,
    timeout_s: TimeoutOpt = 20.0,
    max_retries: RetriesOpt = 4,
    usd_per_1k_prompt: PriceInOpt = 0.0,
    usd_per_1k_completion: PriceOutOpt = 0.0,
    sample_n: Annotated[
        int | None,
        typer.Option(
            "--sample",
            min=1,
            help="Evaluate N requests spread over every locale and touchpoint "
            "(a slow local model), plus their injected copies.",
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Faithfulness, length, locale, injection resistance, latency and cost of a provider.

    ``--provider llama_cpp,template`` evaluates both on the same requests and prints them
    side by side (``comparison``: one row per metric and locale, and where the first loses).

    Also measures the guards (planted hallucinations caught, valid outputs rejected).
    Example: marketlift copy eval --provider template --json
    """
    import msgspec

    from marketlift.copy.evaluate import compare, evaluate, guard_report, sample
    from marketlift.sim.copy_testset import build_requests

    names = [v.strip() for v in provider.split(",") if v.strip()]
    if not names or len(set(names)) != len(names):
        fail(
            f"--provider == {provider!r}, expected one provider or a comma-separated list "
            "of different providers",
            json_output=json_output,
        )
    requests = build_requests(listings, seed)
    if sample_n is not None:
        requests = sample(requests, sample_n)
    reports = []
    for name in names:
        chosen = _provider(
            name,
            base_url=base_url,
            model=model,
            model_path=model_path,
            replay=replay,
            concurrency=concurrency,
            rps=rps,
            timeout_s=timeout_s,
            max_retries=max_retries,
            usd_in=usd_per_1k_prompt,
            usd_out=usd_per_1k_completion,
            json_output=json_output,
        )
        with stderr_console.status(f"evaluating {name} on {len(requests)} requests (x2)"):
            reports.append(evaluate(chosen, requests, concurrency=concurrency))
    guards = guard_report(requests)
    document: dict[str, Any] = {"provider": msgspec.to_builtins(reports[0])}
    if len(reports) > 1:
        document["providers"] = [msgspec.to_builtins(r) for r in reports]
        document["comparison"] = compare(reports)
    document["guards"] = msgspec.to_builtins(guards)
    if json_output:
        emit_json(document)
        return
    if len(reports) > 1:
        table = document["comparison"]
        typer.echo("metric".ljust(34) + "".join(c.ljust(22) for c in table["columns"]))
        for metric, values in table["rows"].items():
            typer.echo(metric.ljust(34) + "".join(f"{v:<22g}" for v in values))
        for line in table["losses"]:
            typer.echo(f"- {line}")
        return
    for section, values in document.items():
        typer.echo(f"[{section}]")
        for key, value in values.items():
            typer.echo(f"  {key}: {value}")
