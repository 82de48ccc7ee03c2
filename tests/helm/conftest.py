"""Fixtures for the chart tests on the test bed: CRDs installed as deploy/ ships them, fresh
namespaces, and kubectl as the admin."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator

import pytest
from kubernetes import client

from tests.operator import harness
from tests.testbed import stack

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def installed(testbed: stack.Testbed) -> stack.Testbed:
    harness.install(testbed)
    return testbed


@pytest.fixture
def kubectl(installed: stack.Testbed) -> Kubectl:
    """kubectl as the test bed's admin; `check=False` hands back a failure to look at."""

    def run(
        *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [installed.KUBECTL_BIN, *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "KUBECONFIG": installed.KUBECONFIG},
        )
        if check:
            assert result.returncode == 0, f"kubectl {' '.join(args)}:\n{result.stderr}"
        return result

    return run


@pytest.fixture
def make_namespace(kube_api: client.ApiClient) -> Iterator[Callable[[], str]]:
    """Fresh namespaces for one test, deleted afterwards (unique names: runs may overlap)."""
    core = client.CoreV1Api(kube_api)
    made: list[str] = []

    def make() -> str:
        name = f"h-{uuid.uuid4().hex[:10]}"
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
        made.append(name)
        return name

    yield make
    for name in made:
        core.delete_namespace(name)
