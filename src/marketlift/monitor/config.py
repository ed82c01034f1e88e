"""The thresholds of the checks: one frozen dataclass, checked once.

Example:
    >>> MonitorConfig().psi_alert
    0.25
    >>> MonitorConfig(psi_alert=-1.0)
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: psi_alert == -1.0, expected a number > 0.
"""

from __future__ import annotations

import dataclasses

from marketlift.errors import ConfigError

__all__ = ["MonitorConfig"]

_POSITIVE = (
    "psi_alert",
    "psi_alpha",
    "missing_alert",
    "max_ece",
    "max_event_age_hours",
    "max_features_age_hours",
    "max_model_age_days",
    "volume_low",
    "volume_high",
    "max_dead_letter_rate",
    "max_degraded_share",
    "min_hit_rate_ratio",
)
_COUNTS = (
    "n_bins",
    "min_rows",
    "reference_days",
    "baseline_days",
    "min_daily_events",
    "top_reasons",
)


@dataclasses.dataclass(frozen=True, slots=True)
class MonitorConfig:
    """What each check compares and when it alerts.

    Attributes:
        psi_alert: Population stability index of a feature (training window against the
            monitored day) at or above which it alerts; 0.1 is "moderate", 0.25 "major".
        psi_alpha: Chance that sampling noise alone crosses a drift check's limit: the limit is
            the larger of ``psi_alert`` and that critical index (it matters on small samples).
        missing_alert: Change of a feature's missing-value rate (absolute) that alerts.
        n_bins: Quantile bins of the index and bins of the calibration error.
        min_rows: Fewest rows (values, for a feature) on each side for a drift or
            calibration check to judge.
        reference_days: Days at the end of the model's training window that are the
            reference of the drift checks.
        history_ages: Features that are an age the lake's history bounds (a cart kept since
            its first add): their drift compares the share of the history they span
            (:func:`marketlift.monitor.intent.history_share`), not the raw age, which grows
            with the lake.
        max_ece: Expected calibration error of the intent model on the monitored day's
            outcomes above which it alerts (equal-width bins, as the offline figure).
        min_hit_rate_ratio: The ranker alerts when its online hit rate falls below this
            share of its offline figure.
        max_event_age_hours: Age of the newest event of a type on a platform (at the end of
            the monitored day) above which it alerts (busy streams only, see
            ``min_daily_events``).
        max_features_age_hours: Age of the newest feature build above which it alerts.
        max_model_age_days: Age of a promoted model's newest training row that alerts.
        baseline_days: Days before the monitored one whose median volume is the baseline.
        min_daily_events: Baseline volume of a type and platform below which its volume and
            freshness are reported, not judged (too few events to tell).
        volume_low: Ratio of the day's volume to its baseline below which it alerts.
        volume_high: Ratio above which it alerts.
        max_dead_letter_rate: Share of the day's received payloads that were rejected.
        top_reasons: Dead-letter reasons reported.
        max_degraded_share: Share of the day's decisions answered by a fallback.
    """

    psi_alert: float = 0.25
    psi_alpha: float = 0.001
    missing_alert: float = 0.1
    n_bins: int = 10
    min_rows: int = 100
    reference_days: int = 1
    history_ages: tuple[str, ...] = ("b_cart_age_hours",)
    max_ece: float = 0.1
    min_hit_rate_ratio: float = 0.5
    max_event_age_hours: float = 12.0
    max_features_age_hours: float = 36.0
    max_model_age_days: float = 3.0
    baseline_days: int = 7
    min_daily_events: int = 50
    volume_low: float = 0.5
    volume_high: float = 2.0
    max_dead_letter_rate: float = 0.02
    top_reasons: int = 5
    max_degraded_share: float = 0.05

    def __post_init__(self) -> None:
        """Check every field."""
        for name in _POSITIVE:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigError(name, value, "a number > 0")
        for name in _COUNTS:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(name, value, "an integer >= 1")
        ages = self.history_ages
        if not isinstance(ages, tuple) or not all(isinstance(a, str) and a for a in ages):
            raise ConfigError("history_ages", ages, "a tuple of feature names")
        if self.psi_alpha >= 1:
            raise ConfigError("psi_alpha", self.psi_alpha, "a probability in (0, 1)")
        if self.volume_low >= self.volume_high:
            raise ConfigError("volume_low", self.volume_low, f"< volume_high ({self.volume_high})")
