"""SecretStore and ClusterSecretStore, with the providers secretsync serves as a tagged union:
code matches on the provider's type instead of probing a bag of optional fields."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

from secretsync.api.common import CAProvider, SecretKeySelector, ServiceAccountSelector
from secretsync.api.fields import Duration, KeptOption, field, kept
from secretsync.api.retry import RetrySettings
from secretsync.errors import ConfigError

# --- Vault / OpenBao -----------------------------------------------------------------------


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


# --- AWS -----------------------------------------------------------------------------------


class AWSService(enum.StrEnum):
    SECRETS_MANAGER = "SecretsManager"
    PARAMETER_STORE = "ParameterStore"


@dataclasses.dataclass(frozen=True, kw_only=True)
class AWSSecretRef:
    access_key_id_secret_ref: SecretKeySelector = field(
        "Access key ID.", json="accessKeyIDSecretRef", crd_optional=True
    )
    secret_access_key_secret_ref: SecretKeySelector = field("Secret access key.", crd_optional=True)
    session_token_secret_ref: SecretKeySelector | None = field("Session token.", default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AWSJwtAuth:
    service_account_ref: ServiceAccountSelector = field(
        "ServiceAccount annotated with eks.amazonaws.com/role-arn (IRSA).", crd_optional=True
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class AWSAuth:
    secret_ref: AWSSecretRef | None = field("Static keys from Secrets.", default=None)
    jwt: AWSJwtAuth | None = field("Web identity from a ServiceAccount token.", default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class AWSTag:
    key: str = field("Tag key.")
    value: str = field("Tag value.")


class SessionTagsPolicy(enum.StrEnum):
    NONE = "None"
    SIMPLE = "Simple"
    CUSTOM = "Custom"


RESERVED_SESSION_TAGS = frozenset({"esoNamespace", "esoStoreName", "esoStoreKind"})


@dataclasses.dataclass(frozen=True, kw_only=True)
class AWSSecretsManagerOptions:
    """Options of DeleteSecret, so they only take effect when PushSecret deletes a secret."""

    force_delete_without_recovery: bool = field(
        "Delete at once, with no recovery window.", default=False
    )
    recovery_window_in_days: int = field(
        "Days (7 to 30) Secrets Manager keeps a deleted secret recoverable; 0 is its default, 30.",
        default=0,
    )

    def validate(self, path: str) -> None:
        # ESO's ValidateDeleteSecretInput: the range first, then the conflict.
        days = self.recovery_window_in_days
        if days != 0 and not 7 <= days <= 30:
            raise ConfigError("must be between 7 and 30 days", field=f"{path}.recoveryWindowInDays")
        if days != 0 and self.force_delete_without_recovery:
            raise ConfigError(
                "set forceDeleteWithoutRecovery or recoveryWindowInDays, not both", field=path
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class AWSProvider:
    service: AWSService = field(
        "SecretsManager or ParameterStore.",
        kept_values={"CertificateManager": "use SecretsManager or ParameterStore"},
    )
    region: str = field("AWS region.")
    role: str | None = field("Role ARN assumed last.", default=None)
    additional_roles: tuple[str, ...] = field("Roles assumed in order before role.", default=())
    external_id: str | None = field("ExternalId for role.", json="externalID", default=None)
    session_tags: tuple[AWSTag, ...] = field("Session tags for role.", default=())
    transitive_tag_keys: tuple[str, ...] = field("Transitive session tag keys.", default=())
    prefix: str | None = field("Prepended to every remoteRef.key.", default=None)
    auth: AWSAuth | None = field("Credentials; the SDK's default chain when absent.", default=None)
    secrets_manager: AWSSecretsManagerOptions | None = field(
        "How Secrets Manager secrets are deleted (PushSecret with deletionPolicy Delete).",
        default=None,
    )
    session_tags_policy: SessionTagsPolicy = field(
        "None: sessionTags as given. Simple: the tags esoNamespace (the ExternalSecret's), "
        "esoStoreName and esoStoreKind instead. Custom: those plus customSessionTags.",
        # No schema default: ESO v0.16.2 has no such field, and a default would add it.
        default=SessionTagsPolicy.NONE,
    )
    custom_session_tags: Mapping[str, str] = field(
        "Session tags added under sessionTagsPolicy Custom.", default_factory=dict
    )

    def validate(self, path: str) -> None:
        reserved = sorted(RESERVED_SESSION_TAGS & set(self.custom_session_tags))
        if reserved:
            raise ConfigError(
                f"cannot set {', '.join(reserved)}: secretsync sets these itself",
                field=f"{path}.customSessionTags",
            )


# --- SOPS files in Git (secretsync extension) ----------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class GitRef:
    branch: str | None = field("Branch to follow.", default=None)
    tag: str | None = field("Tag to pin.", default=None)
    commit: str | None = field("Commit to pin.", default=None)

    def validate(self, path: str) -> None:
        if sum(v is not None for v in (self.branch, self.tag, self.commit)) != 1:
            raise ConfigError("set exactly one of: branch, tag, commit", field=path)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SopsGit:
    url: str = field("Repository URL: https, ssh or file.")
    ref: GitRef = field("What to check out.", default_factory=lambda: GitRef(branch="main"))
    path: str = field("Files are looked up below this folder.", default="")
    secret_ref: SecretKeySelector | None = field(
        "Credentials: username+password, bearerToken, or identity+known_hosts.", default=None
    )
    interval: Duration = field(
        "How often the repository is fetched.", default=Duration(minutes=1), schema_default="1m"
    )

    def validate(self, path: str) -> None:
        if not self.url.startswith(("https://", "http://", "ssh://", "file://", "git@")):
            raise ConfigError("must be an https, ssh or file URL", field=f"{path}.url")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SopsDecryption:
    secret_ref: SecretKeySelector = field(
        "Secret whose keys ending in .agekey hold age identities (as Flux reads them)."
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SopsProvider:
    git: SopsGit = field("Where the encrypted files live.")
    decryption: SopsDecryption = field("How to decrypt them.")


StoreProvider = VaultProvider | AWSProvider | SopsProvider

ESO_PROVIDERS_KEPT = (
    # ESO 2.9's SecretStoreProvider keys, plus alibaba and device42 that v0.16.2 (v1beta1) has.
    "akeyless", "alibaba", "azurekv", "barbican", "beyondtrust", "beyondtrustworkloadcredentials",
    "bitwardensecretsmanager", "chef", "cloudrusm", "conjur", "crd", "delinea", "device42",
    "doppler", "dvls", "fake", "fortanix", "gcpsm", "github", "gitlab", "ibm", "infisical",
    "keepersecurity", "kubernetes", "nebiusmysterybox", "ngrok", "onboardbase", "onepassword",
    "onepasswordSDK", "openBao", "oracle", "ovh", "passbolt", "passworddepot", "previder",
    "pulumi", "scaleway", "secretserver", "senhasegura", "volcengine", "webhook",
    "yandexcertificatemanager", "yandexlockbox",
)  # fmt: skip
_KEPT_INSTEAD = {
    "openBao": "use the vault provider: OpenBao speaks the Vault API",
}

PROVIDERS: dict[str, type | KeptOption] = {
    "vault": VaultProvider,
    "aws": AWSProvider,
    "sops": SopsProvider,
    **{
        name: KeptOption(
            f"ESO's {name} provider: stored intact, not implemented by secretsync (Unsupported).",
            instead=_KEPT_INSTEAD.get(name),
        )
        for name in ESO_PROVIDERS_KEPT
    },
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClusterStoreCondition:
    namespaces: tuple[str, ...] = field("Namespaces by name.", default=())
    namespace_regexes: tuple[str, ...] = field("Namespaces by regular expression.", default=())
    namespace_selector: Any = field(
        "Namespaces by label selector.", default=None, preserve_unknown=True
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SecretStoreSpec:
    provider: StoreProvider = field("Exactly one provider.", one_of=PROVIDERS)
    controller: str | None = field("Controller class.", default=None)
    refresh_interval: Any = field(
        "How often the store is re-validated.", default=None, int_or_string=True
    )
    conditions: tuple[ClusterStoreCondition, ...] = field(
        "ClusterSecretStore only: namespaces that may use it (ORed).", default=()
    )
    retry_settings: RetrySettings | None = field(
        "Retries of a failed provider request (ESO's): Vault and AWS stores; sops ignores it.",
        default=None,
    )
