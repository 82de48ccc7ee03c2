"""One sync of an ExternalSecret whose `spec.target.manifest` names a ConfigMap or a custom
resource (ESO 2.9's reconcileGenericTarget): the pure decisions, then the thin shell.

What ESO does, and so do we:
- The operator must be started with --unsafe-allow-generic-targets; otherwise the
  ExternalSecret is Ready=False with ESO's message, and nothing is written.
- The live object is valid when it carries the managed label and a data-hash annotation that
  matches its content; an invalid one is re-synced even when no refresh is due (Orphan: never).
- No data at all: deletionPolicy Delete deletes the object (creationPolicy Owner only), Retain
  keeps it untouched, Merge writes what there is.
- creationPolicy Owner sets a controller reference (so Kubernetes deletes the object with the
  ExternalSecret) and the created-by label; Orphan writes without one; Merge only updates an
  object that exists, starting from it; None writes nothing.
- Status reasons are the Resource* ones; Events `Created`/`Updated`/`Deleted` name the kind.

Where we differ, on purpose: an object controlled by anything else is never written or deleted
(ESO refuses only another ExternalSecret's); an update that would change nothing is skipped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from secretsync.api.objects import ExternalSecret
from secretsync.api.target import CreationPolicy, DeletionPolicy, ManifestReference
from secretsync.errors import AccessDenied, SecretSyncError, Unsupported
from secretsync.reconcile import refresh, report, status, writes
from secretsync.reconcile.lease_keeper import Issued
from secretsync.reconcile.ports import Result
from secretsync.redact import Redactor
from secretsync.resolve import manifest
from secretsync.resolve.secret import DATA_HASH_ANNOTATION, MANAGED_LABEL

if TYPE_CHECKING:
    from secretsync.reconcile.sync import Syncer

log = logging.getLogger(__name__)

DISABLED = "generic targets are disabled. Enable with --unsafe-allow-generic-targets flag"
OWNER_LABEL = "reconcile.external-secrets.io/created-by"
_CHECKED_META = ("labels", "annotations", "ownerReferences", "finalizers")


class Targets(Protocol):
    """secretsync.kube.targets.TargetClient, as the sync loop sees it."""

    def get(
        self, api_version: str, kind: str, namespace: str, name: str
    ) -> dict[str, Any] | None: ...
    def create(self, namespace: str, body: Mapping[str, Any]) -> None: ...
    def replace(self, namespace: str, body: Mapping[str, Any]) -> None: ...
    def delete(self, api_version: str, kind: str, namespace: str, name: str) -> None: ...


def owner_label(es: ExternalSecret) -> str:
    """ESO's created-by label: sha3-224 of "<namespace>/<name>"."""
    key = f"{es.metadata.namespace}/{es.metadata.name}"
    return hashlib.sha3_224(key.encode()).hexdigest()


def valid(es: ExternalSecret, existing: Mapping[str, Any] | None) -> bool:
    """ESO's isGenericTargetValid."""
    if es.spec.target.creation_policy is CreationPolicy.ORPHAN:
        return True
    if existing is None:
        return False
    meta = existing.get("metadata") or {}
    if (meta.get("labels") or {}).get(MANAGED_LABEL) != "true":
        return False
    found = (meta.get("annotations") or {}).get(DATA_HASH_ANNOTATION)
    return found is not None and found == manifest.content_hash(existing)


def plan(  # noqa: PLR0911 - a decision list: one early return per case
    es: ExternalSecret,
    content: manifest.Content,
    existing: Mapping[str, Any] | None,
) -> writes.Write:
    target = es.spec.target
    policy = target.creation_policy
    if not content.data:
        if target.deletion_policy is DeletionPolicy.DELETE:
            return _delete(es, existing)
        if target.deletion_policy is DeletionPolicy.RETAIN:
            return writes.Write(
                writes.Action.NOTHING, reason="secret retained due to DeletionPolicy=Retain"
            )
    if policy is CreationPolicy.NONE:
        return writes.Write(writes.Action.NOTHING)
    if existing is None and policy is CreationPolicy.MERGE:
        return writes.Write(
            writes.Action.WAIT, reason="resource will not be created due to CreationPolicy=Merge"
        )
    if existing is not None:
        refused = _foreign(es, existing)
        if refused is not None:
            return refused
    base = existing if policy is CreationPolicy.MERGE else None
    body = manifest.build(es, content, base)
    _own(es, body)
    if existing is None:
        return writes.Write(writes.Action.CREATE, body=body)
    meta, live = body["metadata"], existing.get("metadata") or {}
    meta["resourceVersion"] = live.get("resourceVersion")
    meta["uid"] = live.get("uid")
    if _unchanged(body, existing):
        return writes.Write(writes.Action.NOTHING)
    return writes.Write(writes.Action.UPDATE, body=body)


def _delete(es: ExternalSecret, existing: Mapping[str, Any] | None) -> writes.Write:
    policy = es.spec.target.creation_policy
    if policy is not CreationPolicy.OWNER:
        return writes.Write(
            writes.Action.REFUSE,
            reason=f"unable to delete resource: creationPolicy={policy.value} is not Owner",
        )
    deleted = "secret deleted due to DeletionPolicy=Delete"
    if existing is None:
        return writes.Write(writes.Action.NOTHING, reason=deleted)
    return _foreign(es, existing) or writes.Write(writes.Action.DELETE, reason=deleted)


def _foreign(es: ExternalSecret, existing: Mapping[str, Any]) -> writes.Write | None:
    refs = (existing.get("metadata") or {}).get("ownerReferences") or []
    controller = next((r for r in refs if r.get("controller")), None)
    if controller is None or controller.get("uid") == es.metadata.uid:
        return None
    return writes.Write(
        writes.Action.REFUSE,
        reason=(
            f"target is owned by {controller.get('kind')} {controller.get('name')}; "
            "it is never overwritten"
        ),
    )


def _own(es: ExternalSecret, body: dict[str, Any]) -> None:
    """ESO's applyOwnership: Owner adds the controller reference and created-by label; any
    other policy takes this ExternalSecret's away."""
    meta = body["metadata"]
    refs = [r for r in meta.get("ownerReferences") or [] if r.get("uid") != es.metadata.uid]
    labels = dict(meta.get("labels") or {})
    if es.spec.target.creation_policy is CreationPolicy.OWNER:
        refs.append(writes.owner_reference(es))
        labels[OWNER_LABEL] = owner_label(es)
    else:
        labels.pop(OWNER_LABEL, None)
    meta["labels"] = labels
    if refs:
        meta["ownerReferences"] = refs
    else:
        meta.pop("ownerReferences", None)


def _unchanged(body: Mapping[str, Any], existing: Mapping[str, Any]) -> bool:
    """Whether a PUT of `body` would change nothing we write (content and our metadata)."""
    ignored = {"metadata", "status", "apiVersion", "kind"}
    for key in (set(body) | set(existing)) - ignored:
        if (body.get(key) or None) != (existing.get(key) or None):
            return False
    mine, live = body["metadata"], existing.get("metadata") or {}
    return all((mine.get(f) or None) == (live.get(f) or None) for f in _CHECKED_META)


def outcome(write: writes.Write) -> status.Outcome:
    if write.action is writes.Action.REFUSE:
        return failure(write.reason)
    if write.action is writes.Action.DELETE or (
        write.action is writes.Action.NOTHING and write.reason.startswith("secret deleted")
    ):
        return status.Outcome(True, status.Reason.RESOURCE_DELETED, write.reason, synced=True)
    if write.action is writes.Action.WAIT:
        return status.Outcome(True, status.Reason.RESOURCE_MISSING, write.reason, synced=True)
    message = write.reason or "secret synced"
    return status.Outcome(True, status.Reason.RESOURCE_SYNCED, message, synced=True)


def failure(message: str, reason: status.Reason = status.Reason.RESOURCE_ERROR) -> status.Outcome:
    return report.failure(message, reason)


_NOT_CONTENT = frozenset({"apiVersion", "kind", "metadata", "status"})


def content_strings(obj: Mapping[str, Any]) -> Iterator[str]:
    """Every string a target object holds outside its metadata (ConfigMap data and binaryData,
    a custom resource's spec): any of them may be secret data, for the redactor."""
    stack: list[Any] = [v for k, v in obj.items() if k not in _NOT_CONTENT]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            yield node
        elif isinstance(node, Mapping):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def _permission_hint(exc: SecretSyncError, ref: ManifestReference) -> str:
    if not isinstance(exc, AccessDenied):
        return str(exc)
    group = ref.api_version.rpartition("/")[0] or "core"
    return (
        f"{exc} (grant the operator's ServiceAccount get, create, update and delete on "
        f"{ref.kind} in API group {group!r}: a cluster admin adds that rule for every kind "
        "a target.manifest names)"
    )


@dataclasses.dataclass
class GenericSync:
    """The shell: reads the live object, decides, writes, and records through the Syncer."""

    syncer: Syncer
    targets: Targets | None
    allowed: bool

    def sync(self, es: ExternalSecret, raw: Mapping[str, Any], *, source_moved: bool) -> Result:
        ref = es.spec.target.generic
        assert ref is not None, "only for target.manifest"
        if not self.allowed or self.targets is None:
            # A configuration error: nothing is retried until the spec or the flags change.
            self.syncer.report.record(
                raw, es, failure(DISABLED, status.Reason.ERROR), "UpdateFailed"
            )
            return Result(next_refresh=None)
        namespace = es.metadata.namespace or "default"
        now = self.syncer.clock()
        state = self.syncer.report.last_sync(raw, es.spec.refresh_interval)
        redact = Redactor(())
        started = time.monotonic()
        try:
            existing = None
            if es.spec.target.creation_policy is not CreationPolicy.NONE:
                existing = self.targets.get(ref.api_version, ref.kind, namespace, es.target_name)
            due = refresh.should_refresh(
                es.spec, es.metadata, state, now, source_moved=source_moved
            )
            if not due and valid(es, existing):
                wait = refresh.seconds_until_due(es.spec, state, now, uid=es.metadata.uid)
                return Result(next_refresh=wait)
            if existing is not None:
                redact.add(content_strings(existing))
            result = self._converge(es, raw, existing, redact)
        except Unsupported as exc:
            return self.syncer.report.unsupported(raw, es, exc)
        except SecretSyncError as exc:
            message = redact(_permission_hint(exc, ref))
            return self.syncer.report.failed(raw, es, exc, message, started)
        # A refusal (an object someone else controls) is looked at again at the next refresh.
        return self.syncer.report.succeeded(es, result.ready, result.reason, started, now)

    def _converge(
        self,
        es: ExternalSecret,
        raw: Mapping[str, Any],
        existing: Mapping[str, Any] | None,
        redact: Redactor,
    ) -> status.Outcome:
        ref = es.spec.target.generic
        assert ref is not None and self.targets is not None
        issued = Issued()
        try:
            content, resolved = self.syncer.resolver.resolve_manifest(
                es, self.syncer.lookup, issued.add
            )
        except Exception:
            self.syncer.leases.discard(raw, issued)
            raise
        if issued.leases:
            # Nothing would renew or revoke it beside a ConfigMap or custom resource.
            self.syncer.leases.discard(raw, issued)
            raise Unsupported(
                field="spec.target.manifest",
                instead="write a VaultDynamicSecret's credential to a Secret (no target.manifest):"
                " leases are recorded, renewed and revoked only beside a Secret; this one was "
                "revoked at once",
            )
        redact.add(content.data.values())
        for cause in resolved.missing:
            self.syncer.events.record(raw, "ExternalSecret", "MissingProviderSecret", redact(cause))
        write = plan(es, content, existing)
        if write.body is not None:
            # What the templates placed (spec.data, a field path, a whole document): an
            # apiserver that refuses it (a 422 on a custom resource) echoes the value.
            redact.add(content_strings(write.body))
        namespace = es.metadata.namespace or "default"
        event = None
        if write.action is writes.Action.CREATE and write.body is not None:
            self.targets.create(namespace, write.body)
            event = "Created"
        elif write.action is writes.Action.UPDATE and write.body is not None:
            self.targets.replace(namespace, write.body)
            event = "Updated"
        elif write.action is writes.Action.DELETE:
            self.targets.delete(ref.api_version, ref.kind, namespace, es.target_name)
            event = "Deleted"
        result = outcome(write)
        self.syncer.report.record(raw, es, result, "UpdateFailed" if not result.ready else None)
        if event:
            # ESO's generic-target Events name the kind: "Created ConfigMap app-config".
            message = f"{event} {ref.kind} {es.target_name}"
            self.syncer.events.record(raw, "ExternalSecret", event, message)
            log.info("target written", extra={"object": report.object_key(es), "reason": event})
        return result
