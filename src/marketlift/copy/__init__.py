r"""LLM touchpoints: grounded, localized copy for buyers, safe by construction.

Module map:

- :mod:`~marketlift.copy.touchpoints`: touchpoints, surfaces and their length limits.
- :mod:`~marketlift.copy.facts`: typed, hashable facts (the only input of copy).
- :mod:`~marketlift.copy.vocab`, :mod:`~marketlift.copy.phrases`: names and phrase book.
- :mod:`~marketlift.copy.localize`: Babel formatting (prices, percentages, dates, plurals).
- :mod:`~marketlift.copy.template`: the template provider (offline default, 8 locales).
- :mod:`~marketlift.copy.providers`: the provider protocol and :func:`make_provider`;
  :mod:`~marketlift.copy.openai_compat`, :mod:`~marketlift.copy.llama`,
  :mod:`~marketlift.copy.replay`; :mod:`~marketlift.copy.prompts`.
- :mod:`~marketlift.copy.guards`, :mod:`~marketlift.copy.lexicon`,
  :mod:`~marketlift.copy.language`: grounding, claims, PII, injection and language checks.
- :mod:`~marketlift.copy.cache`: the SQLite cache; :mod:`~marketlift.copy.batch`: batch
  generation with fallback; :mod:`~marketlift.copy.serving`: :class:`CopyReader`.
- :mod:`~marketlift.copy.variants`: copy variants as experiment arms.
- :mod:`~marketlift.copy.sources`: facts from your listing table.
- :mod:`~marketlift.copy.testset`, :mod:`~marketlift.copy.evaluate`: evaluation.

Example:
    >>> from marketlift.copy import CopyRequest, Facts, ListingFacts, Money, render
    >>> listing = ListingFacts("l1", "Vaso in ceramica", "vase", Money(3900, "EUR"),
    ...                        materials=("ceramic",), title_language="it")
    >>> render(CopyRequest("highlights", "it-IT", Facts(listing=listing)))
    {'bullet_1': 'Materiale: ceramica', 'bullet_2': 'Prezzo: 39,00\xa0€'}
"""

from marketlift.copy.batch import agenerate, generate, guarded
from marketlift.copy.cache import CopyCache, cache_key, cache_path
from marketlift.copy.evaluate import EvalReport, GuardReport, evaluate, guard_report
from marketlift.copy.facts import (
    LOW_STOCK,
    ActionTerms,
    BuyerFacts,
    Facts,
    ListingFacts,
    Money,
    ReviewFacts,
    facts_hash,
)
from marketlift.copy.guards import Violation, check, safe_seller_text
from marketlift.copy.llama import LlamaCppProvider
from marketlift.copy.openai_compat import OpenAICompatibleProvider, OpenAIConfig, Usage
from marketlift.copy.prompts import PROMPT_VERSION, ProviderError, build_messages
from marketlift.copy.providers import PROVIDERS, Provider, make_provider
from marketlift.copy.replay import ReplayProvider, request_key
from marketlift.copy.request import CopyRequest, CopyResult, Draft
from marketlift.copy.serving import CopyReader
from marketlift.copy.sources import listing_facts_from_rows
from marketlift.copy.template import (
    TEMPLATE_PLAIN_VERSION,
    TEMPLATE_VERSION,
    TemplateProvider,
    render,
)
from marketlift.copy.touchpoints import ACTIONS, LOCALES, TOUCHPOINTS, Surface, surfaces
from marketlift.copy.variants import (
    PLAIN_TEMPLATE_VARIANT,
    TEMPLATE_VARIANT,
    CopyVariant,
    variant_for,
)

__all__ = [
    "ACTIONS",
    "LOCALES",
    "LOW_STOCK",
    "PLAIN_TEMPLATE_VARIANT",
    "PROMPT_VERSION",
    "PROVIDERS",
    "TEMPLATE_PLAIN_VERSION",
    "TEMPLATE_VARIANT",
    "TEMPLATE_VERSION",
    "TOUCHPOINTS",
    "ActionTerms",
    "BuyerFacts",
    "CopyCache",
    "CopyReader",
    "CopyRequest",
    "CopyResult",
    "CopyVariant",
    "Draft",
    "EvalReport",
    "Facts",
    "GuardReport",
    "ListingFacts",
    "LlamaCppProvider",
    "Money",
    "OpenAICompatibleProvider",
    "OpenAIConfig",
    "Provider",
    "ProviderError",
    "ReplayProvider",
    "ReviewFacts",
    "Surface",
    "TemplateProvider",
    "Usage",
    "Violation",
    "agenerate",
    "build_messages",
    "cache_key",
    "cache_path",
    "check",
    "evaluate",
    "facts_hash",
    "generate",
    "guard_report",
    "guarded",
    "listing_facts_from_rows",
    "make_provider",
    "render",
    "request_key",
    "safe_seller_text",
    "surfaces",
    "variant_for",
]
