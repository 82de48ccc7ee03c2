"""The `sops` store provider: SOPS-encrypted files in a Git repository (docs/design.md).

`remoteRef.key` is a file path below the store's `path`; `property` is a key path in the
decrypted document; `dataFrom.extract` flattens a whole file; `dataFrom.find` selects files by
path glob and/or name regexp; `version` is the commit. The repository is fetched through the
shared gitsource registry (one fetch per URL, revision and credentials per interval). age
identities come only from the Secret that `decryption.secretRef` names, never from the
environment, and the MAC is always verified.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import threading
import time
from collections.abc import Iterator, Mapping

from secretsync import goregexp
from secretsync.api.sops import SopsProvider
from secretsync.api.sources import Find, RemoteRef
from secretsync.errors import ConfigError, SecretSyncError
from secretsync.gitsource import paths
from secretsync.gitsource.auth import NO_AUTH, GitAuth, auth_from_secret
from secretsync.gitsource.registry import Checkout, Repositories, shared_repositories
from secretsync.gitsource.source import Remote, check_url, revision_from
from secretsync.providers.base import Provider, ProviderFactory, StoreContext
from secretsync.providers.sops_plain import Plaintext, decrypt_file, flatten, select
from secretsync.sops import engine, formats, keys

PROVIDER = "SOPS/Git"
FIELD = "spec.provider.sops"
PLAINTEXT_CACHE_ENTRIES = 256
"""Decrypted files kept in memory (never on disk), keyed by their ciphertext's hash, so that
the many keys of one file cost one decryption per change of the file, not one per read."""


@dataclasses.dataclass(frozen=True)
class _Material:
    auth: GitAuth = dataclasses.field(repr=False)
    identities: keys.Identities = dataclasses.field(repr=False)
    read_at: float


class SopsGitProvider:
    def __init__(
        self,
        ctx: StoreContext,
        repositories: Repositories,
        cache_entries: int = PLAINTEXT_CACHE_ENTRIES,
    ) -> None:
        spec = ctx.store.spec.provider
        if not isinstance(spec, SopsProvider):
            raise ConfigError("is not a sops provider", field=FIELD)
        self._ctx, self._spec, self._repositories = ctx, spec, repositories
        self._remote = Remote(
            check_url(spec.git.url, f"{FIELD}.git.url"),
            revision_from(spec.git.ref, f"{FIELD}.git.ref"),
        )
        self._prefix = paths.relative_parts(spec.git.path, f"{FIELD}.git.path")
        self._interval = max(spec.git.interval.total_seconds(), 0.0)
        self._label = _store_label(ctx)
        self._lock = threading.Lock()
        self._material: _Material | None = None
        self._cache: collections.OrderedDict[tuple[str, str], Plaintext] = collections.OrderedDict()
        self._cache_entries = cache_entries

    def get(self, ref: RemoteRef) -> bytes:
        with self._context(ref.key):
            plain = self._plaintext(self._checkout(), ref.key)
            if ref.property is None:
                return plain.text
            return select(plain, ref.property, ref.key)

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        with self._context(ref.key):
            return flatten(self._plaintext(self._checkout(), ref.key), ref.property, ref.key)

    def find(self, query: Find) -> dict[str, bytes]:
        with self._context("find"):
            if query.tags:
                raise ConfigError("files in Git have no tags", field="dataFrom.find.tags")
            pattern = _name_pattern(query)
            checkout = self._checkout()
            names = paths.files_below(checkout.root, self._prefix, f"{FIELD}.git.path")
            chosen = [n for n in names if _wanted(n, query.path, pattern)]
        found = {}
        for name in chosen:
            with self._context(f"find: {name}"):
                found[name] = self._plaintext(checkout, name).text
        return found

    def version(self, ref: RemoteRef) -> str | None:
        with self._context(ref.key):
            return self._checkout().commit

    def close(self) -> None:
        with self._lock:
            self._cache.clear()
            self._material = None

    def validate(self) -> None:
        self._checkout()

    def _checkout(self) -> Checkout:
        def report(ok: bool) -> None:
            self._ctx.telemetry.provider_call(PROVIDER, "Fetch", ok)

        auth = self._credentials().auth
        return self._repositories.checkout(self._remote, auth, self._interval, report)

    def _credentials(self) -> _Material:
        """The git credentials and age identities, re-read from their Secrets once per interval
        so that a rotated key is picked up without a change to the store."""
        with self._lock:
            material = self._material
        if material is None or time.monotonic() - material.read_at >= self._interval:
            material = _Material(self._git_auth(), self._identities(), time.monotonic())
            with self._lock:
                self._material = material
        return material

    def _git_auth(self) -> GitAuth:
        selector = self._spec.git.secret_ref
        if selector is None:
            return NO_AUTH
        namespace = self._ctx.ref_namespace(selector.namespace)
        data = self._ctx.credentials.secret_data(namespace, selector.name)
        return auth_from_secret(data, f"secret {namespace}/{selector.name}")

    def _identities(self) -> keys.Identities:
        selector = self._spec.decryption.secret_ref
        namespace = self._ctx.ref_namespace(selector.namespace)
        data = self._ctx.credentials.secret_data(namespace, selector.name)
        return identities_from_secret(data, selector.key, f"secret {namespace}/{selector.name}")

    def _plaintext(self, checkout: Checkout, key: str) -> Plaintext:
        parts = self._prefix + paths.relative_parts(key, "remoteRef.key")
        path = paths.regular_file(checkout.root, parts, "remoteRef.key")
        if path.stat().st_size > engine.MAX_INPUT_BYTES:
            raise ConfigError(f"is larger than {engine.MAX_INPUT_BYTES} bytes", field=key)
        data = path.read_bytes()
        # The format comes from the name, so identical bytes under another suffix differ.
        cache_key = (formats.format_for_path(parts[-1]), hashlib.sha256(data).hexdigest())
        with self._lock:
            if (cached := self._cache.get(cache_key)) is not None:
                self._cache.move_to_end(cache_key)
                return cached
        plain = self._decrypt(data, parts[-1])
        with self._lock:
            self._cache[cache_key] = plain
            while len(self._cache) > self._cache_entries:
                self._cache.popitem(last=False)
        return plain

    def _decrypt(self, data: bytes, name: str) -> Plaintext:
        ok = False
        try:
            plain = decrypt_file(data, name, self._credentials().identities)
            ok = True
            return plain
        finally:
            self._ctx.telemetry.provider_call(PROVIDER, "Decrypt", ok)

    @contextlib.contextmanager
    def _context(self, what: str) -> Iterator[None]:
        """Every error names the store and the key; messages below never carry a value."""
        try:
            yield
        except SecretSyncError as exc:
            raise _prefixed(exc, f"{self._label}: {what}") from exc


def identities_from_secret(
    entries: Mapping[str, bytes], key: str | None, source: str
) -> keys.Identities:
    """Flux's rule: every entry whose name ends in `.agekey`; or just `key` when one is named."""
    names = [key] if key else sorted(n for n in entries if n.endswith(".agekey"))
    if not names or any(n not in entries for n in names):
        raise ConfigError(f"{source} has no age identities (keys ending in .agekey)")
    found = keys.Identities()
    for name in names:
        try:
            text = entries[name].decode()
        except UnicodeDecodeError:
            raise ConfigError("is not UTF-8", field=f"{source}.{name}") from None
        found = found + keys.parse_identities(text, source=f"{source}.{name}")
    return found


def _name_pattern(query: Find) -> goregexp.Regexp | None:
    if query.name is None:
        return None
    return goregexp.compile(query.name.regexp, field="dataFrom.find.name.regexp")


def _wanted(name: str, path: str | None, pattern: goregexp.Regexp | None) -> bool:
    """find: both filters when both are given; name.regexp searches anywhere, as RE2's does."""
    if path and not paths.matches_path(name, path):
        return False
    return pattern is None or pattern.match_string(name)


def _store_label(ctx: StoreContext) -> str:
    meta = ctx.store.metadata
    if ctx.store.kind == "ClusterSecretStore" or not meta.namespace:
        return f"{ctx.store.kind} {meta.name}"
    return f"{ctx.store.kind} {meta.namespace}/{meta.name}"


def _prefixed(exc: SecretSyncError, where: str) -> SecretSyncError:
    try:
        return type(exc)(f"{where}: {exc}")
    except TypeError:
        return exc


def make_factory(repositories: Repositories) -> ProviderFactory:
    """A factory bound to the operator's registry (and its configured cache directory)."""

    def build(ctx: StoreContext) -> Provider:
        return SopsGitProvider(ctx, repositories)

    return build


def factory(ctx: StoreContext) -> Provider:
    return SopsGitProvider(ctx, shared_repositories())
