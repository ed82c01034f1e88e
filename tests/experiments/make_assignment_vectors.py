"""Regenerate ``tests/vectors/assignment.json``.

Run: ``python tests/experiments/make_assignment_vectors.py``.

The file is committed and read by the Python and JS test suites; regenerate only on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from marketlift.experiments.assignment import assign_variant
from marketlift.experiments.config import experiment_from_dict
from marketlift.experiments.hashing import bucket

SPEC = (
    "fnv1a32(bytes): 32-bit FNV-1a, offset 2166136261, prime 16777619, for each byte h = "
    "((h xor byte) * prime) mod 2**32. bucket(salt, unit) = fnv1a32(utf8(decimal string of "
    "fnv1a32(utf8(salt + ':' + unit)))) % 10000. Layer: eligible iff layer.start <= "
    "bucket(layer.salt, unit) < layer.end, else variant null. hold = floor(holdout_pct * 100) "
    "(float64); b = bucket(salt, unit); b < hold -> null. Weights w_i, cumulative sums c_i "
    "(left-to-right float64), W = c_last; t_i = hold + floor((10000 - hold) * c_i / W) "
    "(float64, multiply then divide), last t forced to 10000; variant = first i with b < t_i."
)

UNITS = [
    "buyer-1",
    "buyer-2",
    "anon-7f3a9c",
    "käufer-1",
    "買い手",
    "покупатель",
    "😀-unit",
    "",
    "a",
    "A",
    "0",
    "12345",
    "u:with:colons",
    "space unit",
    "x" * 128,
    "café",
    "ÿ",
    "\u00e9",
    "e\u0301",
    "mañana-42",
    "중국어",
    "عميل",
]
SALTS = ["", "s", "checkout_copy", "home_ranker_v2", "layer:home", "ソルト", "salt with space"]


def main() -> None:
    buckets = [
        {"salt": salt, "unit": unit, "bucket": bucket(salt, unit)}
        for i, unit in enumerate(UNITS)
        for salt in SALTS[i % 3 : i % 3 + 4]
    ]
    buckets += [
        {"salt": "seq", "unit": f"u{i}", "bucket": bucket("seq", f"u{i}")} for i in range(20)
    ]

    configs: list[dict[str, Any]] = [
        {
            "salt": "ab",
            "variants": [{"name": "control", "weight": 1}, {"name": "treatment", "weight": 1}],
            "holdout_pct": 0,
            "layer": None,
        },
        {
            "salt": "abc",
            "variants": [
                {"name": "control", "weight": 0.1},
                {"name": "b", "weight": 0.2},
                {"name": "c", "weight": 0.7},
            ],
            "holdout_pct": 0.29,
            "layer": None,
        },
        {
            "salt": "heavy_holdout",
            "variants": [{"name": "control", "weight": 50}, {"name": "treatment", "weight": 50}],
            "holdout_pct": 37.5,
            "layer": None,
        },
        {
            "salt": "thirds",
            "variants": [
                {"name": "a", "weight": 33.3},
                {"name": "b", "weight": 33.3},
                {"name": "c", "weight": 33.4},
            ],
            "holdout_pct": 5,
            "layer": None,
        },
        {
            "salt": "layered",
            "variants": [{"name": "control", "weight": 1}, {"name": "treatment", "weight": 3}],
            "holdout_pct": 10,
            "layer": {"salt": "home", "start": 2500, "end": 7500},
        },
        {
            "salt": "käufer_salt",
            "variants": [{"name": "control", "weight": 2}, {"name": "treatment", "weight": 1}],
            "holdout_pct": 99.99,
            "layer": None,
        },
        {
            "salt": "tiny_layer",
            "variants": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1}],
            "holdout_pct": 0.07,
            "layer": {"salt": "home", "start": 0, "end": 3000},
        },
    ]
    assignments = []
    units = UNITS[:18] + [f"buyer-{i}" for i in range(100, 112)]
    for ci, cfg in enumerate(configs):
        exp = experiment_from_dict(
            {"key": f"exp{ci}", **{k: v for k, v in cfg.items() if v is not None}}
        )
        assignments += [
            {"experiment": cfg, "unit": unit, "variant": assign_variant(exp, unit)}
            for unit in units[ci % 2 :][:26]
        ]
    doc = {"spec": SPEC, "buckets": buckets, "assignments": assignments}
    out = Path(__file__).resolve().parents[1] / "vectors" / "assignment.json"
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{out}: {len(buckets)} buckets, {len(assignments)} assignments")


if __name__ == "__main__":
    main()
