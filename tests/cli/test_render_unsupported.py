"""`secretsync render` on what secretsync does not implement: the same message the operator puts
in the status (field path and what to use instead), exit status 2, no traceback, no Secret."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

MANIFESTS = textwrap.dedent(
    """\
    apiVersion: external-secrets.io/v1
    kind: SecretStore
    metadata: {name: gcp}
    spec:
      provider:
        gcpsm: {projectID: p, auth: {secretRef: {secretAccessKeySecretRef: {name: gcp}}}}
    ---
    apiVersion: external-secrets.io/v1
    kind: ExternalSecret
    metadata: {name: db}
    spec:
      secretStoreRef: {name: gcp}
      data: [{secretKey: pw, remoteRef: {key: k}}]
    ---
    apiVersion: external-secrets.io/v1beta1
    kind: ExternalSecret
    metadata: {name: generated}
    spec:
      dataFrom:
        - sourceRef:
            generatorRef:
              {apiVersion: generators.external-secrets.io/v1alpha1, kind: Webhook, name: pw}
    ---
    apiVersion: external-secrets.io/v1alpha1
    kind: PushSecret
    metadata: {name: push}
    spec: {secretStoreRefs: [{name: gcp}], selector: {secret: {name: db}}}
    """
)


def _render(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "manifests.yaml"
    path.write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "secretsync", "render", "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_render_names_each_unsupported_field_and_exits_2(tmp_path: Path) -> None:
    result = _render(tmp_path, MANIFESTS)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "secretsync render: ExternalSecret db: SecretStore gcp: spec.provider.gcpsm: is not "
        "supported by secretsync; use vault, aws or sops",
        "secretsync render: ExternalSecret generated: spec.dataFrom[0].sourceRef.generatorRef."
        "kind: 'Webhook' is not supported by secretsync; secretsync does not run Webhook "
        "generators yet: use Password, UUID, SSHKey, ECRAuthorizationToken or "
        "VaultDynamicSecret, or read the value from a store",
        "secretsync render: PushSecret push: kind: 'PushSecret' is not supported by "
        "secretsync; secretsync render pushes nothing; apply it to a cluster, where the "
        "operator pushes it",
    ]


def test_an_unused_unsupported_store_does_not_fail_the_run(tmp_path: Path) -> None:
    only_the_store = MANIFESTS.split("---")[0]

    result = _render(tmp_path, only_the_store)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
