"""The Python client against a real running service (uvicorn on a free local port)."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from marketlift.client import ClientError, MarketliftClient
from marketlift.events.samples import sample_events
from marketlift.lake import query
from marketlift.serve import ServeConfig, create_app
from tests.conftest import free_port

WRITE_KEY = "client-write-key"
DECIDE_KEY = "client-decide-key"
EXPERIMENTS = """
[[experiment]]
key = "ranking_v2"
unit = "buyer_id"
variants = [
    {name = "control", weight = 1},
    {name = "treatment", weight = 1, values = {limit = 8, actions_off = ["discount_coupon"]}},
]
"""


@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    (tmp_path / "experiments.toml").write_text(EXPERIMENTS)
    port = free_port()
    config = ServeConfig(data_dir=tmp_path, port=port, write_key=WRITE_KEY, decide_key=DECIDE_KEY)
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), port=port, log_level="error", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=20)


def test_events_in_batches_with_duplicates_and_rejections(service: str, tmp_path: Path) -> None:
    events = sample_events(1200, random_state=61)
    events[1100] = dict(events[1100], platform="fax")
    with MarketliftClient(service, write_key=WRITE_KEY, batch_size=400) as client:
        first = client.send_events(events)
        again = client.send_events(events[:500])
        assert client.health()["status"] == "ok"
    assert first.counts() == (1199, 0, 1)
    assert first.rejected[0].index == 1100  # indexes refer to the whole list, not the batch
    assert again.counts() == (0, 500, 0)
    stored = query(tmp_path, "SELECT count(*) AS n FROM events").to_pylist()
    assert stored == [{"n": 1199}]


def test_assign(service: str) -> None:
    with MarketliftClient(service, decide_key=DECIDE_KEY) as client:
        one = client.assign(platform="web", buyer_id="b-7")
        two = client.assign(platform="web", buyer_id="b-7")
    assert [a.experiment_key for a in one.assignments] == ["ranking_v2"]
    assert one.assignments == two.assignments
    assert (one.exposures_logged, two.exposures_logged) == (1, 0)


def test_assign_carries_the_arms_values(service: str) -> None:
    """Feature-flag style: the client reads what the unit's arm changes."""
    from marketlift.experiments import assign_variant, experiment_from_dict

    exp = experiment_from_dict({"key": "ranking_v2", "variants": ["control", "treatment"]})
    seen = set()
    with MarketliftClient(service, decide_key=DECIDE_KEY) as client:
        for i in range(20):
            (a,) = client.assign(platform="web", buyer_id=f"b-{i}").assignments
            assert a.variant == assign_variant(exp, f"b-{i}")  # the same hashing
            want = (
                {"limit": 8, "actions_off": ["discount_coupon"]} if a.variant == "treatment" else {}
            )
            assert a.values == want
            seen.add(a.variant)
    assert seen == {"control", "treatment"}


def test_decide_over_one_connection_and_field_errors(service: str) -> None:
    from marketlift.serve.decide_schema import DecideRequest

    with MarketliftClient(service, decide_key=DECIDE_KEY) as client:
        typed = client.decide(
            DecideRequest(
                surface="home", platform="web", buyer_id="b-7", candidates=["l1", "l2"], limit=2
            )
        )
        plain = client.decide({"surface": "cart", "platform": "ios", "anonymous_id": "a-1"})
        with pytest.raises(ClientError) as info:
            client.decide({"surface": "checkout", "platform": "web", "buyer_id": "b-7"})
    assert [x.listing_id for x in typed.listings] == ["l1", "l2"]
    assert typed.assignments == [
        {
            "experiment_key": "ranking_v2",
            "variant": typed.assignments[0]["variant"],
            "unit": "buyer_id",
        }
    ]
    assert plain.decision_id != typed.decision_id
    assert info.value.status == 422
    assert "surface" in info.value.body


def test_refusals_raise_with_the_status(service: str) -> None:
    with (
        MarketliftClient(service, write_key="wrong-key-1") as client,
        pytest.raises(ClientError) as info,
    ):
        client.send_events(sample_events(3, random_state=62))
    assert info.value.status == 401


def test_retries_run_out_on_a_dead_service() -> None:
    with MarketliftClient(f"http://127.0.0.1:{free_port()}", retries=2, backoff_s=0.01) as client:
        started = time.monotonic()
        with pytest.raises(ClientError, match="after 3 tries"):
            client.send_events(sample_events(2, random_state=63))
    assert time.monotonic() - started < 5
