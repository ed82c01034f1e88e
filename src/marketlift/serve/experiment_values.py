"""The experiment-application seam of ``/v1/decide``: which arm values apply to a request.

Every running experiment the unit is assigned to contributes its arm's values
(:class:`~marketlift.experiments.values.ArmValues`); layers keep experiments that change the
same value apart, so merging never has to choose. Replays may force the baseline or the
served models instead.

Example:
    >>> from marketlift.experiments.config import experiment_from_dict
    >>> exp = experiment_from_dict({"key": "ab", "variants": [
    ...     {"name": "control", "values": {"ranker": "popularity", "policy": "none"}},
    ...     {"name": "treatment"}]})
    >>> index = ValuesIndex([exp])
    >>> index.for_assignments([("ab", "control")]).policy
    'none'
    >>> index.for_assignments([("ab", "treatment")]).changed()
    ()
"""

from __future__ import annotations

from collections.abc import Iterable

from marketlift.experiments.config import Experiment
from marketlift.experiments.values import BASELINE, ArmValues, merge_values

__all__ = ["ValuesIndex"]

_NONE = ArmValues()


class ValuesIndex:
    """Arm values by ``(experiment key, variant)`` of the configured experiments."""

    def __init__(self, experiments: Iterable[Experiment]) -> None:
        self._values = {
            (e.key, v.name): v.values for e in experiments for v in e.variants if v.values.changed()
        }

    def for_assignments(
        self, assignments: Iterable[tuple[str, str]], *, control: bool | None = None
    ) -> ArmValues:
        """The merged values of ``(experiment key, variant)`` pairs.

        Args:
            assignments: The unit's assignments.
            control: Replays only: ``True`` forces the baseline (popularity ranking, no
                engagement), ``False`` the served models; ``None`` follows the assignments.
        """
        if control is not None:
            return BASELINE if control else _NONE
        arms = [self._values[a] for a in assignments if a in self._values]
        if not arms:
            return _NONE
        return arms[0] if len(arms) == 1 else merge_values(arms)
