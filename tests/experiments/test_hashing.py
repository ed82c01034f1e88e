import json
from pathlib import Path

import pytest

from marketlift.experiments.hashing import bucket, fnv1a32

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "assignment.json").read_text("utf-8")
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [  # published FNV-1a 32-bit test vectors
        (b"", 0x811C9DC5),
        (b"a", 0xE40C292C),
        (b"foobar", 0xBF9CF968),
        (b"chongo was here!\n", 0xD49930D5),
    ],
)
def test_fnv1a32_matches_published_vectors(data: bytes, expected: int) -> None:
    assert fnv1a32(data) == expected


def test_bucket_matches_shared_vectors() -> None:
    assert len(VECTORS["buckets"]) >= 100
    assert any(not case["unit"].isascii() for case in VECTORS["buckets"])
    for case in VECTORS["buckets"]:
        assert bucket(case["salt"], case["unit"]) == case["bucket"], case


def test_bucket_hashes_utf8_and_double_hashes() -> None:
    inner = fnv1a32("salt:käufer-1".encode())
    assert bucket("salt", "käufer-1") == fnv1a32(str(inner).encode()) % 10_000
    assert bucket("salt", "käufer-1") != fnv1a32("salt:käufer-1".encode()) % 10_000


def test_buckets_are_roughly_uniform() -> None:
    counts = [0] * 10
    for i in range(20_000):
        counts[bucket("uniform", f"unit-{i}") // 1000] += 1
    assert all(1800 < c < 2200 for c in counts), counts
