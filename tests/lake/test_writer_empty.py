"""Batches rejected whole write no incoming file; compaction of nothing is a no-op."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from marketlift.lake.writer import _partition_order
from tests.conftest import free_port


def test_partition_order_of_an_empty_table() -> None:
    empty = pa.table({"date": pa.array([], pa.date32()), "type": pa.array([], pa.string())})
    order, runs = _partition_order(empty, ("date", "type"))
    assert len(order) == 0
    assert runs == []


def test_rejected_batches_leave_no_empty_files_and_compaction_goes_on(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from marketlift.serve import ServeConfig, create_app

    config = ServeConfig(data_dir=tmp_path, port=free_port())
    with TestClient(create_app(config)) as client:
        for _ in range(4):
            assert client.post("/v1/events", json=[{}]).status_code == 422
    incoming = list((tmp_path / "lake").rglob("incoming/*.parquet"))
    events_incoming = [p for p in incoming if "/events/" in str(p)]
    assert events_incoming == []  # only the dead letters were written
    dead = [p for p in incoming if "dead_letters" in str(p)]
    import pyarrow.parquet as pq

    assert all(pq.read_metadata(p).num_rows > 0 for p in dead)
