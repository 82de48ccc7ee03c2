"""`secretsync operator`: wire the parts together and run until told to stop.

With leader election on, a replica waits for the Lease before it watches or writes anything;
if it cannot renew the Lease in time it exits, so two replicas never sync at once.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
import threading
import time
from pathlib import Path

import kopf

from secretsync import limits
from secretsync.api.crds import GROUP, STORAGE_VERSION
from secretsync.api.fields import Duration
from secretsync.api.unserved import V1ALPHA1
from secretsync.errors import ConfigError, SecretSyncError
from secretsync.gitsource.registry import shared_repositories
from secretsync.kube import access, watch
from secretsync.kube import client as kube_client
from secretsync.kube.children import ChildClient
from secretsync.kube.credentials import ClusterCredentials
from secretsync.kube.event_queue import QueuedEventRecorder
from secretsync.kube.events import EventRecorder
from secretsync.kube.externalsecrets import FinalizerClient, StatusClient
from secretsync.kube.leases import LeaderElector, LeaseUnusable
from secretsync.kube.lookup import ClusterLookup
from secretsync.kube.secrets import SecretClient
from secretsync.kube.targets import TargetClient
from secretsync.kube.workloads import WorkloadClient
from secretsync.metrics import GaugeFunc
from secretsync.operator import handlers, logs, scope, telemetry, webhook
from secretsync.operator.controller import Controller
from secretsync.operator.state import CachedLookup, State
from secretsync.reconcile.cluster_sync import ClusterSyncer
from secretsync.reconcile.sync import Syncer
from secretsync.resolve.ratelimit import Limiters, Rate
from secretsync.resolve.resolver import Resolver
from secretsync.resolve.secret import MANAGED_LABEL
from secretsync.rollout.controller import RolloutController
from secretsync.rollout.ports import RegistryMetrics
from secretsync.settings import OperatorSettings

log = logging.getLogger(__name__)
RENEW_EVERY = 2.0
"""As client-go's retry period: a Lease taken by another replica is seen within this."""
API_POOL_HEADROOM = 8
"""Apiserver connections kept beyond one per sync worker, for the Lease renewal and rollouts'
health checks, which share the workers' client (the watches have their own)."""


def _lead(elector: LeaderElector, health: telemetry.Health, stop: threading.Event) -> None:
    """Wait until this replica holds the Lease. LeaseUnusable (a missing namespace, RBAC that
    refuses the Lease) propagates: waiting for it would idle forever."""
    where = f"{elector.namespace}/{elector.name}"
    log.info("waiting for the leader lease", extra={"object": where})
    standing_by_for: str | None = None
    while not stop.is_set():
        try:
            if elector.try_acquire():
                break
        except LeaseUnusable:
            raise
        except Exception as exc:  # the API server unreachable, say: worth retrying
            error = str(exc) if isinstance(exc, SecretSyncError) else None  # ours are redacted
            log.warning("lease not acquired", extra={"reason": type(exc).__name__, "error": error})
        if elector.holder and elector.holder != standing_by_for:
            standing_by_for = elector.holder
            log.info(f"standing by while {elector.holder} leads", extra={"object": where})
        health.beat()
        stop.wait(2.0)
    health.leading = True
    log.info("leading", extra={"object": where})


def _warn_if_another_leads(api: kube_client.ApiClient, settings: OperatorSettings) -> None:
    """Without leader election this process syncs regardless; if a replica holds the Lease
    (the in-cluster Deployment, say), both would write the same Secrets: say so once."""
    log.info(
        "leader election off; this process syncs on its own (--leader-elect to stand by)",
        extra={"object": f"{settings.lease_namespace}/{settings.lease_name}"},
    )
    probe = LeaderElector(api, settings.lease_namespace, settings.lease_name, _identity(settings))
    try:
        holder = probe.other_holder()
    except SecretSyncError:
        return  # no namespace or no right to read it: nobody we can see leads
    if holder:
        log.warning(
            f"{holder} holds the leader lease and syncs too, so two operators write the same "
            "Secrets; stop one of them, or run this one with --leader-elect to stand by",
            extra={"object": f"{settings.lease_namespace}/{settings.lease_name}"},
        )


def _identity(settings: OperatorSettings) -> str:
    return settings.identity or socket.gethostname()


def _keep_leading(elector: LeaderElector, stop: threading.Event) -> None:
    last = time.monotonic()
    while not stop.wait(RENEW_EVERY):
        elector.holder = None
        try:
            if elector.try_acquire():
                last = time.monotonic()
                continue
        except Exception as exc:
            log.warning("lease renewal failed", extra={"reason": type(exc).__name__})
        if elector.holder is not None:
            # A live Lease names another replica: it writes from now on, so we stop at once
            # rather than write beside it until our own term runs out.
            log.error(
                f"{elector.holder} holds the leader lease; exiting so that only it writes",
                extra={"object": f"{elector.namespace}/{elector.name}"},
            )
            os._exit(1)
        if time.monotonic() - last > elector.duration:
            log.error("lost the leader lease; exiting so that another replica takes over")
            os._exit(1)


def _ask(api: kube_client.ApiClient, question: scope.Access, health: telemetry.Health) -> bool:
    """One access review; retried while the apiserver does not answer, as kopf would."""
    while True:
        try:
            return access.allowed(
                api,
                verb=question.verb,
                group=question.group,
                resource=question.resource,
                namespace=question.namespace,
                subresource=question.subresource,
            )
        except SecretSyncError as exc:  # ours are redacted
            log.warning("cannot check permissions yet", extra={"error": str(exc)})
            health.beat()
            time.sleep(2.0)


def _scope(
    api: kube_client.ApiClient, settings: OperatorSettings, health: telemetry.Health
) -> scope.Scope:
    """What RBAC lets this operator serve. A namespace it may not use is named once, and the
    others are served; with nothing at all to serve it stops with the setting to change."""
    answers = {q: _ask(api, q, health) for q in scope.needs(settings.namespaces)}
    decided = scope.decide(settings.namespaces, answers)
    for refused in decided.refused:
        log.error(refused.message(), extra={"object": refused.namespace, "reason": "Forbidden"})
    skipped = decided.skipped_cluster_kinds()
    if skipped:
        log.info(
            f"not watching {', '.join(skipped)}: this operator may not list and watch them "
            "across the cluster (namespaced RBAC), so ClusterSecretStores and "
            "ClusterExternalSecrets it may not read are not served",
            extra={"reason": "Forbidden"},
        )
    return decided


def _lead_then_scope(
    api: kube_client.ApiClient,
    settings: OperatorSettings,
    elector: LeaderElector | None,
    health: telemetry.Health,
    stop: threading.Event,
) -> scope.Scope:
    """Scope is decided once leading: a standby's view of RBAC would be stale by the time it
    leads, and a Lease it may not take is the first thing to fix."""
    if elector is None:
        return _scope(api, settings, health)
    _lead(elector, health, stop)
    try:
        served = _scope(api, settings, health)
    except ConfigError:
        elector.release()
        raise
    threading.Thread(target=_keep_leading, args=(elector, stop), daemon=True).start()
    return served


def _assemble(
    api: kube_client.ApiClient,
    settings: OperatorSettings,
    namespaces: tuple[str, ...],
    metrics: telemetry.Metrics,
    health: telemetry.Health,
    *,
    events: EventRecorder,
    refresh_time_resolution: datetime.timedelta,
) -> tuple[Controller, RolloutController]:
    """The sync loop, the rollout engine and the controller, sharing one API client."""
    statuses, secrets = StatusClient(api), SecretClient(api)
    rollout_metrics = RegistryMetrics()
    metrics.extra.extend(rollout_metrics.families)
    workloads = WorkloadClient(api, namespaces=namespaces)
    rollouts = RolloutController(workloads, secrets, events, rollout_metrics)
    # In-flight rollouts are watched again; finished ones are never started again.
    rollouts.resume(namespaces)
    state = State()
    syncer = Syncer(
        secrets,
        statuses,
        events,
        Resolver(
            ClusterCredentials(api),
            metrics,
            Limiters(Rate(settings.store_qps, settings.store_burst), metrics),
        ),
        CachedLookup(state, ClusterLookup(api), controller_class=settings.controller_class),
        metrics,
        rollouts,
        targets=TargetClient(api),
        allow_generic_targets=settings.allow_generic_targets,
        finalizers=FinalizerClient(api),
        refresh_time_resolution=refresh_time_resolution,
    )
    controller = Controller(
        state,
        syncer,
        ClusterSyncer(
            ChildClient(api),
            statuses,
            on_ready=lambda name, ready: metrics.object_condition(
                "ClusterExternalSecret", None, name, ready
            ),
        ),
        statuses=statuses,
        metrics=metrics,
        health=health,
        repositories=shared_repositories(),
        label_selector=settings.label_selector,
        default_refresh_interval=settings.default_refresh_interval,
        controller_class=settings.controller_class,
        raw_stores=ClusterLookup(api),
        store_cap=limits.store_concurrency(settings.concurrency, settings.store_concurrency),
        push_finalizers=FinalizerClient(api, "pushsecrets", V1ALPHA1),
        push_children=ChildClient(api, "pushsecrets", V1ALPHA1),
    )
    metrics.extra.append(
        GaugeFunc(
            "workqueue_depth",
            "Current depth of workqueue",
            controller.queue.ready,
            (("name", "secretsync"),),  # one queue serves every kind
        )
    )
    return controller, rollouts


def _advertised_webhook(settings: OperatorSettings) -> str:
    if not settings.webhook_address or settings.webhook_advertise:
        return settings.webhook_advertise
    pod_ip = os.environ.get("POD_IP")  # the Deployment passes it from the downward API
    port = settings.webhook_address.rpartition(":")[2]
    return f"http://{pod_ip}:{port}" if pod_ip else ""


def _receiver(settings: OperatorSettings, elector: LeaderElector | None) -> webhook.Receiver | None:
    if not settings.webhook_address:
        return None
    if not settings.webhook_token_file:
        raise ConfigError("a webhook needs its shared secret", field="--webhook-token-file")
    token = webhook.TokenFile(Path(settings.webhook_token_file))
    receiver = webhook.Receiver(token.current, elector.leader_webhook if elector else lambda: None)
    webhook.serve(settings.webhook_address, receiver)
    return receiver


def _watch(
    settings: OperatorSettings,
    served: scope.Scope,
    controller: Controller,
    stop: threading.Event,
) -> None:
    """Our own list-then-watch threads (kube/watch.py) for the kinds with many objects; kopf
    watches the rest. One per served namespace: with namespaced RBAC a cluster-wide one is
    forbidden. They have a client of their own: each holds a connection for as long as it
    runs, and a hundred namespaces' watches in the workers' pool would leave the workers
    opening (and TLS-handshaking) a connection per request."""
    namespaces = served.namespaces or (None,)
    per_namespace = 3 if settings.allow_generic_targets else 2
    api = kube_client.api_client(settings.kubeconfig, pool_size=per_namespace * len(namespaces))
    managed = f"{MANAGED_LABEL}=true"
    loops: list[tuple[str, watch.Resource, str, watch.Handler]] = [
        (
            "externalsecret",
            watch.custom(api, GROUP, STORAGE_VERSION, "externalsecrets"),
            "",
            controller.on_external_secret,
        ),
        ("secret", watch.secrets(api), managed, controller.on_managed_secret),
    ]
    if settings.allow_generic_targets:
        # ConfigMap targets of spec.target.manifest are put back at once when edited, too.
        loops.append(
            ("configmap", watch.config_maps(api), managed, controller.on_managed_config_map)
        )
    for namespace in namespaces:
        for name, resource, selector, handler in loops:
            threading.Thread(
                target=watch.run,
                name=f"{name}-watch-{namespace or 'all'}",
                daemon=True,
                args=(resource, namespace, selector, handler, stop),
            ).start()


def run(settings: OperatorSettings) -> int:
    logs.configure(settings.log_format, settings.log_level)
    resolution = Duration.parse(settings.refresh_time_resolution, "--refresh-time-resolution")
    if settings.kubeconfig:
        os.environ["KUBECONFIG"] = settings.kubeconfig  # kopf's login reads it from here
    api = kube_client.api_client(
        settings.kubeconfig, pool_size=settings.concurrency + API_POOL_HEADROOM
    )
    metrics = telemetry.Metrics(extended_labels=settings.extended_metric_labels)
    health = telemetry.Health()
    if settings.metrics_address:
        telemetry.serve(settings.metrics_address, metrics, health)
    stop = threading.Event()
    elector = None
    if settings.leader_election:
        elector = LeaderElector(
            api,
            settings.lease_namespace,
            settings.lease_name,
            _identity(settings),
            advertise=_advertised_webhook(settings),
        )
    else:
        _warn_if_another_leads(api, settings)
    # Up before the Lease is ours: a standby forwards the pushes it is sent to the leader.
    receiver = _receiver(settings, elector)
    served = _lead_then_scope(api, settings, elector, health, stop)
    # Posted by their own thread, off the sync path: an Event is one more round trip per sync.
    events = QueuedEventRecorder(api)
    controller, rollouts = _assemble(
        api,
        settings,
        served.namespaces,
        metrics,
        health,
        events=events,
        refresh_time_resolution=resolution,
    )
    if receiver is not None:
        receiver.lead(controller.on_push)
    workers = [
        threading.Thread(target=controller.work, name=f"sync-{i}", daemon=True)
        for i in range(settings.concurrency)
    ]
    for worker in workers:
        worker.start()
    _watch(settings, served, controller, stop)
    health.ready = True
    registry = handlers.build_registry(
        controller, health, settings.kubeconfig, settings.concurrency, served.cluster_kinds
    )
    try:
        kopf.run(
            registry=registry,
            standalone=True,
            clusterwide=not served.namespaces,
            namespaces=list(served.namespaces),
        )
    finally:
        stop.set()
        controller.stopping.set()
        controller.queue.close()
        controller.resolver.close()
        rollouts.close()
        events.close()
        if elector is not None:
            elector.release()
    return 0
