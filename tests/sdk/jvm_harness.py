"""Run the JVM SDK's driver against a real ``marketlift serve``; shared by tests and benchmark.

The jar and the test classes are built by ``scripts/build-jvm.sh`` (skipped when no source
changed). The driver (``sdk/jvm/src/test/java/io/marketlift/sdk/Driver.java``) prints one JSON
object per line; :class:`Driver` reads them and can kill the JVM at any moment.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

ROOT = Path(__file__).resolve().parents[2]
JVM = ROOT / "sdk" / "jvm"
QUICK = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
"""JVM options for a quick start (the tests); the benchmark runs with the full JIT."""


def build() -> str:
    """Build the SDK if needed; return the classpath of the library and the driver."""
    if shutil.which("javac") is None or shutil.which("java") is None:
        msg = "javac/java are missing: run scripts/ensure-jvm.sh (or make jvm) first"
        raise RuntimeError(msg)
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-jvm.sh")],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return f"{JVM / 'build' / 'classes'}:{JVM / 'build' / 'test-classes'}"


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(data_dir: Path) -> Iterator[str]:
    """Run ``marketlift serve`` (the venv's, with this checkout's sources) until the block ends."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cli = Path(sys.executable).with_name("marketlift")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETLIFT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    log_path = data_dir.parent / f"serve-{port}.log"
    with log_path.open("wb") as log:
        command = [str(cli), "serve", "--data", str(data_dir), "--port", str(port)]
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(f"{url}/healthz", timeout=1) as answer,
                ):
                    if answer.status == 200:
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    text = log_path.read_text(errors="replace")[-2000:]
                    msg = f"marketlift serve did not start on {url}:\n{text}"
                    raise RuntimeError(msg)
                time.sleep(0.1)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


class Driver:
    """One JVM running the driver; lines of JSON on stdout, killable at any time."""

    def __init__(self, classpath: str, *args: str, jvm_opts: tuple[str, ...] = QUICK) -> None:
        self.proc = subprocess.Popen(
            ["java", *jvm_opts, "-cp", classpath, "io.marketlift.sdk.Driver", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def line(self) -> dict[str, Any]:
        """The next JSON line of the driver (fails when the driver has ended)."""
        stdout: BinaryIO | None = self.proc.stdout
        assert stdout is not None
        raw = stdout.readline()
        if not raw:
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
            msg = f"the driver ended (rc {self.proc.poll()}): {err[-2000:]}"
            raise RuntimeError(msg)
        value: dict[str, Any] = json.loads(raw)
        return value

    def kill(self) -> list[dict[str, Any]]:
        """SIGKILL the JVM, as Android kills a background app: no shutdown hook runs.

        Returns the lines it printed before it died that were not read yet.
        """
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        rest = self.proc.stdout.read() if self.proc.stdout else b""
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
        return [json.loads(line) for line in rest.splitlines() if line.endswith(b"}")]

    def finish(self, timeout: float = 60.0) -> tuple[int, str, str]:
        """Close stdin, wait for the exit; return the status, stdout and stderr."""
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out.decode(), err.decode()


def run(
    classpath: str,
    *args: str,
    stdin: str = "",
    timeout: float = 60.0,
    jvm_opts: tuple[str, ...] = QUICK,
) -> tuple[int, str, str]:
    """Run the driver to its end; return the status, stdout and stderr."""
    proc = subprocess.run(
        ["java", *jvm_opts, "-cp", classpath, "io.marketlift.sdk.Driver", *args],
        input=stdin.encode(),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode()
