"""A real Prometheus scrapes the real operator on the test bed: the alerts fire when a store
breaks (a dead Vault address, a rate-limit quota, a rotation that breaks its workload, hand
edits of a managed Secret, a Lease held by someone else) and resolve when it heals; every query
of the dashboard returns data; ESO's own readiness alert works unchanged on our metrics; and no
secret value reaches Prometheus.

The rule file is loaded with its durations shortened (prom.fast_rules says why); its expressions,
labels and thresholds are the file's own, and promtool's unit tests check the real durations.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import re
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hvac
import pytest
import yaml
from kubernetes import client

from tests.observability import prom
from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import rotating_es, vault_store
from tests.rollout import cluster as c
from tests.testbed import bao, procs, stack

# ESO's own alert for ExternalSecrets that are not Ready, quoted verbatim from its Helm chart
# (alert ExternalSecretReady in deploy/charts/external-secrets/templates/prometheus-rules/
# ready-state.yml):
# https://github.com/external-secrets/external-secrets/blob/a2fa57321d57e5d849b1e06eb025d6fd18c5cd8c/deploy/charts/external-secrets/templates/prometheus-rules/ready-state.yml
ESO_READY_ALERT = 'externalsecret_status_condition{status="True"} == 0'

STORE_ALERTS = (
    "SecretSyncExternalSecretNotReady",
    "SecretSyncErrorsRising",
    "SecretSyncProviderErrors",
)

StartPrometheus = Callable[[Operator], prom.Prometheus]


@pytest.fixture
def start_prometheus(tmp_path: Path) -> Iterator[StartPrometheus]:
    """A Prometheus scraping the given operator every second with the (fast) rule file."""
    started: list[prom.Prometheus] = []

    def start(operator: Operator) -> prom.Prometheus:
        target = urllib.parse.urlsplit(operator.metrics_url).netloc
        server = prom.start(
            target, tmp_path / f"prometheus-{len(started)}", prom.fast_rules(prom.RULES.read_text())
        )
        started.append(server)
        prom.until(server.scraped, "the first scrape of the operator")
        return server

    yield start
    for server in started:
        server.stop()


def _secret_store(kube: Cluster, testbed: stack.Testbed, server: str) -> None:
    kube.custom.patch_namespaced_custom_object(
        "external-secrets.io",
        "v1",
        kube.namespace,
        "secretstores",
        "vault",
        {"spec": {"provider": {"vault": {"server": server}}}},
    )


def _es(kube: Cluster, key: str, refresh: str = "1s") -> None:
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": "db"},
            "spec": {
                "refreshInterval": refresh,
                "secretStoreRef": {"name": "vault"},
                "target": {"name": "db"},
                "data": [
                    {"secretKey": "password", "remoteRef": {"key": key, "property": "password"}}
                ],
            },
        },
    )


def _eso_not_ready(server: prom.Prometheus, namespace: str) -> set[str]:
    return {
        r["metric"]["name"]
        for r in server.query(ESO_READY_ALERT)
        if r["metric"].get("namespace") == namespace
    }


def _resolved(server: prom.Prometheus, alert: str) -> bool:
    return server.firing(alert) == []


def _no_value_leaks(server: prom.Prometheus, *values: str) -> None:
    everything = json.dumps(server.query('{job="secretsync"}'))
    for value in values:
        assert value not in everything, "a secret value reached Prometheus"


def test_store_alerts_fire_when_the_store_breaks_and_resolve_when_it_heals(
    kube: Cluster,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
    start_prometheus: StartPrometheus,
) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    key = f"obs/{kube.namespace}"
    hvac.Client(
        url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN
    ).secrets.kv.v2.create_or_update_secret(key, secret={"password": password})
    vault_store(kube, testbed)
    _es(kube, key)
    server = start_prometheus(start_operator())
    ready = (
        f'externalsecret_status_condition{{namespace="{kube.namespace}", name="db",'
        ' condition="Ready", status="True"} == 1'
    )
    prom.until(lambda: server.query(ready), "the ExternalSecret Ready in Prometheus")
    assert _eso_not_ready(server, kube.namespace) == set()
    for alert in STORE_ALERTS:
        assert server.firing(alert) == [], alert

    _secret_store(kube, testbed, f"http://127.0.0.1:{procs.free_port()}")  # nobody listens
    fired = {
        alert: prom.until(functools.partial(server.firing, alert), f"{alert} to fire")
        for alert in STORE_ALERTS
    }
    assert fired["SecretSyncExternalSecretNotReady"] == [
        {
            "alertname": "SecretSyncExternalSecretNotReady",
            "severity": "warning",
            "namespace": kube.namespace,
            "name": "db",
        }
    ]
    assert [a["namespace"] for a in fired["SecretSyncErrorsRising"]] == [kube.namespace]
    assert {a["provider"] for a in fired["SecretSyncProviderErrors"]} == {"HashiCorp/Vault"}
    prom.until(lambda: _eso_not_ready(server, kube.namespace) == {"db"}, "ESO's alert to fire")
    _no_value_leaks(server, password)

    _secret_store(kube, testbed, testbed.VAULT_ADDR)
    for alert in STORE_ALERTS:
        prom.until(functools.partial(_resolved, server, alert), f"{alert} to resolve")
    assert _eso_not_ready(server, kube.namespace) == set()
    assert set(server.rule_health().values()) == {"ok"}, server.rule_health()


def test_throttling_fires_under_a_rate_limit_quota_and_resolves_without_it(
    kube: Cluster,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
    start_prometheus: StartPrometheus,
) -> None:
    root = bao.Bao(testbed.VAULT_ADDR, testbed.VAULT_TOKEN)
    key = f"obs/{kube.namespace}"
    hvac.Client(
        url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN
    ).secrets.kv.v2.create_or_update_secret(key, secret={"password": "x"})
    vault_store(kube, testbed)
    _es(kube, key)
    server = start_prometheus(start_operator())
    prom.until(lambda: kube.data("db"), "the first sync")
    assert server.firing("SecretSyncProviderThrottled") == []

    quota = f"sys/quotas/rate-limit/obs-{kube.namespace}"
    # One read of this key a minute: the ExternalSecret refreshes every second.
    bao.request(root, "POST", quota, {"path": f"secret/data/{key}", "rate": 1, "interval": "1m"})
    try:
        fired = prom.until(
            lambda: server.firing("SecretSyncProviderThrottled"), "SecretSyncProviderThrottled"
        )
        assert fired == [
            {
                "alertname": "SecretSyncProviderThrottled",
                "severity": "warning",
                "store_kind": "SecretStore",
                "store_namespace": kube.namespace,
                "store": "vault",
            }
        ]
    finally:
        bao.request(root, "DELETE", quota)
    prom.until(
        lambda: server.firing("SecretSyncProviderThrottled") == [],
        "SecretSyncProviderThrottled to resolve",
    )


def _deployment_ready(api: client.ApiClient, namespace: str) -> bool:
    status = client.AppsV1Api(api).read_namespaced_deployment_status("app", namespace).status
    assert status is not None
    return (status.ready_replicas or 0) == 2


def _counter(server: prom.Prometheus, expr: str) -> float:
    found = server.query(expr)
    return float(found[0]["value"][1]) if found else 0.0


def _grafana(expr: str, namespace: str, seconds: int, interval: int) -> str:
    """`expr` with the variables substituted as Grafana does for a Prometheus data source:
    $namespace as a regex-escaped value, $__range as the dashboard's range, $__interval as
    range / max data points but not below the scrape interval, and $__rate_interval as
    max($__interval + scrape interval, 4 * scrape interval)."""
    escaped = re.sub(r"([\\^$*+?.()|{}\[\]])", r"\\\\\1", namespace)
    rate = max(interval + prom.SCRAPE_SECONDS, 4 * prom.SCRAPE_SECONDS)
    for name, value in (
        ("$__rate_interval", f"{rate}s"),
        ("$__interval", f"{interval}s"),
        ("$__range", f"{seconds}s"),
        ("$namespace", escaped),
    ):
        expr = expr.replace(name, value)
    assert "$" not in expr, f"a variable the test does not know: {expr}"
    return expr


def _has_numbers(result: list[dict[str, Any]]) -> bool:
    values = [v for series in result for _, v in series.get("values", [series.get("value")])]
    return any(not math.isnan(float(v)) for v in values)


def _dashboard_queries() -> Iterator[tuple[str, str, bool]]:
    dashboard = json.loads(prom.DASHBOARD.read_text())
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel["title"], target["expr"], bool(target.get("instant"))


def test_rollout_and_drift_alerts_and_every_dashboard_query(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
    start_prometheus: StartPrometheus,
) -> None:
    vault = hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)
    key = f"obs/{kube.namespace}"
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "good"})
    rotating_es(
        kube,
        testbed,
        key,
        {"targets": [{"kind": "Deployment", "name": "app"}], "healthTimeout": "20s"},
    )
    operator = start_operator()
    server = start_prometheus(operator)
    began = time.time()
    eventually(lambda: kube.data("db") == {"password": b"good"}, what="first sync")
    template = c.pod_template(
        "app", secret="db", annotations={"testbed.secretsync.io/fail-if": "db/password=bad"}
    )
    client.AppsV1Api(kube_api).create_namespaced_deployment(
        kube.namespace, c.deployment("app", template)
    )
    eventually(lambda: _deployment_ready(kube_api, kube.namespace), what="the app healthy")

    # A rotation the app survives: the rollout succeeds and the alert stays quiet.
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "better"})
    prom.until(
        lambda: _counter(server, 'secretsync_rollouts_total{outcome="succeeded"}') >= 1,
        "a succeeded rollout in Prometheus",
        timeout=120,
    )
    assert server.firing("SecretSyncRolloutFailed") == []

    # Three hand edits of the managed Secret, each put back.
    assert server.firing("SecretSyncDriftHealedRepeatedly") == []
    for attempt in range(3):
        kube.core.patch_namespaced_secret(
            "db", kube.namespace, {"stringData": {"password": f"edited-{attempt}"}}
        )
        eventually(lambda: kube.data("db") == {"password": b"better"}, what="the edit undone")
    drift = prom.until(lambda: server.firing("SecretSyncDriftHealedRepeatedly"), "the drift alert")
    assert [a["namespace"] for a in drift] == [kube.namespace]

    # A rotation that breaks the app: rolled back, and the alert fires.
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "bad"})
    failed = prom.until(
        lambda: server.firing("SecretSyncRolloutFailed"), "the rollout alert", timeout=120
    )
    assert {a["outcome"] for a in failed} <= {"failed", "rolled_back"}
    assert "failed" in {a["outcome"] for a in failed} or "rolled_back" in {
        a["outcome"] for a in failed
    }
    prom.until(
        lambda: server.firing("SecretSyncDriftHealedRepeatedly") == [],
        "the drift alert to resolve once the edits stop",
    )

    # A broken store, so that the error panels have something to show.
    _secret_store(kube, testbed, f"http://127.0.0.1:{procs.free_port()}")
    prom.until(lambda: _eso_not_ready(server, kube.namespace), "the ExternalSecret not Ready")
    prom.until(
        lambda: server.query("sum(secretsync_store_sync_errors_total)"), "a failed sync scraped"
    )

    time.sleep(2 * prom.SCRAPE_SECONDS)  # the last failures reach a scrape
    end = time.time()
    seconds = max(int(end - began), 60)
    interval = prom.SCRAPE_SECONDS  # a range of minutes over ~1000 points: the scrape interval
    assert kube.namespace in server.label_values("namespace", "externalsecret_status_condition")
    empty = []
    for title, expr, instant in _dashboard_queries():
        query = _grafana(expr, kube.namespace, seconds, interval)
        result = (
            server.query(query)
            if instant
            else server.query_range(query, end - seconds, end, interval)
        )
        if not _has_numbers(result):
            empty.append(f"{title}: {query}")
    assert empty == [], "dashboard queries without data:\n" + "\n".join(empty)
    _no_value_leaks(server, "good", "better", "bad", "edited-0")


def _hold_lease(api: client.ApiClient, holder: str) -> None:
    leases = client.CoordinationV1Api(api)
    now = datetime.datetime.now(datetime.UTC)
    body = client.V1Lease(
        metadata=client.V1ObjectMeta(name="secretsync-operator"),
        spec=client.V1LeaseSpec(
            holder_identity=holder, lease_duration_seconds=3600, acquire_time=now, renew_time=now
        ),
    )
    try:
        leases.delete_namespaced_lease("secretsync-operator", "secretsync-system")
    except client.exceptions.ApiException as exc:
        if exc.status != 404:
            raise
    leases.create_namespaced_lease("secretsync-system", body)


# Every test that takes the real Lease runs on one worker, one at a time.
@pytest.mark.xdist_group("lease")
def test_no_leader_fires_while_nobody_leads_and_resolves_when_a_replica_takes_over(
    kube: Cluster,
    kube_api: client.ApiClient,
    start_operator: Callable[..., Operator],
    start_prometheus: StartPrometheus,
) -> None:
    leases = client.CoordinationV1Api(kube_api)
    _hold_lease(kube_api, "gone-replica")  # a holder that died without releasing the Lease
    try:
        operator = start_operator(leader_election=True)
        server = start_prometheus(operator)
        assert "secretsync_leader 0" in operator.metrics()
        fired = prom.until(lambda: server.firing("SecretSyncNoLeader"), "SecretSyncNoLeader")
        assert fired == [{"alertname": "SecretSyncNoLeader", "severity": "critical"}]

        leases.delete_namespaced_lease("secretsync-operator", "secretsync-system")
        prom.until(lambda: "secretsync_leader 1" in operator.metrics(), "the replica to lead")
        prom.until(
            lambda: server.firing("SecretSyncNoLeader") == [], "SecretSyncNoLeader to resolve"
        )
    finally:
        lease = leases.read_namespaced_lease("secretsync-operator", "secretsync-system")
        if lease.spec and lease.spec.holder_identity == "gone-replica":
            leases.delete_namespaced_lease("secretsync-operator", "secretsync-system")


def test_the_rules_evaluate_as_shipped_against_the_operator(
    kube: Cluster,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
    start_prometheus: StartPrometheus,
) -> None:
    """The file's own expressions, durations included, are valid PromQL over our series."""
    vault_store(kube, testbed)
    server = start_prometheus(start_operator())
    for group in yaml.safe_load(prom.RULES.read_text())["groups"]:
        for rule in group["rules"]:
            server.query(rule["expr"])  # raises on an error answer
