"""Shared fixtures: real servers on 127.0.0.1, sample events, free ports."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from marketlift.events.samples import sample_events


def _answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def require_service(name: str, port: int) -> None:
    """Skip (outside CI) or fail (in CI) when a server does not answer."""
    if _answers(port):
        return
    message = f"{name} does not answer on 127.0.0.1:{port} (run: bash scripts/ensure-services.sh)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def nats_url() -> str:
    require_service("NATS JetStream", 4222)
    return "nats://127.0.0.1:4222"


@pytest.fixture
def redis_url() -> str:
    require_service("Redis", 6379)
    return "redis://127.0.0.1:6379/0"


@pytest.fixture
def jetstream_config(nats_url: str) -> Iterator[Any]:
    """A JetStream config with a stream and subjects of its own, deleted afterwards."""
    import asyncio

    import nats

    from marketlift.serve.config import JetStreamConfig

    tag = uuid.uuid4().hex[:8]
    config = JetStreamConfig(url=nats_url, stream=f"TEST_{tag.upper()}", subject_prefix=f"t{tag}")
    yield config

    async def drop() -> None:
        nc = await nats.connect(nats_url)
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_stream(config.stream)
        await nc.close()

    asyncio.run(drop())


@pytest.fixture
def events() -> list[dict[str, Any]]:
    """500 realistic events of every type."""
    return sample_events(500, random_state=11)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The one local SparkSession of the test run (features and experiments share it)."""
    pytest.importorskip("pyspark")
    from marketlift.features import local_spark

    small_data = {
        "spark.sql.adaptive.enabled": "false",
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.autoBroadcastJoinThreshold": str(256 * 2**20),
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    }
    session = local_spark(memory="1g", partitions=1, conf=small_data)
    yield session
    session.stop()
