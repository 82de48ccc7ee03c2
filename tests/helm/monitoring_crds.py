"""The Prometheus Operator's ServiceMonitor and PrometheusRule CRDs, from its Go module (the
module proxy serves them with the source), so the chart's monitoring objects can be dry-run on
the test bed like everything else."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from secretsync.sops.yamlplain import load_documents
from tests.testbed.procs import TestbedError

MODULE = "github.com/prometheus-operator/prometheus-operator"
VERSION = "v0.85.0"
KINDS = ("servicemonitors", "prometheusrules")
DOWNLOAD = f"GOSUMDB=off GOTOOLCHAIN=local go mod download {MODULE}@{VERSION}"


def _module_dir() -> Path:
    cache = os.environ.get("GOMODCACHE") or str(
        Path(os.environ.get("GOPATH") or Path.home() / "go") / "pkg" / "mod"
    )
    return Path(cache) / f"{MODULE}@{VERSION}"


def load() -> list[dict[str, Any]]:
    folder = _module_dir() / "example" / "prometheus-operator-crd"
    crds: list[dict[str, Any]] = []
    for kind in KINDS:
        path = folder / f"monitoring.coreos.com_{kind}.yaml"
        if not path.exists():
            raise TestbedError(f"{path} is missing; run: {DOWNLOAD}")
        crds += load_documents(path.read_text(), path.name)
    return crds
