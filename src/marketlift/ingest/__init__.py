"""Getting events in: the collector, the sink interface and its implementations.

Example:
    >>> from marketlift.ingest import Collector, LakeSink
    >>> Collector.__name__, LakeSink.name
    ('Collector', 'lake')
"""

from marketlift.ingest.collector import Collector, IngestReport, RejectedOut
from marketlift.ingest.lake_sink import LakeSink
from marketlift.ingest.sink import Sink, SinkBatch

__all__ = ["Collector", "IngestReport", "LakeSink", "RejectedOut", "Sink", "SinkBatch"]
