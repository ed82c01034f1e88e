"""Fuzz ``POST /v1/decide`` (and ``/v1/assign``) from the OpenAPI document with schemathesis.

A real ``marketlift serve`` process serves the prepared data directory (see
:mod:`_decide_data`); ``schemathesis run`` (4.x, the command line) generates requests from
``/openapi.json``: the document's examples, the coverage phase (boundary and invalid values)
and at least ``--cases`` property-based cases per operation, valid and invalid, with the
``not_a_server_error`` check (any 5xx fails). The script reads schemathesis' NDJSON event
stream and counts the answers by status itself. Prints ONE JSON line: cases run, answers per
status, 5xx count, and the failures schemathesis reported (request and response).

    .venv/bin/python benchmarks/decide_fuzz.py                    # 1,000+ cases per operation
    .venv/bin/python benchmarks/decide_fuzz.py --cases 100 --buyers 2000 --trees 50
    .venv/bin/python benchmarks/decide_fuzz.py --events           # also POST /v1/events
    .venv/bin/python benchmarks/decide_fuzz.py --all-routes --checks all --hostile --any-time

``--any-time`` serves with the clock limits on ``ts`` lifted (no schema can state "within 30
days of the server clock", so schemathesis' schema-valid events would be refused for it).
``--all-routes`` fuzzes every operation of the document, ``--checks all`` runs every
schemathesis check (failures are counted per check: a schema-valid request refused, a
missing header accepted, ...), and ``--hostile`` then sends the hand-written hostile bodies of
:mod:`_hostile` (nesting, encodings, gzip members, sizes, surrogates) with valid neighbour
events and reads the lake: ``valid_events_lost`` counts the neighbours not stored.

The server runs on a temporary copy of the prepared directory: fuzzed events and decisions
land in the copy's lake, never in the cached preparation the other benchmarks reuse.
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _decide_data as dd
import _hostile


def schemathesis_bin() -> str:
    """The ``schemathesis`` command of this interpreter's environment."""
    return str(Path(sys.executable).with_name("schemathesis"))


def _command(
    url: str, paths: list[str], cases: int, report_dir: Path, *, seed: int | None,
    checks: str, phases: str = "examples,coverage,fuzzing",
) -> list[str]:  # fmt: skip
    cmd = [schemathesis_bin(), "run", f"{url}/openapi.json", "--checks", checks,
           "--max-examples", str(cases), "--workers", "1",
           "--phases", phases, "--continue-on-failure",
           "--request-timeout", "30", "--suppress-health-check", "all",
           "--report", "json,ndjson", "--report-dir", str(report_dir)]  # fmt: skip
    for path in paths:  # none: every operation
        cmd += ["--include-path", path]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    return cmd


def run_schemathesis(
    url: str, paths: list[str], cases: int, report_dir: Path, *, seed: int | None = None,
    checks: str = "not_a_server_error", timeout_s: float = 3600, processes: int = 1,
) -> dict[str, Any]:  # fmt: skip
    """Run ``schemathesis run`` and summarize its reports: cases, statuses, 5xx, failures.

    With ``processes`` above 1, that many runs go side by side (hypothesis' generation is the
    bottleneck on a busy machine), each with its own seed; only the first runs the examples
    and the deterministic coverage phase, the others fuzz. Their summaries are added up.
    """
    procs = []
    for i in range(processes):
        folder = report_dir / f"run-{i}"
        folder.mkdir(parents=True, exist_ok=True)
        cmd = _command(url, paths, cases, folder, checks=checks,
                       seed=None if seed is None else seed + i,
                       phases="examples,coverage,fuzzing" if i == 0 else "fuzzing")  # fmt: skip
        procs.append((folder, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                               stderr=subprocess.STDOUT, text=True)))  # fmt: skip
    summaries = []
    for folder, proc in procs:
        output, _ = proc.communicate(timeout=timeout_s)
        summaries.append(summarize(folder, proc.returncode, output))
    return merge(summaries)


def merge(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Add up the summaries of runs side by side.

    ``cases_generated`` is the total over the processes; ``cases_generated_per_process`` and
    ``interrupted_processes`` (runs whose JSON report is empty: schemathesis was killed, its
    cases are not counted) show how it was made.
    """
    out: dict[str, Any] = {
        "exit_code": max(s["exit_code"] for s in summaries),
        "processes": len(summaries),
        "cases_generated_per_process": [s["cases_generated"] or 0 for s in summaries],
        "interrupted_processes": sum(s["interrupted"] for s in summaries),
    }
    if len(summaries) == 1:
        return {**summaries[0], **out}
    for key in ("cases_generated", "cases_with_failures", "errored", "requests",
                "server_errors_5xx"):  # fmt: skip
        out[key] = sum(s[key] or 0 for s in summaries)
    for key in ("statuses", "check_failures"):
        total: collections.Counter[str] = collections.Counter()
        for s in summaries:
            total.update(s[key])
        out[key] = dict(sorted(total.items()))
    per_operation: dict[str, collections.Counter[str]] = collections.defaultdict(
        collections.Counter
    )
    for s in summaries:
        for label, counts in s["per_operation"].items():
            per_operation[label].update(counts)
    out["per_operation"] = {k: dict(sorted(v.items())) for k, v in sorted(per_operation.items())}
    for key in ("examples_5xx", "failures", "errors"):
        out[key] = [x for s in summaries for x in s[key]][:5]
    return out


def summarize(report_dir: Path, returncode: int, output: str) -> dict[str, Any]:
    """Counts from schemathesis' JSON run report and NDJSON event stream."""
    reports = sorted(report_dir.glob("json-*.json"))
    streams = sorted(report_dir.glob("ndjson-*.ndjson"))
    if not reports or not streams:
        raise RuntimeError(f"schemathesis wrote no report (exit {returncode}):\n{output[-3000:]}")
    text = reports[-1].read_text()
    report = json.loads(text) if text.strip() else {}  # empty: schemathesis was interrupted
    statuses: collections.Counter[str] = collections.Counter()
    per_operation: dict[str, collections.Counter[str]] = collections.defaultdict(
        collections.Counter
    )
    server_errors: list[dict[str, Any]] = []
    check_failures: collections.Counter[str] = collections.Counter()
    for line in streams[-1].read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        for check in ((finished or {}).get("recorder") or {}).get("checks", {}).values():
            for result in check if isinstance(check, list) else [check]:
                if isinstance(result, dict) and str(result.get("status")).lower() == "failure":
                    check_failures[str(result.get("name"))] += 1
        if not finished:
            continue
        recorder = finished.get("recorder") or {}
        label = str(recorder.get("label", "?"))
        for interaction in (recorder.get("interactions") or {}).values():
            response = interaction.get("response") or {}
            status = response.get("status_code")
            key = str(status) if status is not None else "no_response"
            statuses[key] += 1
            per_operation[label][key] += 1
            if status is not None and int(status) >= 500 and len(server_errors) < 5:
                request = interaction.get("request") or {}
                server_errors.append({
                    "operation": label, "status": status,
                    "method": request.get("method"), "url": request.get("uri"),
                    "body": request.get("body"), "response": response.get("content"),
                })  # fmt: skip
    cases = report.get("test_cases", {})
    return {
        "exit_code": returncode,
        "interrupted": not report,
        "cases_generated": cases.get("generated"),
        "cases_with_failures": cases.get("with_failures"),
        "errored": cases.get("errored"),
        "requests": sum(statuses.values()),
        "statuses": dict(sorted(statuses.items())),
        "per_operation": {k: dict(sorted(v.items())) for k, v in sorted(per_operation.items())},
        "server_errors_5xx": sum(n for s, n in statuses.items() if s.isdigit() and int(s) >= 500),
        "check_failures": dict(sorted(check_failures.items())),
        "examples_5xx": server_errors,
        "failures": report.get("failures", [])[:5],
        "errors": report.get("errors", [])[:5],
    }


_NO_RUN: dict[str, Any] = {"cases_generated": 0, "cases_with_failures": 0, "server_errors_5xx": 0,
                           "per_operation": {}}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=None, help="prepared (or to prepare) dir")
    parser.add_argument("--buyers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--trees", type=int, default=200)
    parser.add_argument("--cases", type=int, default=1000, help="fuzzing cases per operation")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--events", action="store_true", help="also fuzz POST /v1/events")
    parser.add_argument("--all-routes", action="store_true", help="fuzz every operation")
    parser.add_argument("--checks", default="not_a_server_error", help="schemathesis checks")
    parser.add_argument("--hostile", action="store_true", help="then the hostile bodies")
    parser.add_argument("--processes", type=int, default=1, help="schemathesis runs at once")
    parser.add_argument("--hostile-only", action="store_true", help="no schemathesis run")
    parser.add_argument("--any-time", action="store_true",
                        help="serve with --any-time: the clock rule on ts, which no schema "
                        "can state, does not refuse schema-valid events")  # fmt: skip
    parser.add_argument("--log", type=Path, default=None, help="server log file")
    args = parser.parse_args()

    prepared = dd.prepare(args.data, buyers=args.buyers, days=args.days, trees=args.trees)
    paths = ["/v1/decide", "/v1/assign", *(["/v1/events"] if args.events else [])]
    if args.all_routes:
        paths = []
    work = Path(tempfile.mkdtemp(prefix="ml-fuzz-"))
    log = args.log or work / "server.log"
    data = work / "data"
    shutil.copytree(prepared, data)
    server, url = dd.start_server(data, log=log, extra=("--any-time",) if args.any_time else ())
    try:
        with tempfile.TemporaryDirectory(prefix="ml-fuzz-report-") as tmp:
            summary = (
                _NO_RUN if args.hostile_only
                else run_schemathesis(url, paths, args.cases, Path(tmp), seed=args.seed,
                                      checks=args.checks, processes=args.processes)
            )  # fmt: skip
        hostile = _hostile.run_hostile(url, data) if args.hostile or args.hostile_only else {}
    finally:
        dd.stop(server)
        shutil.rmtree(data, ignore_errors=True)
    decide = summary["per_operation"].get("POST /v1/decide", {})
    cases = (summary["cases_generated"] or 0) + hostile.get("hostile_cases", 0)
    server_errors = summary["server_errors_5xx"] + hostile.get("hostile_5xx", 0)
    out = {
        "benchmark": "decide_fuzz", "operations": paths or "all", "checks": args.checks,
        "cases_per_operation": args.cases, "decide_requests": sum(decide.values()), **summary,
        **hostile, "cases_total": cases, "server_errors_5xx_total": server_errors,
        "no_5xx": server_errors == 0 and (args.checks != "not_a_server_error"
                                          or not summary["cases_with_failures"]),
        "server_log": str(log), **dd.machine(),
    }  # fmt: skip
    print(json.dumps(out))


if __name__ == "__main__":
    main()
