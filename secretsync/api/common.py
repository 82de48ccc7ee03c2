"""Reference types shared by stores and ExternalSecrets (ESO's apis/meta/v1)."""

from __future__ import annotations

import dataclasses
import enum

from secretsync.api.fields import field


@dataclasses.dataclass(frozen=True, kw_only=True)
class SecretKeySelector:
    name: str = field("Name of the Secret.", crd_optional=True)
    key: str | None = field("Key inside the Secret.", default=None)
    namespace: str | None = field(
        "Namespace of the Secret. Only a ClusterSecretStore may set it; without it, a "
        "ClusterSecretStore resolves the Secret in the ExternalSecret's namespace.",
        default=None,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ServiceAccountSelector:
    name: str = field("Name of the ServiceAccount.")
    namespace: str | None = field("Namespace (ClusterSecretStore only).", default=None)
    audiences: tuple[str, ...] = field("Audiences for the requested token.", default=())


@dataclasses.dataclass(frozen=True, kw_only=True)
class LocalObjectReference:
    name: str = field("Name of the object in the same namespace.")


class CAProviderType(enum.StrEnum):
    SECRET = "Secret"
    CONFIG_MAP = "ConfigMap"


@dataclasses.dataclass(frozen=True, kw_only=True)
class CAProvider:
    type: CAProviderType = field("Where the CA bundle lives.")
    name: str = field("Name of the Secret or ConfigMap.")
    key: str | None = field("Key holding the PEM bundle.", default=None)
    namespace: str | None = field("Namespace (ClusterSecretStore only).", default=None)
