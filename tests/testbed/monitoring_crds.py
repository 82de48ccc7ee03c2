"""The Prometheus Operator's ServiceMonitor and PrometheusRule CRDs, from its Go module (the
module proxy serves them with the source), so the chart's monitoring objects can be dry-run on
the test bed like everything else. `python -m tests.testbed build` (make bootstrap) downloads
the module ahead of time."""

from __future__ import annotations

from typing import Any

from secretsync.sops.yamlplain import load_documents
from tests.testbed import binaries, versions
from tests.testbed.procs import TestbedError

MODULE = "github.com/prometheus-operator/prometheus-operator"
KINDS = ("servicemonitors", "prometheusrules")


def download() -> None:
    binaries.module_source(MODULE, versions.PROMETHEUS_OPERATOR)


def load() -> list[dict[str, Any]]:
    folder = (
        binaries.module_source(MODULE, versions.PROMETHEUS_OPERATOR)
        / "example"
        / "prometheus-operator-crd"
    )
    crds: list[dict[str, Any]] = []
    for kind in KINDS:
        path = folder / f"monitoring.coreos.com_{kind}.yaml"
        if not path.exists():
            raise TestbedError(
                f"{path} is missing from the module; check versions.PROMETHEUS_OPERATOR"
            )
        crds += load_documents(path.read_text(), path.name)
    return crds
