"""Each third-party library has one home in secretsync (docs/design.md), so swapping or auditing a
client library means reading one module, and a layer cannot grow a hidden dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "secretsync"

# library -> the module paths (relative to secretsync/, as prefixes) allowed to import it
HOMES: dict[str, tuple[str, ...]] = {
    "kopf": ("operator/",),
    "kubernetes": ("kube/",),
    "hvac": ("providers/vault",),
    "boto3": ("providers/aws_",),
    "botocore": ("providers/aws_",),
    "pyrage": ("sops/keys.py",),
    # The SOPS engine's primitives: values (cipher), age X25519 (keys), age ML-KEM (agepq).
    "cryptography": (
        "sops/cipher.py",
        "sops/keys.py",
        "sops/agepq.py",
        "template/crypto_funcs.py",
        # The SSHKey generator's key pairs.
        "generators/sshkey.py",
    ),
    "ruamel": ("sops/yamlfmt.py", "sops/yamlplain.py"),
    # google-re2: every user-supplied regexp, with Go's semantics, goes through goregexp.
    "re2": ("goregexp/engine.py",),
    # urllib3 (under requests and kubernetes): the kube client's errors, and the Vault session's
    # retry policy (a store's retrySettings).
    "urllib3": ("kube/client.py", "providers/vault_retry.py"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _violations() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        for library in _imports(path) & HOMES.keys():
            if not relative.startswith(HOMES[library]):
                found.append(f"secretsync/{relative} imports {library}")
    return found


def test_every_third_party_library_is_imported_only_in_its_home() -> None:
    assert _violations() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [("import kopf\n", {"kopf"}), ("from botocore.config import Config\n", {"botocore"}),
     ("from . import keys\n", set()), ("import os.path\n", {"os"})],
)
def test_the_import_scanner_sees_every_import_form(
    tmp_path: Path, source: str, expected: set[str]
) -> None:
    module = tmp_path / "m.py"
    module.write_text(source)
    assert _imports(module) == expected
