"""Template copy: throughput and latency per output on cache miss and hit, and guard quality.

Miss: render the template copy of a request from its facts and check it with every guard
(what a batch does for a new request). Hit: what the decision API does, ``CopyReader.copy_for``
on a request already in the SQLite cache (facts hash, key, primary-key lookup, decode). The
requests are the evaluation test set (simulated listings, every touchpoint, action and
locale). Guards: planted hallucinations and obeyed injections caught, valid outputs wrongly
rejected. Prints one JSON line.

    .venv/bin/python benchmarks/copy_template.py                 # 25 listings (2,000 requests)
    .venv/bin/python benchmarks/copy_template.py --listings 5    # quick look
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import numpy as np

from marketlift.copy import CopyCache, CopyReader, TemplateProvider, generate, guard_report
from marketlift.copy.guards import check
from marketlift.copy.template import render
from marketlift.sim.copy_testset import build_requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--listings", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    requests = build_requests(args.listings, args.seed)
    for request in requests[:200]:  # warm Babel locale data and the language model
        check(request, render(request))

    miss = []
    start = time.perf_counter()
    for request in requests:
        t0 = time.perf_counter()
        parts = render(request)
        check(request, parts)
        miss.append(time.perf_counter() - t0)
    miss_wall = time.perf_counter() - start

    render_only = []
    for request in requests:
        t0 = time.perf_counter()
        render(request)
        render_only.append(time.perf_counter() - t0)

    with tempfile.TemporaryDirectory() as data:
        with CopyCache(data) as cache:
            generate(requests, TemplateProvider(), cache=cache)
        reader = CopyReader(data)
        hit = []
        start = time.perf_counter()
        for request in requests:
            t0 = time.perf_counter()
            result = reader.copy_for(request)
            hit.append(time.perf_counter() - t0)
            assert result.status == "ok"
        hit_wall = time.perf_counter() - start
        reader.close()

    guards = guard_report(requests)
    us = 1e6
    print(
        json.dumps(
            {
                "requests": len(requests),
                "miss_outputs_per_s": round(len(requests) / miss_wall, 1),
                "miss_p50_us": round(float(np.percentile(miss, 50)) * us, 1),
                "miss_p99_us": round(float(np.percentile(miss, 99)) * us, 1),
                "render_only_p50_us": round(float(np.percentile(render_only, 50)) * us, 1),
                "render_only_p99_us": round(float(np.percentile(render_only, 99)) * us, 1),
                "hit_outputs_per_s": round(len(requests) / hit_wall, 1),
                "hit_p50_us": round(float(np.percentile(hit, 50)) * us, 1),
                "hit_p99_us": round(float(np.percentile(hit, 99)) * us, 1),
                "guard_planted": guards.planted,
                "guard_catch_rate": guards.catch_rate,
                "guard_by_kind": guards.by_kind,
                "guard_valid": guards.valid,
                "guard_false_rejection_rate": guards.false_rejection_rate,
            }
        )
    )


if __name__ == "__main__":
    main()
