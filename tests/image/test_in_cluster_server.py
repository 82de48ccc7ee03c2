"""The apiserver address a pod uses comes from the kubelet's variables, not from cluster DNS."""

from __future__ import annotations

import pytest

from secretsync.operator.handlers import in_cluster_server


@pytest.mark.parametrize(
    ("environ", "server"),
    [
        ({"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"},
         "https://10.96.0.1:443"),
        ({"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "6443"},
         "https://127.0.0.1:6443"),
        ({"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"},
         "https://[fd00::1]:443"),
        ({"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, "https://10.96.0.1:443"),
    ],
)  # fmt: skip
def test_the_server_is_the_one_the_kubelet_names(environ: dict[str, str], server: str) -> None:
    assert in_cluster_server(environ) == server
