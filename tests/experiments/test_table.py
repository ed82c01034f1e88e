import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import tea_tasting as tt

from marketlift.errors import ConfigError
from marketlift.experiments.table import analyze_table, parse_metric


@pytest.fixture
def users() -> pa.Table:
    return tt.make_users_data(rng=11, covariates=True, n_users=2000, return_type="pyarrow")


def test_parquet_csv_arrow_and_pandas_agree(users: pa.Table, tmp_path) -> None:
    pq.write_table(users, tmp_path / "u.parquet")
    pacsv.write_csv(users, tmp_path / "u.csv")
    kwargs = {
        "variant": "variant",
        "control": "0",
        "metrics": ["revenue", "orders/sessions"],
        "covariate": None,
    }
    results = [
        analyze_table(src, **kwargs)
        for src in (tmp_path / "u.parquet", str(tmp_path / "u.csv"), users, users.to_pandas())
    ]
    first = results[0].metrics
    for other in results[1:]:
        for a, b in zip(first, other.metrics, strict=True):
            assert a.effect == pytest.approx(b.effect, rel=1e-12)
            assert a.pvalue == pytest.approx(b.pvalue, rel=1e-9)


def test_event_rows_are_summed_per_unit(users: pa.Table) -> None:
    # split every user's revenue over two rows: per-unit sums must give the same answer
    half = pa.table(
        {
            "user": pa.concat_arrays([users["user"].combine_chunks()] * 2),
            "variant": pa.concat_arrays([users["variant"].combine_chunks()] * 2),
            "revenue": pa.concat_arrays(
                [pa.array([v / 2 for v in users["revenue"].to_pylist()])] * 2
            ),
        }
    )
    by_unit = analyze_table(half, variant="variant", control="0", metrics=["revenue"], unit="user")
    direct = analyze_table(users, variant="variant", control="0", metrics=["revenue"])
    assert by_unit.metrics[0].effect == pytest.approx(direct.metrics[0].effect, rel=1e-12)
    assert by_unit.arms == direct.arms
    assert "multiple_variants" not in by_unit.flags


def test_units_in_two_variants_are_dropped_and_flagged() -> None:
    t = pa.table(
        {
            "u": ["a", "a", "b", "c", "d", "e"] * 20,
            "v": ["x", "y", "x", "y", "x", "y"] * 20,
            "m": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] * 20,
        }
    )
    r = analyze_table(t, variant="v", control="x", metrics=["m"], unit="u", min_units=1)
    assert "multiple_variants" in r.flags
    assert sum(a.units for a in r.arms) == 4


def test_segments_on_a_table(users: pa.Table) -> None:
    t = users.append_column(
        "half", pa.array(["lo" if u % 2 else "hi" for u in users["user"].to_pylist()])
    )
    r = analyze_table(t, variant="variant", control="0", metrics=["revenue"], segments=["half"])
    assert sorted(s.value for s in r.segments) == ["hi", "lo"]
    assert sum(s.arms[0].units for s in r.segments) == r.arms[0].units


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"metrics": ["nope"]}, "column"),
        ({"metrics": ["revenue"], "variant": "missing"}, "column"),
        ({"metrics": ["revenue/"]}, "metric"),
        ({"metrics": ["revenue"], "control": "7"}, "control"),
    ],
)
def test_misuse(users: pa.Table, kwargs: dict, field: str) -> None:
    args = {"variant": "variant", "control": "0", **kwargs}
    with pytest.raises(ConfigError) as err:
        analyze_table(users, **args)
    assert err.value.name == field


def test_missing_file_and_bad_suffix(tmp_path) -> None:
    with pytest.raises(ConfigError, match="existing"):
        analyze_table(tmp_path / "no.parquet", variant="v", control="a", metrics=["m"])
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(ConfigError, match="parquet"):
        analyze_table(tmp_path / "x.json", variant="v", control="a", metrics=["m"])


def test_parse_metric_covariate_for_ratio() -> None:
    m = parse_metric("revenue/orders", "pre_revenue/pre_orders")
    assert m.columns == ("revenue", "orders", "pre_revenue", "pre_orders")


def _blank_revenue() -> pa.Table:
    revenue = [1.0, 3.0, None, 5.0] * 50 + [2.0, 6.0, None, None] * 50
    return pa.table({"arm": ["a"] * 200 + ["b"] * 200, "revenue": revenue})


def test_blank_metric_values_are_counted_and_flagged_when_read_as_zero() -> None:
    r = analyze_table(_blank_revenue(), variant="arm", control="a", metrics=["revenue"])
    assert r.missing_values == {"revenue": 150}
    assert "missing_values" in r.flags
    (m,) = r.metrics
    assert m.control_mean == pytest.approx(9.0 / 4)  # blank read as 0: (1 + 3 + 0 + 5) / 4
    assert m.treatment_mean == pytest.approx(8.0 / 4)


def test_missing_drop_analyzes_only_the_filled_rows() -> None:
    r = analyze_table(
        _blank_revenue(), variant="arm", control="a", metrics=["revenue"], missing="drop"
    )
    assert "missing_dropped" in r.flags
    (m,) = r.metrics
    assert (m.n_control, m.n_treatment) == (150, 100)
    assert m.control_mean == pytest.approx(3.0)
    assert m.treatment_mean == pytest.approx(4.0)


def test_missing_error_names_the_column_and_the_count() -> None:
    with pytest.raises(ConfigError, match=r"column 'revenue'.*150 blank values"):
        analyze_table(
            _blank_revenue(), variant="arm", control="a", metrics=["revenue"], missing="error"
        )
    with pytest.raises(ConfigError, match="missing"):
        analyze_table(
            _blank_revenue(), variant="arm", control="a", metrics=["revenue"], missing="skip"
        )


def test_a_complete_table_has_no_missing_flag() -> None:
    t = pa.table({"arm": ["a", "b"] * 100, "y": [1.0, 2.0, 4.0, 3.0] * 50})
    r = analyze_table(t, variant="arm", control="a", metrics=["y"], missing="error")
    assert r.missing_values == {}
    assert not {"missing_values", "missing_dropped"} & set(r.flags)
