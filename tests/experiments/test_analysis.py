import numpy as np
import pytest

from marketlift.errors import ConfigError
from marketlift.experiments.analysis import analyze_moments
from marketlift.experiments.metrics import Metric
from marketlift.experiments.multiple import holm
from marketlift.experiments.stats import Moments

Y = Metric("y", "y")


def _arm(values: list[float]) -> Moments:
    return Moments.from_columns({"y": values}, Y.pairs)


def test_data_conditions_are_flags_not_exceptions() -> None:
    r = analyze_moments({"c": _arm([1.0] * 10), "t": _arm([1.0] * 12)}, [Y], control="c")
    flags = r.metrics[0].flags
    assert "zero_variance" in flags
    assert "too_few_units" in flags
    assert not r.metrics[0].significant
    assert "too_few_units" in r.flags


def test_srm_is_checked_with_configured_weights() -> None:
    rng = np.random.default_rng(0)
    c, t = _arm(rng.normal(size=1000).tolist()), _arm(rng.normal(size=2000).tolist())
    assert analyze_moments({"c": c, "t": t}, [Y], control="c").srm.mismatch
    ok = analyze_moments({"c": c, "t": t}, [Y], control="c", weights={"c": 1, "t": 2})
    assert not ok.srm.mismatch
    assert "srm" not in ok.flags
    assert [a.expected for a in ok.arms] == pytest.approx([1000, 2000])


def test_zero_control_mean_flag() -> None:
    r = analyze_moments({"c": _arm([-1.0, 1.0] * 50), "t": _arm([0.0, 2.0] * 50)}, [Y], control="c")
    assert "zero_control_mean" in r.metrics[0].flags


def test_correction_spans_metrics_and_variants() -> None:
    rng = np.random.default_rng(1)
    metrics = [Metric("y", "y"), Metric("z", "z")]

    def arm(shift: float) -> Moments:
        return Moments.from_columns(
            {"y": rng.normal(shift, 1, 500).tolist(), "z": rng.normal(0, 1, 500).tolist()}
        )

    arms = {"c": arm(0.0), "t1": arm(0.15), "t2": arm(0.0)}
    r = analyze_moments(arms, metrics, control="c", correction="holm")
    assert [(m.variant, m.metric) for m in r.metrics] == [
        ("t1", "y"),
        ("t1", "z"),
        ("t2", "y"),
        ("t2", "z"),
    ]
    assert [m.pvalue_adjusted for m in r.metrics] == pytest.approx(
        holm([m.pvalue for m in r.metrics])
    )
    assert all(m.significant == (m.pvalue_adjusted < 0.05) for m in r.metrics)


def test_segments_get_their_own_srm_and_metrics() -> None:
    arms = {"c": _arm([0.0, 1.0] * 100), "t": _arm([0.0, 1.0, 1.0] * 70)}
    segs = {("platform", "ios"): {"c": _arm([0.0, 1.0] * 40)}}
    r = analyze_moments(arms, [Y], control="c", segments=segs)
    (seg,) = r.segments
    assert (seg.dimension, seg.value) == ("platform", "ios")
    assert [a.units for a in seg.arms] == [80, 0]
    assert "empty_arm" in seg.flags


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"control": "x"}, "control"),
        ({"control": "c", "alpha": 0.0}, "alpha"),
        ({"control": "c", "correction": "bonferroni"}, "correction"),
        ({"control": "c", "weights": {"c": 1}}, "weights"),
    ],
)
def test_misuse_names_field(kwargs: dict, field: str) -> None:
    arms = {"c": _arm([0.0, 1.0] * 50), "t": _arm([0.0, 1.0] * 50)}
    with pytest.raises(ConfigError) as err:
        analyze_moments(arms, [Y], **kwargs)
    assert err.value.name == field


def test_a_one_row_typo_of_the_control_is_flagged_tiny_arm() -> None:
    rng = np.random.default_rng(4)
    arms = {
        "control": _arm(list(rng.normal(size=500))),
        "treatment": _arm(list(rng.normal(size=500))),
        "contorl": _arm([0.3]),
    }
    r = analyze_moments(arms, [Y], control="control")
    assert "tiny_arm" in r.flags
    flagged = {m.variant for m in r.metrics if "tiny_arm" in m.flags}
    assert flagged == {"contorl"}
    # A small arm the configuration asked for is not a typo.
    planned = analyze_moments(
        arms,
        [Y],
        control="control",
        weights={"control": 0.4995, "treatment": 0.4995, "contorl": 0.001},
    )
    assert "tiny_arm" not in planned.flags
    two = {k: v for k, v in arms.items() if k != "contorl"}
    assert "tiny_arm" not in analyze_moments(two, [Y], control="control").flags
