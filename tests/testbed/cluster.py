"""Client-side helpers over the running control plane: the KWOK node, readiness, and
kubeconfigs for ServiceAccounts minted through the TokenRequest API."""

from __future__ import annotations

import time
from pathlib import Path

from kubernetes import client, config

from tests.testbed import procs
from tests.testbed.kube import NODE_NAME, Kube, write_kubeconfig


def api(kubeconfig: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig))


def add_kwok_node(kube: Kube, state_dir: Path, name: str = NODE_NAME) -> None:
    core = client.CoreV1Api(api(kube.kubeconfig))
    node = client.V1Node(
        metadata=client.V1ObjectMeta(
            name=name,
            annotations={"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
            labels={
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        ),
    )
    core.create_node(node)

    def node_ready() -> bool:
        conditions = core.read_node(name).status.conditions or []
        return any(c.type == "Ready" and c.status == "True" for c in conditions)

    procs.wait_for(state_dir, "kwok", node_ready, timeout=60)


def wait_for_default_service_account(kube: Kube, state_dir: Path) -> None:
    core = client.CoreV1Api(api(kube.kubeconfig))
    procs.wait_for(
        state_dir,
        "kube-controller-manager",
        lambda: core.read_namespaced_service_account("default", "default") is not None,
        timeout=60,
    )


def service_account_token(
    kubeconfig: Path,
    namespace: str,
    name: str,
    *,
    audiences: list[str] | None = None,
    seconds: int = 3600,
) -> str:
    core = client.CoreV1Api(api(kubeconfig))
    spec = client.V1TokenRequestSpec(audiences=audiences or [], expiration_seconds=seconds)
    response = core.create_namespaced_service_account_token(
        name, namespace, client.AuthenticationV1TokenRequest(spec=spec)
    )
    return str(response.status.token)


def service_account_kubeconfig(
    kube: Kube, namespace: str, name: str, path: Path, *, seconds: int = 3600
) -> Path:
    """A kubeconfig that authenticates as the ServiceAccount, so only its RBAC applies."""
    token = service_account_token(kube.kubeconfig, namespace, name, seconds=seconds)
    return write_kubeconfig(path, kube.server, kube.ca, token=token, namespace=namespace)


def wait_until(predicate: object, timeout: float, what: str) -> None:
    """Poll a zero-argument callable until it returns truthy; raise naming `what` otherwise."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception as exc:
            last_error = exc
        time.sleep(0.25)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what} (last error: {last_error})"
    )


def apply_crds(api: client.ApiClient, crds: list[dict[str, object]], timeout: float = 60) -> None:
    """Server-side apply CRDs and wait until each is Established.

    Server-side apply, not create-then-replace: xdist workers (and the operator harness's
    `kubectl apply --server-side`) install the same CRDs at once, and a replace racing another
    writer fails with 409 where an apply simply converges."""
    ext = client.ApiextensionsV1Api(api)
    for crd in crds:
        body = {k: v for k, v in crd.items() if k != "status"}
        metadata = dict(body["metadata"])  # type: ignore[call-overload]
        metadata.pop("resourceVersion", None)
        ext.patch_custom_resource_definition(
            metadata["name"],
            {**body, "metadata": metadata},
            field_manager="secretsync-tests",
            force=True,
            _content_type="application/apply-patch+yaml",
        )

    def established() -> bool:
        for crd in crds:
            name = crd["metadata"]["name"]  # type: ignore[index]
            conditions = ext.read_custom_resource_definition(name).status.conditions or []
            if not any(c.type == "Established" and c.status == "True" for c in conditions):
                return False
        return True

    wait_until(established, timeout, "the CRDs to be Established")
