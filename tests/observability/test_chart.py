"""The chart's observability objects render from values: the metrics Service by default, the
ServiceMonitor, PrometheusRule and dashboard ConfigMap only when asked for, and each carries
the files the other tests prove (the rules, the dashboard) unchanged."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import yaml

from tests.observability import prom
from tests.testbed import binaries

CHART = prom.RULES.parents[1]


def _render(*sets: str) -> list[dict[str, Any]]:
    args = [str(binaries.require(binaries.HELM)), "template", "secretsync", str(CHART)]
    args += ["--namespace", "secretsync-system"]
    for value in sets:
        args += ["--set", value]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def _kinds(docs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        found.setdefault(doc["kind"], []).append(doc)
    return found


def test_by_default_only_the_metrics_service() -> None:
    kinds = _kinds(_render())
    assert "ServiceMonitor" not in kinds and "PrometheusRule" not in kinds
    assert not [c for c in kinds.get("ConfigMap", []) if "secretsync.json" in c["data"]]
    service = next(s for s in kinds["Service"] if s["metadata"]["name"] == "secretsync-metrics")
    assert service["spec"]["ports"] == [
        {"name": "metrics", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]
    deployment = kinds["Deployment"][0]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "http", "containerPort": 8080} in [
        {k: p[k] for k in ("name", "containerPort")} for p in container["ports"]
    ]


def test_service_monitor_rule_and_dashboard_when_enabled() -> None:
    kinds = _kinds(
        _render(
            "serviceMonitor.enabled=true",
            "serviceMonitor.labels.release=kps",
            "prometheusRule.enabled=true",
            "prometheusRule.labels.release=kps",
            "grafanaDashboard.enabled=true",
        )
    )
    service = next(s for s in kinds["Service"] if s["metadata"]["name"] == "secretsync-metrics")
    monitor = kinds["ServiceMonitor"][0]
    assert monitor["metadata"]["labels"]["release"] == "kps"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["secretsync-system"]}
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"] == "metrics" and endpoint["path"] == "/metrics"
    assert endpoint["honorLabels"] is True

    rule = kinds["PrometheusRule"][0]
    assert rule["metadata"]["labels"]["release"] == "kps"
    assert rule["spec"]["groups"] == yaml.safe_load(prom.RULES.read_text())["groups"]

    dashboard = next(c for c in kinds["ConfigMap"] if "secretsync.json" in c["data"])
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(dashboard["data"]["secretsync.json"]) == json.loads(
        prom.DASHBOARD.read_text()
    )


def test_a_service_monitor_without_the_service_is_refused() -> None:
    args = [str(binaries.require(binaries.HELM)), "template", "secretsync", str(CHART)]
    args += ["--set", "serviceMonitor.enabled=true", "--set", "metrics.service.enabled=false"]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "serviceMonitor.enabled needs metrics.service.enabled" in done.stderr


def test_kustomize_users_get_the_same_metrics_service() -> None:
    done = subprocess.run(
        [
            str(binaries.require(binaries.KUBECTL)),
            "kustomize",
            str(CHART.parents[1] / "monitoring"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ours = yaml.safe_load(done.stdout)
    chart = next(
        s for s in _kinds(_render())["Service"] if s["metadata"]["name"] == "secretsync-metrics"
    )
    assert ours["metadata"]["name"] == chart["metadata"]["name"]
    assert ours["metadata"]["namespace"] == chart["metadata"]["namespace"]
    assert ours["spec"]["ports"] == chart["spec"]["ports"]
    assert ours["spec"]["selector"].items() <= chart["spec"]["selector"].items()
    assert ours["metadata"]["labels"]["app.kubernetes.io/component"] == "metrics"
