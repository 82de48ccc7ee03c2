"""PushSecret writes to Vault/OpenBao KV v1 and v2, with ESO's ownership marker.

The marker is custom metadata `managed-by: external-secrets`: on KV v2 in the key's metadata
(written before the data), on KV v1, which has no metadata, inside the data itself under
`custom_metadata`, as ESO stores it. A key that exists without the marker is never written or
deleted. With the store's `checkAndSet.required`, every KV v2 write carries the version it
replaces (0 for a new key), so a concurrent writer makes ours fail instead of being lost.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from secretsync.api.push import MANAGED_BY, MANAGED_BY_VALUE
from secretsync.api.vault import KVVersion, VaultProvider
from secretsync.errors import ConfigError, NotFound
from secretsync.providers import vault_paths as paths
from secretsync.providers.base import ForeignValue, PushRef, RemoteState

V1_METADATA = "custom_metadata"


class Requests(Protocol):
    def log_in(self) -> None: ...

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | list[str]] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> str: ...


class VaultPush:
    def __init__(self, client: Requests, spec: VaultProvider, where: str) -> None:
        self._client, self._spec, self._where = client, spec, where
        self._kv2 = spec.version is KVVersion.V2
        cas = spec.check_and_set
        self._cas = bool(cas and cas.required)

    def remote(self, ref: PushRef) -> RemoteState:
        data = self._data(ref.remote_key)
        if data is None:
            return RemoteState(found=False, managed=False, has_value=False)
        present = ref.property in data if ref.property else True
        return RemoteState(
            found=True, managed=self._managed(ref.remote_key, data), has_value=present
        )

    def set(self, ref: PushRef, value: bytes) -> bool:
        key = ref.remote_key
        current = self._data(key)
        if current is not None and not self._managed(key, current):
            raise ForeignValue(self._foreign(key))
        old = {k: v for k, v in (current or {}).items() if not (k == V1_METADATA and not self._kv2)}
        if ref.property:
            new = {**old, ref.property: value.decode("utf-8", "replace")}
        else:
            new = _object(value, f"{self._where}: {key!r}")
        if current is not None and new == old:
            return False
        self._write(key, new, exists=current is not None)
        return True

    def delete(self, ref: PushRef) -> bool:
        key = ref.remote_key
        current = self._data(key)
        if current is None or not self._managed(key, current):
            return False  # gone, or not ours: ESO leaves it alone
        if ref.property:
            if ref.property not in current:
                return False
            rest = {k: v for k, v in current.items() if k not in (ref.property, V1_METADATA)}
            if rest:
                self._write(key, rest, exists=True)
                return True
        self._client.request("DeleteSecret", "delete", self._data_path(key))
        if self._kv2:
            self._client.request("DeleteMetadata", "delete", self._metadata_path(key))
        return True

    # --- helpers ----------------------------------------------------------------------------

    def _data_path(self, key: str) -> str:
        return paths.data_path(self._spec.path, self._spec.version, key)

    def _metadata_path(self, key: str) -> str:
        return paths.metadata_path(self._spec.path, key)

    def _data(self, key: str) -> dict[str, Any] | None:
        # A NotFound below means the key is absent only once the login has succeeded.
        self._client.log_in()
        try:
            text = self._client.request("ReadSecretData", "get", self._data_path(key))
        except NotFound:
            return None
        body = json.loads(text) if text else None
        data = body.get("data") if isinstance(body, dict) else None
        if self._kv2 and isinstance(data, dict):
            data = data.get("data")
        return data if isinstance(data, dict) else None  # null: a deleted latest version

    def _metadata(self, key: str) -> dict[str, Any]:
        try:
            text = self._client.request("ReadMetadata", "get", self._metadata_path(key))
        except NotFound:
            return {}
        body = json.loads(text) if text else {}
        data = body.get("data") if isinstance(body, dict) else None
        return data if isinstance(data, dict) else {}

    def _managed(self, key: str, data: Mapping[str, Any]) -> bool:
        custom = data.get(V1_METADATA) if not self._kv2 else self._metadata(key).get(V1_METADATA)
        return isinstance(custom, Mapping) and custom.get(MANAGED_BY) == MANAGED_BY_VALUE

    def _foreign(self, key: str) -> str:
        return (
            f"{self._where}: {key!r} exists and was not written by a PushSecret (no custom "
            f"metadata {MANAGED_BY}={MANAGED_BY_VALUE}); it is left as it is. Push to another "
            "remoteKey, or add that metadata to the key if it may be replaced"
        )

    def _write(self, key: str, data: Mapping[str, Any], *, exists: bool) -> None:
        marker = {MANAGED_BY: MANAGED_BY_VALUE}
        if not self._kv2:
            body: dict[str, Any] = {**data, V1_METADATA: marker}
            self._client.request("WriteSecretData", "post", self._data_path(key), body=body)
            return
        body = {"data": dict(data)}
        if self._cas:
            version = self._metadata(key).get("current_version", 1) if exists else 0
            body["options"] = {"cas": int(version)}
        # The marker first: data written without it would not be ours at the next push.
        self._client.request(
            "WriteMetadata", "post", self._metadata_path(key), body={V1_METADATA: marker}
        )
        self._client.request("WriteSecretData", "post", self._data_path(key), body=body)


def _object(value: bytes, where: str) -> dict[str, Any]:
    """A whole-secret push: the value must be a JSON object (ESO unmarshals it the same way).
    The decoder's message is not passed on: it may quote the value."""
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ConfigError(
            f"{where}: a push without remoteRef.property needs a JSON object; name a property, "
            "or push the whole Secret (no secretKey)"
        )
    return parsed
