"""``marketlift copy generate`` and ``marketlift copy eval``."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.copy.cache import CopyCache

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
