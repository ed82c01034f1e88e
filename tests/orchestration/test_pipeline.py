"""The daily loop end to end on the embedded default; reruns are idempotent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from marketlift.cli.main import app
from marketlift.errors import ConfigError
from marketlift.models.registry import Registry
from marketlift.orchestration import STEPS, StepInput, run_pipeline, run_step
from marketlift.orchestration import pipeline as pipeline_module
from marketlift.orchestration.model_steps import ranker_size
from tests.orchestration.conftest import DAY


def _copy(lake: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(lake, data)
    return data


def test_pipeline_runs_every_step_then_a_rerun_reuses_them(
    small_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _copy(small_lake, tmp_path)
    # a failure in the middle: the ranker's step breaks once
    calls = {"n": 0}
    real = STEPS["train-ranker"]

    def flaky(ctx: StepInput) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk full")
        return real(ctx)

    monkeypatch.setitem(pipeline_module.STEPS, "train-ranker", flaky)
    with pytest.raises(OSError, match="disk full"):
        run_pipeline(data, DAY)
    assert Registry(data).versions("intent") == ["v0001"]
    assert not StepInput(data, DAY).ledger_path("train-ranker").exists()

    results = run_pipeline(data, DAY)  # the rerun starts at the step that failed
    by_step = {r.step: r for r in results}
    assert [r.step for r in results] == list(STEPS)
    assert all(by_step[s].reused for s in ("compact", "features", "train-intent"))
    assert not by_step["train-ranker"].reused
    assert by_step["land"].status == by_step["reload"].status == "skipped"
    assert all(r.status == "done" for r in results if r.step not in ("land", "reload"))
    assert results[0].interval == DAY.isoformat()
    registry = Registry(data)
    assert registry.promoted("intent") == "v0001"
    assert registry.promoted("ranker") == "v0001"
    assert Registry(data).promoted("engagement") is not None  # registered by the policy step
    assert json.loads((data / "monitor" / "latest.json").read_text())["interval"] == DAY.isoformat()

    again = run_pipeline(data, DAY)
    assert all(r.reused for r in again)
    assert registry.versions("intent") == ["v0001"]  # nothing trained twice

    forced = run_step("evaluate", StepInput(data, DAY, force=True))
    assert not forced.reused
    assert forced.outputs["intent"]["pass"]


def test_cli_step_and_bad_input(
    small_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _copy(small_lake, tmp_path)
    runner = CliRunner()
    out = runner.invoke(app, ["pipeline", "step", "compact", "--data", str(data), "--json",
                              "--interval", "2026-11-02"])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["status"] == "done"
    assert (data / "pipeline" / "2026-11-02" / "compact.json").exists()
    bad = runner.invoke(app, ["pipeline", "step", "shuffle", "--data", str(data)])
    assert bad.exit_code == 2
    assert "step == 'shuffle'" in bad.output
    with pytest.raises(ConfigError, match="interval"):
        StepInput.from_strings(str(data), "yesterday")
    monkeypatch.setenv("MARKETLIFT_FEATURES_ENGINE", "pandas")
    with pytest.raises(ConfigError, match="MARKETLIFT_FEATURES_ENGINE"):
        run_step("features", StepInput(data, DAY))
    monkeypatch.setenv("MARKETLIFT_RANKER_TREES", "many")
    with pytest.raises(ConfigError, match="MARKETLIFT_RANKER_TREES"):
        ranker_size()
