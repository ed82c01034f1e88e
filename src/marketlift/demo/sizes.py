"""How big each demo run is: buyers and days of the history and of the A/B test.

Example:
    >>> SIZES["small"].train_buyers < SIZES["medium"].train_buyers < SIZES["large"].train_buyers
    True
"""

from __future__ import annotations

import dataclasses
from typing import Final

__all__ = ["DEFAULT_SIZE", "SIZES", "DemoSize"]


@dataclasses.dataclass(frozen=True, slots=True)
class DemoSize:
    """The scale of one demo run.

    Attributes:
        name: ``small``, ``medium`` or ``large``.
        train_buyers: Buyers of the logged history (the logging policy decides).
        train_days: Days of history.
        ab_days: Days of the A/B test (the history's buyers and listings, later).
        ensemble: S-learners in the uplift ensemble (seeds).
        ranker_trees: Boosting rounds of the ranker.
        ranker_queries: Most training queries of the ranker.
        ranker_eval_queries: Most held-out queries of the ranker and its baselines.
    """

    name: str
    train_buyers: int
    train_days: int
    ab_days: int
    ensemble: int
    ranker_trees: int
    ranker_queries: int
    ranker_eval_queries: int


SIZES: Final = {
    "small": DemoSize("small", 4_000, 7, 4, 2, 100, 2_000, 500),
    "medium": DemoSize("medium", 20_000, 14, 5, 3, 100, 2_000, 1_000),
    "large": DemoSize("large", 60_000, 21, 7, 5, 200, 20_000, 5_000),
}
DEFAULT_SIZE: Final = "medium"
