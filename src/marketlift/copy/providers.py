"""The provider protocol and the one place a provider is chosen by name.

A provider turns a :class:`~marketlift.copy.request.CopyRequest` into a
:class:`~marketlift.copy.request.Draft` (``async generate``); the guards then decide whether
the draft may be served. Implementations: :class:`~marketlift.copy.template.TemplateProvider`
(offline default), :class:`~marketlift.copy.openai_compat.OpenAICompatibleProvider` (hosted APIs,
vLLM, llama.cpp's server), :class:`~marketlift.copy.llama.LlamaCppProvider` (in process,
extra ``llm-local``) and :class:`~marketlift.copy.replay.ReplayProvider` (recorded outputs).

Example:
    >>> make_provider("template").name
    'template'
    >>> make_provider("gpt")
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: provider == 'gpt', expected one of template, openai, \
llama_cpp, replay.
"""

from __future__ import annotations

from typing import Any, Final, Protocol, runtime_checkable

from marketlift.copy.request import CopyRequest, Draft
from marketlift.errors import ConfigError

__all__ = ["PROVIDERS", "Provider", "make_provider"]

PROVIDERS: Final = ("template", "openai", "llama_cpp", "replay")


@runtime_checkable
class Provider(Protocol):
    """Anything that writes drafts: a name, a model, a prompt version and ``generate``."""

    @property
    def name(self) -> str:
        """Provider name (``template``, ``openai``...)."""
        ...

    @property
    def model(self) -> str:
        """Model name; part of the cache key."""
        ...

    @property
    def prompt_version(self) -> str:
        """Prompt (or phrase book) version; part of the cache key."""
        ...

    async def generate(self, request: CopyRequest) -> Draft:
        """Write a draft for ``request`` (raise ``ProviderError`` when it cannot)."""
        ...


def make_provider(name: str, **config: Any) -> Provider:
    """Build a provider by name; ``config`` goes to its constructor.

    ``openai`` takes an :class:`~marketlift.copy.openai_compat.OpenAIConfig` as ``config=``;
    ``llama_cpp`` an optional ``model_path=`` (default: the model the ``llm-local`` extra
    installed) and its knobs (``slots=``, ``timeout_s=``...); ``replay`` a ``path=`` to a
    JSON-lines file.
    """
    if name == "template":
        from marketlift.copy.template import TemplateProvider  # noqa: PLC0415

        return TemplateProvider()
    if name == "openai":
        from marketlift.copy.openai_compat import OpenAICompatibleProvider  # noqa: PLC0415

        return OpenAICompatibleProvider(**config)
    if name == "llama_cpp":
        from marketlift.copy.llama import LlamaCppProvider  # noqa: PLC0415

        return LlamaCppProvider(**config)
    if name == "replay":
        from marketlift.copy.replay import ReplayProvider  # noqa: PLC0415

        return ReplayProvider.from_jsonl(**config)
    raise ConfigError("provider", name, f"one of {', '.join(PROVIDERS)}")
