# ruff: noqa: RUF001  (typographic apostrophes and Japanese punctuation)
"""Localized names of product types, materials, colors, categories and review aspects.

Keys are slugs (``mug``, ``sterling_silver``); values map a language code (``en``, ``de``,
``fr``, ``es``, ``it``, ``nl``, ``ja``) to the display name. British English spellings are in
:data:`EN_GB`. Templates name things only through these tables, so every material or product
word they write is grounded in a fact slug.

Example:
    >>> name(PRODUCT_TYPES, "wall_hanging", "nl-NL")
    'wandkleed'
    >>> name(CATEGORY_NAMES, "jewelry", "en-GB"), name(CATEGORY_NAMES, "jewelry", "en-US")
    ('jewellery', 'jewelry')
    >>> name(MATERIALS, "velvet", "de-DE") is None
    True
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ASPECT_NAMES",
    "CATEGORY_NAMES",
    "COLORS",
    "EN_GB",
    "LANGUAGES",
    "MATERIALS",
    "PRODUCT_CATEGORY",
    "PRODUCT_MATERIAL",
    "PRODUCT_TYPES",
    "lang_of",
    "name",
]

LANGUAGES: Final = ("en", "de", "fr", "es", "it", "nl", "ja")

Table = dict[str, dict[str, str]]


def _t(en: str, de: str, fr: str, es: str, it: str, nl: str, ja: str) -> dict[str, str]:  # noqa: PLR0917
    return {"en": en, "de": de, "fr": fr, "es": es, "it": it, "nl": nl, "ja": ja}


# fmt: off
PRODUCT_TYPES: Final[Table] = {
    "necklace": _t(
        "necklace", "Halskette", "collier", "collar", "collana", "ketting", "ネックレス"
    ),
    "ring": _t("ring", "Ring", "bague", "anillo", "anello", "ring", "リング"),
    "mug": _t("mug", "Tasse", "tasse", "taza", "tazza", "mok", "マグカップ"),
    "vase": _t("vase", "Vase", "vase", "jarrón", "vaso", "vaas", "花瓶"),
    "wall_hanging": _t(
        "wall hanging",
        "Wandbehang",
        "tenture murale",
        "tapiz",
        "arazzo",
        "wandkleed",
        "タペストリー",
    ),
    "cushion": _t("cushion", "Kissen", "coussin", "cojín", "cuscino", "kussen", "クッション"),
    "denim_jacket": _t(
        "denim jacket",
        "Jeansjacke",
        "veste en jean",
        "chaqueta vaquera",
        "giacca di jeans",
        "spijkerjack",
        "デニムジャケット",
    ),
    "silk_scarf": _t(
        "silk scarf",
        "Seidenschal",
        "foulard en soie",
        "pañuelo de seda",
        "foulard di seta",
        "zijden sjaal",
        "シルクスカーフ",
    ),
    "art_print": _t(
        "art print",
        "Kunstdruck",
        "affiche d’art",
        "lámina",
        "stampa d’arte",
        "kunstprint",
        "アートプリント",
    ),
    "poster": _t("poster", "Poster", "poster", "póster", "poster", "poster", "ポスター"),
    "soy_candle": _t(
        "soy candle",
        "Sojakerze",
        "bougie de soja",
        "vela de soja",
        "candela di soia",
        "sojakaars",
        "ソイキャンドル",
    ),
    "candle_set": _t(
        "candle set",
        "Kerzenset",
        "coffret de bougies",
        "set de velas",
        "set di candele",
        "kaarsenset",
        "キャンドルセット",
    ),
    "sweater": _t("sweater", "Pullover", "pull", "jersey", "maglione", "trui", "セーター"),
    "beanie": _t("beanie", "Mütze", "bonnet", "gorro", "berretto", "muts", "ニット帽"),
    "wallet": _t(
        "wallet", "Geldbörse", "portefeuille", "cartera", "portafoglio", "portemonnee", "財布"
    ),
    "tote_bag": _t(
        "tote bag",
        "Tragetasche",
        "sac cabas",
        "bolso tote",
        "borsa tote",
        "draagtas",
        "トートバッグ",
    ),
}
"""Product types (the simulator's nouns, in its order: two per category)."""

PRODUCT_CATEGORY: Final = {
    "necklace": "jewelry", "ring": "jewelry", "mug": "ceramics", "vase": "ceramics",
    "wall_hanging": "home_decor", "cushion": "home_decor", "denim_jacket": "vintage_clothing",
    "silk_scarf": "vintage_clothing", "art_print": "art_prints", "poster": "art_prints",
    "soy_candle": "candles", "candle_set": "candles", "sweater": "knitwear",
    "beanie": "knitwear", "wallet": "leather_goods", "tote_bag": "leather_goods",
}  # fmt: skip
PRODUCT_MATERIAL: Final = {
    "necklace": "sterling_silver", "ring": "sterling_silver", "mug": "ceramic",
    "vase": "ceramic", "wall_hanging": "cotton", "cushion": "linen", "denim_jacket": "cotton",
    "silk_scarf": "silk", "sweater": "wool", "beanie": "wool", "wallet": "leather",
    "tote_bag": "leather",
}  # fmt: skip
"""The usual material of a product type (used for search expansions only)."""

MATERIALS: Final[Table] = {
    "sterling_silver": _t(
        "sterling silver",
        "Sterlingsilber",
        "argent sterling",
        "plata de ley",
        "argento sterling",
        "sterling zilver",
        "スターリングシルバー",
    ),
    "linen": _t("linen", "Leinen", "lin", "lino", "lino", "linnen", "リネン"),
    "ceramic": _t(
        "ceramic", "Keramik", "céramique", "cerámica", "ceramica", "keramiek", "セラミック"
    ),
    "wool": _t("wool", "Wolle", "laine", "lana", "lana", "wol", "ウール"),
    "leather": _t("leather", "Leder", "cuir", "cuero", "pelle", "leer", "レザー"),
    "oak": _t("oak", "Eiche", "chêne", "roble", "rovere", "eikenhout", "オーク"),
    "cotton": _t("cotton", "Baumwolle", "coton", "algodón", "cotone", "katoen", "コットン"),
    "silk": _t("silk", "Seide", "soie", "seda", "seta", "zijde", "シルク"),
}
"""Display names of the materials templates may name."""

COLORS: Final[Table] = {
    "sage_green": _t(
        "sage green",
        "Salbeigrün",
        "vert sauge",
        "verde salvia",
        "verde salvia",
        "saliegroen",
        "セージグリーン",
    ),
    "blue": _t("blue", "Blau", "bleu", "azul", "blu", "blauw", "ブルー"),
    "terracotta": _t(
        "terracotta",
        "Terrakotta",
        "terracotta",
        "terracota",
        "terracotta",
        "terracotta",
        "テラコッタ",
    ),
    "cream": _t("cream", "Creme", "crème", "crema", "crema", "crème", "クリーム"),
    "black": _t("black", "Schwarz", "noir", "negro", "nero", "zwart", "ブラック"),
    "mustard": _t(
        "mustard", "Senfgelb", "moutarde", "mostaza", "senape", "mosterdgeel", "マスタード"
    ),
}

CATEGORY_NAMES: Final[Table] = {
    "jewelry": _t(
        "jewelry", "Schmuck", "bijoux", "joyería", "gioielli", "sieraden", "ジュエリー"
    ),
    "ceramics": _t(
        "ceramics", "Keramik", "céramique", "cerámica", "ceramiche", "keramiek", "陶器"
    ),
    "home_decor": _t(
        "home decor",
        "Wohndeko",
        "déco maison",
        "decoración",
        "arredamento",
        "woondecoratie",
        "インテリア雑貨",
    ),
    "vintage_clothing": _t(
        "vintage clothing",
        "Vintage-Mode",
        "mode vintage",
        "ropa vintage",
        "abbigliamento vintage",
        "vintage kleding",
        "古着",
    ),
    "art_prints": _t(
        "art prints",
        "Kunstdrucke",
        "affiches d’art",
        "láminas",
        "stampe d’arte",
        "kunstprints",
        "アートプリント",
    ),
    "candles": _t("candles", "Kerzen", "bougies", "velas", "candele", "kaarsen", "キャンドル"),
    "knitwear": _t(
        "knitwear", "Strickmode", "tricots", "prendas de punto", "maglieria", "breigoed", "ニット"
    ),
    "leather_goods": _t(
        "leather goods",
        "Lederwaren",
        "maroquinerie",
        "marroquinería",
        "pelletteria",
        "lederwaren",
        "レザーグッズ",
    ),
}

ASPECT_NAMES: Final[Table] = {
    "quality": _t("quality", "Qualität", "qualité", "calidad", "qualità", "kwaliteit", "品質"),
    "packaging": _t(
        "packaging", "Verpackung", "emballage", "embalaje", "confezione", "verpakking", "梱包"
    ),
    "shipping_speed": _t(
        "fast shipping",
        "schneller Versand",
        "livraison rapide",
        "envío rápido",
        "spedizione veloce",
        "snelle levering",
        "発送の早さ",
    ),
    "value": _t(
        "value for money",
        "Preis-Leistung",
        "rapport qualité-prix",
        "relación calidad-precio",
        "rapporto qualità-prezzo",
        "prijs-kwaliteit",
        "コストパフォーマンス",
    ),
    "as_described": _t(
        "matches the description",
        "wie beschrieben",
        "conforme à la description",
        "fiel a la descripción",
        "conforme alla descrizione",
        "zoals beschreven",
        "説明どおりの商品",
    ),
    "seller_communication": _t(
        "seller communication",
        "Kommunikation des Verkäufers",
        "communication du vendeur",
        "comunicación del vendedor",
        "comunicazione del venditore",
        "communicatie met de verkoper",
        "出品者の対応",
    ),
    "size": _t("size", "Größe", "taille", "talla", "taglia", "maat", "サイズ"),
    "color_accuracy": _t(
        "color accuracy",
        "Farbtreue",
        "fidélité des couleurs",
        "fidelidad del color",
        "fedeltà dei colori",
        "kleurechtheid",
        "色味",
    ),
}

# fmt: on

EN_GB: Final[dict[str, str]] = {
    "jewelry": "jewellery",
    "color accuracy": "colour accuracy",
    "home decor": "home décor",
    "fast shipping": "fast delivery",
    "sweater": "jumper",
}
"""British spellings and words that replace the American ones for en-GB."""


def lang_of(locale: str) -> str:
    """The language code of a locale (``de-DE`` -> ``de``)."""
    return locale.split("-", 1)[0]


def name(table: Table, slug: str | None, locale: str) -> str | None:
    """The display name of ``slug`` in ``locale``, or ``None`` if the table lacks it."""
    if slug is None or slug not in table:
        return None
    text = table[slug].get(lang_of(locale))
    if text is not None and locale == "en-GB":
        return EN_GB.get(text, text)
    return text
