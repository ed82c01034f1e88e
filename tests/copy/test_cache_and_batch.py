"""Cache addressing, batch generation with fallback, the serving reader and copy variants."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

from marketlift.copy.batch import generate
from marketlift.copy.cache import CopyCache, cache_key
from marketlift.copy.facts import Facts, ListingFacts, Money, facts_hash
from marketlift.copy.prompts import ProviderError
from marketlift.copy.replay import ReplayProvider, request_key
from marketlift.copy.request import CopyRequest
from marketlift.copy.serving import CopyReader
from marketlift.copy.template import TemplateProvider, render
from marketlift.copy.testset import plant
from marketlift.copy.variants import PLAIN_TEMPLATE_VARIANT, CopyVariant, variant_for

MUG = ListingFacts(
    "l1", "Blue mug", "mug", Money(1800, "USD"), materials=("ceramic",), title_language="en"
)
REQUEST = CopyRequest("highlights", "en-US", Facts(listing=MUG))


def test_key_changes_with_every_part_of_the_address() -> None:
    fh = facts_hash(REQUEST.facts)
    base = cache_key("highlights", "v1", fh, "en-US", "m")
    others = {
        cache_key("nudge", "v1", fh, "en-US", "m"),
        cache_key("highlights", "v2", fh, "en-US", "m"),
        cache_key("highlights", "v1", "0" * 64, "en-US", "m"),
        cache_key("highlights", "v1", fh, "en-GB", "m"),
        cache_key("highlights", "v1", fh, "en-US", "n"),
    }
    assert base not in others
    assert len(others) == 5
    other_facts = Facts(listing=ListingFacts("l1", "Blue mug", "mug", Money(1801, "USD")))
    assert facts_hash(other_facts) != fh


def test_template_batch_fills_the_cache_and_reruns_hit_it(tmp_path: Path, requests_small) -> None:
    with CopyCache(tmp_path) as cache:
        first = generate(requests_small, TemplateProvider(), cache=cache, concurrency=4)
        assert len(cache) == len({r.key for r in first})
    assert all(r.status == "ok" for r in first)
    assert [r.parts for r in first] == [render(q) for q in requests_small]
    # a provider that knows nothing still answers everything: all from the cache
    empty = ReplayProvider({}, model="template", prompt_version="tpl-1")
    with CopyCache(tmp_path) as cache:
        again = generate(requests_small, empty, cache=cache)
    assert again == first


def test_bad_drafts_fall_back_to_the_template_with_reasons(tmp_path: Path, requests_small) -> None:
    sample = [r for r in requests_small if r.facts.listing is not None][:40]
    outputs = {}
    for i, request in enumerate(sample):
        parts = render(request)
        if i % 2:
            parts = plant(request, parts, "wrong_price") or parts
        outputs[request_key(request)] = parts
    missing = CopyRequest("translation", "it-IT", Facts(listing=MUG))
    provider = ReplayProvider(outputs, model="llm-a", prompt_version="v1")
    with CopyCache(tmp_path) as cache:
        results = generate([*sample, missing], provider, cache=cache)
    for i, (request, result) in enumerate(zip(sample, results, strict=False)):
        assert result.model == "llm-a"
        assert result.prompt_version == "v1"
        if i % 2:
            assert result.status == "fallback"
            assert result.provider == "template"
            assert any(r.startswith("price:") for r in result.reasons)
        else:
            assert result.status == "ok"
            assert result.provider == "replay"
        assert result.parts == render(request)
    assert results[-1].status == "fallback"
    assert results[-1].reasons[0].startswith("provider: no recorded output")


def test_reader_serves_cached_copy_of_the_variant_fast(tmp_path: Path) -> None:
    arm = CopyVariant("llm", provider="replay", model="llm-a", prompt_version="v1")
    written = {"bullet_1": "Material: ceramic", "bullet_2": "Price: $18.00"}
    provider = ReplayProvider({request_key(REQUEST): written}, model="llm-a")
    reader = CopyReader(tmp_path)  # opened before the file exists
    assert reader.copy_for(REQUEST, arm).status == "miss"
    with CopyCache(tmp_path) as cache:
        generate([REQUEST], provider, cache=cache)
    hit = reader.copy_for(REQUEST, arm)
    assert (hit.status, hit.parts) == ("ok", written)
    miss = reader.copy_for(REQUEST)  # the template variant was never generated
    assert miss.status == "miss"
    assert miss.parts == render(REQUEST)
    timings = []
    for _ in range(300):
        start = time.perf_counter()
        reader.copy_for(REQUEST, arm)
        timings.append(time.perf_counter() - start)
    assert statistics.median(timings) < 0.002  # typically about 20 microseconds
    reader.close()


def test_reader_is_read_only(tmp_path: Path) -> None:
    with CopyCache(tmp_path) as cache:
        cache.put_many([])
    reader = CopyCache(tmp_path, readonly=True)
    with pytest.raises(PermissionError, match="read-only"):
        reader.put_many([])
    reader.close()


def test_variant_for_maps_experiment_assignments() -> None:
    from marketlift.experiments import Experiment, Variant, assign_variant

    experiment = Experiment(key="copy_test", variants=(Variant("control"), Variant("llm")))
    arms = {"control": CopyVariant("control"), "llm": CopyVariant("llm", "openai", "m", "v1")}
    chosen = [variant_for(assign_variant(experiment, f"b{i:07d}"), arms).name for i in range(400)]
    assert 150 < chosen.count("llm") < 250
    assert variant_for(None, arms) is arms["control"]
    with pytest.raises(ValueError, match=r"CopyVariant.provider == 'gpt'"):
        CopyVariant("x", provider="gpt")


def test_replay_provider_raises_on_unknown_requests() -> None:
    import asyncio

    with pytest.raises(ProviderError, match="no recorded output"):
        asyncio.run(ReplayProvider({}).generate(REQUEST))


def test_replay_file_round_trip(tmp_path: Path) -> None:
    import json

    path = tmp_path / "outputs.jsonl"
    path.write_text(json.dumps({"key": request_key(REQUEST), "parts": {"bullet_1": "x"}}) + "\n")
    provider = ReplayProvider.from_jsonl(path, model="llm-b")
    assert provider.outputs == {request_key(REQUEST): {"bullet_1": "x"}}


def test_plain_template_style_is_a_second_offline_arm(tmp_path: Path) -> None:
    from marketlift.copy.facts import ActionTerms

    nudge = CopyRequest("nudge", "nl-NL", Facts(listing=MUG, terms=ActionTerms("free_shipping")))
    with CopyCache(tmp_path) as cache:
        generate([nudge], TemplateProvider(plain=True), cache=cache)
    reader = CopyReader(tmp_path)
    plain = reader.copy_for(nudge, PLAIN_TEMPLATE_VARIANT)
    best = reader.copy_for(nudge)
    assert (plain.status, best.status) == ("ok", "miss")
    assert plain.parts == render(nudge, plain=True) != best.parts == render(nudge)
    assert plain.parts["banner"] == "Gratis verzending voor dit artikel"
    reader.close()
