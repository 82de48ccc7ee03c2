"""The aws provider of a SecretStore (Secrets Manager and Parameter Store): its credentials,
the roles it assumes and their session tags."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping

from secretsync.api.common import SecretKeySelector, ServiceAccountSelector
from secretsync.api.fields import field
from secretsync.errors import ConfigError


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
