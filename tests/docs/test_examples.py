"""examples/ apply as they are: every file parses, says at its top what to substitute when it
has placeholders, is accepted by secretsync's own parser and by the real apiserver (server-side
dry run, CRDs installed), and every ExternalSecret names a store defined beside it."""

from __future__ import annotations

import os
import re
import string
import subprocess
from pathlib import Path
from typing import Any

import pytest

from secretsync.api.objects import parse_external_secret, parse_store
from secretsync.sops.yamlplain import load_documents
from tests.docs.pages import EXAMPLES, ROOT, examples
from tests.operator import harness
from tests.testbed import stack

PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}|REPLACE")
STORES = {"SecretStore", "ClusterSecretStore"}
DEMO_VALUES = {
    "VAULT_ADDR": "http://127.0.0.1:8200",
    "VAULT_TOKEN": "s.placeholder",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "AKIAPLACEHOLDER",
    "AWS_SECRET_ACCESS_KEY": "placeholder",
    "DEMO_GIT_URL": "http://127.0.0.1:9418/public/platform-secrets.git",
    "DEMO_AGE_KEY_B64": "QUdFLVNFQ1JFVC1LRVktUExBQ0VIT0xERVI=",
}
"""Stand-ins for the values `make demo` substitutes into the top-level examples."""


def _ids(path: Path) -> str:
    return str(path.relative_to(EXAMPLES))


def _text(path: Path) -> str:
    # safe_substitute, as `make demo` does: a rewrite target's `$1` is not a placeholder.
    return string.Template(path.read_text()).safe_substitute(DEMO_VALUES)


def _documents(path: Path) -> list[dict[str, Any]]:
    return load_documents(_text(path), str(path))


def test_there_are_examples_in_folders_and_at_the_top() -> None:
    assert {p.parent for p in examples()} == {EXAMPLES, EXAMPLES / "auth"}


@pytest.mark.parametrize("path", examples(), ids=_ids)
def test_an_example_with_placeholders_says_what_to_substitute_on_its_first_line(
    path: Path,
) -> None:
    text = path.read_text()
    if PLACEHOLDER.search(text):
        assert text.startswith("# Substitute"), f"{path.name}: first line must say what to fill in"


@pytest.mark.parametrize("path", examples(), ids=_ids)
def test_an_example_parses_with_secretsyncs_own_models(path: Path) -> None:
    documents = _documents(path)
    assert documents and all(d.get("apiVersion") and d.get("kind") for d in documents)
    kinds = [d["kind"] for d in documents]
    assert "ExternalSecret" in kinds and STORES & set(kinds), "a store and what reads it"
    for document in documents:
        if document["kind"] in STORES:
            parse_store(document)
        elif document["kind"] == "ExternalSecret":
            parse_external_secret(document)


@pytest.mark.parametrize("path", examples(), ids=_ids)
def test_every_externalsecret_reads_a_store_the_examples_define(path: Path) -> None:
    defined = {
        (d["kind"], d["metadata"]["name"])
        for example in examples()
        for d in _documents(example)
        if d["kind"] in STORES
    }
    for document in _documents(path):
        if document["kind"] == "ExternalSecret":
            ref = document["spec"]["secretStoreRef"]
            assert (ref.get("kind", "SecretStore"), ref["name"]) in defined


def test_demo_values_cover_every_placeholder_of_the_top_level_examples() -> None:
    used = {
        name
        for path in EXAMPLES.glob("*.yaml")
        for name in re.findall(r"\$\{([A-Z0-9_]+)\}", path.read_text())
    }
    assert used == set(DEMO_VALUES)


@pytest.fixture(scope="module")
def crds_installed(testbed: stack.Testbed) -> stack.Testbed:
    harness.install(testbed)
    return testbed


def _dry_run(testbed: stack.Testbed, namespace: str, text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            testbed.KUBECTL_BIN,
            "apply",
            "--dry-run=server",
            "--server-side",
            "--validate=strict",
            "-n",
            namespace,
            "-f",
            "-",
        ],
        input=text,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "KUBECONFIG": testbed.KUBECONFIG},
        cwd=ROOT,
    )


@pytest.mark.parametrize("path", examples(), ids=_ids)
def test_an_example_passes_a_server_side_dry_run(
    crds_installed: stack.Testbed, namespace: str, path: Path
) -> None:
    result = _dry_run(crds_installed, namespace, _text(path))
    assert result.returncode == 0, result.stderr
    created = {line.split(" ")[0] for line in result.stdout.splitlines()}
    kinds = {d["kind"].lower() for d in _documents(path)}
    assert {c.split("/")[0].split(".")[0] for c in created} == kinds


def test_the_dry_run_refuses_a_misspelt_field(
    crds_installed: stack.Testbed, namespace: str
) -> None:
    text = _text(EXAMPLES / "auth" / "vault-approle.yaml").replace("roleId:", "roleID:")
    result = _dry_run(crds_installed, namespace, text)
    assert result.returncode != 0
    assert "roleID" in result.stderr
