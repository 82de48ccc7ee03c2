"""Fixtures that start the real peers (tests/testbed/reloader.py, tests/testbed/vso.py) against
the shared test bed, each confined as far as it allows, and stop them afterwards. A peer that is
not built is an error naming the install command, never a skip."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from kubernetes import client

from tests.testbed import cluster, reloader, stack, vso

VSO_GROUP = "secrets.hashicorp.com"
VSO_KINDS = ("vaultstaticsecrets", "vaultauths", "vaultconnections")
"""Deleted in this order: a VaultStaticSecret's finalizer needs its auth, an auth its
connection."""


@pytest.fixture
def start_reloader(
    testbed: stack.Testbed, namespace: str, tmp_path: Path
) -> Iterator[Callable[[], reloader.Reloader]]:
    """Reloader confined to the test's namespace; the test starts it once its objects exist."""
    reloader.binary()
    started: list[reloader.Reloader] = []

    def start() -> reloader.Reloader:
        started.append(
            reloader.start(Path(testbed.KUBECONFIG), tmp_path / "reloader", namespace=namespace)
        )
        return started[-1]

    yield start
    for running in started:
        reloader.stop(running)


@pytest.fixture
def start_vso(
    testbed: stack.Testbed, kube_api: client.ApiClient, namespace: str, tmp_path: Path
) -> Iterator[Callable[[], vso.Vso]]:
    """VSO with the test's namespace as its operator namespace. VSO puts finalizers on its
    objects, so they are deleted while it still runs (it lets them go) and any left are
    released after it stops: the namespace must not hang in Terminating on the shared bed."""
    vso.binary()
    started: list[vso.Vso] = []

    def start() -> vso.Vso:
        started.append(vso.start(Path(testbed.KUBECONFIG), tmp_path / "vso", namespace=namespace))
        return started[-1]

    yield start
    custom = client.CustomObjectsApi(kube_api)
    if started:
        for plural in VSO_KINDS:
            custom.delete_collection_namespaced_custom_object(
                VSO_GROUP, "v1beta1", namespace, plural
            )
        with contextlib.suppress(AssertionError):
            cluster.wait_until(
                lambda: not _left(custom, namespace), 60, "VSO to release its objects"
            )
        for running in started:
            vso.stop(running)
    for plural, name in _left(custom, namespace):
        custom.patch_namespaced_custom_object(
            VSO_GROUP, "v1beta1", namespace, plural, name, {"metadata": {"finalizers": None}}
        )


def _left(custom: client.CustomObjectsApi, namespace: str) -> list[tuple[str, str]]:
    left = []
    for plural in VSO_KINDS:
        listed = cast(
            "dict[str, Any]",
            custom.list_namespaced_custom_object(VSO_GROUP, "v1beta1", namespace, plural),
        )
        left += [(plural, item["metadata"]["name"]) for item in listed["items"]]
    return left
