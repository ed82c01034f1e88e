"""Language identification of generated copy (script check plus ``py3langid``).

Japanese is recognized by its script (kana and kanji). For the Latin-script languages the
``py3langid`` model, restricted to en, de, fr, es, it and nl, is asked when the text has at
least :data:`MIN_LETTERS` letters; copy is rejected only on clear evidence (another language
with probability >= 0.6 and the expected one below 0.1), so short valid copy is not rejected.
The model loads once per process (about two seconds).

Example:
    >>> japanese_share("カートに商品が残っています"), japanese_share("Your cart")
    (1.0, 0.0)
    >>> language_ok("Je hebt 2 artikelen in je winkelwagen, waaronder een mok.", "nl-NL")
    True
    >>> language_ok("Vous avez 2 articles dans votre panier, dont une tasse.", "nl-NL")
    False
"""

from __future__ import annotations

import functools
from typing import Any, Final

__all__ = ["MIN_LETTERS", "identify", "japanese_share", "language_ok"]

MIN_LETTERS: Final = 20
_LATIN: Final = ("en", "de", "fr", "es", "it", "nl")


def _is_japanese(ch: str) -> bool:
    code = ord(ch)
    return 0x3040 <= code <= 0x30FF or 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF


def japanese_share(text: str) -> float:
    """Share of letters in ``text`` that are kana or kanji (0.0 for text without letters)."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(_is_japanese(c) for c in letters) / len(letters)


@functools.lru_cache(maxsize=1)
def _identifier() -> Any:
    import py3langid  # noqa: PLC0415 - loads a model only when first needed
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # noqa: PLC0415

    path = py3langid.langid.MODEL_DIR / MODEL_FILE
    ident = LanguageIdentifier.from_modelpath(path, norm_probs=True)
    ident.set_languages(list(_LATIN))
    return ident


def identify(text: str) -> dict[str, float]:
    """Probabilities of the six Latin-script languages for ``text``."""
    return {lang: float(p) for lang, p in _identifier().rank(text)}


def language_ok(text: str, locale: str) -> bool:
    """Whether ``text`` is plausibly in the language of ``locale`` (see module docstring)."""
    lang = locale.split("-", 1)[0]
    share = japanese_share(text)
    letters = sum(c.isalpha() for c in text)
    if lang == "ja":
        return letters == 0 or share >= 0.3
    if share > 0.1:
        return False
    if letters < MIN_LETTERS:
        return True
    probs = identify(text)
    top = max(probs, key=probs.__getitem__)
    return top == lang or probs[top] < 0.6 or probs.get(lang, 0.0) >= 0.1
