"""A real local model (the ``llm-local`` extra): generation, guards, timeouts, HTTP server.

One model is loaded for the module (Gemma 3 270M from its packages, found with no path given)
and kept to a few drafts with small token caps: the whole file stays within the suite's budget.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from pathlib import Path

import pytest

from marketlift.copy.batch import generate
from marketlift.copy.cache import CopyCache
from marketlift.copy.facts import Facts
from marketlift.copy.guards import check
from marketlift.copy.llama import LlamaCppProvider
from marketlift.copy.local_model import DEFAULT_MODEL, LOCAL_MODELS, find_model
from marketlift.copy.local_prompt import build_local_messages, response_schema
from marketlift.copy.openai_compat import OpenAICompatibleProvider, OpenAIConfig
from marketlift.copy.prompts import ProviderError
from marketlift.copy.request import CopyRequest
from marketlift.copy.template import render
from marketlift.copy.testset import INJECTIONS, inject
from marketlift.errors import ConfigError
from marketlift.sim.copy_testset import build_requests


@pytest.fixture(scope="module")
def provider() -> LlamaCppProvider:
    """The installed default model, also listening on llama.cpp's HTTP API."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return LlamaCppProvider(port=port, timeout_s=600.0, max_tokens=24)  # 600: a loaded CI


def _translation(locale: str = "en-US") -> CopyRequest:
    return next(
        r for r in build_requests(1, 0) if r.touchpoint == "translation" and r.locale == locale
    )


def test_the_extra_installs_a_model_found_without_a_path() -> None:
    path = find_model()
    assert path.is_file()
    assert path.suffix == ".gguf"
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"
    assert path.name == LOCAL_MODELS[DEFAULT_MODEL].file
    with pytest.raises(ConfigError, match="model == 'nope'"):
        find_model("nope")


def test_a_model_in_parts_is_joined_once_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKETLIFT_MODEL_CACHE", str(tmp_path))
    path = find_model(DEFAULT_MODEL)
    assert path.parent == tmp_path
    assert (tmp_path / f"{path.name}.sha256").read_text() == LOCAL_MODELS[DEFAULT_MODEL].sha256
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"
    mtime = path.stat().st_mtime_ns
    assert find_model(DEFAULT_MODEL).stat().st_mtime_ns == mtime  # not joined again
    (tmp_path / f"{path.name}.sha256").write_text("0" * 64)  # a stale stamp: join again
    assert find_model(DEFAULT_MODEL).stat().st_mtime_ns != mtime


def test_bad_arguments_name_the_field() -> None:
    with pytest.raises(ConfigError, match="slots == 0"):
        LlamaCppProvider(slots=0)
    with pytest.raises(ConfigError, match="timeout_s == -1"):
        LlamaCppProvider(timeout_s=-1)
    with pytest.raises(ConfigError, match=r"model_path == 'no\.gguf'"):
        LlamaCppProvider("no.gguf")


def test_the_prompt_cites_localized_facts_and_fences_seller_text() -> None:
    request = _translation("de-DE")
    hostile = inject(request, INJECTIONS[2], "title")
    assert hostile is not None
    system, user = (m["content"] for m in build_local_messages(hostile))
    assert "German" in system
    assert "untrusted" in system
    assert "- price: " in user  # a Babel price, not minor units
    assert "\u20ac" in user
    line = [x for x in user.splitlines() if x.startswith("- seller title (untrusted): ")][-1]
    assert "</facts>" in json.loads(line.split(": ", 1)[1])  # kept, as a quoted JSON string
    assert "\n" not in json.loads(line.split(": ", 1)[1])


def test_real_drafts_parse_are_guarded_and_accounted(provider: LlamaCppProvider) -> None:
    clean = _translation("en-US")
    search = next(
        r for r in build_requests(1, 0) if r.touchpoint == "search_rewrite" and r.locale == "en-US"
    )
    hostile = dataclasses.replace(search, facts=Facts(query=f"blue mug {INJECTIONS[0]}"))
    requests = [clean, hostile]  # the injection reaches the model, not only the template
    results = generate(requests, provider, concurrency=1)
    assert provider.usage.requests == 2
    cut = [r for r in results if r.reasons and r.reasons[0].startswith("provider: ")]
    assert provider.usage.failures == len(cut)
    assert provider.usage.timeouts == 0
    assert all("token cap" in r.reasons[0] for r in cut)  # the cap (24 here) cut them
    assert provider.usage.prompt_tokens > 200
    assert provider.usage.completion_tokens > 0
    for request, result in zip(requests, results, strict=True):
        assert check(request, result.parts) == ()  # whatever the model wrote, this is safe
        assert result.model == provider.model
        assert result.prompt_version == "local-1"
        assert result.prompt_tokens > 100  # a rejected or cut draft still carries its tokens
        if result.status == "fallback":
            assert result.reasons
            assert result.parts == render(request)
        else:
            assert result.provider == "llama_cpp"
            assert set(result.parts) == set(response_schema(request.touchpoint)["properties"])


def test_a_timeout_falls_back_with_its_reason(provider: LlamaCppProvider) -> None:
    request = _translation("en-US")  # its prompt is cached by the test above: a quick stop
    before = provider.usage.timeouts
    provider.timeout_s = 0.001
    try:
        with pytest.raises(ProviderError, match=r"time limit|timed out"):
            asyncio.run(provider.generate(request))
        [result] = generate([request], provider, concurrency=1)
    finally:
        provider.timeout_s = 600.0
    assert provider.usage.timeouts == before + 2
    assert result.status == "fallback"
    assert result.reasons[0].startswith("provider: ")
    assert result.parts == render(request)


def test_the_openai_client_talks_to_llama_cpps_own_server(
    provider: LlamaCppProvider, tmp_path: Path
) -> None:
    assert provider.base_url is not None
    assert provider.base_url.startswith("http://127.0.0.1:")
    config = OpenAIConfig(
        base_url=provider.base_url, model=provider.model, max_tokens=24, timeout_s=600.0,
        max_retries=0, concurrency=1,
    )  # fmt: skip
    client = OpenAICompatibleProvider(config)
    request = _translation("it-IT")
    with CopyCache(tmp_path) as cache:
        [result] = generate([request], client, cache=cache, concurrency=1)
        assert cache.get(result.key) == result
    assert client.usage.requests == 1
    assert client.usage.prompt_tokens > 100  # counted from the real server's usage
    assert client.usage.completion_tokens > 0
    assert check(request, result.parts) == ()
    assert result.status == "ok" or (result.reasons and result.parts == render(request))
