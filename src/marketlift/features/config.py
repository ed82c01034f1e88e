"""The one typed configuration of feature computation, shared by offline and online paths.

Example:
    >>> cfg = FeatureConfig(session_gap_s=600)
    >>> cfg.session_gap_us
    600000000
    >>> FeatureConfig(session_gap_s=0)
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: session_gap_s == 0, expected a number of seconds > 0.
"""

from __future__ import annotations

import dataclasses

from marketlift.errors import ConfigError

__all__ = ["FeatureConfig"]


@dataclasses.dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Parameters of the feature definitions (the same for DuckDB, Spark and the stream).

    Attributes:
        session_gap_s: Inactivity (seconds) after which a buyer's next event starts a session.
        fatigue_window_days: Engagement shown in this many days before the cut-off count.
        fatigue_decay: Weight kept per day of age of a shown engagement (0.75: a quarter lost).
        fatigue_weight_push_email: Fatigue added by one push or email.
        fatigue_weight_onsite: Fatigue added by one onsite or in-app engagement.
        smoothing_views: Pseudo-views of the prior in the smoothed listing rates.
        prior_add_to_cart_rate: Prior add-to-cart rate per view.
        prior_conversion_rate: Prior purchase rate per view.
        rating_prior: Prior mean rating of the smoothed rating.
        rating_prior_reviews: Pseudo-reviews of the prior in the smoothed rating.
    """

    session_gap_s: float = 1800.0
    fatigue_window_days: float = 7.0
    fatigue_decay: float = 0.75
    fatigue_weight_push_email: float = 1.0
    fatigue_weight_onsite: float = 0.25
    smoothing_views: float = 20.0
    prior_add_to_cart_rate: float = 0.05
    prior_conversion_rate: float = 0.01
    rating_prior: float = 4.0
    rating_prior_reviews: float = 10.0

    def __post_init__(self) -> None:
        if not self.session_gap_s > 0:
            raise ConfigError("session_gap_s", self.session_gap_s, "a number of seconds > 0")
        if not self.fatigue_window_days > 0:
            raise ConfigError("fatigue_window_days", self.fatigue_window_days, "a number > 0")
        if not 0 < self.fatigue_decay <= 1:
            raise ConfigError("fatigue_decay", self.fatigue_decay, "a number in (0, 1]")
        if self.smoothing_views < 0 or self.rating_prior_reviews < 0:
            raise ConfigError("smoothing_views", self.smoothing_views, "a number >= 0")

    @property
    def session_gap_us(self) -> int:
        """The session gap in whole microseconds."""
        return round(self.session_gap_s * 1_000_000)

    @property
    def fatigue_window_us(self) -> int:
        """The fatigue window in whole microseconds."""
        return round(self.fatigue_window_days * 86_400_000_000)
