"""What the decision API calls: cached copy only, template fallback, microseconds.

:class:`CopyReader` opens the cache read-only and answers :meth:`CopyReader.copy_for` with the
cached result of the buyer's copy variant, or, on a miss, the template output rendered on the
spot (status ``miss``; the plain style for a ``tpl-1-plain`` variant). It never calls a
model: generation is a batch job (``marketlift copy generate``).

Example:
    >>> import tempfile
    >>> from marketlift.copy.facts import Facts
    >>> from marketlift.copy.request import CopyRequest
    >>> from marketlift.copy.variants import CopyVariant
    >>> reader = CopyReader(tempfile.mkdtemp())
    >>> result = reader.copy_for(CopyRequest("search_rewrite", "de-DE", Facts(query="Tasse")))
    >>> result.status, result.parts["expansion_1"]
    ('miss', 'Tasse aus Keramik')
"""

from __future__ import annotations

from pathlib import Path

from marketlift.copy.cache import CopyCache, cache_key
from marketlift.copy.facts import facts_hash
from marketlift.copy.request import CopyRequest, CopyResult
from marketlift.copy.template import TEMPLATE_PLAIN_VERSION, render
from marketlift.copy.variants import TEMPLATE_VARIANT, CopyVariant

__all__ = ["CopyReader"]


class CopyReader:
    """Read-only access to cached copy for serving.

    Args:
        data_dir: The data directory (reads ``DATA/copy/cache.sqlite``).
    """

    def __init__(self, data_dir: str | Path) -> None:
        self.cache = CopyCache(data_dir, readonly=True)

    def copy_for(self, request: CopyRequest, variant: CopyVariant = TEMPLATE_VARIANT) -> CopyResult:
        """The cached copy of ``request`` for ``variant``, else template copy (``miss``)."""
        fh = facts_hash(request.facts)
        key = cache_key(request.touchpoint, variant.prompt_version, fh, request.locale,
                        variant.model)  # fmt: skip
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        plain = variant.prompt_version == TEMPLATE_PLAIN_VERSION
        return CopyResult(
            key, request.touchpoint, request.locale, request.action,
            render(request, plain=plain),
            "template", variant.model, variant.prompt_version, fh, "miss",
        )  # fmt: skip

    def close(self) -> None:
        """Close the cache file."""
        self.cache.close()
