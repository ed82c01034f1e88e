"""The examples of docs/experiments.md run."""

import datetime as dt
import re
from pathlib import Path

from marketlift.events import Exposure
from marketlift.experiments import assign_variant, load_experiments

DOC = Path(__file__).resolve().parents[2] / "docs" / "experiments.md"


def test_toml_example_loads_and_python_example_runs(tmp_path: Path) -> None:
    text = DOC.read_text(encoding="utf-8")
    (toml,) = re.findall(r"```toml\n(.*?)```", text, flags=re.DOTALL)
    (code,) = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    config = tmp_path / "experiments.toml"
    config.write_text(toml)
    code = code.replace("marketlift-data/experiments.toml", str(config))
    scope = {"now": dt.datetime(2026, 11, 15, tzinfo=dt.UTC)}
    exec(compile(code, str(DOC), "exec"), scope)
    assignments, events = scope["assignments"], scope["events"]
    (exp,) = load_experiments(config).values()
    # the example unit matches the targeting (ios, de-DE, DE); hashing alone decides the rest
    expected = assign_variant(exp, "d-7")
    assert [a.variant for a in assignments] == ([expected] if expected else [])
    assert [e.variant for e in events] == [a.variant for a in assignments]
    assert all(isinstance(e, Exposure) for e in events)


def test_metrics_example_loads_and_reads_out(lake, tmp_path: Path) -> None:
    from marketlift.experiments import analyze_lake
    from marketlift.experiments.definitions import load_metric_definitions

    text = DOC.read_text(encoding="utf-8")
    (toml,) = re.findall(r"```toml metrics\n(.*?)```", text, flags=re.DOTALL)
    path = tmp_path / "metrics.toml"
    path.write_text(toml)
    defs = load_metric_definitions(path)
    assert [d.kind for d in defs.values()] == ["proportion", "ratio", "quantile", "mean",
                                               "retention"]  # fmt: skip
    result = analyze_lake(lake.path, lake.key, experiment=lake.experiment, metrics=defs)
    assert [m.metric for m in result.metrics] == list(defs)


def test_bandit_example_runs() -> None:
    text = DOC.read_text(encoding="utf-8")
    (code,) = re.findall(r"```python bandit\n(.*?)```", text, flags=re.DOTALL)
    scope: dict[str, object] = {}
    exec(compile(code, str(DOC), "exec"), scope)
    shares = scope["shares"]
    assert isinstance(shares, dict)
    assert max(shares, key=shares.__getitem__) == "c"
    assert [e.arm for e in scope["effects"]] == ["b", "c"]  # type: ignore[attr-defined]
