"""Candidate generation and ranking features for next-item recommendation.

A :class:`CandidateIndex` is built from past sessions (and an optional :class:`Catalog`). For a
query (the items viewed so far in a session, the buyer's earlier items, the locale) it unions:

- **co-visitation**: items viewed in the same sessions as the query's items (recency-weighted);
- **session-kNN**: items of the past sessions most similar to the query (cosine on item sets);
- **recently viewed**: the session's own items and the buyer's earlier items;
- **popularity**: overall, in the last item's category, and in the buyer's locale;
- **text similarity**: listings whose title embedding is nearest to the last item's, with a share
  reserved for cold-start listings that no past session viewed (they have no other signal).

:meth:`CandidateIndex.features` returns the candidates and a float matrix of
:data:`FEATURE_NAMES` for the re-ranker.

Example:
    >>> import numpy as np
    >>> from marketlift.models.sessions import Sessions
    >>> seqs = [np.array(s) for s in ([0, 1, 2], [1, 2], [0, 2], [3, 1])]
    >>> past = Sessions([f"s{i}" for i in range(4)], np.arange(4), seqs, [None] * 4,
    ...                 [None] * 4, ["a", "b", "c", "d"])
    >>> index = CandidateIndex.build(past, range(4))
    >>> cands, X = index.features(Query(np.array([1])))
    >>> sorted(cands.tolist()), X.shape[1] == len(FEATURE_NAMES)
    ([0, 1, 2, 3], True)
    >>> index.sknn_scores(np.array([0, 1]))[2] > 0
    True
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from marketlift.models.sessions import Catalog, Sessions

__all__ = ["FEATURE_NAMES", "CandidateIndex", "Query"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

FEATURE_NAMES: Final = (
    "covis_last", "covis_sum", "sknn", "pop_log", "pop_rank", "category_pop_share",
    "locale_pop_share", "in_session_count", "in_session_distance", "buyer_count",
    "buyer_recency", "same_category_last", "session_category_share", "text_sim_last",
    "price_ratio", "rating", "reviews_log", "cold_start", "session_length",
    "src_covis", "src_sknn", "src_recent", "src_pop", "src_category", "src_locale", "src_text",
)  # fmt: skip
_SOURCES: Final = ("covis", "sknn", "recent", "pop", "category", "locale", "text")


def _top_k(values: FloatArray, k: int) -> IntArray:
    """Indices of the ``k`` largest values, largest first (ties by index)."""
    if len(values) <= k:
        return np.argsort(-values, kind="stable").astype(np.int64)
    part = np.argpartition(-values, k - 1)[:k]
    return part[np.lexsort((part, -values[part]))].astype(np.int64)


@dataclasses.dataclass(frozen=True, slots=True)
class Query:
    """What is known when ranking.

    The session's items so far, the buyer's earlier items (most recent last), the locale.
    """

    items: IntArray
    history: IntArray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))
    locale: str | None = None


@dataclasses.dataclass(slots=True)
class CandidateIndex:
    """Co-visitation, session-kNN, popularity and text-similarity indexes over past sessions."""

    n_items: int
    pop: FloatArray
    pop_order: IntArray
    covis: list[dict[int, float]]
    session_items: list[IntArray]
    item_sessions: list[list[int]]
    locale_pop: dict[str, FloatArray]
    catalog: Catalog | None
    embeddings: npt.NDArray[np.floating[Any]] | None
    n_covis: int = 50
    n_sknn_neighbors: int = 100
    n_pop: int = 20
    n_text: int = 20
    max_item_sessions: int = 1000
    _cache: dict[tuple[str, str | int], IntArray] = dataclasses.field(default_factory=dict)

    @classmethod
    def build(
        cls,
        sessions: Sessions,
        rows: Iterable[int],
        *,
        catalog: Catalog | None = None,
        embeddings: npt.NDArray[np.float32] | None = None,
    ) -> CandidateIndex:
        """Index the sessions at positions ``rows`` of ``sessions``."""
        n = sessions.n_items
        pop = np.zeros(n)
        covis: list[dict[int, float]] = [{} for _ in range(n)]
        session_items: list[IntArray] = []
        item_sessions: list[list[int]] = [[] for _ in range(n)]
        locale_pop: dict[str, FloatArray] = {}
        for r in rows:
            seq = sessions.items[r]
            np.add.at(pop, seq, 1.0)
            loc = sessions.locales[r]
            if loc is not None:
                lp = locale_pop.setdefault(loc, np.zeros(n))
                np.add.at(lp, seq, 1.0)
            uniq = np.unique(seq)
            k = len(session_items)
            session_items.append(uniq)
            for it in uniq.tolist():
                item_sessions[it].append(k)  # newest last; sknn reads the newest ones
            m = len(seq)
            for i in range(m):
                a = int(seq[i])
                row = covis[a]
                for j in range(max(0, i - 4), min(m, i + 5)):
                    b = int(seq[j])
                    if b != a:
                        row[b] = row.get(b, 0.0) + 1.0 / abs(i - j)
        order = np.argsort(-pop, kind="stable").astype(np.int64)
        emb = None if embeddings is None else embeddings.astype(np.float64)  # fresh, fast copy
        return cls(n, pop, order, covis, session_items, item_sessions, locale_pop, catalog,
                   emb)  # fmt: skip

    # -- persistence ---------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the index to one ``.npz`` file (no pickle)."""
        cov_ptr = np.cumsum([0, *(len(r) for r in self.covis)]).astype(np.int64)
        cov_idx = np.fromiter((b for r in self.covis for b in r), np.int64, int(cov_ptr[-1]))
        cov_val = np.fromiter((c for r in self.covis for c in r.values()), np.float64,
                              int(cov_ptr[-1]))  # fmt: skip
        ses_ptr = np.cumsum([0, *(len(r) for r in self.session_items)]).astype(np.int64)
        ses_idx = (np.concatenate(self.session_items) if self.session_items
                   else np.zeros(0, np.int64))  # fmt: skip
        locales = sorted(self.locale_pop)
        arrays: dict[str, Any] = {
            "n_items": np.array(self.n_items), "pop": self.pop, "cov_ptr": cov_ptr,
            "cov_idx": cov_idx, "cov_val": cov_val, "ses_ptr": ses_ptr, "ses_idx": ses_idx,
            "locales": np.array(locales, dtype=str),
            "locale_pop": np.array([self.locale_pop[k] for k in locales]).reshape(
                len(locales), self.n_items),
        }  # fmt: skip
        if self.embeddings is not None:
            arrays["embeddings"] = self.embeddings.astype(np.float32)  # half the size on disk
        cat = self.catalog
        if cat is not None:
            arrays |= {
                "cat_category": cat.category, "cat_names": np.array(cat.category_names, str),
                "cat_price": cat.price, "cat_rating": cat.rating, "cat_reviews": cat.reviews,
            }  # fmt: skip
        with Path(path).open("wb") as fh:
            np.savez_compressed(fh, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CandidateIndex:
        """Read an index written by :meth:`save`."""
        z = np.load(path, allow_pickle=False)
        n = int(z["n_items"])
        ptr, idx, val = z["cov_ptr"], z["cov_idx"], z["cov_val"]
        covis = [
            dict(zip(idx[ptr[i] : ptr[i + 1]].tolist(), val[ptr[i] : ptr[i + 1]].tolist(),
                     strict=True))
            for i in range(n)
        ]  # fmt: skip
        sptr, sidx = z["ses_ptr"], z["ses_idx"]
        session_items = [sidx[sptr[k] : sptr[k + 1]] for k in range(len(sptr) - 1)]
        item_sessions: list[list[int]] = [[] for _ in range(n)]
        for k, items in enumerate(session_items):
            for it in items.tolist():
                item_sessions[it].append(k)
        catalog = None
        if "cat_category" in z:
            catalog = Catalog(z["cat_category"], z["cat_names"].tolist(), z["cat_price"],
                              z["cat_rating"], z["cat_reviews"], [])  # fmt: skip
        locale_pop = {str(k): z["locale_pop"][i] for i, k in enumerate(z["locales"].tolist())}
        embeddings = z.get("embeddings", None)
        pop = z["pop"]
        order = np.argsort(-pop, kind="stable").astype(np.int64)
        emb = None if embeddings is None else embeddings.astype(np.float64)  # fresh, fast copy
        return cls(n, pop, order, covis, session_items, item_sessions, locale_pop, catalog,
                   emb)  # fmt: skip

    # -- candidate sources ---------------------------------------------------------------
    def covis_scores(self, items: IntArray) -> dict[int, float]:
        """Recency-weighted co-visitation with the query items (last item weighs most)."""
        scores: dict[int, float] = {}
        m = len(items)
        for pos, it in enumerate(items.tolist()):
            if it >= self.n_items:
                continue
            w = 1.0 / (m - pos)
            row = self.covis[it]
            total = sum(row.values()) or 1.0
            for b, c in row.items():
                scores[b] = scores.get(b, 0.0) + w * c / total
        return scores

    def sknn_scores(self, items: IntArray) -> dict[int, float]:
        """Session-kNN: sum of cosine similarities of the most similar past sessions."""
        query = {int(i) for i in items.tolist() if i < self.n_items}
        if not query:
            return {}
        overlap: dict[int, int] = {}
        for it in query:
            for s in self.item_sessions[it][-self.max_item_sessions :]:
                overlap[s] = overlap.get(s, 0) + 1
        keys = np.fromiter(overlap.keys(), np.int64, len(overlap))
        counts = np.fromiter(overlap.values(), np.float64, len(overlap))
        lengths = np.fromiter((len(self.session_items[k]) for k in keys.tolist()), np.float64,
                              len(keys))  # fmt: skip
        sims = counts / np.sqrt(len(query) * lengths)
        top = _top_k(sims, self.n_sknn_neighbors)
        scores: dict[int, float] = {}
        for sim, k in zip(sims[top].tolist(), keys[top].tolist(), strict=True):
            for it in self.session_items[k].tolist():
                scores[it] = scores.get(it, 0.0) + sim
        return scores

    def popular(self, k: int) -> IntArray:
        """The ``k`` most viewed items."""
        return self.pop_order[:k]

    def _top(self, scores: dict[int, float], k: int) -> list[int]:
        return [i for i, _ in sorted(scores.items(), key=lambda kv: -kv[1])[:k]]

    def text_neighbors(self, block: int = 512) -> IntArray | None:
        """Per item: its nearest titles, then its nearest cold-start titles (-1 pads).

        Columns: the ``n_text`` nearest titles, then the ``n_text // 2`` nearest never-viewed
        ones; computed once with blocked matrix products and cached.
        """
        if self.embeddings is None:
            return None
        found = self._cache.get(("text", 0))
        if found is not None:
            return found
        emb = self.embeddings
        cold_items = np.flatnonzero(self.pop[: len(emb)] == 0)
        k_cold = min(self.n_text // 2, len(cold_items))
        width = self.n_text + self.n_text // 2
        table = np.full((len(emb), width), -1, dtype=np.int64)
        for start in range(0, len(emb), block):
            sims = emb[start : start + block] @ emb.T
            for r, row in enumerate(sims):
                top = _top_k(row, self.n_text)
                table[start + r, : len(top)] = top
                if k_cold:
                    cold = cold_items[_top_k(row[cold_items], k_cold)]
                    table[start + r, self.n_text : self.n_text + k_cold] = cold
        self._cache[("text", 0)] = table
        return table

    def _cached(self, key: tuple[str, str | int], make: Callable[[], IntArray]) -> IntArray:
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = make()
        return found

    # -- candidates and features ---------------------------------------------------------
    def features(self, query: Query) -> tuple[IntArray, FloatArray]:
        """The candidates of ``query`` and their feature matrix (columns: FEATURE_NAMES)."""
        cov, knn, sources = self._sources(query)
        cands = np.array(list(dict.fromkeys(c for src in sources.values() for c in src)),
                         dtype=np.int64)  # fmt: skip
        cands = cands[(cands >= 0) & (cands < self.n_items)]
        return cands, self._features_of(cands, query, cov, knn, sources)

    def features_for(self, query: Query, cands: IntArray) -> FloatArray:
        """The feature matrix of given candidates (codes ``< n_items``), as :meth:`features`.

        The decision API ranks the candidates a page sends with this.
        """
        cov, knn, sources = self._sources(query)
        return self._features_of(cands, query, cov, knn, sources)

    def _sources(
        self, query: Query
    ) -> tuple[dict[int, float], dict[int, float], dict[str, list[int]]]:
        """Co-visitation and session-kNN scores of ``query`` and each source's candidates."""
        items = query.items
        last = int(items[-1])
        cov = self.covis_scores(items)
        knn = self.sknn_scores(items)
        sources: dict[str, list[int]] = {
            "covis": self._top(cov, self.n_covis),
            "sknn": self._top(knn, self.n_covis),
            "recent": list(dict.fromkeys([*items.tolist(), *query.history[-20:].tolist()])),
            "pop": self.popular(self.n_pop).tolist(),
        }
        cat = self.catalog
        if cat is not None and 0 <= last < len(cat.category) and cat.category[last] >= 0:
            c = int(cat.category[last])

            def by_category() -> IntArray:
                same = np.flatnonzero(cat.category[: self.n_items] == c)
                return same[np.argsort(-self.pop[same], kind="stable")][:30]

            sources["category"] = self._cached(("category", c), by_category).tolist()
        lp = self.locale_pop.get(query.locale or "")
        if lp is not None:
            top_locale = self._cached(
                ("locale", query.locale or ""),
                lambda: np.argsort(-lp, kind="stable")[: self.n_pop],
            )
            sources["locale"] = top_locale.tolist()
        neighbors = self.text_neighbors()
        if neighbors is not None and last < len(neighbors):
            sources["text"] = neighbors[last].tolist()
        return cov, knn, sources

    def _features_of(
        self,
        cands: IntArray,
        query: Query,
        cov: dict[int, float],
        knn: dict[int, float],
        sources: dict[str, list[int]],
    ) -> FloatArray:
        last = int(query.items[-1])
        text = None
        if self.embeddings is not None and last < len(self.embeddings):
            text = np.dot(self.embeddings[cands], self.embeddings[last].copy()).astype(np.float64)
        return self._matrix(cands, query=query, cov=cov, knn=knn, sources=sources, text=text)

    def _matrix(  # noqa: PLR0915 - one statement per feature column
        self,
        cands: IntArray,
        *,
        query: Query,
        cov: dict[int, float],
        knn: dict[int, float],
        sources: dict[str, list[int]],
        text: FloatArray | None,
    ) -> FloatArray:
        items = query.items
        last = int(items[-1])
        n = len(cands)
        X = np.full((n, len(FEATURE_NAMES)), np.nan)  # noqa: N806
        col = {name: k for k, name in enumerate(FEATURE_NAMES)}
        last_row = self.covis[last] if last < self.n_items else {}
        last_total = sum(last_row.values()) or 1.0
        cl = cands.tolist()
        X[:, col["covis_last"]] = [last_row.get(c, 0.0) / last_total for c in cl]
        X[:, col["covis_sum"]] = [cov.get(c, 0.0) for c in cl]
        X[:, col["sknn"]] = [knn.get(c, 0.0) for c in cl]
        pop = self.pop[cands]
        X[:, col["pop_log"]] = np.log1p(pop)
        rank = np.empty(self.n_items, dtype=np.float64)
        rank[self.pop_order] = np.arange(self.n_items)
        X[:, col["pop_rank"]] = np.log1p(rank[cands])
        lp = self.locale_pop.get(query.locale or "")
        if lp is not None:
            X[:, col["locale_pop_share"]] = lp[cands] / max(lp.sum(), 1.0)
        m = len(items)
        positions: dict[int, int] = {}
        counts: dict[int, int] = {}
        for p, it in enumerate(items.tolist()):
            positions[it] = m - 1 - p
            counts[it] = counts.get(it, 0) + 1
        X[:, col["in_session_count"]] = [counts.get(c, 0) for c in cl]
        X[:, col["in_session_distance"]] = [positions.get(c, -1) for c in cl]
        hist = query.history.tolist()
        hpos = {it: len(hist) - p for p, it in enumerate(hist)}
        hcount: dict[int, int] = {}
        for it in hist:
            hcount[it] = hcount.get(it, 0) + 1
        X[:, col["buyer_count"]] = [hcount.get(c, 0) for c in cl]
        X[:, col["buyer_recency"]] = [hpos.get(c, -1) for c in cl]
        cat = self.catalog
        if cat is not None:
            ccat = cat.category[cands]
            X[:, col["same_category_last"]] = (ccat == cat.category[last]) & (ccat >= 0)
            icat = cat.category[items]
            cat_vals, cat_counts = np.unique(icat, return_counts=True)
            at = np.minimum(np.searchsorted(cat_vals, ccat), len(cat_vals) - 1)
            X[:, col["session_category_share"]] = np.where(
                cat_vals[at] == ccat, cat_counts[at] / len(icat), 0.0
            )
            totals = np.bincount(np.maximum(cat.category[: self.n_items], 0),
                                 weights=self.pop, minlength=len(cat.category_names))  # fmt: skip
            X[:, col["category_pop_share"]] = pop / np.maximum(totals[np.maximum(ccat, 0)], 1.0)
            mean_price = np.nanmean(cat.price[items]) if np.isfinite(cat.price[items]).any() else 0
            X[:, col["price_ratio"]] = cat.price[cands] / mean_price if mean_price else np.nan
            X[:, col["rating"]] = cat.rating[cands]
            X[:, col["reviews_log"]] = np.log1p(cat.reviews[cands])
        if text is not None:
            X[:, col["text_sim_last"]] = text
        X[:, col["cold_start"]] = pop == 0
        X[:, col["session_length"]] = m
        for name in _SOURCES:
            members = set(sources.get(name, ()))
            X[:, col[f"src_{name}"]] = [c in members for c in cl]
        return X
