"""ExternalSecret and ClusterExternalSecret (external-secrets.io v1 / v1beta1): the spec that
ties what is read (api/sources.py) to what is written (api/target.py), when it refreshes, and our
additive `spec.rollout` extension (api/rollout.py). Field names and semantics follow
ESO; docs/api.md says where we differ."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from typing import Any

from secretsync.api.fields import Duration, field
from secretsync.api.rollout import Rollout
from secretsync.api.sources import DataFrom, ExternalSecretData, StoreRef
from secretsync.api.target import CreationPolicy, DeletionPolicy, Target
from secretsync.errors import ConfigError


class RefreshPolicy(enum.StrEnum):
    CREATED_ONCE = "CreatedOnce"
    PERIODIC = "Periodic"
    ON_CHANGE = "OnChange"


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
            if entry.source_ref is None or (
                entry.source_ref.store_ref is None and entry.source_ref.generator_ref is None
            ):
                raise ConfigError(
                    "needs spec.secretStoreRef or its own sourceRef.storeRef",
                    field=f"{path}.data[{i}]",
                )
        for i, source in enumerate(self.data_from):
            if source.generator_ref is None and (
                source.source_ref is None or source.source_ref.store_ref is None
            ):
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
