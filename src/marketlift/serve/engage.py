"""The ``engage`` stage: the catalog's moment and eligible actions, the policy's choice.

For one request: the engagement catalog (:mod:`marketlift.policy.catalog`) gives the moment
(the first that lists the surface and whose rules hold) and the actions eligible there (the
moment allows them, their rules hold on the buyer's features, the buyer is reachable on their
channel); the policy decides among them from the catalog's features read from the online
store (:mod:`marketlift.policy.context`), and the result keeps every eligible action's
probability for the decision log.

Example:
    >>> from marketlift.policy.catalog import loads
    >>> cat = loads('''
    ... [channels.onsite]
    ... [[moments]]
    ... id = "browsing"
    ... surfaces = ["home"]
    ... [[actions]]
    ... id = "banner"
    ... channel = "onsite"
    ... moments = ["browsing"]
    ... ''')
    >>> class Half:  # a policy: none or the banner, half and half
    ...     actions_ = ["none", "banner"]
    ...     feature_names_ = ["moment=browsing"]
    ...     def decide(self, x, mask, u):
    ...         from marketlift.policy import Decision
    ...         p = np.where(mask, 1.0, 0.0) / mask.sum()
    ...         k = int(u >= p[0])
    ...         return Decision(self.actions_[k], float(p[k]), None, p)
    >>> engage(cat, Half(), "home", None, None, None, u=0.9)  # doctest: +NORMALIZE_WHITESPACE
    Engaged(action='banner', propensity=0.5, eligible=('none', 'banner'),
            probabilities=(0.5, 0.5), moment='browsing')
    >>> engage(cat, Half(), "push", None, None, None, u=0.9).action  # no moment on push
    'none'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

from marketlift.policy.catalog import EngagementCatalog
from marketlift.policy.context import feature_row, feature_vector

__all__ = ["Engaged", "engage"]


class Engaged(NamedTuple):
    """What the engage stage decided, and what the decision log records of it."""

    action: str
    propensity: float
    eligible: tuple[str, ...]
    probabilities: tuple[float, ...]
    moment: str | None


def engage(  # noqa: PLR0917 - one stage, its inputs
    catalog: EngagementCatalog,
    policy: Any,
    surface: str,
    buyer: Mapping[str, Any] | None,
    session: Mapping[str, Any] | None,
    channels: Sequence[str] | None,
    *,
    u: float,
    suppress: bool = False,
    off: Sequence[str] = (),
) -> Engaged:
    """One engagement decision (``suppress``: the intent gate allows only ``none``).

    ``off``: action ids an experiment arm switches off (never eligible).
    """
    row = feature_row(catalog, buyer, session)
    moment = catalog.moment_for(surface, row)
    if moment is None:
        return Engaged("none", 1.0, ("none",), (1.0,), None)
    allowed = catalog.eligible(moment, row, channels)
    ids = catalog.action_ids
    index = {a: i for i, a in enumerate(ids)}
    names = [str(a) for a in policy.actions_]
    mask = np.array(
        [n in index and bool(allowed[index[n]]) and n not in off for n in names], dtype=bool
    )
    if suppress:
        mask[:] = False
    mask[0] = True
    x = feature_vector(catalog, moment, None, None, row)
    decision = policy.decide(x, mask, u)
    cols = np.flatnonzero(mask).tolist()
    eligible = tuple(names[i] for i in cols)
    p = decision.probabilities
    probs = () if p is None else tuple(round(float(p[i]), 9) for i in cols)
    return Engaged(str(decision.action), float(decision.propensity), eligible, probs, moment)
