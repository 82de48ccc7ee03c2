"""One fetch per (URL, revision, credentials) per interval, shared by every user in the process.

Each entry has its own lock: the first caller whose entry is stale fetches, and callers arriving
meanwhile wait for that fetch and use its result instead of starting their own. A failed fetch is
remembered briefly, so a burst of ExternalSecrets behind a down server costs one attempt, not one
each. Checkouts live on disk below the caller's cache directory, one folder per commit.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from secretsync.errors import SecretSyncError
from secretsync.gitsource import client
from secretsync.gitsource.auth import GitAuth
from secretsync.gitsource.source import Remote

FAILURE_MEMORY_SECONDS = 5.0
KEEP_TREES = 2
"""The current commit's files and the previous one's, which a reader may still be using."""


@dataclasses.dataclass(frozen=True)
class Checkout:
    commit: str
    root: Path


@dataclasses.dataclass
class _Entry:
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    checkout: Checkout | None = None
    fetched_at: float = 0.0
    failure: SecretSyncError | None = None
    failed_at: float = 0.0
    remote: Remote | None = None
    changed_at: float = float("-inf")
    """When the host last told us the remote moved: a fetch started before that is stale."""


def is_fresh(
    now: float, fetched_at: float, interval: float, immutable: bool, changed_at: float
) -> bool:
    return immutable or (now - fetched_at < interval and fetched_at > changed_at)


def remembered_failure(now: float, failed_at: float, interval: float) -> bool:
    return now - failed_at < min(interval, FAILURE_MEMORY_SECONDS)


class Repositories:
    """The process-wide registry of fetched repositories (build one, share it)."""

    def __init__(self, cache_dir: Path, clock: Callable[[], float] = time.monotonic) -> None:
        cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._cache_dir = cache_dir
        self._salt = _salt(cache_dir)
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    @property
    def cache_dir(self) -> Path:
        return self._cache_dir

    def checkout(
        self,
        remote: Remote,
        auth: GitAuth,
        interval: float,
        on_fetch: Callable[[bool], None] = lambda ok: None,
    ) -> Checkout:
        """The files of the revision, fetched now unless a fetch within `interval` did it."""
        name = remote.cache_name(auth.fingerprint(self._salt))
        with self._lock:
            entry = self._entries.setdefault(name, _Entry())
        with entry.lock:
            entry.remote = remote
            now = self._clock()
            fresh = is_fresh(
                now, entry.fetched_at, interval, remote.revision.immutable, entry.changed_at
            )
            if entry.checkout is not None and fresh:
                return entry.checkout
            if entry.failure is not None and remembered_failure(now, entry.failed_at, interval):
                raise entry.failure
            try:
                entry.checkout = self._fetch(remote, auth, self._cache_dir / name)
            except SecretSyncError as exc:
                entry.failure, entry.failed_at = exc, now
                on_fetch(False)
                raise
            entry.fetched_at, entry.failure = now, None
            on_fetch(True)
            return entry.checkout

    def changed(self, affected: Callable[[Remote], bool]) -> int:
        """The host says these remotes moved: their next checkout fetches, whatever the
        interval. Returns how many fetched remotes that concerned."""
        now = self._clock()
        with self._lock:
            entries = [e for e in self._entries.values() if e.remote and affected(e.remote)]
        for entry in entries:
            entry.changed_at = now  # a float store: no lock needed, and no fetch is waited on
        return len(entries)

    def _fetch(self, remote: Remote, auth: GitAuth, folder: Path) -> Checkout:
        commit = client.fetch(remote, auth, folder / "repo")
        trees = folder / "trees"
        trees.mkdir(mode=0o700, exist_ok=True)
        root = client.materialise(folder / "repo", commit, trees / commit)
        os.utime(root)  # newest last: the pruning below keeps the most recently used trees
        _prune(trees, keep=KEEP_TREES)
        return Checkout(commit, root)


def _prune(trees: Path, keep: int) -> None:
    folders = sorted(
        (p for p in trees.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def _salt(cache_dir: Path) -> bytes:
    """A random salt kept with the cache, created once: written aside, then linked into place,
    so that concurrent creators agree on one and nobody reads a half-written file."""
    path = cache_dir / "salt"
    if not path.exists():
        staging = cache_dir / f".salt.{secrets.token_hex(8)}"
        descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        try:
            os.link(staging, path)
        except FileExistsError:
            pass
        finally:
            staging.unlink()
    return path.read_bytes()


@functools.cache
def shared_repositories() -> Repositories:
    """The process-wide registry for callers that are not given one (the provider registry's
    `factory(ctx)`). Its cache lives in a fresh private temporary folder: a predictable shared
    path could be prepared by another local user. The operator passes a configured one instead."""
    return Repositories(Path(tempfile.mkdtemp(prefix="secretsync-git-")))
