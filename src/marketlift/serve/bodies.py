"""What every write route of the server shares: the Bearer key check and gzip bodies.

:func:`key_problem` says why a request's key is refused (``None``: accepted), and
:func:`gunzip` reads every member of a gzip body within a size limit; ``/v1/events`` and
``/v1/listings`` both answer with them, so the two routes cannot drift apart.

Example:
    >>> import gzip
    >>> gunzip(gzip.compress(b"[1,") + gzip.compress(b"2]"), 100)
    b'[1,2]'
    >>> gunzip(gzip.compress(b"x" * 200), 100)
    Traceback (most recent call last):
    ...
    marketlift.serve.bodies.GzipError: decompressed body over 100 bytes (max_decompressed_bytes)
"""

from __future__ import annotations

import hmac
import zlib
from collections.abc import Mapping

__all__ = ["WRONG_KEY", "GzipError", "gunzip", "key_problem"]

WRONG_KEY = "missing or wrong key: send 'Authorization: Bearer <key>'"
"""The answer to a missing or wrong key (HTTP 401)."""


class GzipError(ValueError):
    """A gzip body that cannot be read: ``status`` 400 (broken) or 413 (over the limit)."""

    def __init__(self, status: int, message: str, partial: bytes | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.partial = partial
        """The start of what was decompressed, over the limit (for a dead letter)."""


def key_problem(
    headers: Mapping[str, str], query: Mapping[str, str], key: str | None, *, query_param: bool
) -> str | None:
    """Why the request's key is refused, or ``None`` when it is accepted (or no key is set).

    Only ``Authorization: Bearer <key>`` (the scheme in any case) is accepted; with
    ``query_param`` and no ``Authorization`` header, ``?write_key=<key>`` too (beacons).
    """
    if key is None:
        return None
    header = headers.get("authorization")
    token = ""
    if header is not None:
        scheme, _, rest = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            return f"Authorization scheme {scheme[:20]!r}, expected 'Bearer <key>'"
        token = rest.strip()
    elif query_param:
        token = query.get("write_key", "")
    if not token or not hmac.compare_digest(token.encode(), key.encode()):
        return WRONG_KEY
    return None


def gunzip(body: bytes, limit: int) -> bytes:
    """Every member of a gzip body (RFC 1952 allows several), at most ``limit`` bytes in all."""
    parts: list[bytes] = []
    size = 0
    rest = body
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            plain = inflater.decompress(rest, limit - size + 1)
        except zlib.error as exc:
            raise GzipError(400, f"the gzip body cannot be decompressed: {exc}") from None
        parts.append(plain)
        size += len(plain)
        if size > limit or inflater.unconsumed_tail:
            reason = f"decompressed body over {limit} bytes (max_decompressed_bytes)"
            raise GzipError(413, reason, b"".join(parts)[:65536])
        if not inflater.eof:
            raise GzipError(400, "the gzip body cannot be decompressed: it is truncated")
        rest = inflater.unused_data
        if not rest.strip(b"\x00"):  # trailing zero padding is allowed after the last member
            return b"".join(parts)
