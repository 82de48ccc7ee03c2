"""What an ExternalSecret writes (spec.target): the Secret, or the manifest of another kind,
with who owns it and the templates that shape it."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

from secretsync.api.fields import field, kept
from secretsync.api.sources import DecodingStrategy
from secretsync.errors import ConfigError


class CreationPolicy(enum.StrEnum):
    OWNER = "Owner"
    ORPHAN = "Orphan"
    MERGE = "Merge"
    NONE = "None"


class DeletionPolicy(enum.StrEnum):
    RETAIN = "Retain"
    DELETE = "Delete"
    MERGE = "Merge"


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
