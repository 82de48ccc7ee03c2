"""The vault provider of a SecretStore (Vault and OpenBao) and the ways it logs in."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

from secretsync.api.aws import AWSJwtAuth, AWSSecretRef
from secretsync.api.common import CAProvider, SecretKeySelector, ServiceAccountSelector
from secretsync.api.fields import field, kept
from secretsync.errors import ConfigError


class KVVersion(enum.StrEnum):
    V1 = "v1"
    V2 = "v2"


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultAppRole:
    path: str = field("Mount path of the AppRole backend.", default="approle")
    role_id: str | None = field("The RoleID, inline.", default=None)
    role_ref: SecretKeySelector | None = field("The RoleID, from a Secret.", default=None)
    secret_ref: SecretKeySelector = field("The SecretID, from a Secret.")

    def validate(self, path: str) -> None:
        if (self.role_id is None) == (self.role_ref is None):
            raise ConfigError("set exactly one of: roleId, roleRef", field=path)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultKubernetesAuth:
    mount_path: str = field("Mount path of the Kubernetes backend.", default="kubernetes")
    role: str = field("Vault role to log in as.")
    service_account_ref: ServiceAccountSelector | None = field(
        "Mint a token for this ServiceAccount with the TokenRequest API.", default=None
    )
    secret_ref: SecretKeySelector | None = field("A token stored in a Secret.", default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultKubernetesServiceAccountToken:
    service_account_ref: ServiceAccountSelector = field("ServiceAccount to mint a token for.")
    audiences: tuple[str, ...] = field("Deprecated; use serviceAccountRef.audiences.", default=())
    expiration_seconds: int = field("Token lifetime.", default=600)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultJwtAuth:
    path: str = field("Mount path of the JWT backend.", default="jwt")
    role: str | None = field("Vault role.", default=None)
    secret_ref: SecretKeySelector | None = field("A JWT stored in a Secret.", default=None)
    kubernetes_service_account_token: VaultKubernetesServiceAccountToken | None = field(
        "Mint a ServiceAccount token to log in with.", default=None
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultUserPass:
    path: str = field("Mount path of the userpass backend.", default="userpass")
    username: str = field("User name.")
    secret_ref: SecretKeySelector = field("The password, from a Secret.", crd_optional=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultLdapAuth:
    path: str = field("Mount path of the LDAP backend.", default="ldap")
    username: str = field("LDAP user name.")
    secret_ref: SecretKeySelector = field("The LDAP password, from a Secret.", crd_optional=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultIamAuth:
    """Vault's aws auth method, iam type: a signed sts:GetCallerIdentity request is the proof."""

    path: str = field("Mount path of the aws auth backend.", default="aws")
    region: str = field("AWS region the request is signed for.", default="us-east-1")
    role: str | None = field("AWS role ARN assumed before logging in.", default=None)
    vault_role: str = field("Vault role to log in as.")
    external_id: str | None = field(
        "ExternalId for assuming role.", json="externalID", default=None
    )
    vault_aws_iam_server_id: str | None = field(
        "Value of the signed X-Vault-AWS-IAM-Server-ID header the server may require.",
        json="vaultAwsIamServerID",
        default=None,
    )
    secret_ref: AWSSecretRef | None = field("Static AWS keys from Secrets.", default=None)
    jwt: AWSJwtAuth | None = field("Web identity from a ServiceAccount token (IRSA).", default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultCertAuth:
    path: str = field("Mount path of the cert backend.", default="cert")
    vault_role: str | None = field("Vault role.", default=None)
    client_cert: SecretKeySelector = field("Client certificate (PEM).", crd_optional=True)
    secret_ref: SecretKeySelector = field("Client key (PEM).", crd_optional=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultAuth:
    """ESO lists the methods side by side and uses the first one set, in this order."""

    namespace: str | None = field(
        "Namespace to log in to; defaults to the provider's.", default=None
    )
    token_secret_ref: SecretKeySelector | None = field("A static token.", default=None)
    app_role: VaultAppRole | None = field("AppRole login.", default=None)
    kubernetes: VaultKubernetesAuth | None = field("Kubernetes login.", default=None)
    ldap: VaultLdapAuth | None = field("LDAP login.", default=None)
    user_pass: VaultUserPass | None = field("Userpass login.", default=None)
    jwt: VaultJwtAuth | None = field("JWT/OIDC login.", default=None)
    cert: VaultCertAuth | None = field("TLS certificate login.", default=None)
    iam: VaultIamAuth | None = field("AWS IAM login (the aws auth method).", default=None)
    gcp: Any = kept(
        "ESO's Google Cloud login (Vault's gcp auth method).",
        instead="log in with tokenSecretRef, appRole, kubernetes, ldap, userPass, jwt, cert or iam",
    )

    def _methods(self) -> tuple[object, ...]:
        # ESO's order (auth.go setAuth): the first one set wins.
        return (
            self.token_secret_ref,
            self.app_role,
            self.kubernetes,
            self.ldap,
            self.user_pass,
            self.jwt,
            self.cert,
            self.iam,
        )

    def method(self) -> object:
        for candidate in self._methods():
            if candidate is not None:
                return candidate
        raise AssertionError("validated: one method is set")

    def validate(self, path: str) -> None:
        if all(m is None for m in self._methods()):
            raise ConfigError(
                "set one of: tokenSecretRef, appRole, kubernetes, ldap, userPass, jwt, cert, iam",
                field=path,
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultCheckAndSet:
    required: bool = field(
        "Every write must carry the version it replaces (KV v2 check-and-set). Used by PushSecret.",
        default=False,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultClientTLS:
    cert_secret_ref: SecretKeySelector | None = field(
        "Client certificate (PEM); key tls.crt when none is named.", default=None
    )
    key_secret_ref: SecretKeySelector | None = field(
        "Its private key (PEM); key tls.key when none is named.", default=None
    )

    def validate(self, path: str) -> None:
        if (self.cert_secret_ref is None) != (self.key_secret_ref is None):
            raise ConfigError("set both certSecretRef and keySecretRef, or neither", field=path)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultProvider:
    server: str = field("Address of the server, e.g. https://vault:8200.")
    path: str | None = field("KV mount, e.g. secret.", default=None)
    version: KVVersion = field("KV engine version.", default=KVVersion.V2, schema_default="v2")
    namespace: str | None = field("Vault Enterprise / OpenBao namespace.", default=None)
    ca_bundle: str | None = field("Base64 PEM bundle of the server's CA.", default=None)
    ca_provider: CAProvider | None = field("Server CA from a Secret or ConfigMap.", default=None)
    auth: VaultAuth = field("How to log in.", crd_optional=True)
    tls: VaultClientTLS | None = field(
        "Client certificate for mutual TLS on every request.", default=None
    )
    read_your_writes: Any = kept(
        "ESO's read-your-writes consistency for Vault Enterprise performance standbys.",
        instead="leave it unset: secretsync reads from the server address it is given",
    )
    forward_inconsistent: Any = kept(
        "ESO's forwarding of inconsistent reads to the active node (Vault Enterprise).",
        instead="leave it unset: secretsync reads from the server address it is given",
    )
    headers: Mapping[str, str] = field(
        "Extra HTTP headers sent with every request, logins included.", default_factory=dict
    )
    check_and_set: VaultCheckAndSet | None = field(
        "Check-and-set for writes (PushSecret); KV v2 only.", default=None
    )

    def validate(self, path: str) -> None:
        if self.ca_bundle is not None and self.ca_provider is not None:
            raise ConfigError("set caBundle or caProvider, not both", field=path)
        cas = self.check_and_set
        if cas is not None and cas.required and self.version is KVVersion.V1:
            raise ConfigError(
                "checkAndSet is not supported with KV version v1; use version v2 or drop it",
                field=f"{path}.checkAndSet.required",
            )
