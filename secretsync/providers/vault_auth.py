"""Which login a Vault store asks for, and when a token must be refreshed (eso.md §2.1, §2.6).

No hvac here: this module only decides. It reads the credentials a login needs through the
StoreContext (Secrets, TokenRequest) at login time, so a rotated credential is picked up by
the next login without rebuilding the provider. An iam login's signed sts:GetCallerIdentity
comes from aws_signing.py, where botocore lives.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secretsync.api.common import SecretKeySelector, ServiceAccountSelector
from secretsync.api.vault import (
    VaultAppRole,
    VaultAuth,
    VaultCertAuth,
    VaultIamAuth,
    VaultJwtAuth,
    VaultKubernetesAuth,
    VaultLdapAuth,
    VaultUserPass,
)
from secretsync.errors import ConfigError
from secretsync.providers.base import StoreContext

if TYPE_CHECKING:
    from secretsync.providers.aws_signing import SignedRequest

MOUNTED_SA_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
SA_TOKEN_SECONDS = 600  # ESO's TokenRequest lifetime for Kubernetes auth
REFRESH_MARGIN = 60.0  # ESO re-logs in when a token has less than this left (seconds)


@dataclasses.dataclass(frozen=True)
class StaticToken:
    """tokenSecretRef: used as is, never revoked."""

    token: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class Login:
    """A POST to an auth method's login endpoint."""

    method: str
    path: str
    body: Mapping[str, Any] = dataclasses.field(repr=False)
    client_cert: tuple[bytes, bytes] | None = dataclasses.field(default=None, repr=False)
    """PEM certificate and key for TLS certificate auth."""


@dataclasses.dataclass(frozen=True)
class Token:
    value: str = dataclasses.field(repr=False)
    expires_at: float | None
    """time.monotonic() deadline; None for a token without a TTL."""

    renewable: bool = False
    owned: bool = False
    """We logged in for it (and it is not a batch token), so close() revokes it."""


def login_request(ctx: StoreContext, auth: VaultAuth) -> StaticToken | Login:
    """The first method set, in ESO's order (VaultAuth.method)."""
    method = auth.method()
    if isinstance(method, SecretKeySelector):
        return StaticToken(_text(ctx.secret_value(method)))
    build = _LOGINS.get(type(method))
    if build is None:
        raise ConfigError("unsupported Vault auth method", field="spec.provider.vault.auth")
    return build(ctx, method)


def _ldap(ctx: StoreContext, method: VaultLdapAuth) -> Login:
    # ESO trims the user name, not the password: a password may end in a space.
    password = ctx.secret_value(method.secret_ref).decode()
    user = method.username.strip()
    return Login("ldap", f"auth/{method.path}/login/{user}", {"password": password})


def _user_pass(ctx: StoreContext, method: VaultUserPass) -> Login:
    password = ctx.secret_value(method.secret_ref).decode()
    return Login("userPass", f"auth/{method.path}/login/{method.username}", {"password": password})


def _cert(ctx: StoreContext, method: VaultCertAuth) -> Login:
    cert = (ctx.secret_value(method.client_cert), ctx.secret_value(method.secret_ref))
    body = {"name": method.vault_role} if method.vault_role else {}
    return Login("cert", f"auth/{method.path}/login", body, client_cert=cert)


def _iam(ctx: StoreContext, method: VaultIamAuth) -> Login:
    # Lazy: signing loads boto3, which a Vault store that logs in otherwise never needs.
    from secretsync.providers.aws_signing import caller_identity_request  # noqa: PLC0415

    signed = caller_identity_request(ctx, method)
    return Login("iam", f"auth/{method.path}/login", iam_body(method.vault_role, signed))


def iam_body(vault_role: str, signed: SignedRequest) -> dict[str, str]:
    """The aws auth method's iam login fields: each part of the signed request, base64."""
    headers = json.dumps({name: list(values) for name, values in signed.headers.items()})
    return {
        "role": vault_role,
        "iam_http_request_method": signed.method,
        "iam_request_url": _b64(signed.url),
        "iam_request_body": _b64(signed.body),
        "iam_request_headers": _b64(headers),
    }


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _app_role(ctx: StoreContext, method: VaultAppRole) -> Login:
    role_id = method.role_id
    if method.role_ref is not None:
        role_id = _text(ctx.secret_value(method.role_ref))
    secret_id = _text(ctx.secret_value(method.secret_ref))
    return Login(
        "appRole", f"auth/{method.path}/login", {"role_id": role_id, "secret_id": secret_id}
    )


def _kubernetes(ctx: StoreContext, method: VaultKubernetesAuth) -> Login:
    if method.service_account_ref is not None:
        account = method.service_account_ref
        jwt = _sa_token(ctx, account, account.audiences, SA_TOKEN_SECONDS)
    elif method.secret_ref is not None:
        jwt = _text(ctx.secret_value(method.secret_ref, default_key="token"))
    else:
        jwt = _mounted_token()
    body = {"role": method.role, "jwt": jwt}
    return Login("kubernetes", f"auth/{method.mount_path}/login", body)


def _jwt(ctx: StoreContext, method: VaultJwtAuth) -> Login:
    minted = method.kubernetes_service_account_token
    if minted is not None:
        account = minted.service_account_ref
        # ESO: the deprecated audiences list adds to the ServiceAccountRef's; "vault" if neither.
        audiences = tuple(account.audiences) + tuple(minted.audiences) or ("vault",)
        jwt = _sa_token(ctx, account, audiences, minted.expiration_seconds)
    elif method.secret_ref is not None:
        jwt = _text(ctx.secret_value(method.secret_ref))
    else:
        raise ConfigError(
            "set secretRef or kubernetesServiceAccountToken", field="spec.provider.vault.auth.jwt"
        )
    body: dict[str, Any] = {"jwt": jwt}
    if method.role:
        body["role"] = method.role
    return Login("jwt", f"auth/{method.path}/login", body)


_LOGINS: dict[type, Callable[[StoreContext, Any], Login]] = {
    VaultAppRole: _app_role,
    VaultKubernetesAuth: _kubernetes,
    VaultLdapAuth: _ldap,
    VaultUserPass: _user_pass,
    VaultJwtAuth: _jwt,
    VaultCertAuth: _cert,
    VaultIamAuth: _iam,
}


def _sa_token(
    ctx: StoreContext, account: ServiceAccountSelector, audiences: tuple[str, ...], seconds: int
) -> str:
    namespace = ctx.ref_namespace(account.namespace)
    return ctx.credentials.service_account_token(namespace, account.name, audiences, seconds)


def _mounted_token() -> str:
    try:
        return MOUNTED_SA_TOKEN.read_text().strip()
    except OSError as exc:
        raise ConfigError(
            "kubernetes auth without serviceAccountRef or secretRef needs the pod's mounted "
            f"ServiceAccount token at {MOUNTED_SA_TOKEN}",
            field="spec.provider.vault.auth.kubernetes",
        ) from exc


def _text(value: bytes) -> str:
    # Tokens pasted into Secrets often carry a trailing newline; Vault rejects it.
    return value.decode().strip()


def token_from_login(auth: Mapping[str, Any], now: float) -> Token:
    """The `auth` block of a login or renew-self response."""
    lease = int(auth.get("lease_duration") or 0)
    return Token(
        value=str(auth["client_token"]),
        expires_at=now + lease if lease > 0 else None,
        renewable=bool(auth.get("renewable")),
        owned=auth.get("token_type") != "batch",
    )


def needs_refresh(token: Token, now: float) -> bool:
    return token.expires_at is not None and token.expires_at - now < REFRESH_MARGIN
