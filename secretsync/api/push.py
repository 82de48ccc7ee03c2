"""PushSecret and ClusterPushSecret (external-secrets.io v1alpha1): which keys of a Kubernetes
Secret (or of a generator's output) are written to which stores, under which remote names, and
what happens to them on a change of mind. Field names and semantics follow ESO's; docs/api.md
says what is not run yet (dataTo).

No schema defaults are declared: ESO's releases disagree on some (refreshInterval "1h" in
v0.16.2, "1h0m0s" later), and the parser's defaults are ESO's controller defaults.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

from secretsync.api.externalsecret import ExternalSecretMetadata, NamespaceSelector
from secretsync.api.fields import Duration, field, kept
from secretsync.api.generators import DNS_SUBDOMAIN
from secretsync.api.sources import GeneratorRef, StoreKind
from secretsync.api.target import Template
from secretsync.errors import ConfigError

PUSH_SECRET = "PushSecret"
CLUSTER_PUSH_SECRET = "ClusterPushSecret"
MANAGED_BY = "managed-by"
MANAGED_BY_VALUE = "external-secrets"
"""ESO's ownership marker on a remote value (Vault custom metadata, AWS tags). secretsync writes
the same one so that values ESO pushed stay ours after a migration, and ours stay ESO's after a
move back: the marker says "pushed by an operator of this API", not which binary."""


class UpdatePolicy(enum.StrEnum):
    REPLACE = "Replace"
    IF_NOT_EXISTS = "IfNotExists"


class PushDeletionPolicy(enum.StrEnum):
    DELETE = "Delete"
    NONE = "None"


class PushConversionStrategy(enum.StrEnum):
    NONE = "None"
    REVERSE_UNICODE = "ReverseUnicode"


@dataclasses.dataclass(frozen=True, kw_only=True)
class PushStoreRef:
    name: str | None = field("A store by name.", default=None, pattern=DNS_SUBDOMAIN)
    label_selector: NamespaceSelector | None = field("Stores by label.", default=None)
    kind: StoreKind = field(
        "SecretStore or ClusterSecretStore; empty means SecretStore.",
        default=StoreKind.SECRET_STORE,
    )

    def validate(self, path: str) -> None:
        if self.name is None and self.label_selector is None:
            raise ConfigError("set name or labelSelector", field=path)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PushSecretSource:
    name: str | None = field(
        "A Secret in the PushSecret's namespace.", default=None, pattern=DNS_SUBDOMAIN
    )
    selector: NamespaceSelector | None = field("Secrets by label (each is pushed).", default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PushSelector:
    secret: PushSecretSource | None = field("The Secret to push.", default=None)
    generator_ref: GeneratorRef | None = field(
        "Push a generator's output instead (generated on every refresh).", default=None
    )

    def validate(self, path: str) -> None:
        chosen = [x for x in (self.secret, self.generator_ref) if x is not None]
        if len(chosen) != 1:
            raise ConfigError("set exactly one of secret or generatorRef", field=path)
        if self.secret is not None and (self.secret.name is None) == (self.secret.selector is None):
            raise ConfigError("set name or selector", field=f"{path}.secret")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PushRemoteRef:
    remote_key: str = field("Name of the remote secret (or parameter).")
    property: str | None = field("A property inside it (a JSON field).", default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class PushMatch:
    secret_key: str | None = field(
        "The key to push; empty pushes the whole Secret as one JSON object.", default=None
    )
    remote_ref: PushRemoteRef = field("Where it goes.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class PushSecretData:
    match: PushMatch = field("Which key goes where.")
    metadata: Any = field(
        "Provider-specific metadata (ESO's PushSecretMetadata).",
        default=None,
        preserve_unknown=True,
    )
    conversion_strategy: PushConversionStrategy = field(
        "ReverseUnicode turns _U0000_ escapes in key names back into characters.",
        default=PushConversionStrategy.NONE,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class PushSecretSpec:
    refresh_interval: Duration = field(
        "How often to push again; 0 means only when the PushSecret changes.",
        default=Duration(hours=1),
    )
    secret_store_refs: tuple[PushStoreRef, ...] = field("The stores to push to.")
    update_policy: UpdatePolicy = field(
        "Replace, or IfNotExists (leave an existing remote value).", default=UpdatePolicy.REPLACE
    )
    deletion_policy: PushDeletionPolicy = field(
        "Delete: remove what was pushed when the PushSecret (or an entry) goes; None: keep it.",
        default=PushDeletionPolicy.NONE,
    )
    selector: PushSelector = field("The source.")
    data: tuple[PushSecretData, ...] = field("The keys to push.", default=())
    data_to: Any = kept(
        "ESO's bulk push rules (dataTo).",
        instead="list each key under spec.data; secretsync does not expand dataTo yet",
    )
    template: Template | None = field(
        "Rendered from the source's data before pushing.", default=None
    )

    def validate(self, path: str) -> None:
        if not self.secret_store_refs:
            raise ConfigError("name at least one store", field=f"{path}.secretStoreRefs")
        if self.data_to is not None and not self.data:
            return  # dataTo alone: refused as Unsupported by the parser already
        if not self.data:
            raise ConfigError("list the keys to push", field=f"{path}.data")
        seen: set[tuple[str, str | None]] = set()
        for i, entry in enumerate(self.data):
            ref = entry.match.remote_ref
            where = (ref.remote_key, ref.property)
            if where in seen:
                raise ConfigError(
                    "two entries push to the same remote key and property",
                    field=f"{path}.data[{i}].match.remoteRef",
                )
            seen.add(where)


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClusterPushSecretSpec:
    push_secret_spec: PushSecretSpec = field("Spec of each PushSecret.")
    push_secret_name: str | None = field(
        "Name of each PushSecret; the ClusterPushSecret's by default.",
        default=None,
        pattern=DNS_SUBDOMAIN,
    )
    push_secret_metadata: ExternalSecretMetadata | None = field(
        "Their labels and annotations.", default=None
    )
    namespace_selectors: tuple[NamespaceSelector, ...] = field("Namespaces (ORed).", default=())
    refresh_time: Duration = field(
        "How often namespaces are re-evaluated.", default=Duration(minutes=1)
    )
