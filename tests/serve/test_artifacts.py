"""Corrupt artifacts and registry state never take the server down (issue 21, items 2 to 4).

The compiled-binary cases run the watcher in a child process: before the checksums and the
probe, LLVM's ``abort()`` killed the process that loaded a damaged binary, so a test in this
process could only have died with it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from starlette.testclient import TestClient

from marketlift.models.compiled import lleaves_available
from marketlift.models.registry import CorruptArtifactError, Registry, RegistryError
from marketlift.models.training import register_intent, train_intent
from marketlift.serve import ServeConfig, create_app
from marketlift.serve.config import DecideConfig
from marketlift.serve.resources import ModelWatcher

ADMIN = "admin-key-123"
needs_lleaves = pytest.mark.skipif(not lleaves_available(), reason="lleaves not installed")


def _table(seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=600)
    return pa.table({"x": x, "device": rng.choice(["ios", "web"], 600),
                     "bought": x + rng.normal(size=600) > 1.0})  # fmt: skip


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Intent v0001 and v0002 (compiled when lleaves is installed), v0001 then v0002 promoted."""
    data = tmp_path_factory.mktemp("artifacts") / "data"
    for seed in (1, 2):
        register_intent(data, train_intent(_table(seed), label="bought", n_estimators=5))
    registry = Registry(data)
    registry.promote("intent", "v0001")
    registry.promote("intent", "v0002")
    return data


@pytest.fixture
def data(models: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(models, target)
    return target


def _corrupt(path: Path, how: str) -> None:
    body = path.read_bytes()
    if how == "random":
        path.write_bytes(np.random.default_rng(7).bytes(max(len(body), 64)))
    elif how == "truncated":
        path.write_bytes(body[: len(body) // 2])
    elif how == "sections":  # the header intact, bytes in the middle (the sections) damaged
        middle = len(body) // 2
        path.write_bytes(body[:middle] + bytes(b ^ 0xFF for b in body[middle:]))
    elif how == "emptied":
        path.write_bytes(b"")
    else:
        path.unlink()


_CHILD = """
import json, sys
from pathlib import Path
from marketlift.models.registry import Registry
from marketlift.serve.resources import ModelWatcher
from tests.serve.test_artifacts import _corrupt
data = Path(sys.argv[1])
watcher = ModelWatcher(data)
steps = [{"served": watcher.current.versions()["intent"], "problems": dict(watcher.problems)}]
for how in sys.argv[2:]:  # a version promoted while serving, corrupt in one way after another
    _corrupt(data / "models/intent/v0002/model.compiled", how)
    Registry(data).promote("intent", "v0002")
    watcher.check(); watcher.check()
    steps.append({"served": watcher.current.versions()["intent"],
                  "problems": dict(watcher.problems), "errors": len(watcher.errors)})
print(json.dumps(steps))
"""


def _child(data: Path, *modes: str) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(data), *modes],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"the serving process died ({done.returncode}): {done.stderr}"
    result: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@needs_lleaves
def test_a_corrupt_compiled_binary_is_refused_while_the_last_good_one_serves(
    data: Path,
) -> None:
    Registry(data).rollback("intent")  # serve v0001; the child promotes v0002 again
    modes = ("sections", "random", "truncated")
    first, *after = _child(data, *modes)
    assert first["served"] == "v0001"
    for k, step in enumerate(after, start=1):
        assert step["served"] == "v0001", modes[k - 1]
        assert "model.compiled of intent v0002 is corrupt" in step["problems"]["intent"]
        assert "serving v0001" in step["problems"]["intent"]
        assert step["errors"] == k  # two checks each, one load: the same files are not retried


@needs_lleaves
def test_a_binary_no_checksum_vouches_for_is_probed_in_a_child_process(data: Path) -> None:
    folder = data / "models" / "intent" / "v0002"
    meta = json.loads((folder / "meta.json").read_text())
    del meta["checksums"]  # as registered before checksums were recorded
    (folder / "meta.json").write_text(json.dumps(meta))
    _corrupt(folder / "model.compiled", "random")
    (got,) = _child(data)  # a start with the broken version promoted
    assert got["served"] == "v0001"  # the earlier promoted version
    problem = got["problems"]["intent"]
    assert "probe in a child process: killed by signal 6" in problem
    assert "serving the earlier promoted v0001" in problem


@pytest.mark.parametrize("artifact", ["model.txt", "meta.json", "model.compiled"])
@pytest.mark.parametrize("how", ["random", "truncated", "deleted"])
def test_a_start_with_the_promoted_version_corrupt_serves_the_earlier_one_degraded(
    data: Path, artifact: str, how: str
) -> None:
    path = data / "models" / "intent" / "v0002" / artifact
    if not path.exists():
        pytest.skip("no compiled binary without lleaves")
    _corrupt(path, how)
    watcher = ModelWatcher(data)
    assert watcher.current.versions()["intent"] == "v0001"
    assert "promoted intent v0002 could not be loaded" in watcher.problems["intent"]
    with _client(data) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        assert ready.json()["models"]["intent"] == "v0001"


def _client(data: Path) -> TestClient:
    decide = DecideConfig(reload_interval_s=0, budget_ms=5000)
    return TestClient(create_app(ServeConfig(data_dir=data, admin_key=ADMIN, decide=decide)))


def test_in_place_corruption_of_the_serving_version_is_noticed_and_readiness_degrades(
    data: Path,
) -> None:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    with _client(data) as client:
        assert client.get("/readyz").json()["status"] == "ready"
        _corrupt(data / "models" / "intent" / "v0002" / "model.txt", "truncated")
        reload = client.post("/admin/reload", headers=admin)
        assert reload.status_code == 200
        ready = client.get("/readyz").json()
        assert ready["status"] == "degraded"
        assert ready["models"]["intent"] == "v0002"  # the copy in memory keeps serving
        assert "changed on disk" in ready["problems"]["intent"]
        assert "model.txt of intent v0002 is corrupt" in ready["problems"]["intent"]
    # a restart: checksums are checked at load, the earlier version serves, readiness says so
    with _client(data) as client:
        ready = client.get("/readyz").json()
        assert ready["status"] == "degraded"
        assert ready["models"]["intent"] == "v0001"


def test_a_broken_state_json_is_reported_and_serving_goes_on(data: Path) -> None:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    state = data / "models" / "intent" / "state.json"
    with _client(data) as client:
        for broken in (b'{"promoted": "v00', b"\xff\xfe", b"[]", b'{"promoted": "../x"}', b""):
            state.write_bytes(broken)
            reload = client.post("/admin/reload", headers=admin)
            assert reload.status_code == 200, broken
            status = client.get("/admin/status", headers=admin).json()
            assert status["models"]["intent"] == "v0002"
            assert "state.json of intent" in status["problems"]["intent"]
            assert client.get("/readyz").json()["status"] == "degraded"
    state.write_bytes(b"{")
    with _client(data) as client:  # a start with it broken: the latest version that loads
        ready = client.get("/readyz").json()
        assert (ready["status"], ready["models"]["intent"]) == ("degraded", "v0002")
        assert "serving the latest v0002" in ready["problems"]["intent"]
        Registry(data).promote("intent", "v0002")  # promoting rewrites it
        client.post("/admin/reload", headers=admin)
        assert client.get("/admin/status", headers=admin).json()["problems"] == {}
        assert client.get("/readyz").json()["status"] == "ready"


def test_registry_names_unreadable_files_and_records_checksums(data: Path) -> None:
    registry = Registry(data)
    version = registry.get("intent", "v0002")
    assert set(version.meta["checksums"]) >= {"model.txt"}
    assert version.verify() is True
    (data / "models" / "intent" / "state.json").write_text("{")
    with pytest.raises(RegistryError, match=r"state.json of intent .* cannot be read"):
        registry.promoted("intent")
    (version.path / "meta.json").write_text("not json")
    with pytest.raises(RegistryError, match=r"meta.json of intent v0002 .* cannot be read"):
        registry.get("intent", "v0002")
    good = registry.get("intent", "v0001")
    (good.path / "model.txt").unlink()
    with pytest.raises(CorruptArtifactError, match=r"model\.txt of intent v0001 cannot be read"):
        good.verify()
    assert not list(registry.root.glob("intent/.*tmp*"))  # no temporary file left behind
