"""Ship decisions from goals and guardrails: rules, config checks, a false-ship simulation."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from marketlift.errors import ConfigError
from marketlift.experiments.config import Guardrail, experiment_from_dict, load_experiments
from marketlift.experiments.decision import decide
from marketlift.experiments.lake import analyze_lake
from marketlift.experiments.results import MetricResult

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "experiments_false_ship.py"


def _row(metric: str, lo: float, hi: float, *, control_mean: float = 1.0) -> MetricResult:
    effect = (lo + hi) / 2
    return MetricResult(
        metric=metric, variant="t", control_mean=control_mean,
        treatment_mean=control_mean + effect, effect=effect, effect_lower=lo, effect_upper=hi,
        rel_effect=0.0, rel_lower=0.0, rel_upper=0.0, pvalue=0.5, pvalue_adjusted=0.5,
        significant=False, se=0.01, df=100.0, sequential_lower=lo, sequential_upper=hi,
        sequential_pvalue=0.5, chance_to_beat_control=0.5, expected_loss=0.0,
        variance_reduction=0.0, n_control=100, n_treatment=100,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("goal", "guard", "want"),
    [
        ((0.01, 0.03), (-0.02, 0.015), "ship"),  # goal better, harm surely < 0.02
        ((0.01, 0.03), (0.025, 0.04), "dont_ship"),  # harm surely beyond the margin
        ((0.01, 0.03), (0.01, 0.03), "keep_running"),  # harm may exceed the margin
        ((-0.01, 0.03), (-0.02, 0.01), "keep_running"),  # goal not yet better
        ((-0.03, -0.01), (-0.02, 0.01), "dont_ship"),  # goal surely worse
    ],
)
def test_decision_rules(goal: tuple[float, float], guard: tuple[float, float], want: str) -> None:
    rows = [_row("conversion", *goal), _row("unsubscribes", *guard)]
    (d,) = decide(rows, goals=["conversion"], guardrails=[Guardrail("unsubscribes", 0.02)],
                  directions={"unsubscribes": "lower"})  # fmt: skip
    assert d.decision == want, d.reasons
    assert d.guardrails[0].margin == pytest.approx(0.02)


def test_higher_is_better_guardrail_harm_is_a_decrease() -> None:
    rows = [_row("conversion", 0.01, 0.03), _row("revenue", -0.05, -0.03, control_mean=1.0)]
    (d,) = decide(rows, goals=["conversion"], guardrails=[Guardrail("revenue", 0.02)])
    assert d.decision == "dont_ship"
    assert d.guardrails[0].harm_lower == pytest.approx(0.03)


def test_srm_keeps_it_running_and_missing_metrics_raise() -> None:
    rows = [_row("conversion", 0.01, 0.03)]
    (d,) = decide(rows, goals=["conversion"], srm=True)
    assert d.decision == "keep_running"
    with pytest.raises(ConfigError, match="unsubscribes"):
        decide(rows, goals=["conversion"], guardrails=[Guardrail("unsubscribes")])


def test_guardrail_on_an_undefined_metric_is_refused_at_load(tmp_path: Path) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text(
        '[[experiment]]\nkey = "ab"\nvariants = ["control", "t"]\ngoals = ["conversion"]\n'
        'guardrails = [{metric = "unsubscribe_rate", tolerance = 0.01}]\n'
    )
    with pytest.raises(ConfigError) as info:
        load_experiments(path)
    assert info.value.name == "ab.guardrails[0].metric"
    assert info.value.value == "unsubscribe_rate"
    (tmp_path / "metrics.toml").write_text(
        '[[metric]]\nname = "unsubscribe_rate"\nkind = "proportion"\ndirection = "lower"\n'
        'numerator = {event = "engagement_dismissed"}\n'
    )
    with pytest.raises(ConfigError, match=r"ab\.goals\[0\] == 'conversion'"):
        load_experiments(path)  # the file replaces the built-in four
    with pytest.raises(ConfigError, match="tolerance"):
        experiment_from_dict({"key": "ab", "variants": ["a", "b"],
                              "guardrails": [{"metric": "m", "tolerance": -1}]})  # fmt: skip


def test_lake_readout_carries_the_decision(lake) -> None:
    exp = experiment_from_dict(
        {"key": lake.key, "variants": ["control", "short_copy"], "goals": ["conversion"],
         "guardrails": [{"metric": "aov", "tolerance": 0.5}]}
    )  # fmt: skip
    result = analyze_lake(lake.path, lake.key, experiment=exp)
    (d,) = result.decisions
    assert d.variant == "short_copy"
    assert d.decision in {"ship", "dont_ship", "keep_running"}
    assert [g.metric for g in d.guardrails] == ["aov"]
    aov = next(m for m in result.metrics if m.metric == "aov")
    assert d.guardrails[0].harm == pytest.approx(-aov.effect)


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("experiments_false_ship", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_false_ship_rate_with_peeking_is_small_and_the_rule_has_power() -> None:
    """A small version of benchmarks/experiments_false_ship.py (known truth, 4 looks)."""
    out = _bench().false_ship(80, 4, seed=7, units=20_000, harm=1.0)
    assert out["false_ship_rate"] <= 0.05
    assert out["ship_rate_when_harmless"] >= 0.4


def test_report_and_dashboard_show_the_decision(lake) -> None:
    import msgspec

    from marketlift.experiments.report import render_report
    from marketlift.serve.site.dashboard import experiments_summary, render_dashboard

    exp = experiment_from_dict(
        {"key": lake.key, "variants": ["control", "short_copy"], "goals": ["conversion"],
         "guardrails": [{"metric": "aov", "tolerance": 0.5}]}
    )  # fmt: skip
    result = analyze_lake(lake.path, lake.key, experiment=exp)
    (d,) = result.decisions
    page = render_report(result)
    assert f'data-variant="short_copy" data-decision="{d.decision}"' in page
    summary = experiments_summary(lake.path, [exp])
    (shown,) = summary[0]["result"]["decisions"]  # the dashboard converts currencies (fx)
    assert (shown["variant"], shown["guardrails"][0]["metric"]) == ("short_copy", "aov")
    html = render_dashboard(summary, [], data_dir=lake.path, static="/static", computed_at="now")
    assert f'data-decision="{shown["decision"]}"' in html
    assert msgspec.to_builtins(d)["variant"] == "short_copy"
