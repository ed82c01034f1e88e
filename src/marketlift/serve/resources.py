"""What the decision API serves, loaded once and swapped whole: models, policy, popularity.

:class:`Resources` is an immutable snapshot (ranker, intent model, engagement policy, shadow
ranker, popularity fallback). A request reads :attr:`ModelWatcher.current` once and uses that
snapshot to the end, so a reload never mixes versions within a request and never fails one.

:class:`ModelWatcher` loads the promoted registry versions and the policy file, and
:meth:`ModelWatcher.check` (called by a background thread every ``reload_interval_s``, and by
``POST /admin/reload``) loads whatever changed. Loading happens beside serving; a version that
fails to load (a file that does not match its registered checksum, a compiled binary that aborts
its probe process, an unreadable ``meta.json`` or ``state.json``) is reported in
:attr:`ModelWatcher.problems` and the last good one keeps serving; at start, with nothing
served yet, the latest earlier promoted version that loads serves instead (with an unreadable
``state.json``, the latest version that loads). The same broken files
are not loaded again until they change, and a change to the served version's files on disk is
checked against its checksums (reported, the copy in memory keeps serving).

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
        self.problems: dict[str, str] = {}
        """Standing problems per model (``ranker``, ``intent``): why the promoted version is
        not the one served, or why the served one would not load again; empty when healthy."""
        self._failed: dict[str, tuple[str, Any]] = {}
        self._loaded: dict[str, Any] = {}
        self._disk_bad: set[str] = set()
        self.reloads = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.current = Resources()
        self._policy_stamp: tuple[int, int] | None = None
        self.check()

    # -- loading -------------------------------------------------------------------------
    def _wanted(self, name: str) -> str | None:
        """The version to serve: promoted, else the latest (raises on an unreadable state)."""
        from marketlift.models.registry import Registry  # noqa: PLC0415

        registry = Registry(self.data_dir)
        try:
            versions = registry.versions(name)
        except OSError:  # no registry yet
            return None
        if not versions:
            return None
        return registry.promoted(name) or versions[-1]

    def _history(self, name: str) -> list[str]:
        from marketlift.models.registry import Registry  # noqa: PLC0415

        try:
            return Registry(self.data_dir).history(name)
        except Exception:  # noqa: BLE001 - an unreadable state has no usable history
            return []

    def _note(self, what: str, exc: BaseException) -> None:
        message = f"{what}: {type(exc).__name__}: {exc}"
        self.errors = [*self.errors[-9:], message]
        _log.warning("reload failed, keeping the last good version: %s", message)

    def _fingerprint(self, name: str, version: str) -> tuple[tuple[str, int, int], ...]:
        """Name, size and mtime of every file of a version (a change means: check again)."""
        folder = self.data_dir / "models" / name / version
        try:
            entries = sorted(folder.iterdir())
        except OSError:
            return ()
        out: list[tuple[str, int, int]] = []
        for entry in entries:
            try:
                st = entry.stat()
            except OSError:
                continue
            out.append((entry.name, st.st_size, st.st_mtime_ns))
        return tuple(out)

    def _load(self, name: str, version: str) -> Any:
        if name == "intent":
            return IntentService.load(self.data_dir, version=version, max_rows=8)
        return RankerService.load(self.data_dir, name=name, version=version)

    def _refresh(self, name: str, serving: Any, changed: list[str]) -> Any:
        """What serves ``name`` after this check: a new version, or ``serving`` kept."""
        label = serving.version.version if serving is not None else None
        keeping = f"serving {label}" if label else f"serving no {name} (the fallback answers)"
        try:
            want = self._wanted(name)
        except Exception as exc:  # noqa: BLE001 - a broken state.json must not fail a reload
            self._note(f"{name} registry state", exc)
            if serving is None:  # at start: the latest version that loads
                serving = self._earlier(name, None, changed, self._versions(name))
                label = serving.version.version if serving is not None else None
                keeping = f"serving the latest {label}" if label else keeping
            self.problems[name] = f"registry state of {name} unreadable ({exc}); {keeping}"
            return serving
        if want is None:
            self.problems.pop(name, None)
            return serving
        fingerprint = self._fingerprint(name, want)
        if label == want:
            if fingerprint != self._loaded.get(name):  # the served files changed on disk
                self._loaded[name] = fingerprint
                try:
                    self._verify(name, want)
                except Exception as exc:  # noqa: BLE001
                    self._note(f"{name} {want} on disk", exc)
                    self._disk_bad.add(name)
                    self.problems[name] = (
                        f"the files of the serving {name} {want} changed on disk ({exc}); still "
                        "serving it from memory, a restart would not load it"
                    )
                    return serving
                self._disk_bad.discard(name)
            if name not in self._disk_bad:
                self.problems.pop(name, None)
            return serving
        if self._failed.get(name) == (want, fingerprint):
            return serving  # the same broken files: do not load them again
        try:
            loaded = self._load(name, want)
        except Exception as exc:  # noqa: BLE001 - keep the last good version
            self._failed[name] = (want, fingerprint)
            self._note(f"{name} {want}", exc)
            if serving is None:  # at start: the latest earlier promoted version that loads
                serving = self._earlier(name, want, changed)
                label = serving.version.version if serving is not None else None
                keeping = (
                    f"serving the earlier promoted {label}"
                    if label
                    else f"serving no {name} (the fallback answers)"
                )
            self.problems[name] = f"promoted {name} {want} could not be loaded ({exc}); {keeping}"
            return serving
        self._failed.pop(name, None)
        self._loaded[name] = fingerprint
        self._disk_bad.discard(name)
        self.problems.pop(name, None)
        changed.append(f"{name} {want}")
        return loaded

    def _verify(self, name: str, version: str) -> None:
        from marketlift.models.registry import Registry  # noqa: PLC0415

        Registry(self.data_dir).get(name, version).verify()

    def _versions(self, name: str) -> list[str]:
        from marketlift.models.registry import Registry  # noqa: PLC0415

        try:
            return Registry(self.data_dir).versions(name)
        except OSError:
            return []

    def _earlier(
        self, name: str, failed: str | None, changed: list[str], versions: list[str] | None = None
    ) -> Any:
        """The newest of ``versions`` (default: the promotion history) that loads."""
        candidates = self._history(name) if versions is None else versions
        newest_first = list(dict.fromkeys(reversed(candidates)))
        for version in newest_first:
            if version == failed:
                continue
            try:
                loaded = self._load(name, version)
            except Exception as exc:  # noqa: BLE001
                self._note(f"{name} {version} (fallback)", exc)
                continue
            self._loaded[name] = self._fingerprint(name, version)
            changed.append(f"{name} {version} (fallback)")
            return loaded
        return None

    def check(self) -> list[str]:  # noqa: PLR0915 - one pass over every resource
        """Load whatever changed since the last check; return what was reloaded.

        Never raises for a broken artifact or registry state: the problem is noted in
        :attr:`errors` and :attr:`problems`, and what served keeps serving.
        """
        with self._lock:
            cur = self.current
            changed: list[str] = []
            ranker = self._refresh("ranker", cur.ranker, changed)
            intent = self._refresh("intent", cur.intent, changed)
            shadow = cur.shadow
            if self.shadow_ranker is not None and shadow is None:
                fingerprint = self._fingerprint("ranker", self.shadow_ranker)
                if self._failed.get("shadow") != (self.shadow_ranker, fingerprint):
                    try:
                        shadow = RankerService.load(self.data_dir, version=self.shadow_ranker)
                        changed.append(f"shadow ranker {self.shadow_ranker}")
                        self._failed.pop("shadow", None)
                    except Exception as exc:  # noqa: BLE001
                        self._failed["shadow"] = (self.shadow_ranker, fingerprint)
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

        try:
            promoted = Registry(self.data_dir).promoted("engagement")
        except Exception as exc:  # noqa: BLE001 - a broken state.json must not fail a reload
            self._note("engagement registry state", exc)
            self.problems["engagement"] = f"registry state of engagement unreadable ({exc})"
            return None
        self.problems.pop("engagement", None)
        return promoted

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
