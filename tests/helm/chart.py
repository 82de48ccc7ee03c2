"""The chart as tests use it: the real helm binary rendering, linting and installing
deploy/chart/secretsync, and the values profiles a user would pick."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from secretsync.sops.yamlplain import load_documents
from tests.testbed import binaries, paths

CHART = paths.REPO_ROOT / "deploy" / "chart" / "secretsync"
KWOK_NODE = {"nodeSelector": {"type": "kwok"}}
"""The test bed's KWOK node carries this label; a test override, never a chart default."""

PROFILES: dict[str, dict[str, Any]] = {
    "default": {},
    "namespaced": {"rbac": {"scope": "namespaced"}},  # namespaces are added per test
    "monitoring": {
        "serviceMonitor": {"enabled": True},
        "prometheusRule": {"enabled": True},
        "grafanaDashboard": {"enabled": True},
    },
    "webhook": {"webhook": {"enabled": True, "tokenSecret": {"name": "git-hooks"}}},
    "ha": {
        "replicas": 3,
        "podDisruptionBudget": {"enabled": True, "minAvailable": 2},
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
            }
        ],
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {
                                "matchLabels": {"app.kubernetes.io/name": "secretsync"}
                            },
                        },
                    }
                ]
            }
        },
        "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
    },
    "single": {"replicas": 1, "leaderElection": {"enabled": False}, "installCRDs": False},
    "extras": {
        "image": {"tag": "0.1.0-rc1", "pullPolicy": "Always", "pullSecrets": ["registry"]},
        "extraEnv": [{"name": "HTTPS_PROXY", "value": "http://proxy.example:3128"}],
        "extraVolumes": [{"name": "ca", "configMap": {"name": "corp-ca", "optional": True}}],
        "extraVolumeMounts": [{"name": "ca", "mountPath": "/etc/corp-ca", "readOnly": True}],
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "platform"}],
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "podAnnotations": {"example.com/team": "platform"},
        "controllerClass": "platform",
        "concurrency": 8,
        "namespaces": ["default"],
    },
}


def helm() -> Path:
    return binaries.require(binaries.HELM)


def run_helm(*args: str, kubeconfig: str | None = None, check: bool = True) -> str:
    env = {**os.environ, "HELM_CACHE_HOME": "/tmp/secretsync-helm/cache"}
    env |= {"HELM_CONFIG_HOME": "/tmp/secretsync-helm/config"}
    env |= {"HELM_DATA_HOME": "/tmp/secretsync-helm/data"}
    if kubeconfig:
        env["KUBECONFIG"] = kubeconfig
    result = subprocess.run(
        [str(helm()), *args], capture_output=True, text=True, check=False, env=env
    )
    if check:
        assert result.returncode == 0, f"helm {' '.join(args)}:\n{result.stderr}"
        return result.stdout
    return result.stdout + result.stderr


def values_file(folder: Path, values: Mapping[str, Any], name: str = "values") -> Path:
    path = folder / f"{name}.json"  # JSON is YAML, and needs no YAML writer here
    path.write_text(json.dumps(values))
    return path


def render(
    folder: Path, values: Mapping[str, Any], release: str = "secretsync", namespace: str = "ops"
) -> list[dict[str, Any]]:
    """`helm template` with these values: the documents, in order."""
    text = run_helm(
        "template", release, str(CHART), "-n", namespace, "-f", str(values_file(folder, values))
    )
    return [d for d in load_documents(text, "helm template") if d]


def render_error(folder: Path, values: Mapping[str, Any]) -> str:
    """What `helm template` says when it refuses these values."""
    return run_helm(
        "template", "secretsync", str(CHART), "-f", str(values_file(folder, values)), check=False
    )


def only(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [d for d in documents if d["kind"] == kind]
    return found


def kinds(documents: list[dict[str, Any]]) -> list[str]:
    return [d["kind"] for d in documents]


def rule_set(rules: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    """RBAC rules flattened to (group, resource, resourceName, verb): the same grants however
    they are grouped into rules."""
    return {
        (group, resource, name, verb)
        for rule in rules
        for group in rule.get("apiGroups") or [""]
        for resource in rule.get("resources") or []
        for name in rule.get("resourceNames") or ["*"]
        for verb in rule["verbs"]
    }


def merged(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Values layered as helm layers -f files: maps merge, everything else is replaced."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
                out[key] = merged(out[key], value)
            else:
                out[key] = value
    return out
