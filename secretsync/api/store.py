"""SecretStore and ClusterSecretStore, with the providers secretsync serves as a tagged union:
code matches on the provider's type instead of probing a bag of optional fields."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from secretsync.api.common import CAProvider, SecretKeySelector, ServiceAccountSelector
from secretsync.api.fields import Duration, KeptOption, field, kept
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
    user_pass: VaultUserPass | None = field("Userpass login.", default=None)
    jwt: VaultJwtAuth | None = field("JWT/OIDC login.", default=None)
    cert: VaultCertAuth | None = field("TLS certificate login.", default=None)
    iam: Any = kept(
        "ESO's AWS IAM login (Vault's aws auth method).",
        instead="log in with tokenSecretRef, appRole, kubernetes, userPass, jwt or cert",
    )
    ldap: Any = kept(
        "ESO's LDAP login.",
        instead="log in with tokenSecretRef, appRole, kubernetes, userPass, jwt or cert",
    )
    gcp: Any = kept(
        "ESO's Google Cloud login (Vault's gcp auth method).",
        instead="log in with tokenSecretRef, appRole, kubernetes, userPass, jwt or cert",
    )

    def method(self) -> object:
        for candidate in (
            self.token_secret_ref,
            self.app_role,
            self.kubernetes,
            self.user_pass,
            self.jwt,
            self.cert,
        ):
            if candidate is not None:
                return candidate
        raise AssertionError("validated: one method is set")

    def validate(self, path: str) -> None:
        if all(
            m is None
            for m in (
                self.token_secret_ref,
                self.app_role,
                self.kubernetes,
                self.user_pass,
                self.jwt,
                self.cert,
            )
        ):
            raise ConfigError(
                "set one of: tokenSecretRef, appRole, kubernetes, userPass, jwt, cert", field=path
            )


@dataclasses.dataclass(frozen=True, kw_only=True)
class VaultProvider:
    server: str = field("Address of the server, e.g. https://vault:8200.")
    path: str | None = field("KV mount, e.g. secret.", default=None)
    version: KVVersion = field("KV engine version.", default=KVVersion.V2, schema_default="v2")
    namespace: str | None = field("Vault Enterprise / OpenBao namespace.", default=None)
    ca_bundle: str | None = field("Base64 PEM bundle of the server's CA.", default=None)
    ca_provider: CAProvider | None = field("Server CA from a Secret or ConfigMap.", default=None)
    auth: VaultAuth = field("How to log in.", crd_optional=True)
    tls: Any = kept(
        "ESO's client certificate for mutual TLS with the server.",
        instead="authenticate with auth.cert; the server CA comes from caBundle or caProvider",
    )
    read_your_writes: Any = kept(
        "ESO's read-your-writes consistency for Vault Enterprise performance standbys.",
        instead="leave it unset: secretsync reads from the server address it is given",
    )
    forward_inconsistent: Any = kept(
        "ESO's forwarding of inconsistent reads to the active node (Vault Enterprise).",
        instead="leave it unset: secretsync reads from the server address it is given",
    )
    headers: Any = kept(
        "ESO's extra HTTP headers sent with every request.",
        instead="leave it unset; put a proxy in front of the server if it needs headers",
    )
    check_and_set: Any = kept(
        "ESO's check-and-set options for PushSecret writes.",
        instead="leave it unset: secretsync does not push secrets yet",
    )

    def validate(self, path: str) -> None:
        if self.ca_bundle is not None and self.ca_provider is not None:
            raise ConfigError("set caBundle or caProvider, not both", field=path)


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
    secrets_manager: Any = kept(
        "ESO's Secrets Manager options (forceDeleteWithoutRecovery, recoveryWindowInDays).",
        instead="leave it unset: these only affect PushSecret deletes, which secretsync does "
        "not do yet",
    )
    custom_session_tags: Any = kept(
        "ESO's session tags taken from the ExternalSecret.",
        instead="set sessionTags on the store",
    )
    session_tags_policy: Any = kept(
        "ESO's policy for custom session tags.", instead="set sessionTags on the store"
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
    retry_settings: Any = kept(
        "ESO's retry count and interval for provider clients.",
        instead="leave it unset: secretsync retries with its own capped, jittered backoff",
    )
