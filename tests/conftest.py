"""Fixtures for the real test bed (see tests/testbed/).

A test that uses any test bed fixture is marked `testbed`; every other test is marked `unit`, so
`pytest -m unit` runs the fast tests alone. A component that is missing or fails to start makes
the test ERROR with the command that installs it; nothing is ever skipped.

The stack starts lazily, once per run: the first xdist worker that needs it starts it under a
file lock, the others wait and read its env file, and the controller stops it at the end. If a
stack from `make testbed-up` is already running, the run uses that one and leaves it running
(SECRETSYNC_TESTBED=private starts a private one regardless).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _pytest.nodeid import coerce_node_id
from kubernetes import client

from tests.testbed import bao, baodb, binaries, cluster, paths, pgconsumer, postgres, stack
from tests.testbed.git import GitServer
from tests.testbed.procs import TestbedError

BINARY_FIXTURES = {
    "sops_bin", "sops_old_bin", "age_bin", "age_keygen_bin", "goregex_bin", "postgres_db"
}  # fmt: skip
RUN_DIR_ENV = "SECRETSYNC_TESTBED_RUN"
FAILED_MARKER = "start-failed"


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and RUN_DIR_ENV not in os.environ:
        # Workers inherit the environment, so they all find the same run folder.
        os.environ[RUN_DIR_ENV] = tempfile.mkdtemp(prefix="secretsync-testbed-")


def pytest_unconfigure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    run_dir = Path(os.environ.pop(RUN_DIR_ENV, ""))
    if run_dir.name.startswith("secretsync-testbed-"):
        stack.down(run_dir / "stack")
        shutil.rmtree(run_dir, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        marked = item.get_closest_marker("testbed") is not None  # e.g. a control plane of its own
        uses_testbed = marked or "testbed" in used or bool(BINARY_FIXTURES & used)
        item.add_marker(pytest.mark.testbed if uses_testbed else pytest.mark.unit)
    if config.getoption("loadgroup", False):
        _group_for_xdist(items)


def _group_for_xdist(items: list[pytest.Item]) -> None:
    """Do what `--dist loadgroup` means: tests marked `xdist_group(name)` share one worker.

    pytest-xdist 3.8 groups by suffixing `@name` to each nodeid through `item._nodeid`, which
    pytest 9 no longer reads (nodeids live in `item._id`), so its grouping silently does nothing
    (measured: a six-test group spread over both workers). Tests that take the one real Lease
    rely on it, so we set the suffix where pytest 9 keeps it; a fixed xdist makes this a no-op.
    """
    for item in items:
        names = sorted(
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        )
        if names and "@" not in item.nodeid:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(names)}")  # type: ignore[attr-defined]


def _start_or_join(run_dir: Path) -> stack.Testbed:
    state_dir = run_dir / "stack"
    with (run_dir / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        failed = run_dir / FAILED_MARKER
        if failed.exists():
            raise TestbedError(failed.read_text())
        if stack.env_path(state_dir).exists():
            return stack.read_env(state_dir)
        try:
            return stack.up(state_dir, log=lambda _: None)
        except Exception as exc:
            failed.write_text(f"the test bed did not start: {exc}\nrun: {binaries.INSTALL_HINT}")
            raise


@pytest.fixture(scope="session")
def testbed() -> stack.Testbed:
    """The running test bed: `make testbed-up`'s if it is up, else one started for this run."""
    shared_allowed = os.environ.get("SECRETSYNC_TESTBED") != "private"
    if shared_allowed and stack.is_running(paths.DEFAULT_STATE_DIR):
        return stack.read_env(paths.DEFAULT_STATE_DIR)
    return _start_or_join(Path(os.environ[RUN_DIR_ENV]))


@pytest.fixture(scope="session")
def kube_api(testbed: stack.Testbed) -> client.ApiClient:
    """An admin (system:masters) API client."""
    return cluster.api(Path(testbed.KUBECONFIG))


@pytest.fixture
def namespace(kube_api: client.ApiClient) -> Iterator[str]:
    """A fresh namespace per test, so tests can run in parallel without sharing objects."""
    name = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(kube_api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture
def sa_kubeconfig(testbed: stack.Testbed, tmp_path: Path) -> Callable[[str, str], Path]:
    """Make a kubeconfig for a ServiceAccount (via TokenRequest), so only its RBAC applies."""

    def make(namespace: str, name: str) -> Path:
        path = tmp_path / f"{namespace}-{name}.kubeconfig"
        return cluster.service_account_kubeconfig(testbed.kube(), namespace, name, path)

    return make


@pytest.fixture(scope="session")
def bao_dev(testbed: stack.Testbed) -> bao.Bao:
    return bao.Bao(addr=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)


@pytest.fixture(scope="session")
def bao_tls(testbed: stack.Testbed) -> bao.Bao:
    return bao.Bao(
        addr=testbed.VAULT_TLS_ADDR,
        token=testbed.VAULT_TLS_TOKEN,
        cacert=Path(testbed.VAULT_CACERT),
    )


@pytest.fixture(scope="session")
def postgres_db() -> Iterator[postgres.Postgres]:
    """A private PostgreSQL server for this run (tests/testbed/postgres.py)."""
    db = postgres.start()
    yield db
    postgres.stop(db)


@pytest.fixture(scope="session")
def bao_database(bao_dev: bao.Bao, postgres_db: postgres.Postgres) -> baodb.DatabaseEngine:
    """OpenBao's database engine, at a mount of this run's own, against `postgres_db`."""
    return baodb.configure(bao_dev, postgres_db)


@pytest.fixture
def pg_consumers(
    kube_api: client.ApiClient, namespace: str, postgres_db: postgres.Postgres
) -> Iterator[pgconsumer.Consumers]:
    """Pods in the test's namespace annotated for it log in to `postgres_db` every 100 ms
    (tests/testbed/pgconsumer.py); the test reads their counts."""
    consumers = pgconsumer.Consumers(kube_api, namespace, postgres_db).start()
    yield consumers
    consumers.stop()


@pytest.fixture(scope="session")
def git_server(testbed: stack.Testbed) -> GitServer:
    return testbed.git_server()


@pytest.fixture(scope="session")
def sops_bin() -> Path:
    """The current sops release, built from the Go module proxy."""
    return binaries.require(binaries.SOPS)


@pytest.fixture(scope="session")
def sops_old_bin() -> Path:
    """An older sops release (3.9), for metadata-layout differences."""
    return binaries.require(binaries.SOPS_OLD)


@pytest.fixture(scope="session")
def age_bin() -> Path:
    return binaries.require(binaries.AGE)


@pytest.fixture(scope="session")
def age_keygen_bin() -> Path:
    return binaries.require(binaries.AGE_KEYGEN)
