"""The VaultDynamicSecret generator: a credential issued by a Vault / OpenBao secrets engine
(database/creds/<role>, aws/creds/<role>, ...), as ESO's: `method` on `path` with
`parameters` (writes) or `getParameters` (GET), and the response's `data` (or `auth`, or the
whole response with `resultType: Raw`) as the values, one key per field (nested values as JSON).

The server and login are the Vault store's own code (providers/vault*.py): the spec's
`provider` is handed to it as a namespaced store. Unlike ESO's, the lease the response carries is
reported (`ctx.on_lease`) so it can be renewed, re-issued before its max TTL and revoked
(leases.py decides; `renew` and `revoke` below are the I/O).

The login token is never revoked here: Vault revokes every lease a token created with it, so
revoking our login would revoke the credential just issued. It expires with its own TTL.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Mapping
from typing import Any

from secretsync.api.generators import VaultDynamicSecretSpec, VaultLeasePolicy, VaultResultType
from secretsync.api.objects import ObjectMeta, SecretStore
from secretsync.api.store import SecretStoreSpec
from secretsync.errors import Unavailable
from secretsync.generators.base import GeneratorContext
from secretsync.generators.leases import Lease, issued, renewed
from secretsync.providers import vault, vault_values
from secretsync.providers.base import StoreContext
from secretsync.providers.vault_client import VaultClient


def _client(spec: VaultDynamicSecretSpec, ctx: GeneratorContext) -> VaultClient:
    meta = ObjectMeta(name=ctx.name, namespace=ctx.namespace)
    store_spec = SecretStoreSpec(provider=spec.provider, retry_settings=spec.retry_settings)
    store = SecretStore(kind="SecretStore", metadata=meta, spec=store_spec)
    client = vault.factory(StoreContext(store, ctx.namespace, ctx.credentials, ctx.telemetry))
    assert isinstance(client, VaultClient)
    return client


def _issue(spec: VaultDynamicSecretSpec, client: VaultClient) -> str:
    method = (spec.method or "GET").upper()
    if method == "GET":
        params = {k: list(v) for k, v in spec.get_parameters.items()} or None
        return client.request("IssueDynamicSecret", "get", spec.path, params=params)
    if method in ("LIST", "DELETE"):
        return client.request("IssueDynamicSecret", method.lower(), spec.path)
    body = spec.parameters if isinstance(spec.parameters, Mapping) else {}
    return client.request("IssueDynamicSecret", method.lower(), spec.path, body=body)


def section(response: Mapping[str, Any], result: VaultResultType) -> Mapping[str, Any] | None:
    """The part of the response that becomes the values."""
    if result is VaultResultType.RAW:
        return response
    part = response.get("auth" if result is VaultResultType.AUTH else "data")
    return part if isinstance(part, Mapping) else None


def generate(spec: VaultDynamicSecretSpec, ctx: GeneratorContext) -> dict[str, bytes]:
    what = f"VaultDynamicSecret {ctx.name}"
    client = _client(spec, ctx)
    try:
        text = _issue(spec, client)
    finally:
        client.close(revoke_token=False)
    now = time.time()
    response = json.loads(text) if text.strip() else None
    if not isinstance(response, Mapping):
        response = None
    if response is not None:
        lease = issued(
            str(response.get("lease_id") or ""),
            f"{ctx.kind or 'VaultDynamicSecret'}/{ctx.name}",
            int(response.get("lease_duration") or 0),
            bool(response.get("renewable")),
            now,
        )
        if lease is not None:
            policy = spec.lease or VaultLeasePolicy()
            ctx.on_lease(
                dataclasses.replace(
                    lease,
                    renew_at=policy.renew_at_percent / 100,
                    revoke_on_delete=policy.revoke_on_delete,
                )
            )
    found = section(response, spec.result_type) if response is not None else None
    if not found:
        if spec.allow_empty_response:
            return {}
        raise Unavailable(f"{what}: empty response from {spec.path}")
    return vault_values.extract(json.dumps(found).encode(), spec.path)


def renew(spec: VaultDynamicSecretSpec, ctx: GeneratorContext, lease: Lease) -> Lease:
    """Renew by the lease's own TTL; the lease as the server now grants it."""
    client = _client(spec, ctx)
    try:
        text = client.request(
            "RenewLease",
            "put",
            "sys/leases/renew",
            body={"lease_id": lease.id, "increment": lease.ttl},
        )
    finally:
        client.close(revoke_token=False)
    body = json.loads(text) if text.strip() else {}
    return renewed(lease, int(body.get("lease_duration") or 0), time.time())


def revoke(spec: VaultDynamicSecretSpec, ctx: GeneratorContext, lease: Lease) -> None:
    client = _client(spec, ctx)
    try:
        client.request("RevokeLease", "put", "sys/leases/revoke", body={"lease_id": lease.id})
    finally:
        client.close(revoke_token=False)
