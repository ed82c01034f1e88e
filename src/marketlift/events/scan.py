"""A structural scan of JSON bytes: nesting depth and the elements of a top-level array.

msgspec decodes nested values recursively and raises ``RecursionError`` (not a
``DecodeError``) on very deep input, and one bad string makes it refuse a whole array. The
scan here reads only the structure (brackets, braces, commas and string boundaries), in
vectorized numpy over the positions of those characters, so the collector can measure how
deep a value is and cut an array into its elements without decoding them. It runs only on the
error paths: a valid batch never reaches it.

Example:
    >>> depth(b'{"a": [1, {"b": "]]"}]}')
    3
    >>> [bytes(e).strip() for e in split_array(b'[{"a": 1}, [2, 3], "x,y"]')]
    [b'{"a": 1}', b'[2, 3]', b'"x,y"']
    >>> split_array(b'[{"a": 1}, ') is None
    True
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Final, NamedTuple

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["MAX_DEPTH", "depth", "split_array"]

MAX_DEPTH: Final = 32
"""Default deepest nesting of arrays and objects in an event or a request (a valid event: 4)."""

_STRUCTURAL: Final = (ord("["), ord("{"), ord("]"), ord("}"), ord(","))


class _Structure(NamedTuple):
    """Positions of the structural characters outside strings and the level after each."""

    positions: npt.NDArray[np.int32]
    chars: npt.NDArray[np.uint8]
    levels: npt.NDArray[np.int32]
    closed_strings: bool


def _real_quotes(raw: bytes, data: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """Positions of the quotes that open or close strings (not escaped by a backslash)."""
    import numpy as np  # noqa: PLC0415 - error paths only

    quotes = np.flatnonzero(data == ord('"'))
    after_backslash = quotes[(quotes > 0) & (data[np.maximum(quotes - 1, 0)] == ord("\\"))]
    escaped = []
    for q in after_backslash.tolist():  # rare: a quote right after a backslash
        run = q - len(raw[:q].rstrip(b"\\"))
        if run % 2 == 1:
            escaped.append(q)
    if escaped:
        quotes = np.setdiff1d(quotes, np.asarray(escaped, dtype=np.int64), assume_unique=True)
    return quotes


def _structure(raw: bytes) -> _Structure:
    import numpy as np  # noqa: PLC0415 - error paths only

    data = np.frombuffer(raw, dtype=np.uint8)
    quotes = _real_quotes(raw, data)
    # int32 positions and levels: a body is at most a few tens of MiB (the collector's limit).
    structural = data == _STRUCTURAL[0]
    for char in _STRUCTURAL[1:]:
        structural |= data == char
    positions = np.flatnonzero(structural).astype(np.int32)
    del structural
    if len(quotes):
        # A character lies inside a string when an odd number of real quotes comes before it.
        positions = positions[(np.searchsorted(quotes, positions) & 1) == 0]
    chars = data[positions]
    step = ((chars == _STRUCTURAL[0]) | (chars == _STRUCTURAL[1])).astype(np.int8)
    step -= ((chars == _STRUCTURAL[2]) | (chars == _STRUCTURAL[3])).astype(np.int8)
    return _Structure(positions, chars, np.cumsum(step, dtype=np.int32), len(quotes) % 2 == 0)


def depth(raw: bytes) -> int:
    """How deeply arrays and objects nest in ``raw`` (0 for a scalar).

    Example:
        >>> depth(b"[[[]]]"), depth(b'"[[["'), depth(b"42")
        (3, 0, 0)
    """
    levels = _structure(raw).levels
    return int(levels.max(initial=0))


def split_array(body: bytes) -> list[memoryview] | None:
    """The elements of the JSON array ``body``, cut at its top-level commas.

    Elements are not decoded, so a deep or undecodable one does not stop its neighbours.

    Returns:
        The elements (whitespace around them kept), or ``None`` when ``body`` is not one
        well-formed array: unbalanced brackets, an unterminated string, or text after the end.
    """
    stripped = body.strip()
    if stripped[:1] != b"[" or stripped[-1:] != b"]":
        return None
    found = _structure(stripped)
    levels, positions = found.levels, found.positions
    last = len(stripped) - 1
    if (
        not found.closed_strings
        or len(positions) < 2
        or positions[-1] != last
        or levels.min() < 0
        or levels[-1] != 0
        or (levels[:-1] == 0).any()
    ):
        return None
    commas = positions[(found.chars == ord(",")) & (levels == 1)]
    bounds = [0, *commas.tolist(), last]
    view = memoryview(stripped)
    elements = [view[a + 1 : b] for a, b in itertools.pairwise(bounds)]
    if len(elements) == 1 and not bytes(elements[0]).strip():
        return []
    return elements
