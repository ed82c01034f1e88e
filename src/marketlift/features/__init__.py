"""Feature pipelines: defined once, built on DuckDB or Spark, served from memory or Redis.

Module map:

- :mod:`~marketlift.features.config`: :class:`FeatureConfig`, the one set of parameters.
- :mod:`~marketlift.features.definitions`: every feature's name, type, SQL and meaning.
- :mod:`~marketlift.features.dialect`: the few spellings that differ in DuckDB and Spark SQL.
- :mod:`~marketlift.features.queries`: sessionization and the buyer, in-session and listing
  feature queries over a spine of ``(row, entity, cut-off)``.
- :mod:`~marketlift.features.engines`: DuckDB and Spark engines (one dispatch point).
- :mod:`~marketlift.features.build`: the offline build at one cut-off.
- :mod:`~marketlift.features.training`: point-in-time training sets (intent, ranking, uplift).
- :mod:`~marketlift.features.store` and :mod:`~marketlift.features.redis_store`: online
  stores (memory, Redis) and the one-round-trip read for the decision path.
- :mod:`~marketlift.features.stream`: the stream updater (queue, NATS JetStream).
- :mod:`~marketlift.features.skew`: online against offline at the same cut-off.

Example:
    >>> import tempfile
    >>> from marketlift.features import build_features
    >>> build_features(tempfile.mkdtemp(), write=False).summary()["rows"]["sessions"]
    0
"""

from marketlift.features.build import (
    CATALOG_SCHEMA,
    TABLES,
    BuildResult,
    build_features,
    compute_features,
    features_dir,
    normalize_catalog,
)
from marketlift.features.config import FeatureConfig
from marketlift.features.definitions import (
    BUYER_FEATURES,
    LISTING_FEATURES,
    SESSION_FEATURES,
    Feature,
    feature_names,
)
from marketlift.features.engines import DuckDBEngine, Engine, SparkEngine, local_spark, make_engine
from marketlift.features.redis_store import RedisStore
from marketlift.features.skew import SkewReport, check_skew
from marketlift.features.store import (
    MemoryStore,
    OnlineFeatures,
    OnlineStore,
    read_features,
    write_table,
)
from marketlift.features.stream import StreamUpdater
from marketlift.features.training import TASKS, compute_training_set, training_set

__all__ = [
    "BUYER_FEATURES",
    "CATALOG_SCHEMA",
    "LISTING_FEATURES",
    "SESSION_FEATURES",
    "TABLES",
    "TASKS",
    "BuildResult",
    "DuckDBEngine",
    "Engine",
    "Feature",
    "FeatureConfig",
    "MemoryStore",
    "OnlineFeatures",
    "OnlineStore",
    "RedisStore",
    "SkewReport",
    "SparkEngine",
    "StreamUpdater",
    "build_features",
    "check_skew",
    "compute_features",
    "compute_training_set",
    "feature_names",
    "features_dir",
    "local_spark",
    "make_engine",
    "normalize_catalog",
    "read_features",
    "training_set",
    "write_table",
]
