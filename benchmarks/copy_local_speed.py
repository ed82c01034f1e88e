"""Local model against the template: outputs per second and latency p50/p99 per touchpoint.

The same requests (``--per-touchpoint`` of every touchpoint, spread over the eight locales by
:func:`marketlift.copy.evaluate.sample`) go through the guarded batch twice, side by side in
one run: the ``llama_cpp`` provider (the model the ``llm-local`` extra installs, ``--slots``
parallel slots sharing ``--threads`` threads) and the template provider (the baseline). Per
touchpoint: outputs per second, median and 99th percentile latency per output, tokens per
output and the share the guards replaced. The load average is printed beside: on a shared
machine the local model's figures move with it. Prints one JSON line.

    .venv/bin/python benchmarks/copy_local_speed.py                      # 3 per touchpoint
    .venv/bin/python benchmarks/copy_local_speed.py --per-touchpoint 1   # quick look
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence

import numpy as np

from marketlift.copy import TemplateProvider, generate
from marketlift.copy.evaluate import sample
from marketlift.copy.llama import LlamaCppProvider
from marketlift.copy.providers import Provider
from marketlift.copy.request import CopyRequest
from marketlift.copy.touchpoints import TOUCHPOINTS
from marketlift.sim.copy_testset import build_requests


def _run(provider: Provider, requests: Sequence[CopyRequest], slots: int) -> dict[str, float]:
    start = time.perf_counter()
    results = generate(requests, provider, concurrency=slots)
    wall = time.perf_counter() - start
    latency = [r.latency_ms for r in results]
    tokens = [r.prompt_tokens + r.completion_tokens for r in results]
    return {
        "outputs_per_s": round(len(results) / wall, 3),
        "p50_ms": round(float(np.percentile(latency, 50)), 2),
        "p99_ms": round(float(np.percentile(latency, 99)), 2),
        "tokens_per_output": round(float(np.mean(tokens)), 1),
        "replaced": round(sum(r.status == "fallback" for r in results) / len(results), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-touchpoint", type=int, default=3)
    parser.add_argument("--slots", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout-s", type=float, default=120.0)
    args = parser.parse_args()
    pool = build_requests(2, 0)
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    local = LlamaCppProvider(threads=args.threads, slots=args.slots, timeout_s=args.timeout_s)
    load_s = time.perf_counter() - start
    template = TemplateProvider()
    generate(pool[:50], template)  # warm Babel data and the language identifier
    out: dict[str, object] = {
        "model": local.model, "threads": args.threads, "slots": args.slots,
        "model_load_s": round(load_s, 2),
    }  # fmt: skip
    for touchpoint in TOUCHPOINTS:
        requests = sample([r for r in pool if r.touchpoint == touchpoint], args.per_touchpoint)
        figures_local = _run(local, requests, args.slots)
        figures_template = _run(template, requests, args.slots)
        out[touchpoint] = {
            "n": len(requests),
            "local": figures_local,
            "template": figures_template,
            "template_speedup_x": round(
                figures_template["outputs_per_s"] / max(figures_local["outputs_per_s"], 1e-9), 1
            ),
        }
    out["usage"] = local.usage.as_dict()
    out["loadavg_1m_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    out["cores"] = os.cpu_count()
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
