"""Deterministic bucketing: 32-bit FNV-1a, hashed twice, into 10,000 buckets.

The same arithmetic runs in the JS SDK; ``tests/vectors/assignment.json`` pins both.

Example:
    >>> fnv1a32(b"")
    2166136261
    >>> fnv1a32(b"a")
    3826002220
    >>> 0 <= bucket("exp-salt", "buyer-1") < BUCKETS
    True
"""

from __future__ import annotations

from typing import Final

__all__ = ["BUCKETS", "FNV_OFFSET", "FNV_PRIME", "bucket", "fnv1a32"]

FNV_OFFSET: Final = 2166136261
FNV_PRIME: Final = 16777619
BUCKETS: Final = 10_000
_MASK: Final = 0xFFFFFFFF


def fnv1a32(data: bytes) -> int:
    """32-bit FNV-1a of ``data``: for each byte, xor it in, then multiply by the prime mod 2**32.

    Example:
        >>> hex(fnv1a32(b"foobar"))
        '0xbf9cf968'
    """
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & _MASK
    return h


def bucket(salt: str, unit: str) -> int:
    """Bucket in ``[0, 10000)`` of ``unit`` under ``salt``.

    ``fnv1a32(utf8(str(fnv1a32(utf8(salt + ":" + unit))))) % 10000``: the inner hash is written
    as its decimal string and hashed again, which mixes the low bits that the modulo keeps.

    Example:
        >>> bucket("s", "u") == bucket("s", "u")
        True
        >>> bucket("s", "u") == fnv1a32(str(fnv1a32(b"s:u")).encode()) % 10000
        True
    """
    inner = fnv1a32(f"{salt}:{unit}".encode())
    return fnv1a32(str(inner).encode()) % BUCKETS
