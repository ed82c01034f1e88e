"""Purchase intent, ranking, the model registry and compiled low-latency inference.

Module map:

- :mod:`~marketlift.models.tabular`: bring-your-own-table reading, schema inference, encoding.
- :mod:`~marketlift.models.metrics`: ROC/PR AUC, log loss, Brier, ECE; NDCG, Recall, MRR.
- :mod:`~marketlift.models.intent`: :class:`IntentClassifier` (LightGBM + Platt calibration).
- :mod:`~marketlift.models.intent_data`: point-in-time intent rows from the lake (SQL).
- :mod:`~marketlift.models.training`: train, evaluate and register the intent model.
- :mod:`~marketlift.models.registry`: versioned artifacts, promote and rollback.
- :mod:`~marketlift.models.compiled`: lleaves compilation and the preallocated serving predictor.
"""

from marketlift.models.compiled import ServingPredictor, compile_model, load_predictor
from marketlift.models.intent import IntentClassifier, NotFittedError
from marketlift.models.metrics import (
    ClassificationMetrics,
    RankingMetrics,
    classification_metrics,
    ranking_metrics,
)
from marketlift.models.registry import ModelVersion, Registry, RegistryError
from marketlift.models.tabular import ColumnError, FeatureSchema, read_table
from marketlift.models.training import IntentResult, register_intent, train_intent

__all__ = [
    "ClassificationMetrics",
    "ColumnError",
    "FeatureSchema",
    "IntentClassifier",
    "IntentResult",
    "ModelVersion",
    "NotFittedError",
    "RankingMetrics",
    "Registry",
    "RegistryError",
    "ServingPredictor",
    "classification_metrics",
    "compile_model",
    "load_predictor",
    "ranking_metrics",
    "read_table",
    "register_intent",
    "train_intent",
]
