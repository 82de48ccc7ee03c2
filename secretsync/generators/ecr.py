"""The ECRAuthorizationToken generator: a registry login from ECR's GetAuthorizationToken (ECR
Public's with `scope: public`), as ESO's: `username`, `password`, `proxy_endpoint` (private
registries only) and `expires_at` (Unix seconds).

Credentials are the AWS stores' own code (providers/aws_session.py): static keys from a Secret,
web identity from a ServiceAccount, or the SDK's default chain, then `role` assumed. The spec's
fields are those of an aws store, so the generator is handed to that code as one.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from collections.abc import Mapping
from typing import Any

from secretsync.api.aws import AWSProvider, AWSService
from secretsync.api.generators import ECRAuthorizationTokenSpec, ECRScope
from secretsync.api.objects import ObjectMeta, SecretStore
from secretsync.api.store import SecretStoreSpec
from secretsync.errors import Unavailable
from secretsync.generators.base import GeneratorContext
from secretsync.providers.aws_errors import Caller
from secretsync.providers.aws_session import AwsSession
from secretsync.providers.base import StoreContext

PROVIDER = "AWS/ECR"


def as_store(
    spec: ECRAuthorizationTokenSpec, ctx: GeneratorContext
) -> tuple[SecretStore, AWSProvider]:
    """The generator as the namespaced aws store its fields describe: references resolve in the
    ExternalSecret's namespace, as ESO resolves a generator's. (The service is not used: only
    the session is built from it.)"""
    aws = AWSProvider(
        service=AWSService.SECRETS_MANAGER,
        region=spec.region,
        role=spec.role or None,
        auth=spec.auth,
    )
    meta = ObjectMeta(name=ctx.name, namespace=ctx.namespace)
    return SecretStore(kind="SecretStore", metadata=meta, spec=SecretStoreSpec(provider=aws)), aws


def login(token: str, what: str) -> tuple[bytes, bytes]:
    """ECR's token is base64 of `user:password`. The message never carries the token."""
    try:
        decoded = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        raise Unavailable(f"{what}: the authorization token is not base64") from None
    user, colon, password = decoded.partition(b":")
    if not colon:
        raise Unavailable(f"{what}: the authorization token is not user:password")
    return user, password


def expiry(value: object) -> bytes:
    if isinstance(value, datetime.datetime):
        return str(int(value.timestamp())).encode()
    return str(int(float(str(value)))).encode()


def values(data: Mapping[str, Any], public: bool, what: str) -> dict[str, bytes]:
    user, password = login(str(data.get("authorizationToken") or ""), what)
    found = {"username": user, "password": password, "expires_at": expiry(data.get("expiresAt"))}
    if not public:
        found["proxy_endpoint"] = str(data.get("proxyEndpoint") or "").encode()
    return found


def generate(spec: ECRAuthorizationTokenSpec, ctx: GeneratorContext) -> dict[str, bytes]:
    store, aws = as_store(spec, ctx)
    call = Caller(PROVIDER, ctx.telemetry)
    session = AwsSession(
        StoreContext(store, ctx.namespace, ctx.credentials, ctx.telemetry), aws, call
    )
    public = spec.scope == ECRScope.PUBLIC
    client = session.ecr(public)
    what = f"ECRAuthorizationToken {ctx.name}"
    response = call("GetAuthorizationToken", ctx.name, client.get_authorization_token)
    if public:
        return values(response.get("authorizationData") or {}, True, what)
    found = response.get("authorizationData") or []
    if len(found) != 1:
        raise Unavailable(f"{what}: expected one authorization token, got {len(found)}")
    return values(found[0], False, what)
