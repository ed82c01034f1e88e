"""Claim and material lexicons of the guards, in the seven languages (regular expressions).

Every pattern is matched on NFKC-normalized, case-folded text. Materials map a detected term
to the material slugs it may stand for (``silver`` is grounded by ``sterling_silver``).

Example:
    >>> sorted(materials_in("Jersey de lana y seda"))
    ['silk', 'wool']
    >>> sorted(materials_in("Handgemachte Silber-Halskette"))
    ['sterling_silver']
    >>> sorted(claims_in("Only 2 left, hurry!"))
    ['scarcity', 'urgency']
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

__all__ = ["CLAIMS", "MATERIAL_TERMS", "claims_in", "fold", "materials_in"]


def fold(text: str) -> str:
    """NFKC-normalize, case-fold, straighten apostrophes (full-width digits become ASCII)."""
    return unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")


# term -> slugs it is grounded by; Latin terms match as words (German: as word starts).
_MATERIALS: Final[dict[str, tuple[str, ...]]] = {
    "sterling_silver": ("sterling", "silver", "silber", "sterlingsilber", "argent", "plata",
                        "argento", "zilver", "zilveren", "シルバー", "銀製", "純銀"),
    "gold": ("gold", "golden", "goldene", "plaqué or", "en or", "oro", "goud", "gouden",
             "ゴールド", "金製", "純金", "18金", "k18"),
    "linen": ("linen", "leinen", "lin", "lino", "linnen", "リネン", "麻"),
    "ceramic": ("ceramic", "ceramics", "keramik", "céramique", "cerámica", "ceramica",
                "keramiek", "セラミック", "陶器", "陶製", "stoneware", "steinzeug", "grès", "gres"),
    "porcelain": ("porcelain", "porzellan", "porcelaine", "porcelana", "porcellana",
                  "porselein", "磁器"),
    "wool": ("wool", "woollen", "woolen", "merino", "wolle", "woll", "laine", "lana", "wol",
             "wollen", "ウール"),
    "leather": ("leather", "leder", "cuir", "cuero", "piel", "pelle", "cuoio", "leer", "leren",
                "レザー", "本革", "革製"),
    "oak": ("oak", "eiche", "eichen", "chêne", "roble", "rovere", "quercia", "eik", "eiken",
            "eikenhout", "オーク"),
    "wood": ("wood", "wooden", "holz", "bois", "madera", "legno", "hout", "houten", "木製",
             "ウッド"),
    "cotton": ("cotton", "baumwolle", "coton", "algodón", "cotone", "katoen", "コットン", "綿"),
    "silk": ("silk", "seide", "seiden", "soie", "seda", "seta", "zijde", "zijden", "シルク",
             "絹"),
    "cashmere": ("cashmere", "kaschmir", "cachemire", "cachemira", "kasjmier", "カシミヤ",
                 "カシミア"),
    "glass": ("glass", "glas", "verre", "vidrio", "vetro", "ガラス"),
    "bamboo": ("bamboo", "bambus", "bambou", "bambú", "bambù", "bamboe", "バンブー"),
    "brass": ("brass", "messing", "laiton", "latón", "ottone", "真鍮"),
    "copper": ("copper", "kupfer", "cuivre", "cobre", "rame", "koperen", "銅製"),
    "velvet": ("velvet", "samt", "velours", "terciopelo", "velluto", "fluweel", "ベルベット"),
    "denim": ("denim", "jeans", "jean", "vaquera", "vaquero", "spijker", "デニム"),
    "soy": ("soy", "soja", "soia", "ソイ"),
    "diamond": ("diamond", "diamonds", "diamant", "diamante", "ダイヤモンド", "ダイヤ"),
    "plastic": ("plastic", "kunststoff", "plastik", "plastique", "plástico", "plastica",
                "プラスチック"),
    "polyester": ("polyester", "poliéster", "poliestere", "ポリエステル"),
    "cork": ("cork", "kork", "liège", "corcho", "sughero", "kurk", "コルク"),
}  # fmt: skip
_FAMILY: Final = {"wood": ("oak",), "ceramic": ("porcelain",), "denim": ("cotton",)}
"""A term for a family is grounded by any member (``wooden`` by ``oak``)."""

MATERIAL_TERMS: Final = _MATERIALS
_GERMAN_STEMS: Final = ("silber", "gold", "leinen", "woll", "leder", "eichen", "holz",
                        "baumwoll", "seiden", "kaschmir", "bambus", "messing", "kupfer",
                        "samt", "kork", "porzellan", "keramik", "kunststoff")  # fmt: skip
_EXCLUDE: Final = ("glasur", "goldig", "samtig", "korkenzieher", "lin.")


_TERM_SLUG: Final = {term: slug for slug, terms in _MATERIALS.items() for term in terms}


def _alternation(terms: list[str]) -> str:
    return "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))


def _material_regex() -> re.Pattern[str]:
    japanese = [t for t in _TERM_SLUG if not any("a" <= c <= "z" for c in t)]
    stems = [t for t in _TERM_SLUG if t in _GERMAN_STEMS]
    words = [t for t in _TERM_SLUG if t not in japanese and t not in stems]
    return re.compile(
        rf"(?<![\w])({_alternation(stems)})\w*"
        rf"|(?<![\w])({_alternation(words)})(?:s|es|e|n|en)?(?![\w])"
        rf"|({_alternation(japanese)})"
    )


_MATERIAL_PATTERN: Final = _material_regex()


@functools.lru_cache(maxsize=4096)
def materials_in(text: str) -> frozenset[str]:
    """Material slugs mentioned in ``text`` (any of the seven languages)."""
    folded = fold(text)
    for word in _EXCLUDE:
        folded = folded.replace(word, " ")
    found = set()
    for match in _MATERIAL_PATTERN.finditer(folded):
        term = match.group(1) or match.group(2) or match.group(3)
        found.add(_TERM_SLUG[term])
    return frozenset(found)


def grounded_by(slug: str) -> tuple[str, ...]:
    """The fact slugs that ground a mention of ``slug`` (itself and its family members)."""
    return (slug, *_FAMILY.get(slug, ()))


CLAIMS: Final[dict[str, tuple[str, ...]]] = {
    "scarcity": (
        r"\bonly (?:\d+|[a-z]+|a few) (?:left|remaining)", r"\bonly (?:one|a few) left",
        r"\blast one\b",
        r"almost gone", r"selling fast", r"low stock", r"limited stock", r"\bfew left",
        r"while stocks? lasts?", r"high demand", r"running out", r"\bsell(?:s|ing)? out",
        r"\bnur noch\b", r"fast ausverkauft", r"\bletzte[nrs]? (?:stück|exemplar)",
        r"solange der vorrat", r"begrenzte stückzahl", r"\bwenige verfügbar",
        r"\bplus que (?:\d+|une?|deux|trois|quatre|cinq|quelques)\b",
        r"derni(?:er|ère)s? (?:exemplaire|article|pièce)",
        r"bientôt épuisé", r"presque épuisé", r"stock limité", r"dans la limite des stocks",
        r"\bsolo queda", r"últimas unidades", r"casi agotad", r"existencias limitadas",
        r"quedan pocos", r"hasta agotar",
        r"\bne resta(?:no)? solo", r"ultimi pezzi", r"quasi esaurit", r"scorte limitate",
        r"fino a esaurimento", r"\bnog maar (?:\d+|een|één|twee|drie|vier|vijf|enkele)\b",
        r"bijna uitverkocht", r"beperkte voorraad",
        r"laatste stuks", r"残り\d+", r"残り[一二三四五六七八九十]", r"残りわずか",
        r"在庫わずか", r"売り切れ間近", r"品薄",
        r"数量限定",
    ),
    "urgency": (
        r"\bhurry\b", r"last chance", r"ends (?:today|tonight|soon|at midnight)",
        r"today only", r"only today", r"don'?t miss (?:out|it)", r"\bact (?:now|fast)",
        r"expires (?:today|tonight|soon)", r"before it'?s gone", r"limited[- ]time",
        r"final hours", r"(?:this )?weekend only", r"only this week", r"while you can",
        r"\bnow or never", r"\bbeeil", r"letzte chance", r"nur heute",
        r"endet (?:heute|bald)", r"nicht verpassen", r"zeitlich begrenzt", r"jetzt zuschlagen",
        r"dépêchez", r"dernière chance", r"aujourd'hui seulement",
        r"se termine (?:aujourd|bientôt)",
        r"ne (?:le )?manquez pas", r"offre limitée", r"date prisa", r"última oportunidad",
        r"solo hoy", r"termina hoy", r"no te lo pierdas", r"tiempo limitado", r"affrettati",
        r"ultima occasione", r"solo oggi", r"scade oggi", r"non perder(?:e|lo|ti)",
        r"tempo limitato", r"sbrigati", r"wees er snel bij", r"laatste kans", r"alleen vandaag",
        r"eindigt vandaag", r"mis het niet", r"\bop is op\b", r"今だけ", r"本日限り", r"お急ぎ",
        r"急いで", r"まもなく終了", r"期間限定", r"ラストチャンス", r"見逃さないで", r"今すぐ",
    ),
    "discount": (
        r"\bdiscount", r"\d+\s*% off", r"\bsale\b", r"\bcoupon", r"promo", r"voucher",
        r"\bsave\b", r"\bsaving", r"\bdeal\b", r"half price", r"cheaper", r"\breduced\b",
        r"price drop", r"price cut", r"markdown", r"bargain", r"clearance", r"free gift",
        r"\bfor free\b", r"complimentary", r"\bfree (?:item|bonus|sample)", r"\brabatt",
        r"gutschein",
        r"reduziert", r"\bspar", r"angebot", r"preis gesenkt", r"günstiger", r"schnäppchen",
        r"\baktion", r"gratis dazu", r"geschenkt", r"réduction", r"remise", r"\bsoldes?\b",
        r"\bbon de", r"économis", r"baisse de prix", r"moins cher", r"\boffert", r"en cadeau",
        r"descuento", r"cupón", r"rebaja", r"\boferta", r"ahorra", r"bajada de precio",
        r"más barato", r"de regalo", r"\bsconto", r"\bsaldi\b", r"\bofferta", r"risparmi",
        r"ribassat", r"prezzo ridotto", r"più economico", r"in regalo", r"korting",
        r"uitverkoop", r"aanbieding", r"bespaar", r"prijsverlaging", r"goedkoper",
        r"割引", r"オフ", r"セール", r"クーポン", r"値下げ", r"お得", r"半額", r"特価",
        r"無料プレゼント", r"プレゼント",
    ),
    "free_shipping": (
        r"free (?:shipping|delivery|postage)", r"ships free", r"shipping is free",
        r"no shipping (?:cost|fee)", r"kostenlose[nr]? versand", r"versandkostenfrei",
        r"gratisversand", r"kostenlos versendet", r"livraison gratuite",
        r"livr[ée]+s? gratuitement", r"frais de port offerts", r"port gratuit",
        r"envío (?:gratis|gratuito)", r"sin gastos de envío", r"spedizione (?:gratuita|gratis)",
        r"senza spese di spedizione", r"gratis verzend", r"gratis verzonden",
        r"gratis bezorg", r"geen verzendkosten", r"送料無料", r"送料込み", r"送料0円",
    ),
}  # fmt: skip
"""Claims that need a fact: scarcity (low stock), urgency (an offer ending within a day),
discount (an action with a discount or price drop), free shipping."""

_CLAIM_PATTERNS: Final = {k: re.compile("|".join(v)) for k, v in CLAIMS.items()}


def claims_in(text: str) -> set[str]:
    """The kinds of claim ``text`` makes (``scarcity``, ``urgency``, ...)."""
    folded = fold(text)
    return {kind for kind, pattern in _CLAIM_PATTERNS.items() if pattern.search(folded)}
