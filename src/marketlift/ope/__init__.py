"""Off-policy evaluation: IPS, SNIPS, DM, DR and switch-DR with intervals and diagnostics.

Module map: :mod:`~marketlift.ope.data` (the log), one estimator per module
(:mod:`~marketlift.ope.ips`, :mod:`~marketlift.ope.snips`, :mod:`~marketlift.ope.dm`,
:mod:`~marketlift.ope.dr`, :mod:`~marketlift.ope.switch_dr`), :mod:`~marketlift.ope.intervals`,
:mod:`~marketlift.ope.diagnostics`, :mod:`~marketlift.ope.reward_model` and
:mod:`~marketlift.ope.evaluate` (one call for all estimators, and the A/B gate).
"""

from marketlift.ope.base import Estimate, Estimator
from marketlift.ope.data import LoggedBandit
from marketlift.ope.diagnostics import WeightDiagnostics, weight_diagnostics
from marketlift.ope.dm import DM
from marketlift.ope.dr import DR
from marketlift.ope.evaluate import (
    ESTIMATORS,
    GateResult,
    OPEReport,
    evaluate,
    gate,
    target_probabilities,
)
from marketlift.ope.ips import IPS
from marketlift.ope.reward_model import fit_reward_model
from marketlift.ope.snips import SNIPS
from marketlift.ope.switch_dr import SwitchDR

__all__ = [
    "DM",
    "DR",
    "ESTIMATORS",
    "IPS",
    "SNIPS",
    "Estimate",
    "Estimator",
    "GateResult",
    "LoggedBandit",
    "OPEReport",
    "SwitchDR",
    "WeightDiagnostics",
    "evaluate",
    "fit_reward_model",
    "gate",
    "target_probabilities",
    "weight_diagnostics",
]
