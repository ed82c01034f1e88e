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


def test_arm_values_are_parsed_and_checked() -> None:
    from marketlift.experiments.config import experiment_from_dict

    exp = experiment_from_dict(
        {"key": "ab", "variants": [
            {"name": "control", "values": {"ranker": "popularity", "policy": "none"}},
            {"name": "t", "values": {"limit": 5, "actions_off": ["discount_coupon"]}},
        ]}
    )  # fmt: skip
    assert exp.variants[0].values.changed() == ("ranker", "policy")
    assert exp.variants[1].values.as_dict() == {"actions_off": ["discount_coupon"], "limit": 5}
    for values, key in [
        ({"ranker": "v7"}, "ab.variants[0].values.ranker"),
        ({"limit": 0}, "ab.variants[0].values.limit"),
        ({"colour": "red"}, "ab.variants[0].values.colour"),
        ({"copy_variant": "gpt"}, "ab.variants[0].values.copy_variant"),
    ]:
        with pytest.raises(ConfigError) as info:
            experiment_from_dict({"key": "ab", "variants": [{"name": "a", "values": values}, "b"]})
        assert info.value.name == key


def test_two_experiments_changing_one_value_must_share_a_layer(tmp_path) -> None:
    from marketlift.experiments.config import load_experiments

    arm = '{name = "a", values = {ranker = "popularity"}}, "b"'
    path = tmp_path / "experiments.toml"
    path.write_text(
        f'[[experiment]]\nkey = "one"\nvariants = [{arm}]\n'
        f'[[experiment]]\nkey = "two"\nvariants = [{arm}]\n'
    )
    with pytest.raises(ConfigError, match=r"two\.variants\.values\.ranker .* shared with one"):
        load_experiments(path)
    path.write_text(
        f'[[experiment]]\nkey = "one"\nvariants = [{arm}]\n'
        'layer = {salt = "rank", start = 0, end = 5000}\n'
        f'[[experiment]]\nkey = "two"\nvariants = [{arm}]\n'
        'layer = {salt = "rank", start = 5000, end = 10000}\n'
    )
    assert set(load_experiments(path)) == {"one", "two"}
