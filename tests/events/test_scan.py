"""The structural scan: nesting depth and array elements, checked against json.loads."""

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from marketlift.events.scan import depth, split_array

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\[]{},: é\n', max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


@settings(max_examples=60, deadline=None)
@given(st.lists(_JSON, max_size=6), st.booleans())
def test_depth_and_elements_match_the_json_parser(items: list[Any], ascii_only: bool) -> None:
    body = json.dumps(items, ensure_ascii=ascii_only).encode()
    assert depth(body) == _depth(items)
    elements = split_array(body)
    assert elements is not None
    assert [json.loads(bytes(e)) for e in elements] == items


def test_escaped_quotes_and_backslashes_do_not_fool_the_scan() -> None:
    assert depth(rb'["a\"[[", "b\\", [1]]') == 2
    assert [bytes(e).strip() for e in split_array(rb'["a\\", "b\",c", 3]') or []] == [
        rb'"a\\"',
        rb'"b\",c"',
        b"3",
    ]


def test_deep_values_are_measured_without_recursion() -> None:
    assert depth(b"[" * 100_000 + b"]" * 100_000) == 100_000
    cut = split_array(b'[{"a": 1}, ' + b"[" * 5000 + b"]" * 5000 + b', {"b": 2}]')
    assert cut is not None
    assert [depth(bytes(e)) for e in cut] == [1, 5000, 1]


def test_malformed_arrays_are_not_cut() -> None:
    for body in (b"[1, 2", b'[1, "2]', b"[1] [2]", b"[1]]", b"{}", b"[[1, 2]"):
        assert split_array(body) is None, body
    assert split_array(b"[ ]") == []
