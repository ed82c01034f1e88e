"""The versioned event schema, its validation, JSON Schema export and columnar form.

Example:
    >>> from marketlift.events import EVENT_TYPES
    >>> "purchase" in EVENT_TYPES
    True
"""

from marketlift.events.limits import Limits
from marketlift.events.schema import (
    EVENT_TYPES,
    SCHEMA_VERSION,
    AddToCart,
    BaseEvent,
    CheckoutStart,
    Decision,
    EngagementClicked,
    EngagementDismissed,
    EngagementShown,
    Event,
    Exposure,
    Favorite,
    Impression,
    ImpressionItem,
    LineItem,
    ListingView,
    Money,
    PageView,
    Purchase,
    RemoveFromCart,
    Search,
)
from marketlift.events.validate import (
    BatchFormatError,
    FieldError,
    RejectedEvent,
    ValidatedBatch,
    validate_batch,
)

__all__ = [
    "EVENT_TYPES",
    "SCHEMA_VERSION",
    "AddToCart",
    "BaseEvent",
    "BatchFormatError",
    "CheckoutStart",
    "Decision",
    "EngagementClicked",
    "EngagementDismissed",
    "EngagementShown",
    "Event",
    "Exposure",
    "Favorite",
    "FieldError",
    "Impression",
    "ImpressionItem",
    "Limits",
    "LineItem",
    "ListingView",
    "Money",
    "PageView",
    "Purchase",
    "RejectedEvent",
    "RemoveFromCart",
    "Search",
    "ValidatedBatch",
    "validate_batch",
]
