"""Real sops output from several releases (../shared/interop/sops-vectors) decrypts, MAC checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from secretsync.errors import DecryptionError
from secretsync.sops import engine, keys
from secretsync.sops.formats import store_for

VECTORS = Path("/work/shared/interop/sops-vectors")

CASES = [
    ("flux-kc-age-yaml/age.yaml", "flux-kc-age-yaml/age.txt", "yaml", b"key: value"),
    (
        "flux-kc-global-3.10/secret.yaml",
        "flux-kc-global-3.10/age-global.txt",
        "yaml",
        b"key: global-value",
    ),
    ("flux-kc-dotenv/env.env", "flux-kc-dotenv/age.txt", "dotenv", b"key=value\n"),
    ("flux-kc-binary/file.txt", "flux-kc-binary/age.txt", "binary", b"value"),
    (
        "humphd-yaml-3recips/secret.enc.yaml",
        "humphd-yaml-3recips/key.txt",
        "yaml",
        b"float: 3.14\nboolean: true\n",
    ),
    (
        "humphd-json-3recips/secret.enc.json",
        "humphd-json-3recips/key.txt",
        "json",
        b'"0word": "gotta match go"',
    ),
    (
        "mtumilowicz-2recips-3.13.3/k8s-secret.enc.yaml",
        "mtumilowicz-2recips-3.13.3/flux.agekey",
        "yaml",
        b"password: replace-me",
    ),
    (
        "mtumilowicz-2recips-3.13.3/k8s-secret.enc.yaml",
        "mtumilowicz-2recips-3.13.3/mtumilowicz.agekey",
        "yaml",
        b"username: example-user",
    ),
]


@pytest.mark.parametrize(("path", "key", "fmt", "expected"), CASES)
def test_every_real_vector_decrypts_with_its_key(
    path: str, key: str, fmt: str, expected: bytes
) -> None:
    identities = keys.parse_identities((VECTORS / key).read_text())
    plain = engine.decrypt((VECTORS / path).read_bytes(), store_for(fmt), identities)
    assert expected in plain


def test_the_tampered_vector_fails_without_plaintext() -> None:
    vector = VECTORS / "sso-tampered-NEGATIVE"
    identities = keys.parse_identities((vector / "key-file.txt").read_text())
    with pytest.raises(DecryptionError) as caught:
        engine.decrypt(
            (vector / "01-test-secrets.yaml").read_bytes(), store_for("yaml"), identities
        )
    assert "ENC[" not in str(caught.value)


def test_a_wrong_key_names_the_key_types_in_the_file() -> None:
    other = keys.parse_identities(keys.generate()[0])
    data = (VECTORS / "flux-kc-age-yaml/age.yaml").read_bytes()
    with pytest.raises(DecryptionError, match="keys of type: age"):
        engine.decrypt(data, store_for("yaml"), other)


@pytest.mark.parametrize("stanza", ["x25519", "ssh"])
def test_go_age_stanzas_open_with_pyrage(stanza: str) -> None:
    folder = VECTORS / "getsops-age-keysource-test"
    if stanza == "x25519":
        identities = keys.parse_identities((folder / "x25519.identity.txt").read_text())
    else:
        identities = keys.ssh_identity((folder / "ssh_ed25519").read_bytes())
    assert keys.unwrap((folder / f"{stanza}.enc.age.asc").read_text(), identities) == b"data"
