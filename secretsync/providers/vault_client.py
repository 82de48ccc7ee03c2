"""The Vault / OpenBao provider's behaviour: what to call, with which token, and when to log in.

Token lifecycle (eso.md §2.6, ESO #376): one login per provider instance, cached with its TTL;
renewed (or replaced by a fresh login) when under a minute is left; after a 403 the token is
checked with lookup-self, and only a rejected token is replaced (once) before the call is
retried, so a policy denial never turns into a login per reconcile. Static tokens are never
revoked; close() revokes only tokens we logged in for.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from secretsync import goregexp
from secretsync.api.sources import Find, MetadataPolicy, RemoteRef
from secretsync.api.vault import KVVersion, VaultProvider
from secretsync.errors import AccessDenied, ConfigError, NotFound, SecretSyncError
from secretsync.providers import vault_paths as paths
from secretsync.providers import vault_values as values
from secretsync.providers.base import PushRef, RemoteState, StoreContext
from secretsync.providers.vault_auth import (
    Login,
    StaticToken,
    Token,
    login_request,
    needs_refresh,
    token_from_login,
)
from secretsync.providers.vault_push import VaultPush


@dataclasses.dataclass(frozen=True)
class Call:
    operation: str
    """Telemetry name: Login, ReadSecretData, ReadMetadata, ListSecrets, LookupSelf, ..."""

    method: str
    path: str
    what: str
    """For error messages: what was attempted (never a value)."""

    token: str | None = dataclasses.field(default=None, repr=False)
    namespace: str | None = None
    params: Mapping[str, str | list[str]] | None = None
    body: Mapping[str, Any] | None = dataclasses.field(default=None, repr=False)
    client_cert: tuple[bytes, bytes] | None = dataclasses.field(default=None, repr=False)
    login: bool = False
    secrets: tuple[str, ...] = dataclasses.field(default=(), repr=False)
    """Values to mask should the server echo them in an error."""


class Transport(Protocol):
    def send(self, call: Call) -> str: ...

    def close(self) -> None: ...


class VaultClient:
    def __init__(self, ctx: StoreContext, spec: VaultProvider) -> None:
        self._ctx = ctx
        self._spec = spec
        self._kv2 = spec.version is KVVersion.V2
        self._auth_namespace = spec.auth.namespace or spec.namespace
        self._where = f"{ctx.store.kind} {ctx.store.metadata.name}"
        self._lock = threading.Lock()
        self._token: Token | None = None
        self._transport: Transport | None = None
        self._cleanups: list[Callable[[], None]] = []
        self._push = VaultPush(self, spec, self._where)

    def attach(self, transport: Transport) -> None:
        self._transport = transport

    def on_close(self, cleanup: Callable[[], None]) -> None:
        self._cleanups.append(cleanup)

    # --- the Provider protocol --------------------------------------------------------------

    def get(self, ref: RemoteRef) -> bytes:
        if ref.metadata_policy is MetadataPolicy.FETCH:
            return values.select(self._metadata(ref.key), ref.property)
        return values.select(self._read(ref.key, ref.version), ref.property)

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        return values.extract(self.get(ref), ref.key)

    def find(self, query: Find) -> dict[str, bytes]:
        if query.name is None and not self._kv2:
            raise ConfigError("find by tags needs a KV v2 store", field="dataFrom.find.tags")
        matches = self._name_matcher(query) if query.name is not None else self._tags_matcher(query)
        start = paths.list_path(self._spec.path, self._spec.version, query.path)
        found: dict[str, bytes] = {}
        for name in self._list(start, paths.candidate_prefix(query.path)):
            if not matches(name):
                continue
            try:
                found[name] = values.select(self._read(name, None), None)
            except NotFound:
                continue  # a deleted latest version: ESO skips it
        return found

    def version(self, ref: RemoteRef) -> str | None:
        if not self._kv2:
            return None
        if ref.version and ref.metadata_policy is not MetadataPolicy.FETCH:
            return ref.version  # a pinned version never changes
        text = self._call(
            "ReadMetadata", "get", paths.metadata_path(self._spec.path, ref.key), ref.key
        )
        return values.metadata_version(text, ref.metadata_policy is MetadataPolicy.FETCH)

    def validate(self) -> None:
        token = self._current_token()
        if not self._token_accepted(token):
            raise AccessDenied(f"{self._where}: the token was rejected (expired or revoked)")

    # --- PushSecret (the Writer protocol; vault_push.py) -----------------------------------

    def remote(self, ref: PushRef) -> RemoteState:
        return self._push.remote(ref)

    def set(self, ref: PushRef, value: bytes) -> bool:
        return self._push.set(ref, value)

    def delete(self, ref: PushRef) -> bool:
        return self._push.delete(ref)

    def log_in(self) -> None:
        """Log in now (or reuse the token), so that a login's NotFound (a credential Secret
        gone) is not taken for a missing key by the push's reads."""
        self._current_token()

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | list[str]] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> str:
        """Any logical path (a generator's), with the store's login: the response body text."""
        return self._call(operation, method, path.strip("/"), path, params, body=body)

    def close(self, *, revoke_token: bool = True) -> None:
        """`revoke_token=False` for a client that issued leases: Vault revokes every lease a
        token created when that token is revoked, so a generator's login must only expire."""
        token, self._token = self._token, None
        try:
            if revoke_token and token is not None and token.owned and self._transport is not None:
                self._send_token_call("RevokeSelf", "post", "auth/token/revoke-self", token)
        except SecretSyncError:
            pass  # best effort: the token expires with its TTL anyway
        finally:
            if self._transport is not None:
                self._transport.close()
            for cleanup in self._cleanups:
                cleanup()

    # --- reads ------------------------------------------------------------------------------

    def _read(self, key: str, version: str | None) -> dict[str, Any]:
        path = paths.data_path(self._spec.path, self._spec.version, key)
        params = {"version": version} if version else None
        text = self._call("ReadSecretData", "get", path, key, params)
        return values.secret_data(text, self._kv2, key)

    def _metadata(self, key: str) -> dict[str, str]:
        if not self._kv2:
            raise ConfigError("cannot perform metadata fetch operations with kv version v1")
        text = self._call("ReadMetadata", "get", paths.metadata_path(self._spec.path, key), key)
        return values.metadata_map(text, key)

    def _list(self, path: str, prefix: str) -> list[str]:
        """ESO's recursive LIST: entries ending in / are folders; names are full relative paths."""
        names: list[str] = []
        for entry in values.list_keys(self._call("ListSecrets", "list", path, path)):
            if entry.endswith("/"):
                names += self._list(path + entry, prefix + entry)
            else:
                names.append(prefix + entry)
        return names

    def _name_matcher(self, query: Find) -> Callable[[str], bool]:
        assert query.name is not None
        pattern = goregexp.compile(query.name.regexp, field="dataFrom.find.name.regexp")
        return pattern.match_string  # Go's MatchString: unanchored, linear time

    def _tags_matcher(self, query: Find) -> Callable[[str], bool]:
        def matches(name: str) -> bool:
            path = paths.metadata_path(self._spec.path, name)
            try:
                custom = values.custom_metadata(self._call("ReadMetadata", "get", path, name))
            except NotFound:
                return False
            return values.tags_match(custom, query.tags)

        return matches

    # --- tokens -----------------------------------------------------------------------------

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        key: str,
        params: Mapping[str, str | list[str]] | None = None,
        *,
        body: Mapping[str, Any] | None = None,
    ) -> str:
        token = self._current_token()
        what = f"{self._where}: {operation} {key!r}"
        call = Call(
            operation, method, path, what, namespace=self._spec.namespace, params=params, body=body
        )
        try:
            return self._send(dataclasses.replace(call, token=token.value))
        except AccessDenied:
            if self._token_accepted(token):
                raise  # a policy denial: logging in again would get the same answer
            token = self._replace(token)
        return self._send(dataclasses.replace(call, token=token.value))

    def _send(self, call: Call) -> str:
        if self._transport is None:
            raise ConfigError(f"{self._where}: the provider has no transport")
        return self._transport.send(call)

    def _send_token_call(self, operation: str, method: str, path: str, token: Token) -> str:
        what = f"{self._where}: {operation}"
        call = Call(
            operation, method, path, what, token=token.value, namespace=self._auth_namespace
        )
        return self._send(call)

    def _current_token(self) -> Token:
        with self._lock:
            if self._token is None:
                self._token = self._login()
            elif needs_refresh(self._token, time.monotonic()):
                self._token = self._refresh(self._token)
            return self._token

    def _token_accepted(self, token: Token) -> bool:
        try:
            self._send_token_call("LookupSelf", "get", "auth/token/lookup-self", token)
        except AccessDenied:
            return False
        return True

    def _replace(self, rejected: Token) -> Token:
        with self._lock:
            if self._token is not None and self._token.value != rejected.value:
                return self._token  # another thread logged in already
            fresh = self._login()
            if fresh.value == rejected.value:
                raise AccessDenied(f"{self._where}: the token was rejected (expired or revoked)")
            self._token = fresh
            return fresh

    def _refresh(self, token: Token) -> Token:
        if token.renewable:
            try:
                text = self._send_token_call("RenewSelf", "post", "auth/token/renew-self", token)
                renewed = token_from_login(_auth_block(text), time.monotonic())
                if not needs_refresh(renewed, time.monotonic()):
                    return renewed
            except SecretSyncError:
                pass  # fall back to a fresh login
        # The old token has under a minute left and is not revoked: it expires on its own.
        return self._login()

    def _login(self) -> Token:
        request = login_request(self._ctx, self._spec.auth)
        if isinstance(request, StaticToken):
            return Token(request.token, expires_at=None)
        return token_from_login(
            _auth_block(self._send(self._login_call(request))), time.monotonic()
        )

    def _login_call(self, request: Login) -> Call:
        secrets = tuple(str(v) for v in request.body.values())
        mount = request.path.rsplit("/login", 1)[0]
        return Call(
            "Login",
            "post",
            request.path,
            f"{self._where}: logging in with {request.method} at {mount}",
            namespace=self._auth_namespace,
            body=request.body,
            client_cert=request.client_cert,
            login=True,
            secrets=secrets,
        )


def _auth_block(text: str) -> Mapping[str, Any]:
    body = json.loads(text) if text else {}
    auth = body.get("auth") if isinstance(body, dict) else None
    if not isinstance(auth, dict) or not auth.get("client_token"):
        raise AccessDenied("the server answered the login without a token")
    return auth
