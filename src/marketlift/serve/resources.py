"""What the decision API serves, loaded once and swapped whole: models, policy, popularity.

:class:`Resources` is an immutable snapshot (ranker, intent model, engagement policy, shadow
ranker, popularity fallback). A request reads :attr:`ModelWatcher.current` once and uses that
snapshot to the end, so a reload never mixes versions within a request and never fails one.

:class:`ModelWatcher` loads the promoted registry versions and the policy file, and
:meth:`ModelWatcher.check` (called by a background thread every ``reload_interval_s``, and by
``POST /admin/reload``) loads whatever changed. Loading happens beside serving; a version that
fails to load (corrupt or missing file) is reported and the last good one keeps serving.

Example:
    >>> import tempfile
    >>> watcher = ModelWatcher(tempfile.mkdtemp())
    >>> watcher.current.versions()
    {'ranker': None, 'intent': None, 'policy': None}
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from marketlift.models.serving import IntentService, RankerService

__all__ = ["ModelWatcher", "Resources"]

_log = logging.getLogger("marketlift.serve.resources")


@dataclasses.dataclass(frozen=True, slots=True)
class Resources:
    """One consistent set of what serves decisions.

    Attributes:
        ranker: The promoted ranker (``None``: popularity only).
        intent: The promoted intent model (``None``: no intent gate).
        policy: The engagement policy (``None``: no engagement).
        policy_version: ``<file name>@<mtime>`` of the policy.
        shadow: A candidate ranker scored off the request path (``None``: none).
        popular: Listing ids, most popular first (the fallback ranking).
        pop_score: Popularity score per listing id (orders given candidates in a fallback).
        engagement: The engagement catalog (:class:`marketlift.policy.EngagementCatalog`).
    """

    ranker: RankerService | None = None
    intent: IntentService | None = None
    policy: Any = None
    policy_version: str | None = None
    shadow: RankerService | None = None
    popular: tuple[str, ...] = ()
    pop_score: dict[str, float] = dataclasses.field(default_factory=dict)
    engagement: Any = None
    """The engagement catalog (``DATA/engagement.toml``; ``None``: no engagement)."""

    def versions(self) -> dict[str, str | None]:
        """Model versions for the answer and the decision log."""
        return {
            "ranker": self.ranker.version.version if self.ranker else None,
            "intent": self.intent.version.version if self.intent else None,
            "policy": self.policy_version,
        }


def _popularity(ranker: RankerService | None, listing_pop: dict[str, float]) -> dict[str, float]:
    if listing_pop:
        return listing_pop
    if ranker is None:
        return {}
    pop = ranker.index.pop
    return {item: float(pop[i]) for i, item in enumerate(ranker.item_ids) if i < len(pop)}


class ModelWatcher:
    """Loads models and the policy, and reloads what changed, keeping the last good version.

    Args:
        data_dir: The data directory (registry under ``DATA/models``).
        policy_file: The engagement policy file (``None``: ``DATA/policies/engagement.pkl``);
            a promoted version of the registry's ``engagement`` policy is served instead.
        catalog_file: The engagement catalog (``None``: ``DATA/engagement.toml``); a reload
            that fails keeps the last good catalog.
        shadow_ranker: A ranker version to score in shadow (``None``: none).
        listing_pop: Popularity per listing id for the fallback (``None``: the ranker's).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        *,
        policy_file: str | os.PathLike[str] | None = None,
        catalog_file: str | os.PathLike[str] | None = None,
        shadow_ranker: str | None = None,
        listing_pop: dict[str, float] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.policy_file = (
            Path(policy_file)
            if policy_file is not None
            else self.data_dir / "policies" / "engagement.pkl"
        )
        self.catalog_file = (
            Path(catalog_file) if catalog_file is not None else self.data_dir / "engagement.toml"
        )
        self._catalog_stamp: tuple[int, int] | None = None
        self._policy_tried: str | None = None
        self.shadow_ranker = shadow_ranker
        self.listing_pop = dict(listing_pop or {})
        self.errors: list[str] = []
        self.reloads = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.current = Resources()
        self._policy_stamp: tuple[int, int] | None = None
        self.check()

    # -- loading -------------------------------------------------------------------------
    def _wanted(self, name: str) -> str | None:
        from marketlift.models.registry import Registry  # noqa: PLC0415

        registry = Registry(self.data_dir)
        try:
            versions = registry.versions(name)
        except Exception:  # noqa: BLE001 - no registry yet
            return None
        if not versions:
            return None
        return registry.promoted(name) or versions[-1]

    def _note(self, what: str, exc: BaseException) -> None:
        message = f"{what}: {type(exc).__name__}: {exc}"
        self.errors = [*self.errors[-9:], message]
        _log.warning("reload failed, keeping the last good version: %s", message)

    def check(self) -> list[str]:  # noqa: PLR0915 - one pass over every resource
        """Load whatever changed since the last check; return what was reloaded."""
        with self._lock:
            cur = self.current
            changed: list[str] = []
            ranker, intent, shadow = cur.ranker, cur.intent, cur.shadow
            want = self._wanted("ranker")
            if want is not None and (ranker is None or ranker.version.version != want):
                try:
                    ranker = RankerService.load(self.data_dir, version=want)
                    changed.append(f"ranker {want}")
                except Exception as exc:  # noqa: BLE001 - keep the last good version
                    self._note(f"ranker {want}", exc)
            want = self._wanted("intent")
            if want is not None and (intent is None or intent.version.version != want):
                try:
                    intent = IntentService.load(self.data_dir, version=want, max_rows=8)
                    changed.append(f"intent {want}")
                except Exception as exc:  # noqa: BLE001
                    self._note(f"intent {want}", exc)
            if self.shadow_ranker is not None and shadow is None:
                try:
                    shadow = RankerService.load(self.data_dir, version=self.shadow_ranker)
                    changed.append(f"shadow ranker {self.shadow_ranker}")
                except Exception as exc:  # noqa: BLE001
                    self._note(f"shadow ranker {self.shadow_ranker}", exc)
            policy, policy_version = cur.policy, cur.policy_version
            stamp = self._stamp()
            registered = self._promoted_policy()
            if registered is not None:
                label = f"engagement@{registered}"
                if label not in (policy_version, self._policy_tried):
                    self._policy_tried = label  # a broken version is not retried every check
                    try:
                        from marketlift.policy.registry import load_policy_version  # noqa: PLC0415

                        policy = _check_policy(
                            load_policy_version(self.data_dir, registered), label
                        )
                        policy_version = label
                        changed.append(f"policy {label}")
                    except Exception as exc:  # noqa: BLE001 - keep the last good version
                        self._note(f"policy {label}", exc)
            elif stamp is not None and stamp != self._policy_stamp:
                try:
                    policy = _load_policy(self.policy_file)
                    policy_version = f"{self.policy_file.name}@{stamp[0] // 1_000_000_000}"
                    self._policy_stamp = stamp
                    changed.append(f"policy {policy_version}")
                except Exception as exc:  # noqa: BLE001
                    self._policy_stamp = stamp  # do not retry the same broken file
                    self._note(f"policy {self.policy_file}", exc)
            engagement = cur.engagement
            stamp = _stamp(self.catalog_file)
            if stamp is not None and stamp != self._catalog_stamp:
                from marketlift.policy.catalog import load as load_catalog  # noqa: PLC0415

                self._catalog_stamp = stamp  # a broken file is not retried until it changes
                try:
                    engagement = load_catalog(self.catalog_file)
                    changed.append(f"catalog {engagement.digest[:12]}")
                except Exception as exc:  # noqa: BLE001 - keep the last good catalog
                    self._note(f"catalog {self.catalog_file}", exc)
            if changed:
                pop = _popularity(ranker, self.listing_pop)
                popular = tuple(sorted(pop, key=lambda k: -pop[k])[:1000]) if pop else ()
                self.current = Resources(
                    ranker, intent, policy, policy_version, shadow, popular, pop, engagement
                )
                self.reloads += 1
                _log.info("loaded %s", ", ".join(changed))
            return changed

    def _stamp(self) -> tuple[int, int] | None:
        return _stamp(self.policy_file)

    def _promoted_policy(self) -> str | None:
        """The promoted version of the registry's ``engagement`` policy (it wins over the file)."""
        state = self.data_dir / "models" / "engagement" / "state.json"
        if not state.exists():
            return None
        from marketlift.models.registry import Registry  # noqa: PLC0415

        return Registry(self.data_dir).promoted("engagement")

    # -- the background watcher -----------------------------------------------------------
    def start(self, interval_s: float) -> None:
        """Check every ``interval_s`` seconds in a daemon thread (``0``: do not start)."""
        if interval_s <= 0 or self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.check()
                except Exception as exc:  # noqa: BLE001 - the watcher must not die
                    self._note("watcher", exc)

        self._thread = threading.Thread(target=loop, name="marketlift-model-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _load_policy(path: Path) -> Any:
    from marketlift.policy.io import load  # noqa: PLC0415 - keeps start-up light

    return _check_policy(load(path), str(path))


def _check_policy(policy: Any, path: str) -> Any:
    if not hasattr(policy, "probabilities") or not hasattr(policy, "actions_"):
        msg = f"{path} holds a {type(policy).__name__}, expected a fitted policy"
        raise TypeError(msg)
    names = getattr(policy, "feature_names_", None)
    if names is None:
        msg = (
            f"{path} holds a policy without feature_names_; train it with "
            "`marketlift policy train` (the catalog's features)"
        )
        raise TypeError(msg)
    # a smoke call: a policy that cannot decide must not replace one that can
    policy.probabilities(np.zeros((1, len(names))))
    return policy
