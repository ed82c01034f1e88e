"""Hand-written hostile bodies for the collector, decide and assign (issue 21).

Each case is one request: a hostile part (deep nesting, bad encodings, gzip members, sizes,
lone surrogates, negative money) beside valid events with fresh ids that must be stored. The
runner sends every case, counts answers by status and 5xx, and reads the lake to count the
valid events lost. Used by ``benchmarks/decide_fuzz.py --hostile``.
"""

from __future__ import annotations

import collections
import dataclasses
import gzip
import uuid
from pathlib import Path
from typing import Any

import httpx
import msgspec

from marketlift.events.samples import sample_events
from marketlift.lake import query

_DECIDE = {"buyer_id": "b0000042", "surface": "home", "platform": "web"}
_ASSIGN = {"buyer_id": "b0000042", "platform": "web"}


@dataclasses.dataclass
class Case:
    """One hostile request and the valid event ids it carries (they must be stored)."""

    name: str
    path: str
    body: bytes
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    valid_ids: list[str] = dataclasses.field(default_factory=list)


class _Events:
    """Valid events with fresh ids, a few at a time."""

    def __init__(self, seed: int) -> None:
        self.pool = sample_events(20_000, random_state=seed)
        self.next = 0

    def take(self, n: int) -> list[dict[str, Any]]:
        out = [dict(e, event_id=str(uuid.UUID(int=self.next + i + 1)))
               for i, e in enumerate(self.pool[self.next : self.next + n])]  # fmt: skip
        self.next += n
        return out


def _array(parts: list[bytes]) -> bytes:
    return b"[" + b",".join(parts) + b"]"


def _with(event: dict[str, Any], extra: bytes) -> bytes:
    """``event`` as JSON with ``extra`` (raw JSON members) added before the closing brace."""
    return msgspec.json.encode(event)[:-1] + b"," + extra + b"}"


def _event_cases(pool: _Events) -> list[Case]:
    cases: list[Case] = []

    def around(
        name: str, hostile: bytes, *, ndjson: bool = False, n: int = 4, kept: bool = True
    ) -> None:
        """``hostile`` among ``n`` valid events; ``kept``: they must be stored."""
        good = pool.take(n)
        parts = [msgspec.json.encode(e) for e in good]
        parts.insert(n // 2, hostile)
        body = b"\n".join(parts) if ndjson else _array(parts)
        ids = [e["event_id"] for e in good] if kept else []
        cases.append(Case(name, "/v1/events", body, valid_ids=ids))

    template = pool.take(1)[0]
    for depth in (33, 1000, 100_000):
        nested = b"[" * depth + b"]" * depth
        around(
            f"properties nested {depth}", _with(template, b'"properties": {"k": ' + nested + b"}")
        )
        around(f"ndjson line nested {depth}", nested, ndjson=True)
        around(f"element nested {depth}", nested)
        around(f"objects nested {depth}", b'{"a": ' * depth + b"1" + b"}" * depth)
        cases.append(Case(f"body nested {depth}", "/v1/events", nested))
    for escape in (rb"\ud800", rb"\udfff", rb"\ud800\u0041", rb"x\udc00\ud800"):
        bad = _with(template, b'"session_id": "s' + escape + b'"')
        around(f"lone surrogate {escape.decode()}", bad)
        around(f"lone surrogate {escape.decode()} ndjson", bad, ndjson=True)
    for raw in (b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\x00", b"\x1f"):
        around(f"bad bytes {raw!r} in a string", _with(template, b'"session_id": "s' + raw + b'"'))
    good = pool.take(3)
    for prefix in (b"\xef\xbb\xbf", b"\xef\xbb\xbf\n", b" \t\r\n"):
        more = pool.take(3)
        body = prefix + _array([msgspec.json.encode(e) for e in more])
        cases.append(Case(f"prefix {prefix!r}", "/v1/events", body,
                          valid_ids=[e["event_id"] for e in more]))  # fmt: skip
    ndjson = b"\xef\xbb\xbf" + b"\n".join(msgspec.json.encode(e) for e in good)
    cases.append(Case("bom ndjson", "/v1/events", ndjson, valid_ids=[e["event_id"] for e in good]))
    gz = {"Content-Encoding": "gzip"}
    for members in (2, 3, 10):
        good = pool.take(members * 2)
        body = b"".join(
            gzip.compress(b"".join(msgspec.json.encode(e) + b"\n" for e in good[i::members]))
            for i in range(members)
        )
        ids = [e["event_id"] for e in good]
        cases.append(Case(f"gzip {members} members", "/v1/events", body, gz, ids))
    spaces = gzip.compress(b" " * (11 * 1024 * 1024))
    cases.append(Case("gzip members over 20 MiB together", "/v1/events", spaces + spaces, gz))
    cases.append(Case("gzip truncated", "/v1/events", gzip.compress(b"[1]")[:-5], gz))
    cases.append(Case("gzip then garbage", "/v1/events", gzip.compress(b"[1]") + b"garbage", gz))
    cases.append(Case("gzip empty", "/v1/events", b"", gz))
    cases.append(Case("over 5 MiB", "/v1/events", b"[" + b" " * (5 * 1024 * 1024 + 1) + b"]"))
    cases.append(Case("1001 events", "/v1/events", msgspec.json.encode(pool.take(1001))))
    around("one event over 32 KiB", _with(template, b'"url": "' + b"u" * 40_000 + b'"'))
    around("negative price", _with(dict(template, type="add_to_cart", listing_id="l1"),
                                  b'"price": {"amount": "-24.90", "currency": "EUR"}'))  # fmt: skip
    around("huge number", _with(template, b'"properties": {"n": 1e999999}'))
    around("duplicate keys", _with(template, b'"platform": "tv"'))
    # An unterminated string swallows the rest of an array: the body is not JSON any more and
    # is refused as a whole (422, nothing acknowledged); in NDJSON only that line is lost.
    around("unterminated string in an array", b'{"type": "page_view", "event_id": "x', kept=False)
    around("unterminated string in ndjson", b'{"type": "page_view", "event_id": "x', ndjson=True)
    around("a bare string", b'"\\ud800"')
    return cases


def _request_cases() -> list[Case]:
    cases: list[Case] = []
    for path, base in (("/v1/decide", _DECIDE), ("/v1/assign", _ASSIGN)):
        body = msgspec.json.encode(base)
        for depth in (33, 1000, 100_000):
            nested = b"[" * depth + b"]" * depth
            cases.append(Case(f"{path} nested {depth}", path, nested))
            cases.append(
                Case(f"{path} member nested {depth}", path, body[:-1] + b', "x": ' + nested + b"}")
            )
        cases.append(
            Case(f"{path} lone surrogate", path, body[:-1] + rb', "session_id": "\ud800"}')
        )
        cases.append(Case(f"{path} bom", path, b"\xef\xbb\xbf" + body))
        cases.append(Case(f"{path} over the size limit", path, b" " * 300_000 + body))
        cases.append(Case(f"{path} bad bytes", path, body[:-1] + b', "session_id": "\xff"}'))
        cases.extend(
            Case(f"{path} {scheme} auth", path, body, {"Authorization": f"{scheme} key-12345"})
            for scheme in ("Basic", "Token")
        )
    return cases


def hostile_cases(seed: int = 91) -> list[Case]:
    """Every hostile case, with fresh valid neighbours."""
    return [*_event_cases(_Events(seed)), *_request_cases()]


def run_hostile(url: str, data: Path, seed: int = 91) -> dict[str, Any]:
    """Send every case; count answers, 5xx and valid events not stored."""
    cases = hostile_cases(seed)
    statuses: collections.Counter[str] = collections.Counter()
    server_errors: list[str] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for case in cases:
            try:
                status = client.post(case.path, content=case.body, headers=case.headers).status_code
            except httpx.TransportError as exc:
                statuses["no_response"] += 1
                server_errors.append(f"{case.name}: {type(exc).__name__}")
                continue
            statuses[str(status)] += 1
            if status >= 500:
                server_errors.append(f"{case.name}: {status}")
    valid = {i for case in cases for i in case.valid_ids}
    stored = set(query(data, "SELECT event_id FROM events").column("event_id").to_pylist())
    lost = sorted(valid - stored)
    return {
        "hostile_cases": len(cases), "hostile_statuses": dict(sorted(statuses.items())),
        "hostile_5xx": sum(n for s, n in statuses.items() if s.isdigit() and int(s) >= 500),
        "hostile_no_response": statuses["no_response"], "hostile_errors": server_errors[:10],
        "valid_events_sent": len(valid), "valid_events_lost": len(lost), "lost_ids": lost[:5],
    }  # fmt: skip
