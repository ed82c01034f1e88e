import datetime as dt

import pytest

from marketlift.errors import ConfigError
from marketlift.experiments.assignment import assign
from marketlift.experiments.config import load_experiments

TOML = """
[[experiment]]
key = "checkout_copy"
unit = "anonymous_id"
salt = "checkout_copy_v2"
holdout_pct = 5
variants = [{name = "control", weight = 1}, {name = "short_copy", weight = 1}]
layer = {salt = "checkout", start = 0, end = 5000}
targeting = {platform = ["web", "ios"], country = "DE"}
start = 2026-11-01T00:00:00Z
end = 2026-12-01T00:00:00Z

[[experiment]]
key = "checkout_button"
variants = ["control", "green"]
layer = {salt = "checkout", start = 5000, end = 10000}
"""


def test_load_toml_and_assign(tmp_path) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text(TOML)
    exps = load_experiments(path)
    copy = exps["checkout_copy"]
    assert copy.effective_salt == "checkout_copy_v2"
    assert copy.targeting.countries == ("DE",)
    assert copy.end == dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    now = dt.datetime(2026, 11, 15, tzinfo=dt.UTC)
    attrs = {"platform": "web", "country": "DE"}
    counts = {"checkout_copy": 0, "checkout_button": 0}
    for i in range(2000):
        for a in assign(
            exps.values(), {"anonymous_id": f"d{i}", "buyer_id": f"d{i}"}, attrs, now=now
        ):
            counts[a.experiment_key] += 1
    # the layer splits units between the two experiments; the holdout removes ~5 percent
    assert 850 < counts["checkout_button"] < 1150
    assert 800 < counts["checkout_copy"] < 1100


def test_overlapping_layer_ranges_are_rejected(tmp_path) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text(TOML.replace("start = 5000, end = 10000", "start = 4000, end = 10000"))
    with pytest.raises(ConfigError) as err:
        load_experiments(path)
    assert err.value.name == "checkout_button.layer"
    assert "overlap" in str(err.value)


def test_duplicate_keys_and_unknown_fields(tmp_path) -> None:
    path = tmp_path / "experiments.toml"
    path.write_text('[[experiment]]\nkey = "a"\nvariants = ["x", "y"]\n' * 2)
    with pytest.raises(ConfigError, match="unique"):
        load_experiments(path)
    path.write_text('[[experiment]]\nkey = "a"\nvariants = ["x", "y"]\nweights = [1, 2]\n')
    with pytest.raises(ConfigError, match="known fields"):
        load_experiments(path)
