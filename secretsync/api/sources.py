"""What an ExternalSecret reads (spec.data and spec.dataFrom): the store an entry reads from,
the remote secret it names or finds, and how the keys found are rewritten and merged."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping

from secretsync.api.fields import field
from secretsync.api.generators import (
    DNS_SUBDOMAIN,
    GENERATORS_API_VERSION,
    KEPT_KINDS,
    NOT_YET,
    GeneratorRefKind,
)
from secretsync.errors import ConfigError, Unsupported

SECRET_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"


class StoreKind(enum.StrEnum):
    SECRET_STORE = "SecretStore"
    CLUSTER_SECRET_STORE = "ClusterSecretStore"


@dataclasses.dataclass(frozen=True, kw_only=True)
class StoreRef:
    name: str = field("Name of the SecretStore or ClusterSecretStore.", crd_optional=True)
    # No schema default: ESO's CRD has none, and a default would add a field to stored objects.
    kind: StoreKind = field(
        "Kind of the store; empty means SecretStore.", default=StoreKind.SECRET_STORE
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class GeneratorRef:
    api_version: str = field(
        "API version of the generator.",
        default=GENERATORS_API_VERSION,
        schema_default=GENERATORS_API_VERSION,
    )
    kind: GeneratorRefKind = field(
        "Password, UUID, SSHKey, ECRAuthorizationToken or ClusterGenerator; ESO's other "
        "kinds are stored and not run.",
    )
    name: str = field(
        "Name of the generator (a ClusterGenerator's, cluster-wide).", pattern=DNS_SUBDOMAIN
    )

    def validate(self, path: str) -> None:
        if self.kind.value in KEPT_KINDS:
            # A kind names no secret: it may be echoed.
            instead = NOT_YET.format(kind=self.kind.value)
            raise Unsupported(field=f"{path}.kind", instead=instead, value=self.kind.value)
        if self.api_version != GENERATORS_API_VERSION:
            raise ConfigError(f"must be {GENERATORS_API_VERSION}", field=f"{path}.apiVersion")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SourceRef:
    store_ref: StoreRef | None = field("Use this store for this entry only.", default=None)
    generator_ref: GeneratorRef | None = field(
        "Generate the values instead (Password, UUID, SSHKey, ECRAuthorizationToken).",
        default=None,
    )

    def validate(self, path: str) -> None:
        if self.store_ref is not None and self.generator_ref is not None:
            raise ConfigError("set storeRef or generatorRef, not both", field=path)


class ConversionStrategy(enum.StrEnum):
    DEFAULT = "Default"
    UNICODE = "Unicode"


class DecodingStrategy(enum.StrEnum):
    NONE = "None"
    BASE64 = "Base64"
    BASE64URL = "Base64URL"
    AUTO = "Auto"


class MetadataPolicy(enum.StrEnum):
    NONE = "None"
    FETCH = "Fetch"


class NullBytePolicy(enum.StrEnum):
    IGNORE = "Ignore"
    FAIL = "Fail"


@dataclasses.dataclass(frozen=True, kw_only=True)
class RemoteRef:
    key: str = field("Provider path or name of the remote secret.")
    property: str | None = field(
        "Field of a JSON value (gjson path; a literal key wins).", default=None
    )
    version: str | None = field(
        "Version: Vault KV2 number, AWS stage or uuid/<id>, SSM version.", default=None
    )
    conversion_strategy: ConversionStrategy = field(
        "How invalid characters in keys from dataFrom are replaced.",
        default=ConversionStrategy.DEFAULT,
    )
    decoding_strategy: DecodingStrategy = field(
        "Decoding applied to the fetched value.", default=DecodingStrategy.NONE
    )
    metadata_policy: MetadataPolicy = field(
        "Fetch returns the provider's metadata instead.", default=MetadataPolicy.NONE
    )
    null_byte_policy: NullBytePolicy = field(
        "Fail rejects values containing NUL bytes.", default=NullBytePolicy.IGNORE
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExternalSecretData:
    secret_key: str = field("Key in the target Secret.", pattern=SECRET_KEY_PATTERN)
    remote_ref: RemoteRef = field("What to read from the provider.")
    source_ref: SourceRef | None = field("Per-entry store override.", default=None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FindName:
    regexp: str = field("RE2 regular expression, matched anywhere in the name.", crd_optional=True)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Find:
    path: str | None = field("Only secrets below this path.", default=None)
    name: FindName | None = field("Match secret names.", default=None)
    tags: Mapping[str, str] = field("Match all of these tags.", default_factory=dict)
    conversion_strategy: ConversionStrategy = field(
        "Key conversion.", default=ConversionStrategy.DEFAULT
    )
    decoding_strategy: DecodingStrategy = field("Value decoding.", default=DecodingStrategy.NONE)
    null_byte_policy: NullBytePolicy = field("NUL byte handling.", default=NullBytePolicy.IGNORE)

    def validate(self, path: str) -> None:
        if self.name is None and not self.tags:
            raise ConfigError("set name.regexp or tags (or both)", field=path)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RewriteRegexp:
    source: str = field("RE2 regular expression matched against each key.")
    target: str = field("Replacement; $1 and ${1} refer to groups, as in Go.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RewriteTransform:
    template: str = field("Go template; .value is the key.")


class MergeConflictPolicy(enum.StrEnum):
    ERROR = "Error"
    IGNORE = "Ignore"


class MergePriorityPolicy(enum.StrEnum):
    STRICT = "Strict"
    IGNORE_NOT_FOUND = "IgnoreNotFound"


class MergeStrategy(enum.StrEnum):
    EXTRACT = "Extract"
    JSON = "JSON"


@dataclasses.dataclass(frozen=True, kw_only=True)
class RewriteMerge:
    into: str = field("Key of the merged JSON (strategy JSON only).", default="", schema_default="")
    priority: tuple[str, ...] = field("Keys merged last, in this order (they win).", default=())
    priority_policy: MergePriorityPolicy = field(
        "Strict fails when a priority key is absent.",
        default=MergePriorityPolicy.STRICT,
        schema_default="Strict",
    )
    conflict_policy: MergeConflictPolicy = field(
        "Error fails when two values define one key.",
        default=MergeConflictPolicy.ERROR,
        schema_default="Error",
    )
    strategy: MergeStrategy = field(
        "Extract: one key per merged field; JSON: the merged object under `into`.",
        default=MergeStrategy.EXTRACT,
        schema_default="Extract",
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rewrite:
    merge: RewriteMerge | None = field("Merge JSON values into one.", default=None)
    regexp: RewriteRegexp | None = field("Rename keys with a regular expression.", default=None)
    transform: RewriteTransform | None = field("Rename keys with a template.", default=None)

    def validate(self, path: str) -> None:
        chosen = [op for op in (self.merge, self.regexp, self.transform) if op is not None]
        if len(chosen) != 1:
            raise ConfigError("set exactly one of: merge, regexp, transform", field=path)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DataFrom:
    extract: RemoteRef | None = field("Every top-level key of a JSON value.", default=None)
    find: Find | None = field("Every secret matching a name or tags.", default=None)
    rewrite: tuple[Rewrite, ...] = field("Key rewrites, applied in order.", default=())
    source_ref: SourceRef | None = field("Per-entry store override.", default=None)

    @property
    def generator_ref(self) -> GeneratorRef | None:
        return self.source_ref.generator_ref if self.source_ref is not None else None

    def validate(self, path: str) -> None:
        if self.generator_ref is not None:
            if self.extract is not None or self.find is not None:
                raise ConfigError(
                    "a generator gives its values whole: drop extract and find, or "
                    "sourceRef.generatorRef",
                    field=path,
                )
            return
        if (self.extract is None) == (self.find is None):
            raise ConfigError(
                "set exactly one of: extract, find, sourceRef.generatorRef", field=path
            )
