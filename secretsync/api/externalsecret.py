"""ExternalSecret and ClusterExternalSecret (external-secrets.io v1 / v1beta1), plus our additive
`spec.rollout` extension. Field names and semantics follow ESO; see reference/eso.md §1."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

from secretsync.api.fields import Duration, field, kept
from secretsync.errors import ConfigError

SECRET_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"


class StoreKind(enum.StrEnum):
    SECRET_STORE = "SecretStore"
    CLUSTER_SECRET_STORE = "ClusterSecretStore"


class RefreshPolicy(enum.StrEnum):
    CREATED_ONCE = "CreatedOnce"
    PERIODIC = "Periodic"
    ON_CHANGE = "OnChange"


class CreationPolicy(enum.StrEnum):
    OWNER = "Owner"
    ORPHAN = "Orphan"
    MERGE = "Merge"
    NONE = "None"


class DeletionPolicy(enum.StrEnum):
    RETAIN = "Retain"
    DELETE = "Delete"
    MERGE = "Merge"


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
class StoreRef:
    name: str = field("Name of the SecretStore or ClusterSecretStore.", crd_optional=True)
    # No schema default: ESO's CRD has none, and a default would add a field to stored objects.
    kind: StoreKind = field(
        "Kind of the store; empty means SecretStore.", default=StoreKind.SECRET_STORE
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SourceRef:
    store_ref: StoreRef | None = field("Use this store for this entry only.", default=None)
    generator_ref: Any = kept(
        "ESO's generator source (Password, VaultDynamicSecret, ...).",
        instead="read the value from a store with sourceRef.storeRef; generators are not "
        "implemented yet",
    )


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

    def validate(self, path: str) -> None:
        if (self.extract is None) == (self.find is None):
            raise ConfigError("set exactly one of: extract, find", field=path)


class MergePolicy(enum.StrEnum):
    REPLACE = "Replace"
    MERGE = "Merge"


class TemplateScope(enum.StrEnum):
    VALUES = "Values"
    KEYS_AND_VALUES = "KeysAndValues"


class TemplateTarget(enum.StrEnum):
    DATA = "Data"
    ANNOTATIONS = "Annotations"
    LABELS = "Labels"


@dataclasses.dataclass(frozen=True, kw_only=True)
class TemplateRefItem:
    key: str = field("Key in the ConfigMap or Secret.")
    template_as: TemplateScope = field(
        "Render values only, or parse keys and values.", default=TemplateScope.VALUES
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class TemplateRef:
    name: str = field("Name of the ConfigMap or Secret.")
    items: tuple[TemplateRefItem, ...] = field("Keys to use as templates.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TemplateFrom:
    config_map: TemplateRef | None = field("Templates from a ConfigMap.", default=None)
    secret: TemplateRef | None = field("Templates from a Secret.", default=None)
    literal: str | None = field("An inline template rendered as a YAML map.", default=None)
    target: str = field(
        "Where the rendered keys go: Data, Annotations or Labels (any case); for a "
        "target.manifest also a field path such as spec.config or spec.rules[0].hosts.",
        default=TemplateTarget.DATA.value,
        schema_default="Data",
    )
    values_decoding_strategy: DecodingStrategy = field(
        "Decoding applied to each rendered value.", default=DecodingStrategy.NONE
    )

    @property
    def well_known_target(self) -> TemplateTarget | None:
        """Data, Annotations or Labels, matched case-insensitively as ESO does; None for a
        field path (only a target.manifest accepts those)."""
        wanted = self.target or TemplateTarget.DATA.value
        return next((t for t in TemplateTarget if t.value.lower() == wanted.lower()), None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class TemplateMetadata:
    labels: Mapping[str, str] = field("Labels (templated).", default_factory=dict)
    annotations: Mapping[str, str] = field("Annotations (templated).", default_factory=dict)
    finalizers: Any = kept(
        "ESO's finalizers for the target (templated).",
        instead="leave it unset: secretsync writes no finalizers on the target",
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Template:
    type: str | None = field("Secret type; a new Secret defaults to Opaque.", default=None)
    engine_version: str = field("Only v2 exists.", default="v2", schema_default="v2")
    metadata: TemplateMetadata | None = field("Labels and annotations.", default=None)
    merge_policy: MergePolicy = field(
        "Replace or Merge provider keys.", default=MergePolicy.REPLACE
    )
    data: Mapping[str, str] = field("Key -> Go template.", default_factory=dict)
    template_from: tuple[TemplateFrom, ...] = field("Templates from elsewhere.", default=())

    def validate(self, path: str) -> None:
        if self.engine_version != "v2":
            raise ConfigError("only engineVersion v2 is supported", field=f"{path}.engineVersion")
        if self.type == "bootstrap.kubernetes.io/token":
            raise ConfigError("bootstrap tokens cannot be templated", field=f"{path}.type")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ManifestReference:
    api_version: str = field('apiVersion of the target, e.g. "v1" or "example.com/v1".')
    kind: str = field('Kind of the target, e.g. "ConfigMap".')

    def validate(self, path: str) -> None:
        if not self.api_version:
            raise ConfigError("is required", field=f"{path}.apiVersion")
        if not self.kind:
            raise ConfigError("is required", field=f"{path}.kind")

    @property
    def is_secret(self) -> bool:
        return self.api_version == "v1" and self.kind == "Secret"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Target:
    name: str | None = field("Name of the Secret; defaults to the ExternalSecret's.", default=None)
    creation_policy: CreationPolicy = field(
        "Who owns the Secret.",
        default=CreationPolicy.OWNER,
        schema_default="Owner",
        kept_values={"CreateOrMerge": "use Owner, Orphan, Merge or None"},
    )
    deletion_policy: DeletionPolicy = field(
        "What happens when remote keys disappear.",
        default=DeletionPolicy.RETAIN,
        schema_default="Retain",
    )
    immutable: bool = field("Make the Secret immutable.", default=False)
    template: Template | None = field("Blueprint for the Secret.", default=None)
    manifest: ManifestReference | None = field(
        "Write this kind (a ConfigMap, a custom resource) instead of a Secret; the operator "
        "needs --unsafe-allow-generic-targets and RBAC for the kind.",
        default=None,
    )

    @property
    def generic(self) -> ManifestReference | None:
        """The manifest when the target is not a plain Secret (v1 Secret is the default)."""
        return None if self.manifest is None or self.manifest.is_secret else self.manifest


class SyncWindowKind(enum.StrEnum):
    ALLOW = "allow"
    DENY = "deny"


SYNC_WINDOW_SCHEDULE = (
    r"^(@(annually|yearly|monthly|weekly|daily|midnight|hourly)|@every [^\s]+.*"
    r"|[^\s]+( [^\s]+){4})$"
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SyncWindow:
    schedule: str = field(
        "5-field cron (UTC) or @daily, @hourly, @every 1h...: when the window opens.",
        pattern=SYNC_WINDOW_SCHEDULE,
    )
    duration: Duration = field("How long it stays open after each opening.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SyncWindows:
    kind: SyncWindowKind = field("allow: refresh only inside a window; deny: never inside one.")
    windows: tuple[SyncWindow, ...] = field("The windows; all share the kind.")


class WorkloadKind(enum.StrEnum):
    DEPLOYMENT = "Deployment"
    STATEFUL_SET = "StatefulSet"
    DAEMON_SET = "DaemonSet"
    ROLLOUT = "Rollout"


class OnFailure(enum.StrEnum):
    ROLLBACK = "Rollback"
    HOLD = "Hold"


@dataclasses.dataclass(frozen=True, kw_only=True)
class RolloutTarget:
    kind: WorkloadKind = field(
        "Workload kind; Rollout is an Argo Rollout (argoproj.io), where Argo Rollouts is installed."
    )
    name: str = field("Workload name, in the ExternalSecret's namespace.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rollout:
    targets: tuple[RolloutTarget, ...] = field("Workloads to restart.", default=())
    discover: bool = field("Also restart every pod template using the Secret.", default=False)
    health_timeout: Duration = field(
        "Health deadline on top of the workload's own.",
        default=Duration(minutes=5),
        schema_default="5m",
    )
    on_failure: OnFailure = field(
        "Rollback restores the last good data.", default=OnFailure.ROLLBACK
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExternalSecretSpec:
    secret_store_ref: StoreRef | None = field("Default store for every entry.", default=None)
    target: Target = field("The Secret to write.", default_factory=Target)
    refresh_interval: Duration = field(
        "How often to re-read; 0 means once.", default=Duration(hours=1), schema_default="1h"
    )
    refresh_policy: RefreshPolicy | None = field("CreatedOnce, Periodic or OnChange.", default=None)
    sync_windows: SyncWindows | None = field(
        "When periodic refreshes may run (UTC); spec changes sync at any time.", default=None
    )
    data: tuple[ExternalSecretData, ...] = field("One key each.", default=())
    data_from: tuple[DataFrom, ...] = field("Bulk sources, merged in order.", default=())
    rollout: Rollout | None = field(
        "secretsync: restart workloads when data changes.", default=None
    )

    def validate(self, path: str) -> None:
        if not self.data and not self.data_from and self.target.template is None:
            raise ConfigError("set data, dataFrom or target.template", field=path)
        policy = (self.target.creation_policy, self.target.deletion_policy)
        if (
            policy[1] is DeletionPolicy.DELETE
            and policy[0] is not CreationPolicy.OWNER
            and policy[0] is not CreationPolicy.ORPHAN
        ):
            raise ConfigError(
                "deletionPolicy Delete needs creationPolicy Owner or Orphan",
                field=f"{path}.target.deletionPolicy",
            )
        if policy == (CreationPolicy.NONE, DeletionPolicy.MERGE):
            raise ConfigError(
                "deletionPolicy Merge cannot be used with creationPolicy None",
                field=f"{path}.target.deletionPolicy",
            )
        self._validate_store_refs(path)
        self._validate_template_targets(path)

    def _validate_template_targets(self, path: str) -> None:
        """ESO's rule: into a Secret, templateFrom writes only Data, Annotations or Labels; a
        field path would reach type, immutable or ownerReferences."""
        template = self.target.template
        if template is None or self.target.generic is not None:
            return
        for i, item in enumerate(template.template_from):
            if item.well_known_target is None:
                raise ConfigError(
                    f"target {item.target!r} is not allowed when targeting a Secret; use Data, "
                    "Annotations or Labels (field paths need target.manifest)",
                    field=f"{path}.target.template.templateFrom[{i}].target",
                )

    def _validate_store_refs(self, path: str) -> None:
        if self.secret_store_ref is not None:
            return
        for i, entry in enumerate(self.data):
            if entry.source_ref is None or entry.source_ref.store_ref is None:
                raise ConfigError(
                    "needs spec.secretStoreRef or its own sourceRef.storeRef",
                    field=f"{path}.data[{i}]",
                )
        for i, source in enumerate(self.data_from):
            if source.source_ref is None or source.source_ref.store_ref is None:
                raise ConfigError(
                    "needs spec.secretStoreRef or its own sourceRef.storeRef",
                    field=f"{path}.dataFrom[{i}]",
                )


@dataclasses.dataclass(frozen=True, kw_only=True)
class NamespaceSelector:
    match_labels: Mapping[str, str] = field(
        "Labels every namespace must carry.", default_factory=dict
    )
    match_expressions: tuple[Any, ...] = field(
        "Label selector requirements.", default=(), preserve_unknown=True
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExternalSecretMetadata:
    labels: Mapping[str, str] = field("Labels for each ExternalSecret.", default_factory=dict)
    annotations: Mapping[str, str] = field(
        "Annotations for each ExternalSecret.", default_factory=dict
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClusterExternalSecretSpec:
    external_secret_spec: ExternalSecretSpec = field("Spec of each ExternalSecret.")
    external_secret_name: str | None = field("Name of each ExternalSecret.", default=None)
    external_secret_metadata: ExternalSecretMetadata | None = field("Their metadata.", default=None)
    namespace_selectors: tuple[NamespaceSelector, ...] = field("Namespaces (ORed).", default=())
    namespace_selector: NamespaceSelector | None = field(
        "Deprecated: use namespaceSelectors.", default=None
    )
    namespaces: tuple[str, ...] = field("Namespaces by name.", default=())
    # No schema default: ESO's CRD has none (its controller defaults to 1m, as the parser does).
    refresh_time: Duration = field(
        "How often namespaces are re-evaluated.", default=Duration(minutes=1)
    )
