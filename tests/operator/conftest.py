"""Fixtures that run the operator for real: CRDs and deploy/rbac installed, a kubeconfig for
the operator's own ServiceAccount, one operator process per test scoped to its namespace."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.operator import harness
from tests.testbed import stack


@pytest.fixture(scope="session")
def installed(testbed: stack.Testbed) -> stack.Testbed:
    harness.install(testbed)
    return testbed


@pytest.fixture(scope="session")
def operator_kubeconfig(installed: stack.Testbed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return harness.operator_kubeconfig(installed, tmp_path_factory.mktemp("operator"))


@pytest.fixture
def kube(kube_api: client.ApiClient, namespace: str, installed: stack.Testbed) -> harness.Cluster:
    return harness.Cluster(kube_api, namespace)


@pytest.fixture
def start_operator(
    operator_kubeconfig: Path, namespace: str, tmp_path: Path
) -> Iterator[Callable[..., harness.Operator]]:
    """Start the operator watching only this test's namespace (no leader election, so tests
    can run in parallel); every started operator is stopped afterwards."""
    started: list[harness.Operator] = []

    def start(
        *args: str,
        leader_election: bool = False,
        env: dict[str, str] | None = None,
        also: tuple[str, ...] = (),
    ) -> harness.Operator:
        """`also`: more namespaces to watch besides the test's own; `env`: extra environment
        for the operator process (AWS_ENDPOINT_URL, say)."""
        extra = ["--leader-elect"] if leader_election else ["--no-leader-elect"]
        operator = harness.start(
            operator_kubeconfig,
            tmp_path / f"operator-{len(started)}.log",
            "--namespace",
            ",".join((namespace, *also)),
            *extra,
            *args,
            env=env,
        )
        started.append(operator)
        return operator

    yield start
    for operator in started:
        operator.stop()


@pytest.fixture
def make_namespace(kube_api: client.ApiClient) -> Iterator[Callable[..., str]]:
    """More namespaces for a test (labelled as asked), deleted afterwards."""
    core = client.CoreV1Api(kube_api)
    made: list[str] = []

    def make(labels: dict[str, str] | None = None) -> str:
        name = f"t-{uuid.uuid4().hex[:10]}"
        core.create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels=labels))
        )
        made.append(name)
        return name

    yield make
    for name in made:
        core.delete_namespace(name)
