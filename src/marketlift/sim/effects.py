"""Engagement actions, decision moments and their true (heterogeneous) causal effects.

An action shifts the logit of the purchase funnel: at the in-session moments (``browsing``,
``returning_visit``) the add-to-cart logit by ``shift`` and the checkout logit by half of it; at
the cart-idle moments the logit of coming back to buy the cart. Effects depend on the buyer
(price sensitivity, new or not, fatigue and how much it annoys them), the moment and the channel.
Many are negative for some buyers: every push or email adds fatigue, fatigue turns effects
negative, and push and email can make a buyer unsubscribe for good.

Example:
    >>> import numpy as np
    >>> shift = logit_shift(np.array([2]), price_sensitivity=np.array([0.5]),
    ...                     is_new=np.array([False]), fatigue=np.array([0.0]),
    ...                     fatigue_sensitivity=np.array([1.0]))
    >>> ACTIONS[5].name, round(float(shift[0, 5]), 2), round(float(shift[0, 6]), 2)
    ('cart_reminder_push', 1.0, 0.35)
"""

from __future__ import annotations

from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

__all__ = [
    "ACTIONS",
    "CART_MOMENTS",
    "DISCOUNT",
    "FATIGUE_DECAY",
    "FATIGUE_STEP",
    "FREE_SHIPPING",
    "MOMENTS",
    "Action",
    "available",
    "logit_shift",
    "unsubscribe_probability",
]

FloatArray = npt.NDArray[np.float64]


class Action(NamedTuple):
    """An engagement action: what (``slug``) and through which channel (``None`` for none)."""

    slug: str
    channel: str | None

    @property
    def name(self) -> str:
        """A column-safe name such as ``cart_reminder_push`` (``none`` for no action)."""
        return self.slug if self.channel is None else f"{self.slug}_{self.channel}"


ACTIONS: Final = (
    Action("none", None),
    Action("free_shipping_banner", "onsite"),
    Action("similar_items", "onsite"),
    Action("review_highlight", "onsite"),
    Action("discount_coupon", "in_app"),
    Action("cart_reminder", "push"),
    Action("cart_reminder", "email"),
    Action("price_drop_alert", "push"),
    Action("discount_coupon", "email"),
)
"""Every action; indexes into this tuple are used throughout the simulator."""
MOMENTS: Final = ("browsing", "returning_visit", "cart_idle_1h", "cart_idle_1d")
"""Decision moments: in a session (new interest or coming back to an open cart), or after a
cart has been left idle for an hour or a day."""
CART_MOMENTS: Final = (2, 3)
_SESSION_ACTIONS: Final = np.array([1, 1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
_PUSH: Final = np.array([a.channel == "push" for a in ACTIONS])
_EMAIL: Final = np.array([a.channel == "email" for a in ACTIONS])
_MESSAGE: Final = _PUSH | _EMAIL
DISCOUNT: Final = np.array([0, 0, 0, 0, 0.10, 0, 0, 0.05, 0.15])
"""Share of the item price the buyer does not pay when they buy after this action."""
FREE_SHIPPING: Final = np.array([a.slug == "free_shipping_banner" for a in ACTIONS])
FATIGUE_STEP: Final = np.where(_MESSAGE, 1.0, 0.25) * np.array([0.0] + [1.0] * 8)
"""Fatigue added by each action when shown."""
FATIGUE_DECAY: Final = 0.75
"""Share of fatigue left after a day."""

# Constant part of each action's logit shift, per moment (rows) and action (columns).
_BASE: Final = np.array(
    [
        [0, -0.25, 0.30, -0.10, -0.30, 0, 0, 0, 0],
        [0, -0.25, -0.35, -0.10, -0.30, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 1.00, 0.35, -0.35, -0.40],
        [0, 0, 0, 0, 0, 0.35, 0.75, -0.35, -0.40],
    ]
)
# Slope on price sensitivity and on being a new buyer, per action.
_PRICE: Final = np.array([0, 1.0, 0, 0, 1.0, 0, 0, 1.5, 1.6])
_NEW: Final = np.array([0, 0, 0.10, 0.55, 0, 0, 0, 0, 0])
_FATIGUE: Final = np.where(_MESSAGE, 0.45, 0.25) * np.array([0.0] + [1.0] * 8)


def logit_shift(
    moment: npt.NDArray[np.integer],
    *,
    price_sensitivity: FloatArray,
    is_new: npt.NDArray[np.bool_],
    fatigue: FloatArray,
    fatigue_sensitivity: FloatArray,
) -> FloatArray:
    """The true logit shift of every action for each decision: an ``(n, len(ACTIONS))`` array.

    Column 0 (no action) is always 0. Values for actions unavailable at a moment are
    meaningless; combine with :func:`available`.
    """
    annoyance = (fatigue * fatigue_sensitivity)[:, None] * _FATIGUE[None, :]
    shift: FloatArray = (
        _BASE[moment]
        + price_sensitivity[:, None] * _PRICE[None, :]
        + is_new[:, None].astype(np.float64) * _NEW[None, :]
        - annoyance
    )
    return shift


def available(
    moment: npt.NDArray[np.integer],
    *,
    push_opt_in: npt.NDArray[np.bool_],
    email_opt_in: npt.NDArray[np.bool_],
) -> npt.NDArray[np.bool_]:
    """Which actions can be taken at each decision: an ``(n, len(ACTIONS))`` boolean array.

    Example:
        >>> mask = available(np.array([0, 2]), push_opt_in=np.array([False, False]),
        ...                  email_opt_in=np.array([True, True]))
        >>> [ACTIONS[i].name for i in np.flatnonzero(mask[1])]
        ['none', 'cart_reminder_email', 'discount_coupon_email']
    """
    in_session = moment < CART_MOMENTS[0]
    mask = np.where(in_session[:, None], _SESSION_ACTIONS[None, :], ~_SESSION_ACTIONS[None, :])
    mask[:, 0] = True
    mask &= ~(_PUSH[None, :] & ~push_opt_in[:, None])
    mask &= ~(_EMAIL[None, :] & ~email_opt_in[:, None])
    return np.asarray(mask, dtype=bool)


def unsubscribe_probability(fatigue: FloatArray, fatigue_sensitivity: FloatArray) -> FloatArray:
    """Chance that a push or email makes the buyer opt out of that channel for good.

    Example:
        >>> p = unsubscribe_probability(np.array([0.0, 3.0]), np.array([1.0, 2.0]))
        >>> bool(p[0] < 0.01 < 0.3 < p[1])
        True
    """
    return np.asarray(1.0 / (1.0 + np.exp(5.0 - 0.9 * fatigue * fatigue_sensitivity)))


def is_message(action: npt.NDArray[np.integer]) -> npt.NDArray[np.bool_]:
    """Whether each action index is a push or an email."""
    return np.asarray(_MESSAGE[action], dtype=bool)


def is_push(action: npt.NDArray[np.integer]) -> npt.NDArray[np.bool_]:
    """Whether each action index is a push."""
    return np.asarray(_PUSH[action], dtype=bool)
