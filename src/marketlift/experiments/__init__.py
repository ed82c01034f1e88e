"""Experiments: configuration, deterministic assignment, exposures, aggregation and inference."""

from marketlift.experiments.assignment import Assignment, assign, assign_variant, thresholds
from marketlift.experiments.config import (
    Experiment,
    Layer,
    Targeting,
    Variant,
    experiment_from_dict,
    load_experiments,
)
from marketlift.experiments.hashing import bucket, fnv1a32

__all__ = [
    "Assignment",
    "Experiment",
    "Layer",
    "Targeting",
    "Variant",
    "assign",
    "assign_variant",
    "bucket",
    "experiment_from_dict",
    "fnv1a32",
    "load_experiments",
    "thresholds",
]
