"""Same seed, same lake; another seed, another lake; a rerun stores nothing twice."""

from __future__ import annotations

from pathlib import Path

from marketlift.lake import query
from marketlift.sim import SimConfig, read_truth, simulate

_ALL = "SELECT * FROM events ORDER BY event_id"


def test_same_seed_same_lake_and_truth(tmp_path: Path) -> None:
    config = SimConfig(n_buyers=500, n_days=2, seed=21)
    first = simulate(config, tmp_path / "a")
    second = simulate(config, tmp_path / "b")
    assert first.events == second.events > 0
    assert query(tmp_path / "a", _ALL).equals(query(tmp_path / "b", _ALL))
    for table in ("sim_truth_decisions", "sim_truth_sessions", "sim_buyers", "sim_listings"):
        a = read_truth(tmp_path / "a", table).sort_by([("run", "ascending")])
        b = read_truth(tmp_path / "b", table).sort_by([("run", "ascending")])
        assert a.equals(b), table


def test_another_seed_another_lake(tmp_path: Path) -> None:
    simulate(SimConfig(n_buyers=500, n_days=2, seed=21), tmp_path / "a")
    simulate(SimConfig(n_buyers=500, n_days=2, seed=22), tmp_path / "b")
    ids = "SELECT event_id FROM events"
    a = set(query(tmp_path / "a", ids).column("event_id").to_pylist())
    b = set(query(tmp_path / "b", ids).column("event_id").to_pylist())
    assert not a & b
    queries = "SELECT query, count(*) AS n FROM events WHERE type = 'search' GROUP BY 1 ORDER BY 1"
    assert not query(tmp_path / "a", queries).equals(query(tmp_path / "b", queries))


def test_rerun_of_the_same_seed_is_exactly_once(tmp_path: Path) -> None:
    config = SimConfig(n_buyers=400, n_days=2, seed=4)
    first = simulate(config, tmp_path)
    again = simulate(config, tmp_path)
    assert (again.written, again.duplicates) == (0, first.events)
    count = query(tmp_path, "SELECT count(*) AS n FROM events").column("n")[0].as_py()
    assert count == first.events
