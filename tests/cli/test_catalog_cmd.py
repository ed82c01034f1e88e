"""``marketlift catalog load / show / schema``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from marketlift.cli.main import app

runner = CliRunner()
CSV = (
    "listing_id,title,category,price,currency,updated_at\n"
    "L-1,Mug,ceramics,24.90,EUR,2026-11-20T10:00:00Z\n"
    "L-1,Mug,ceramics,19.90,EUR,2026-11-25T10:00:00Z\n"
    "L-2,Vase,ceramics,-1,EUR,2026-11-20T10:00:00Z\n"
)


def test_load_then_show_at(tmp_path: Path) -> None:
    path = tmp_path / "shop.csv"
    path.write_text(CSV)
    data = str(tmp_path / "data")
    loaded = runner.invoke(app, ["catalog", "load", str(path), "--data", data, "--json"])
    assert loaded.exit_code == 0, loaded.output
    report = json.loads(loaded.stdout)
    assert (report["accepted"], report["rejected_count"]) == (2, 1)
    assert report["rejected"][0]["errors"][0] == {
        "field": "price", "value": "-1",
        "expected": "a non-negative decimal string such as '24.90' (at most 13+6 digits)",
    }  # fmt: skip
    then = runner.invoke(app, ["catalog", "show", "L-1", "--data", data,
                               "--at", "2026-11-21T00:00:00Z"])  # fmt: skip
    assert json.loads(then.stdout)["price"] == {"amount": "24.90", "currency": "EUR"}
    now = runner.invoke(app, ["catalog", "show", "L-1", "--data", data])
    assert json.loads(now.stdout)["price"]["amount"] == "19.90"
    missing = runner.invoke(app, ["catalog", "show", "L-2", "--data", data])
    assert missing.exit_code == 1
    assert "listing_id == 'L-2'" in missing.output
    naive = runner.invoke(app, ["catalog", "show", "L-1", "--data", data, "--at", "2026-11-21"])
    assert naive.exit_code == 2
    assert "--at == '2026-11-21'" in naive.output


def test_schema_is_json_schema() -> None:
    result = runner.invoke(app, ["catalog", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["$id"].endswith("/listings/v1.json")
