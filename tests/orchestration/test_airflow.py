"""The Airflow DAG end to end: ``airflow dags test`` on a small simulated lake.

Airflow lives in its own environment (``.venv-airflow``, made by ``scripts/ensure-airflow.sh``,
which ``make test`` runs); its tasks call this environment's ``marketlift``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from marketlift.models.registry import Registry
from marketlift.orchestration import STEPS
from tests.orchestration.conftest import DAY, SMALL_RANKER

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = ROOT / ".venv-airflow" / "bin" / "airflow"
DAG_FILE = """
import sys
sys.path.insert(0, {src!r})
from marketlift.orchestration.airflow import make_dag

dag = make_dag({data!r}, marketlift={exe!r}, sensor_poke_s=1, retries=1, env={env!r})
"""


def _airflow(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env |= {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags")}  # fmt: skip
    return subprocess.run([str(AIRFLOW), *args], env=env, capture_output=True, text=True,
                          timeout=240, check=False)  # fmt: skip


@pytest.mark.timeout(300)
def test_dag_runs_the_loop_end_to_end(small_lake: Path, tmp_path: Path) -> None:
    if not AIRFLOW.exists():
        message = "Airflow is not installed (run: bash scripts/ensure-airflow.sh)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    data = tmp_path / "data"
    shutil.copytree(small_lake, data)
    home = tmp_path / "airflow"
    (home / "dags").mkdir(parents=True)
    env = dict(SMALL_RANKER) | {"PYTHONPATH": str(ROOT / "src")}
    (home / "dags" / "marketlift_daily.py").write_text(DAG_FILE.format(
        src=str(ROOT / "src"), data=str(data), exe=f"{sys.executable} -m marketlift", env=env,
    ))  # fmt: skip
    for args in (["db", "migrate"], ["dags", "reserialize"]):
        done = _airflow(home, *args)
        assert done.returncode == 0, done.stderr[-3000:]
    run = _airflow(home, "dags", "test", "marketlift_daily", DAY.isoformat())
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    ledger = data / "pipeline" / DAY.isoformat()
    assert sorted(p.stem for p in ledger.glob("*.json")) == sorted(STEPS)
    assert Registry(data).promoted("intent") is not None
    assert Registry(data).promoted("ranker") is not None
    assert (data / "monitor" / "latest.json").exists()
