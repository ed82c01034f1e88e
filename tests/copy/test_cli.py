"""``marketlift copy generate`` and ``marketlift copy eval``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.copy.batch import generate
from marketlift.copy.cache import CopyCache
from marketlift.copy.request import CopyRequest, Draft
from marketlift.copy.sources import listing_facts_from_rows, requests_for
from marketlift.copy.template import TemplateProvider

runner = CliRunner()


def listings_csv(path: Path) -> Path:
    rows = [
        {
            "listing_id": f"l{i}",
            "title_en": title,
            "price_usd_cents": 1500 + 100 * i,
            "shipping_usd_cents": 0 if i % 2 else 450,
            "stock": i + 1,
            "review_count": 3 * i,
            "rating": 4.5,
            "category": "ceramics",
        }
        for i, title in enumerate(
            [
                "Rustic ceramic mug in blue",
                "Boho linen cushion in cream",
                "Vintage ceramic vase in black",
            ]
        )
    ]
    file = path / "listings.csv"
    with file.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return file


def test_generate_fills_the_cache_and_reports_json(tmp_path: Path) -> None:
    file = listings_csv(tmp_path)
    args = [
        "copy",
        "generate",
        "--data",
        str(tmp_path / "d"),
        "--touchpoint",
        "nudge",
        "--locales",
        "de-DE,ja-JP",
        "--listings",
        str(file),
        "--expires",
        "2026-12-03",
        "--json",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["requests"] == 3 * 6 * 2 == document["ok"] == document["generated"]
    assert document["cache_rows"] == 36
    assert document["fallback"] == 0
    again = json.loads(runner.invoke(app, args).stdout)
    assert again["cache_hits"] == 36
    assert again["generated"] == 0
    with CopyCache(tmp_path / "d", readonly=True) as cache:
        assert len(cache) == 36
    bad = runner.invoke(app, [*args[:-3], "--expires", "3 Dec", "--json"])
    assert "--expires == '3 Dec', expected a date" in json.loads(bad.stdout)["error"]
    bad = runner.invoke(app, [*args[:-3], "--expires", "3 Dec", "--json"])
    assert "--expires == '3 Dec', expected a date" in json.loads(bad.stdout)["error"]


def test_generate_search_rewrites_from_a_query_file(tmp_path: Path) -> None:
    queries = tmp_path / "queries.txt"
    queries.write_text("blaue Tasse\n\nLeinen Kissen\n", encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "copy",
            "generate",
            "--data",
            str(tmp_path),
            "--touchpoint",
            "search_rewrite",
            "--locales",
            "de-DE",
            "--queries",
            str(queries),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["requests"] == 2


def test_generate_errors_are_clear(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["copy", "generate", "--data", str(tmp_path), "--touchpoint", "banner", "--json"]
    )
    assert result.exit_code == 2
    assert "--touchpoint == 'banner', expected" in json.loads(result.stdout)["error"]
    result = runner.invoke(
        app, ["copy", "generate", "--data", str(tmp_path), "--touchpoint", "highlights", "--json"]
    )
    assert "load them with `marketlift catalog load FILE" in json.loads(result.stdout)["error"]
    result = runner.invoke(
        app,
        [
            "copy",
            "generate",
            "--data",
            str(tmp_path),
            "--touchpoint",
            "highlights",
            "--listings",
            str(listings_csv(tmp_path)),
            "--provider",
            "openai",
            "--json",
        ],
        env={"MARKETLIFT_LLM_BASE_URL": "", "MARKETLIFT_LLM_MODEL": ""},
    )
    assert "--provider openai needs --base-url and --model" in json.loads(result.stdout)["error"]


def test_eval_reports_one_json_document() -> None:
    result = runner.invoke(
        app, ["copy", "eval", "--provider", "template", "--listings", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    provider, guards = document["provider"], document["guards"]
    assert provider["faithfulness_rate"] == provider["injection_resistance"] == 1.0
    assert provider["outputs"] == 160
    assert guards["catch_rate"] == 1.0
    assert guards["false_rejection_rate"] == 0.0


class _Interrupted(TemplateProvider):
    """The template provider, stopped by Ctrl-C after ``after`` drafts (a long batch cut)."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    async def generate(self, request: CopyRequest) -> Draft:
        if self.after == 0:
            raise KeyboardInterrupt
        self.after -= 1
        return await super().generate(request)


def test_an_interrupted_generate_resumes_from_the_cache(tmp_path: Path) -> None:
    file = listings_csv(tmp_path)
    rows = list(pacsv.read_csv(file).to_pylist())
    requests = requests_for("highlights", listing_facts_from_rows(rows, "fr-FR"), "fr-FR")
    with CopyCache(tmp_path) as cache, pytest.raises(KeyboardInterrupt):
        generate(requests, _Interrupted(after=2), cache=cache, concurrency=1, flush_every=1)
    with CopyCache(tmp_path, readonly=True) as cache:
        assert len(cache) == 2  # what was done before the interruption was kept
    args = ["copy", "generate", "--data", str(tmp_path), "--touchpoint", "highlights",
            "--locales", "fr-FR", "--listings", str(file), "--json"]  # fmt: skip
    document = json.loads(runner.invoke(app, args).stdout)
    assert document["requests"] == 3
    assert document["cache_hits"] == 2
    assert document["generated"] == 1


def test_eval_compares_providers_side_by_side() -> None:
    args = ["copy", "eval", "--provider", "template,template_plain", "--listings", "1",
            "--sample", "10", "--json"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    first, second = document["providers"]
    assert first["outputs"] == second["outputs"] == 20  # 10 requests and their injections
    table = document["comparison"]
    assert table["columns"] == ["template/tpl-1", "template/tpl-1-plain"]
    assert table["rows"]["injection_resistance"] == [1.0, 1.0]
    assert set(first["by_locale"]) == {"de-DE", "en-GB", "en-US", "es-ES", "fr-FR", "it-IT",
                                       "ja-JP", "nl-NL"}  # fmt: skip
    assert "locale_correctness[ja-JP]" in table["rows"]
    text = runner.invoke(app, args[:-1]).stdout
    assert "locale_correctness[de-DE]" in text
    bad = runner.invoke(app, ["copy", "eval", "--provider", "template,template", "--json"])
    assert "--provider == 'template,template', expected" in json.loads(bad.stdout)["error"]


def test_llama_cpp_names_a_wrong_model() -> None:
    args = ["copy", "eval", "--provider", "llama_cpp", "--model", "gpt-9", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert "model == 'gpt-9', expected one of gemma-3-270m" in json.loads(result.stdout)["error"]
