"""`secretsync render` runs generators given among the manifests (offline: no cluster)."""

from __future__ import annotations

import base64
import subprocess
import sys
import textwrap
from pathlib import Path

from secretsync.sops.yamlplain import load_documents

MANIFESTS = textwrap.dedent(
    """\
    apiVersion: generators.external-secrets.io/v1alpha1
    kind: Password
    metadata: {name: pw}
    spec: {length: 20, digits: 4, symbols: 0}
    ---
    apiVersion: generators.external-secrets.io/v1alpha1
    kind: ClusterGenerator
    metadata: {name: ids}
    spec: {kind: UUID, generator: {uuidSpec: {}}}
    ---
    apiVersion: external-secrets.io/v1
    kind: ExternalSecret
    metadata: {name: app}
    spec:
      dataFrom:
        - sourceRef: {generatorRef: {kind: Password, name: pw}}
      data:
        - secretKey: id
          remoteRef: {key: uuid}
          sourceRef: {generatorRef: {kind: ClusterGenerator, name: ids}}
    """
)


def test_render_runs_the_generators_among_the_manifests(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MANIFESTS)
    done = subprocess.run(
        [sys.executable, "-m", "secretsync", "render", "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (secret,) = load_documents(done.stdout, "stdout")
    data = {k: base64.b64decode(v) for k, v in secret["data"].items()}
    assert sorted(data) == ["id", "password"]
    assert len(data["password"]) == 20 and len(data["id"]) == 36


def test_render_names_a_generator_that_is_not_given(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MANIFESTS.split("---\n")[-1])
    done = subprocess.run(
        [sys.executable, "-m", "secretsync", "render", "-f", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "spec.dataFrom[0] (Password pw): Password pw in namespace default does not exist" in (
        done.stderr
    )
