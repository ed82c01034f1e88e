"""Every code block of the README runs, against a real ``marketlift serve`` on a free port.

Blocks run in order as one script (the shell ones as written, the Python ones with this
interpreter), with ``.venv/bin/marketlift`` replaced by this interpreter's ``-m marketlift``,
port 8000 by a free port and ``./marketlift-data`` by a temporary directory. A block that
cannot run offline in seconds says why in a ``<!-- readme-test: skip (why) -->`` line above it.
"""

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import free_port

README = Path(__file__).parents[1] / "README.md"
FENCE = re.compile(
    r"(?:<!-- readme-test: skip \((?P<why>[^\n]+)\) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)^```",
    re.DOTALL | re.MULTILINE,
)


def _blocks() -> list[tuple[str, str, str | None]]:
    return [(m["lang"], m["body"], m["why"]) for m in FENCE.finditer(README.read_text())]


def _script(port: int, data: Path) -> str:
    parts = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    for lang, body, why in _blocks():
        if why is not None:
            continue
        if lang == "sh":
            parts.append("\n".join(ln for ln in body.splitlines() if not ln.startswith("make ")))
        else:
            parts.append(f"{sys.executable} - <<'PY'\n{body}PY")
    script = "\n".join(parts)
    for old, new in (
        (".venv/bin/marketlift", f"{sys.executable} -m marketlift"),
        ("8000", str(port)),
        ("./marketlift-data", str(data)),
    ):
        script = script.replace(old, new)
    return script


def test_every_block_runs_or_says_why_not() -> None:
    blocks = _blocks()
    assert len(blocks) >= 5
    assert {lang for lang, _, _ in blocks} == {"sh", "python"}  # no untagged block
    assert sum(why is None for _, _, why in blocks) >= 3


def test_readme_blocks_run_against_a_real_server(tmp_path: Path) -> None:
    script = _script(free_port(), tmp_path / "data")
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, done.stdout + done.stderr
    assert "marketlift: ready on http://127.0.0.1:" in done.stderr
    assert '{"accepted":1,"duplicates":0,"rejected":[]}' in out
    assert '"field":"platform","value":"tv","expected":"one of \'web\', \'ios\'' in out
    assert '"listing_id":"L-1002"' in out  # the event just sent, first by ORDER BY ts DESC
    assert "platform == 'tv'" in out  # the dead letter's reason
    assert out.rstrip().endswith("1 0 []")  # the Python client's report


def test_the_decide_examples_land_in_the_arms_the_readme_names(tmp_path: Path) -> None:
    from marketlift.demo.abtest import EXPERIMENT_KEY, write_experiments_toml
    from marketlift.experiments import load_experiments
    from marketlift.experiments.assignment import assign_variant

    text = README.read_text()
    assert '"anonymous_id": "anon-46"' in text
    assert '`"anon-42"` gets 20 `"popular"` listings' in text
    experiment = load_experiments(write_experiments_toml(tmp_path))[EXPERIMENT_KEY]
    assert assign_variant(experiment, "anon-46") == "treatment"
    assert assign_variant(experiment, "anon-42") == "control"
