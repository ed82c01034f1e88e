"""Guards on real drafts of the local model: share served, share replaced, by reason, by locale.

``--sample`` requests spread over every locale and touchpoint of the evaluation test set,
plus the same requests with a prompt injection hidden in the seller's title, description,
reviews or the buyer's query, go through the guarded batch with the ``llama_cpp`` provider
(the model the ``llm-local`` extra installs). Every draft is checked; a rejected one is
replaced by the template. Baseline, in the same run: the template provider on the same
requests (served share 1.0 by construction). Prints one JSON line.

    .venv/bin/python benchmarks/copy_local_guards.py               # 24 requests + injections
    .venv/bin/python benchmarks/copy_local_guards.py --sample 8    # quick look
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter

from marketlift.copy import TemplateProvider, generate
from marketlift.copy.evaluate import sample
from marketlift.copy.llama import LlamaCppProvider
from marketlift.copy.request import CopyRequest, CopyResult
from marketlift.copy.testset import INJECTIONS, inject
from marketlift.sim.copy_testset import build_requests

_WHERE = ("title", "description", "reviews", "query")


def _injected(requests: list[CopyRequest]) -> list[CopyRequest]:
    out = []
    for i, request in enumerate(requests):
        for where in _WHERE:
            hostile = inject(request, INJECTIONS[i % len(INJECTIONS)], where)
            if hostile is not None:
                out.append(hostile)
                break
    return out


def _outcome(results: list[CopyResult]) -> dict[str, object]:
    n = len(results)
    replaced = [r for r in results if r.status == "fallback"]
    reasons: Counter[str] = Counter()
    for r in replaced:
        reasons.update({reason.split(":", 1)[0] for reason in r.reasons})
    by_locale: dict[str, list[int]] = {}
    for r in results:
        row = by_locale.setdefault(r.locale, [0, 0])
        row[0] += r.status == "ok"
        row[1] += 1
    return {
        "drafts": n,
        "served_share": round((n - len(replaced)) / n, 3),
        "replaced_share": round(len(replaced) / n, 3),
        "replaced_by_reason": dict(reasons.most_common()),
        "served_share_by_locale": {k: round(v[0] / v[1], 3) for k, v in sorted(by_locale.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", type=int, default=24)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--timeout-s", type=float, default=120.0)
    args = parser.parse_args()
    clean = sample(build_requests(2, 0), args.sample)
    hostile = _injected(clean)
    local = LlamaCppProvider(slots=args.slots, timeout_s=args.timeout_s)
    results = generate(clean + hostile, local, concurrency=args.slots)
    baseline = generate(clean + hostile, TemplateProvider())
    out = {
        "model": local.model,
        "local": _outcome(results),
        "local_clean": _outcome(results[: len(clean)]),
        "local_injected": _outcome(results[len(clean) :]),
        "template_baseline": _outcome(baseline),
        "usage": local.usage.as_dict(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
