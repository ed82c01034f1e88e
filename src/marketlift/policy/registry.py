r"""Policy versions in the model registry: register, gate, promote, roll back.

An engagement policy is versioned like a model, under the name ``engagement`` of
:class:`marketlift.models.Registry` (``DATA/models/engagement/v0001/``): the pickled policy
(``policy.pkl``) and ``meta.json`` with the catalog's digest, the feature list, the training
range, the off-policy evaluation and the gate's verdict against the logging policy. The decision
API serves the promoted version (hot reloaded when the promotion changes); a version whose
gate failed is promoted only with ``force``.

Example:
    >>> import tempfile
    >>> from marketlift.policy.catalog import loads
    >>> from marketlift.policy.train import UniformExplorer
    >>> cat = loads('[channels.onsite]\n[[moments]]\nid = "home"\nsurfaces = ["home"]\n')
    >>> data = tempfile.mkdtemp()
    >>> v = register_policy(data, UniformExplorer().fit(cat), cat, gate={"worth_testing": False})
    >>> v.version, v.meta["features"]
    ('v0001', ['moment=home'])
    >>> promote_policy(data, "v0001")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    marketlift.errors.ConfigError: version == 'v0001', expected a version whose gate passed ...
    >>> promote_policy(data, "v0001", force=True).version
    'v0001'
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from marketlift.errors import ConfigError
from marketlift.policy.catalog import EngagementCatalog

__all__ = [
    "POLICY_FILE",
    "POLICY_NAME",
    "load_policy_version",
    "promote_policy",
    "register_policy",
    "registered_labels",
    "rollback_policy",
]

POLICY_NAME: Final = "engagement"
"""The registry name of engagement policies."""
POLICY_FILE: Final = "policy.pkl"


def _registry(data_dir: str | os.PathLike[str]) -> Any:
    from marketlift.models.registry import Registry  # noqa: PLC0415

    return Registry(data_dir)


def register_policy(
    data_dir: str | os.PathLike[str],
    policy: Any,
    catalog: EngagementCatalog,
    *,
    ope: Mapping[str, Any] | None = None,
    gate: Mapping[str, Any] | None = None,
) -> Any:
    """Register a fitted policy with its catalog digest, features, range, OPE and gate."""
    names = getattr(policy, "feature_names_", None)
    if names is None:
        raise ConfigError("policy", type(policy).__name__, "a policy with feature_names_")
    from marketlift.policy.io import save  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as tmp:
        content = save(policy, Path(tmp) / POLICY_FILE).read_bytes()
    meta = {
        "kind": "policy",
        "class": type(policy).__name__,
        "actions": list(policy.actions_),
        "features": list(names),
        "catalog_digest": catalog.digest,
        "training_range_us": list(getattr(policy, "training_range_", (None, None))),
        "ope": dict(ope) if ope is not None else None,
        "gate": dict(gate) if gate is not None else None,
    }
    return _registry(data_dir).register(POLICY_NAME, {POLICY_FILE: content}, meta)


def promote_policy(
    data_dir: str | os.PathLike[str], version: str | None = None, *, force: bool = False
) -> Any:
    """Promote a version (default: the latest); refused when its gate did not pass.

    Raises:
        ConfigError: The version's gate failed or is missing, and ``force`` is false.
    """
    reg = _registry(data_dir)
    got = reg.get(POLICY_NAME, version)
    gate = got.meta.get("gate") or {}
    if not force and not gate.get("worth_testing"):
        raise ConfigError("version", got.version, "a version whose gate passed (or force=True)")
    return reg.promote(POLICY_NAME, got.version)


def rollback_policy(data_dir: str | os.PathLike[str]) -> Any:
    """Promote the previously promoted version again."""
    return _registry(data_dir).rollback(POLICY_NAME)


def load_policy_version(data_dir: str | os.PathLike[str], version: str | None = None) -> Any:
    """The policy of a version (default: the promoted one, else the latest)."""
    from marketlift.policy.io import load  # noqa: PLC0415

    reg = _registry(data_dir)
    return load(reg.get(POLICY_NAME, version or reg.promoted(POLICY_NAME)).file(POLICY_FILE))


def registered_labels(data_dir: str | os.PathLike[str]) -> set[str]:
    """``engagement@vNNNN`` of every registered version (how the decision log names them)."""
    try:
        versions = _registry(data_dir).versions(POLICY_NAME)
    except Exception:  # noqa: BLE001 - no registry yet: nothing registered
        return set()
    return {f"{POLICY_NAME}@{v}" for v in versions}
