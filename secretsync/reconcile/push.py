"""One PushSecret run (the thin shell around push_plan.py): read the source Secret, template it,
and for each store write what the plan says; delete what is no longer pushed (deletionPolicy
Delete, behind our finalizer); then the status and one Event say how it went."""

from __future__ import annotations

import dataclasses
import datetime
import logging
from collections.abc import Callable, Mapping
from typing import Any

from secretsync.api.objects import parse_metadata
from secretsync.api.parsing import parse
from secretsync.api.push import PushSecretSpec
from secretsync.api.sources import StoreKind
from secretsync.errors import ConfigError, NotFound, SecretSyncError, Unsupported
from secretsync.providers.base import ForeignValue, PushRef, Writer
from secretsync.reconcile import finalizing
from secretsync.reconcile import push_plan as plan
from secretsync.reconcile.lease_keeper import Finalizers, deleting
from secretsync.reconcile.ports import Events, Secrets, StatusWriter
from secretsync.reconcile.writes import decode_data
from secretsync.redact import Redactor
from secretsync.resolve import templating
from secretsync.resolve.resolver import Resolver, StoreLookup

log = logging.getLogger(__name__)
FINALIZER = "pushsecret.externalsecrets.io/finalizer"
"""ESO's own, so a PushSecret ESO pushed keeps its cleanup after a move to secretsync."""
PLURAL, VERSION, KIND = "pushsecrets", "v1alpha1", "PushSecret"
RETRY_SECONDS = 30.0


class SourceGone(NotFound):
    """The PushSecret's source Secret does not exist."""


LEFT_BEHIND = "PushedSecretsNotDeleted"
"""The Warning Event of a deleted PushSecret whose pushed values could not be deleted."""


@dataclasses.dataclass
class Pusher:
    secrets: Secrets
    statuses: StatusWriter
    events: Events
    resolver: Resolver
    lookup: StoreLookup
    finalizers: Finalizers
    clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC)

    def run(self, raw: Mapping[str, Any]) -> float | None:
        """Returns seconds until the next run is due (None: only on a change)."""
        meta = raw.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or "default"), str(meta.get("name"))
        if deleting(raw):
            # From the raw spec and status: a spec that no longer parses still lets go.
            return self._finalize(raw, namespace, name)
        try:
            spec = parse(PushSecretSpec, raw.get("spec") or {}, "spec")
        except ConfigError as exc:
            reason = "Unsupported" if isinstance(exc, Unsupported) else plan.Reason.ERRORED
            self._report(raw, False, str(reason), str(exc), None)
            return None
        if plan.deletes(spec):
            self.finalizers.add(namespace, name, FINALIZER)
        elif FINALIZER in (meta.get("finalizers") or []):
            self.finalizers.remove(namespace, name, FINALIZER)
        version = str(meta.get("generation"))
        wait = plan.due(spec, raw.get("status"), version, self.clock())
        if wait is None or wait > 0:
            return wait
        return self._push(raw, spec, namespace, version)

    def _push(
        self, raw: Mapping[str, Any], spec: PushSecretSpec, namespace: str, version: str
    ) -> float | None:
        previous = plan.previous_synced(raw.get("status"))
        synced: plan.Synced = {}
        redact = Redactor(())
        try:
            data = self._source(spec, namespace)
            redact = Redactor(tuple(v.decode("utf-8", "replace") for v in data.values()))
            entries = plan.entries(spec, data)
            for ref in spec.secret_store_refs:
                if ref.name is None:
                    raise Unsupported(
                        field="spec.secretStoreRefs[].labelSelector",
                        instead="name each store",
                    )
                key = plan.store_key(ref.kind.value, ref.name)
                synced[key] = self._push_store(spec, ref.kind, ref.name, namespace, entries)
            if plan.deletes(spec):
                self._delete(plan.obsolete(previous, synced), namespace)
        except SourceGone as exc:
            if plan.deletes(spec) and previous:
                cleaned = self._source_deleted(raw, previous, namespace)
                interval = spec.refresh_interval.total_seconds()
                return (interval or None) if cleaned else RETRY_SECONDS
            self._report(raw, False, plan.Reason.ERRORED, str(exc), previous)
            return RETRY_SECONDS
        except SecretSyncError as exc:
            merged = {**previous, **synced}
            self._report(raw, False, plan.Reason.ERRORED, redact(str(exc)), merged)
            return None if isinstance(exc, ConfigError) else RETRY_SECONDS
        self._report(
            raw, True, plan.Reason.SYNCED, plan.outcome_message(spec), synced, version=version
        )
        interval = spec.refresh_interval.total_seconds()
        return interval if interval > 0 else None

    def _source(self, spec: PushSecretSpec, namespace: str) -> dict[str, bytes]:
        selector = spec.selector
        if selector.generator_ref is not None:
            # Run again on every push, as in ESO: with Replace, each refresh rotates the value.
            data = dict(self.resolver.generate(namespace, self.lookup, selector.generator_ref))
        elif selector.secret is None or selector.secret.name is None:
            raise Unsupported(
                field="spec.selector.secret.selector",
                instead="name one Secret (selector.secret.name); label selectors are not "
                "pushed yet",
            )
        else:
            found = self.secrets.get(namespace, selector.secret.name)
            if found is None:
                raise SourceGone(f"Secret {namespace}/{selector.secret.name} does not exist")
            data = decode_data(found)
        if spec.template is None:
            return data
        source = self.resolver.template_source(namespace)
        return dict(templating.apply(spec.template, data, source).data)

    def _source_deleted(
        self, raw: Mapping[str, Any], previous: plan.Synced, namespace: str
    ) -> bool:
        """ESO's answer to a source Secret deleted under deletionPolicy Delete: what was pushed
        is deleted too, and the PushSecret says so (Ready=False, SourceDeleted). Whether all
        of it was."""
        left = self._delete_each(plan.everything(previous), namespace)
        if left:
            message = f"failed to cleanup provider secrets: {left[0][2]}"
            self._report(raw, False, plan.Reason.ERRORED, message, previous)
            return False
        message = "source secret deleted; provider secrets cleaned up"
        self._report(raw, False, plan.Reason.SOURCE_DELETED, message, {}, warning=False)
        return True

    def _push_store(
        self,
        spec: PushSecretSpec,
        kind: StoreKind,
        store_name: str,
        namespace: str,
        entries: list[plan.Entry],
    ) -> dict[str, dict[str, Any]]:
        writer = self._writer(kind, store_name, namespace)
        done: dict[str, dict[str, Any]] = {}
        try:
            for entry in entries:
                action = plan.decide(writer.remote(entry.ref), spec.update_policy)
                if action is plan.Action.REFUSE:
                    raise ForeignValue(
                        f"{kind.value} {store_name}: {entry.ref.remote_key!r} exists and was not "
                        "written by a PushSecret (no managed-by: external-secrets marker); it is "
                        "left as it is. Push to another remoteKey, or mark it if it may be replaced"
                    )
                if action is plan.Action.WRITE:
                    writer.set(entry.ref, entry.value)
                done[entry.status_key] = plan.synced_entry(entry)
        finally:
            writer.close()
        return done

    def _writer(self, kind: StoreKind, name: str, namespace: str) -> Writer:
        store = self.lookup.store(kind, namespace, name)
        provider = self.resolver.writer(store, namespace)
        if not isinstance(provider, Writer):
            provider.close()
            raise ConfigError(
                f"{kind.value} {name} is read-only (SOPS files are changed in Git, not pushed); "
                "push to a Vault/OpenBao, AWS Secrets Manager or Parameter Store store",
                field="spec.secretStoreRefs",
            )
        return provider

    def _delete(self, gone: list[tuple[str, PushRef]], namespace: str) -> None:
        """What is no longer pushed; the first failure is raised (retried at the next push)."""
        left = self._delete_each(gone, namespace)
        if left:
            raise left[0][2]

    def _delete_each(self, gone: list[tuple[str, PushRef]], namespace: str) -> plan.Left:
        """Every ref that can be deleted is; the ones that could not, with why."""
        left: plan.Left = []
        for store, refs in plan.by_store(gone).items():
            kind, _, name = store.partition("/")
            try:
                writer = self._writer(StoreKind(kind), name, namespace)
            except SecretSyncError as exc:
                left += [(store, ref, exc) for ref in refs]
                continue
            try:
                for ref in refs:
                    try:
                        writer.delete(ref)
                    except SecretSyncError as exc:
                        left.append((store, ref, exc))
            finally:
                writer.close()
        return left

    def _finalize(self, raw: Mapping[str, Any], namespace: str, name: str) -> float | None:
        """Delete what was pushed (deletionPolicy Delete), then let the PushSecret go. A
        failure is retried until finalizing.give_up says stop; what is then left in the
        stores is named in a Warning Event."""
        meta = raw.get("metadata") or {}
        if FINALIZER not in (meta.get("finalizers") or []):
            return None
        where = {"object": f"{namespace}/{name}"}
        if plan.deletes_raw(raw.get("spec")):
            recorded = plan.everything(plan.previous_synced(raw.get("status")))
            left = self._delete_each(recorded, namespace)
            since, now = finalizing.deleting_since(raw), self.clock().timestamp()
            if left and not all(finalizing.give_up(exc, since, now) for _, _, exc in left):
                message = f"Failed to Delete Secrets from Provider: {left[0][2]}"
                self._report(raw, False, plan.Reason.ERRORED, message, None)
                log.warning(
                    "deleting pushed secrets failed; retrying",
                    extra={**where, "reason": type(left[0][2]).__name__},
                )
                return RETRY_SECONDS
            if left:
                message = plan.left_behind_message(left)
                self.events.record(raw, KIND, LEFT_BEHIND, message, warning=True)
                log.warning(
                    "pushed secrets left in the stores", extra={**where, "reason": LEFT_BEHIND}
                )
        try:
            self.finalizers.remove(namespace, name, FINALIZER)
        except SecretSyncError as exc:
            log.warning(
                "finalizer not removed; retrying", extra={**where, "reason": type(exc).__name__}
            )
            return RETRY_SECONDS
        return None

    def _report(
        self,
        raw: Mapping[str, Any],
        ready: bool,
        reason: str,
        message: str,
        synced: plan.Synced | None,
        *,
        version: str | None = None,
        warning: bool | None = None,
    ) -> None:
        meta = parse_metadata(raw)
        new = plan.new_status(
            raw.get("status"),
            ready=ready,
            reason=str(reason),
            message=message,
            synced=synced,
            now=self.clock(),
            resource_version=version,
        )
        try:
            self.statuses.patch_status(PLURAL, meta.namespace, meta.name, new, version=VERSION)
        except NotFound:
            return  # deleted meanwhile
        conditions = (raw.get("status") or {}).get("conditions") or []
        old: Mapping[str, Any] = next((c for c in conditions if c.get("type") == "Ready"), {})
        if old.get("reason") != str(reason) or old.get("message") != message or not ready:
            loud = not ready if warning is None else warning
            self.events.record(raw, KIND, str(reason), message, warning=loud)
        log.info(
            "pushed" if ready else "push failed",
            extra={"object": f"{meta.namespace}/{meta.name}", "reason": str(reason)},
        )
