"""Listing text and search queries in six locales, from vocabularies and templates.

The vocabularies are written for a handmade-and-vintage marketplace. Every string is plain
text without quotes, backslashes or control characters, so it can be placed into JSON as is.

Example:
    >>> title_text("de", category=1, adjective=0, material=2, color=1, noun=0)
    'Handgemachte Keramik-Tasse in Blau'
    >>> title_text("ja", category=1, adjective=0, material=2, color=1, noun=0)
    'ハンドメイドの青いセラミックマグカップ'
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CATEGORIES",
    "COUNTRY_OF",
    "CURRENCY_OF",
    "LOCALES",
    "description_text",
    "query_texts",
    "title_text",
]

LOCALES: Final = ("en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "it-IT", "ja-JP")
"""Buyer locales (language-region); texts exist for the six languages en, de, fr, es, it, ja."""
COUNTRY_OF: Final = {loc: loc.split("-")[1] for loc in LOCALES}
CURRENCY_OF: Final = {
    "en-US": "USD", "en-GB": "GBP", "de-DE": "EUR", "fr-FR": "EUR",
    "es-ES": "EUR", "it-IT": "EUR", "ja-JP": "JPY",
}  # fmt: skip

CATEGORIES: Final = (
    "jewelry", "ceramics", "home_decor", "vintage_clothing",
    "art_prints", "candles", "knitwear", "leather_goods",
)  # fmt: skip

# Two nouns per category and language.
_NOUNS: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "en": (("necklace", "ring"), ("mug", "vase"), ("wall hanging", "cushion"),
           ("denim jacket", "silk scarf"), ("art print", "poster"), ("soy candle", "candle set"),
           ("sweater", "beanie"), ("wallet", "tote bag")),
    "de": (("Halskette", "Ring"), ("Tasse", "Vase"), ("Wandbehang", "Kissen"),
           ("Jeansjacke", "Seidenschal"), ("Kunstdruck", "Poster"), ("Sojakerze", "Kerzenset"),
           ("Pullover", "Mütze"), ("Geldbörse", "Tragetasche")),
    "fr": (("collier", "bague"), ("tasse", "vase"), ("tenture murale", "coussin"),
           ("veste en jean", "foulard en soie"), ("affiche d'art", "poster"),
           ("bougie de soja", "coffret de bougies"), ("pull", "bonnet"),
           ("portefeuille", "sac cabas")),
    "es": (("collar", "anillo"), ("taza", "jarrón"), ("tapiz", "cojín"),
           ("chaqueta vaquera", "pañuelo de seda"), ("lámina", "póster"),
           ("vela de soja", "set de velas"), ("jersey", "gorro"), ("cartera", "bolso tote")),
    "it": (("collana", "anello"), ("tazza", "vaso"), ("arazzo", "cuscino"),
           ("giacca di jeans", "foulard di seta"), ("stampa d'arte", "poster"),
           ("candela di soia", "set di candele"), ("maglione", "berretto"),
           ("portafoglio", "borsa tote")),
    "ja": (("ネックレス", "リング"), ("マグカップ", "花瓶"), ("タペストリー", "クッション"),
           ("デニムジャケット", "シルクスカーフ"), ("アートプリント", "ポスター"),
           ("ソイキャンドル", "キャンドルセット"), ("セーター", "ニット帽"),
           ("財布", "トートバッグ")),
}  # fmt: skip
_ADJECTIVES: Final[dict[str, tuple[str, ...]]] = {
    "en": ("Handmade", "Vintage", "Minimalist", "Rustic", "Boho", "Personalized"),
    "de": ("Handgemachte", "Vintage", "Minimalistische", "Rustikale", "Boho", "Personalisierte"),
    "fr": ("fait main", "vintage", "minimaliste", "rustique", "bohème", "personnalisé"),
    "es": ("hecho a mano", "vintage", "minimalista", "rústico", "boho", "personalizado"),
    "it": ("fatto a mano", "vintage", "minimalista", "rustico", "boho", "personalizzato"),
    "ja": ("ハンドメイドの", "ヴィンテージの", "ミニマルな", "素朴な", "ボヘミアンな", "名入れの"),
}  # fmt: skip
_MATERIALS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("sterling silver", "linen", "ceramic", "wool", "leather", "oak"),
    "de": ("Silber", "Leinen", "Keramik", "Woll", "Leder", "Eichen"),
    "fr": ("argent", "lin", "céramique", "laine", "cuir", "chêne"),
    "es": ("plata", "lino", "cerámica", "lana", "cuero", "roble"),
    "it": ("argento", "lino", "ceramica", "lana", "pelle", "rovere"),
    "ja": ("シルバー", "リネン", "セラミック", "ウール", "レザー", "オーク"),
}  # fmt: skip
_COLORS: Final[dict[str, tuple[str, ...]]] = {
    "en": ("sage green", "blue", "terracotta", "cream", "black", "mustard"),
    "de": ("Salbeigrün", "Blau", "Terrakotta", "Creme", "Schwarz", "Senfgelb"),
    "fr": ("vert sauge", "bleu", "terracotta", "crème", "noir", "moutarde"),
    "es": ("verde salvia", "azul", "terracota", "crema", "negro", "mostaza"),
    "it": ("verde salvia", "blu", "terracotta", "crema", "nero", "senape"),
    "ja": ("セージグリーンの", "青い", "テラコッタの", "クリーム色の", "黒い", "マスタードの"),
}  # fmt: skip
_DESCRIPTIONS: Final[dict[str, str]] = {
    "en": "{title}. Made to order in our small studio from {material}. Ships in {days} days. "
          "Every piece is unique; colors may vary slightly.",
    "de": "{title}. In unserem kleinen Atelier aus {material} auf Bestellung gefertigt. "
          "Versand in {days} Tagen. Jedes Stück ist ein Unikat.",
    "fr": "{title}. Fabriqué à la commande dans notre petit atelier, en {material}. "
          "Expédié sous {days} jours. Chaque pièce est unique.",
    "es": "{title}. Hecho por encargo en nuestro pequeño taller, en {material}. "
          "Se envía en {days} días. Cada pieza es única.",
    "it": "{title}. Realizzato su ordinazione nel nostro piccolo laboratorio, in {material}. "
          "Spedizione in {days} giorni. Ogni pezzo è unico.",
    "ja": "{title}。小さな工房で{material}を使って一点ずつ手作りしています。"
          "{days}日以内に発送します。色味は多少異なる場合があります。",
}  # fmt: skip
N_ADJECTIVES: Final = 6
N_MATERIALS: Final = 6
N_COLORS: Final = 6
N_NOUNS: Final = 2


def _lang(locale: str) -> str:
    return locale.split("-", maxsplit=1)[0]


def title_text(
    locale: str, *, category: int, adjective: int, material: int, color: int, noun: int
) -> str:
    """A listing title in the language of ``locale``, with that language's word order."""
    lang = _lang(locale)
    n = _NOUNS[lang][category][noun]
    a, m, c = _ADJECTIVES[lang][adjective], _MATERIALS[lang][material], _COLORS[lang][color]
    if lang == "en":
        return f"{a} {m} {n} in {c}"
    if lang == "de":
        return f"{a} {m}-{n} in {c}"
    if lang == "ja":
        return f"{a}{c}{m}{n}"
    prep = {"fr": "en", "es": "de", "it": "in"}[lang]
    return f"{n[0].upper()}{n[1:]} {a} {prep} {m}, {c}"


def description_text(locale: str, *, title: str, material: int, days: int) -> str:
    """A listing description in the language of ``locale``.

    Example:
        >>> description_text("fr", title="Bague", material=0, days=3)[:32]
        'Bague. Fabriqué à la commande da'
    """
    lang = _lang(locale)
    return _DESCRIPTIONS[lang].format(title=title, material=_MATERIALS[lang][material], days=days)


def query_texts(locale: str, category: int) -> tuple[str, ...]:
    """The search queries buyers of ``locale`` type for a category (a few variants).

    Example:
        >>> query_texts("en-US", 0)[:3]
        ('necklace', 'ring', 'handmade necklace')
    """
    lang = _lang(locale)
    nouns = _NOUNS[lang][category]
    adjectives = _ADJECTIVES[lang]
    out = list(nouns)
    for noun in nouns:
        for adjective in adjectives[:2]:
            if lang in {"en", "de", "ja"}:
                out.append(f"{adjective} {noun}".lower() if lang == "en" else f"{adjective} {noun}")
            else:
                out.append(f"{noun} {adjective}")
    return tuple(out)
