"""/metrics speaks ESO's metrics (external-secrets 2.9 docs/api/metrics.md): the same names,
label names and semantics, so ESO's dashboards and alerts keep working; a deleted object's
series go; no secret value is ever exposed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes import client

from secretsync.metrics import (
    Counter,
    Gauge,
    GaugeFunc,
    Histogram,
    ProcessMetrics,
    exposition,
)
from secretsync.operator.telemetry import Metrics
from secretsync.reconcile.queue import WorkQueue
from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import unique, vault, vault_store
from tests.testbed import stack

GROUP = "external-secrets.io"
EXTENDED_SUFFIXES = ("name", "instance", "version", "component", "part_of", "managed_by")
SERIES = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')
ESO_LABELS = {
    "externalsecret_sync_calls_total": ("name", "namespace"),
    "externalsecret_sync_calls_error": ("name", "namespace"),
    "externalsecret_reconcile_duration": ("name", "namespace"),
    "externalsecret_status_condition": ("name", "namespace", "condition", "status"),
    "externalsecret_provider_api_calls_count": ("provider", "call", "status"),
    "secretstore_status_condition": ("name", "namespace", "condition", "status"),
    "secretstore_reconcile_duration": ("name", "namespace"),
    "clustersecretstore_status_condition": ("name", "namespace", "condition", "status"),
    "clustersecretstore_reconcile_duration": ("name", "namespace"),
    "clusterexternalsecret_status_condition": ("name", "namespace", "condition", "status"),
    "clusterexternalsecret_reconcile_duration": ("name", "namespace"),
}
ESO_TYPES = {
    "externalsecret_sync_calls_total": "counter",
    "externalsecret_sync_calls_error": "counter",
    "externalsecret_provider_api_calls_count": "counter",
    "externalsecret_reconcile_duration": "gauge",
    "externalsecret_status_condition": "gauge",
    "secretstore_status_condition": "gauge",
    "clustersecretstore_status_condition": "gauge",
    "clusterexternalsecret_status_condition": "gauge",
}

Sample = tuple[str, dict[str, str], float]


def parse(text: str) -> tuple[list[Sample], dict[str, str]]:
    """Every line is a comment or a well-formed sample; returns the samples and the TYPEs."""
    samples: list[Sample] = []
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        match = SERIES.match(line)
        assert match, f"not a Prometheus sample: {line!r}"
        name, labels_text, value = match.groups()
        labels = dict(LABEL.findall(labels_text or ""))
        samples.append((name, labels, float(value)))
    return samples, types


def find(samples: list[Sample], metric: str, /, **labels: str) -> list[Sample]:
    return [
        s for s in samples if s[0] == metric and all(s[1].get(k) == v for k, v in labels.items())
    ]


def value(samples: list[Sample], metric: str, /, **labels: str) -> float:
    (found,) = find(samples, metric, **labels)
    return found[2]


# --- the registry and ESO's semantics (pure) -----------------------------------------------


def test_every_eso_family_has_esos_type_and_label_names() -> None:
    metrics = Metrics()
    metrics.reconciled("team-a", "db", failed=True, seconds=0.25)
    metrics.condition("team-a", "db", ready=False)
    metrics.provider_call("HashiCorp/Vault", "ReadSecretData", ok=True)
    for kind in ("SecretStore", "ClusterSecretStore"):
        metrics.object_condition(kind, "team-a" if kind == "SecretStore" else None, "s", True)
        metrics.object_reconciled(kind, "team-a" if kind == "SecretStore" else None, "s", 0.1)
    metrics.object_condition("ClusterExternalSecret", None, "ces", True)
    metrics.object_reconciled("ClusterExternalSecret", None, "ces", 0.1)
    samples, types = parse(metrics.text())
    for name, kind in ESO_TYPES.items():
        assert types[name] == kind, name
    seen = {s[0] for s in samples}
    assert seen >= set(ESO_LABELS)
    for name, labels, _ in samples:
        if name in ESO_LABELS:
            assert tuple(labels) == ESO_LABELS[name], (name, labels)
    # ESO's duration gauges hold a Go time.Duration: nanoseconds.
    assert value(samples, "externalsecret_reconcile_duration", name="db") == 250_000_000
    assert value(samples, "clustersecretstore_status_condition", status="True") == 1
    assert find(samples, "clustersecretstore_status_condition")[0][1]["namespace"] == ""
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total"} <= seen


def test_the_condition_gauge_is_one_for_the_current_status_and_zero_for_the_other() -> None:
    metrics = Metrics()
    metrics.condition("ns", "db", ready=False)
    samples, _ = parse(metrics.text())
    condition = "externalsecret_status_condition"
    assert value(samples, condition, name="db", status="False") == 1
    assert value(samples, condition, name="db", status="True") == 0
    metrics.condition("ns", "db", ready=True)
    samples, _ = parse(metrics.text())
    assert value(samples, condition, name="db", status="True") == 1
    assert value(samples, condition, name="db", status="False") == 0
    assert len(find(samples, condition, name="db")) == 2


def test_forgetting_an_object_removes_every_series_it_had_and_no_other() -> None:
    metrics = Metrics()
    for name in ("gone", "kept"):
        metrics.reconciled("ns", name, failed=True, seconds=0.1)
        metrics.condition("ns", name, ready=False)
    metrics.object_condition("SecretStore", "ns", "gone", ready=True)
    metrics.object_reconciled("SecretStore", "ns", "gone", 0.1)
    metrics.forget("ns", "gone")
    metrics.forget_object("SecretStore", "ns", "gone")
    samples, _ = parse(metrics.text())
    assert not [s for s in samples if s[1].get("name") == "gone"]
    assert len([s for s in samples if s[1].get("name") == "kept"]) == 5


def test_same_named_stores_in_two_namespaces_do_not_collide() -> None:
    metrics = Metrics()
    metrics.synced(("SecretStore", "team-a", "vault"), True, "SecretSynced", 0.1)
    metrics.synced(("SecretStore", "team-b", "vault"), False, "AccessDenied", 0.1)
    metrics.synced(("ClusterSecretStore", "", "vault"), True, "SecretSynced", 0.1)
    samples, _ = parse(metrics.text())
    calls = find(samples, "secretsync_store_sync_calls_total", store="vault")
    assert sorted((s[1]["store_kind"], s[1]["store_namespace"], s[1]["result"]) for s in calls) == [
        ("ClusterSecretStore", "", "success"),
        ("SecretStore", "team-a", "success"),
        ("SecretStore", "team-b", "error"),
    ]
    (error,) = find(samples, "secretsync_store_sync_errors_total")
    assert error[1] == {
        "store_kind": "SecretStore",
        "store_namespace": "team-b",
        "store": "vault",
        "reason": "AccessDenied",
    }


def test_extended_labels_carry_the_objects_recommended_labels_as_eso_does() -> None:
    metrics = Metrics(extended_labels=True)
    labels = {"app.kubernetes.io/name": "api", "app.kubernetes.io/part-of": "shop", "team": "a"}
    metrics.labels("ExternalSecret", "ns", "db", labels)
    metrics.reconciled("ns", "db", failed=False, seconds=0.1)
    metrics.condition("ns", "db", ready=True)
    samples, _ = parse(metrics.text())
    extended = tuple(f"app_kubernetes_io_{n}" for n in EXTENDED_SUFFIXES)
    (calls,) = find(samples, "externalsecret_sync_calls_total")
    assert tuple(calls[1]) == ("name", "namespace", *extended)
    assert calls[1]["app_kubernetes_io_name"] == "api"
    assert calls[1]["app_kubernetes_io_part_of"] == "shop"
    assert calls[1]["app_kubernetes_io_version"] == ""
    for sample in find(samples, "externalsecret_status_condition"):
        assert tuple(sample[1]) == ("name", "namespace", "condition", "status", *extended)
    # New label values replace the object's series rather than adding to them.
    metrics.labels("ExternalSecret", "ns", "db", {"app.kubernetes.io/name": "web"})
    metrics.condition("ns", "db", ready=True)
    samples, _ = parse(metrics.text())
    assert {s[1]["app_kubernetes_io_name"] for s in samples if s[1].get("name") == "db"} == {"web"}
    metrics.forget("ns", "db")
    assert not [s for s in parse(metrics.text())[0] if s[1].get("name") == "db"]


def test_controller_runtime_reconcile_metrics_count_each_kind_apart() -> None:
    metrics = Metrics()
    metrics.reconciled("ns", "db", failed=False, seconds=0.01)
    metrics.reconciled("ns", "db", failed=True, seconds=0.01)
    metrics.object_reconciled("SecretStore", "ns", "vault", 0.01, failed=True)
    samples, types = parse(metrics.text())
    total = "controller_runtime_reconcile_total"
    assert types[total] == "counter"
    assert value(samples, total, controller="externalsecret", result="success") == 1
    assert value(samples, total, controller="externalsecret", result="error") == 1
    assert value(samples, total, controller="secretstore", result="error") == 1
    errors = "controller_runtime_reconcile_errors_total"
    assert value(samples, errors, controller="externalsecret") == 1
    count = "controller_runtime_reconcile_time_seconds_count"
    assert value(samples, count, controller="externalsecret") == 2


def test_the_workqueue_depth_counts_only_keys_due_now() -> None:
    now = [100.0]
    queue = WorkQueue(clock=lambda: now[0])
    depth = GaugeFunc("workqueue_depth", "depth", queue.ready, (("name", "secretsync"),))
    queue.add(("ns", "a"))
    queue.add(("ns", "b"), delay=60)  # its next refresh: not waiting for a worker yet
    assert exposition([depth]).splitlines()[-1] == 'workqueue_depth{name="secretsync"} 1'
    now[0] += 61
    assert queue.ready() == 2
    assert queue.get(timeout=0) is not None
    assert queue.ready() == 1, "a key a worker holds is no longer waiting"


def test_the_exposition_escapes_label_values_and_writes_histograms() -> None:
    counter = Counter("c_total", "help", ("v",))
    counter.inc('a "quoted"\\ value\nwith a newline')
    gauge = Gauge("g", "help")
    gauge.set(value=1.5)
    histogram = Histogram("h_seconds", "help", buckets=(0.1, 1.0))
    for seconds in (0.05, 0.5, 5.0):
        histogram.observe(seconds)
    text = exposition([counter, gauge, histogram])
    assert 'c_total{v="a \\"quoted\\"\\\\ value\\nwith a newline"} 1' in text
    assert "g 1.5" in text.splitlines()
    for line in ('h_seconds_bucket{le="0.1"} 1', 'h_seconds_bucket{le="1"} 2'):
        assert line in text.splitlines()
    assert 'h_seconds_bucket{le="+Inf"} 3' in text and "h_seconds_count 3" in text
    samples, _ = parse(text)
    assert value(samples, "h_seconds_sum") == pytest.approx(5.55)


def test_process_metrics_read_this_process(tmp_path: Path) -> None:
    samples, types = parse(exposition([ProcessMetrics()]))
    assert types["process_cpu_seconds_total"] == "counter"
    assert value(samples, "process_resident_memory_bytes") > 1_000_000
    assert value(samples, "process_open_fds") >= 3
    # Without /proc (another OS, a locked-down sandbox) the metrics are left out, not broken.
    assert exposition([ProcessMetrics(tmp_path / "missing")]) == "\n"


# --- the operator on the test bed ---------------------------------------------------------

PASSWORD = "metrics-s3cret-" + uuid.uuid4().hex[:8]


@pytest.fixture
def cluster_store(kube: Cluster) -> Iterator[str]:
    """A ClusterSecretStore name and a ClusterExternalSecret of the same name, deleted after
    (both are cluster-scoped, so shared by parallel tests)."""
    name = unique("metrics")
    yield name
    for plural in ("clusterexternalsecrets", "clustersecretstores"):
        try:
            kube.custom.delete_cluster_custom_object(GROUP, "v1", plural, name)
        except client.exceptions.ApiException as exc:
            if exc.status != 404:
                raise


def _es(name: str, key: str, store: str = "vault", kind: str = "SecretStore") -> dict[str, object]:
    return {
        "kind": "ExternalSecret",
        "metadata": {"name": name},
        "spec": {
            "refreshInterval": "1h",
            "secretStoreRef": {"name": store, "kind": kind},
            "data": [{"secretKey": "password", "remoteRef": {"key": key, "property": "password"}}],
        },
    }


def test_the_operator_exposes_esos_metrics_and_drops_a_deleted_objects_series(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    make_namespace: Callable[..., str],
    start_operator: Callable[..., Operator],
    cluster_store: str,
) -> None:
    key = unique("metrics")
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"password": PASSWORD})
    other = Cluster(kube_api, make_namespace())
    for where in (kube, other):  # two SecretStores named "vault", one per namespace
        vault_store(where, testbed)
    vault_store(kube, testbed, cluster_store, "ClusterSecretStore")
    kube.apply("externalsecrets", _es("synced", key))
    kube.apply("externalsecrets", _es("failing", f"{key}-missing"))
    kube.apply("externalsecrets", _es("via-cluster", key, cluster_store, "ClusterSecretStore"))
    other.apply("externalsecrets", _es("synced", key))
    kube.apply(
        "clusterexternalsecrets",
        {
            "kind": "ClusterExternalSecret",
            "metadata": {"name": cluster_store},
            "spec": {
                "externalSecretName": "from-ces",
                "namespaceSelectors": [
                    {"matchLabels": {"kubernetes.io/metadata.name": kube.namespace}}
                ],
                "externalSecretSpec": _es("x", key, cluster_store, "ClusterSecretStore")["spec"],
            },
        },
    )
    operator = start_operator(also=(other.namespace,))
    eventually(lambda: kube.data("synced") == {"password": PASSWORD.encode()}, what="a sync")
    eventually(lambda: other.data("synced") == {"password": PASSWORD.encode()}, what="a sync")
    eventually(lambda: (kube.ready("failing") or {}).get("status") == "False", what="a failure")

    def scraped() -> list[Sample]:
        return parse(operator.metrics())[0]

    ns = kube.namespace
    condition = "externalsecret_status_condition"

    def settled() -> bool:
        samples = scraped()
        return bool(
            find(samples, condition, name="via-cluster", status="True")
            and find(samples, "secretstore_status_condition", namespace=other.namespace)
            and find(samples, "clustersecretstore_status_condition", name=cluster_store)
            and find(samples, "clusterexternalsecret_status_condition", name=cluster_store)
            and find(samples, condition, name="from-ces", status="True")
        )

    eventually(settled, what="every object's series")
    samples = scraped()
    assert value(samples, condition, name="synced", namespace=ns, status="True") == 1
    assert value(samples, condition, name="synced", namespace=ns, status="False") == 0
    assert value(samples, condition, name="failing", namespace=ns, status="False") == 1
    assert value(samples, condition, name="failing", namespace=ns, status="True") == 0
    assert value(samples, "externalsecret_sync_calls_total", name="synced", namespace=ns) >= 1
    assert value(samples, "externalsecret_sync_calls_error", name="failing", namespace=ns) >= 1
    assert not find(samples, "externalsecret_sync_calls_error", name="synced", namespace=ns)
    assert value(samples, "externalsecret_reconcile_duration", name="synced", namespace=ns) > 0
    assert find(
        samples,
        "externalsecret_provider_api_calls_count",
        provider="HashiCorp/Vault",
        status="success",
    )
    for where in (ns, other.namespace):  # the same store name, two series
        assert (
            value(
                samples,
                "secretstore_status_condition",
                name="vault",
                namespace=where,
                status="True",
            )
            == 1
        )
        assert find(
            samples,
            "secretsync_store_sync_calls_total",
            store_kind="SecretStore",
            store_namespace=where,
            store="vault",
            result="success",
        )
    assert (
        value(
            samples,
            "clustersecretstore_status_condition",
            name=cluster_store,
            namespace="",
            status="True",
        )
        == 1
    )
    assert find(samples, "secretsync_store_sync_calls_total", store_kind="ClusterSecretStore"), (
        "a ClusterSecretStore's syncs are counted apart from SecretStores"
    )
    ces = "clusterexternalsecret_status_condition"
    assert value(samples, ces, name=cluster_store, namespace="", status="True") == 1
    assert value(samples, ces, name=cluster_store, namespace="", status="False") == 0
    for name, labels, _ in samples:
        if name in ESO_LABELS:
            assert tuple(labels) == ESO_LABELS[name], (name, labels)

    reconciles = "controller_runtime_reconcile_total"
    assert value(samples, reconciles, controller="externalsecret", result="success") >= 2
    assert value(samples, reconciles, controller="externalsecret", result="error") >= 1
    assert find(samples, reconciles, controller="secretstore")
    assert find(samples, reconciles, controller="clustersecretstore")
    assert find(samples, "workqueue_depth", name="secretsync")

    text = operator.metrics()
    for secret in (PASSWORD, testbed.VAULT_TOKEN):
        assert secret not in text, "a secret value reached /metrics"

    kube.custom.delete_namespaced_custom_object(GROUP, "v1", ns, "externalsecrets", "synced")
    eventually(
        lambda: (
            not [
                s for s in scraped() if s[1].get("name") == "synced" and s[1].get("namespace") == ns
            ]
        ),
        what="the deleted ExternalSecret's series to go",
    )
    samples = scraped()
    assert value(samples, condition, name="synced", namespace=other.namespace, status="True") == 1
    assert find(samples, condition, name="failing", namespace=ns), "only the deleted one went"
    kube.custom.delete_cluster_custom_object(GROUP, "v1", "clusterexternalsecrets", cluster_store)
    eventually(
        lambda: not find(scraped(), ces, name=cluster_store),
        what="the deleted ClusterExternalSecret's series to go",
    )
