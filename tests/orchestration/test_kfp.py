"""The KFP pipeline: compiled to its YAML document, then run with the local subprocess runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from marketlift.models.registry import Registry
from marketlift.orchestration import STEPS
from marketlift.orchestration.kfp import compile_pipeline, run_local
from tests.orchestration.conftest import DAY

pytest.importorskip("kfp")


def test_compiled_document_chains_every_step(tmp_path: Path) -> None:
    doc = yaml.safe_load(compile_pipeline(tmp_path / "daily.yaml").read_text())
    tasks = doc["root"]["dag"]["tasks"]
    assert len(tasks) == len(STEPS)
    order = {t["taskInfo"]["name"]: t.get("dependentTasks", []) for t in tasks.values()}
    assert sorted(order) == sorted(STEPS)
    names = {key: t["taskInfo"]["name"] for key, t in tasks.items()}
    for key, task in tasks.items():
        deps = [names[d] for d in task.get("dependentTasks", [])]
        index = list(STEPS).index(names[key])
        assert deps == ([list(STEPS)[index - 1]] if index else [])


def test_local_runner_runs_the_loop(small_lake: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(small_lake, data)
    run_local(data, DAY.isoformat(), root=str(tmp_path / "kfp"))
    assert sorted(p.stem for p in (data / "pipeline" / DAY.isoformat()).glob("*.json")) == sorted(
        STEPS
    )
    assert Registry(data).promoted("intent") is not None
    assert Registry(data).promoted("engagement") is not None  # registered by the policy step
