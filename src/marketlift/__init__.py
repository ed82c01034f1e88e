"""marketlift: growth machine learning for online marketplaces.

Importing the package is cheap: subpackages load their heavy dependencies lazily.

Example:
    >>> import marketlift
    >>> marketlift.__version__.count(".") >= 1
    True
"""

from marketlift._version import __version__
from marketlift.errors import MarketliftError, MissingDependencyError

__all__ = ["MarketliftError", "MissingDependencyError", "__version__"]
