"""Key groups with a Shamir threshold, SSH recipients and files that also carry other key types."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from secretsync.errors import DecryptionError
from secretsync.sops import engine, keys
from secretsync.sops.formats import store_for
from tests.sops.conftest import AgeKey, make_age_key, run_sops

PLAIN = b"a: one\nb:\n    c: two\n"
YAML = store_for("yaml")


@pytest.fixture
def three(age_keygen_bin: Path, tmp_path: Path) -> list[AgeKey]:
    return [make_age_key(age_keygen_bin, tmp_path / f"k{i}.txt") for i in range(3)]


def _ids(*chosen: AgeKey) -> keys.Identities:
    return keys.parse_identities("\n".join(k.path.read_text() for k in chosen))


def _key_env(*chosen: AgeKey) -> str:
    return "\n".join(k.path.read_text() for k in chosen)


def _mask(data: bytes) -> bytes:
    data = re.sub(rb"ENC\[AES256_GCM,[^\]]*\]", b"ENC", data)
    data = re.sub(rb"lastmodified[^\n]*", b"lastmodified", data)
    return re.sub(rb"-----BEGIN AGE ENCRYPTED FILE-----[^-]*-----END", b"AGE", data)


def test_we_open_sops_key_groups_with_any_two_of_three(
    sops_bin: Path, three: list[AgeKey], tmp_path: Path
) -> None:
    groups = "".join(f"      - age: [{k.recipient}]\n" for k in three)
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n{groups}"
    )
    (tmp_path / "p.yaml").write_bytes(PLAIN)
    encrypted = run_sops(sops_bin, ["encrypt", "p.yaml"], tmp_path).stdout
    assert b"shamir_threshold: 2" in encrypted
    assert engine.decrypt(encrypted, YAML, _ids(three[0], three[2])) == PLAIN
    with pytest.raises(DecryptionError):
        engine.decrypt(encrypted, YAML, _ids(three[1]))
    recipients = engine.Recipients(tuple((k.recipient,) for k in three), 2)
    assert _mask(engine.encrypt(PLAIN, YAML, recipients)) == _mask(encrypted)


def test_sops_opens_our_key_groups_with_two_keys(
    sops_bin: Path, three: list[AgeKey], tmp_path: Path
) -> None:
    recipients = engine.Recipients(tuple((k.recipient,) for k in three), 2)
    (tmp_path / "e.yaml").write_bytes(engine.encrypt(PLAIN, YAML, recipients))
    result = run_sops(
        sops_bin, ["decrypt", "e.yaml"], tmp_path, SOPS_AGE_KEY=_key_env(three[1], three[2])
    )
    assert result.stdout == PLAIN
    one = run_sops(
        sops_bin, ["decrypt", "e.yaml"], tmp_path, check=False, SOPS_AGE_KEY=_key_env(three[0])
    )
    assert one.returncode != 0


@pytest.mark.parametrize("kind", ["ed25519", "rsa"])
def test_ssh_recipients_interoperate(sops_bin: Path, tmp_path: Path, kind: str) -> None:
    private = tmp_path / f"id_{kind}"
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(private)], check=True)
    recipient = private.with_suffix(".pub").read_text().split(" ")[:2]
    public = " ".join(recipient)
    identities = keys.ssh_identity(private.read_bytes())
    ours = engine.encrypt(PLAIN, YAML, engine.Recipients(((public,),)))
    (tmp_path / "ours.yaml").write_bytes(ours)
    env = {"SOPS_AGE_SSH_PRIVATE_KEY_FILE": str(private)}
    assert run_sops(sops_bin, ["decrypt", "ours.yaml"], tmp_path, **env).stdout == PLAIN
    (tmp_path / "p.yaml").write_bytes(PLAIN)
    theirs = run_sops(sops_bin, ["encrypt", "--age", public, "p.yaml"], tmp_path).stdout
    assert engine.decrypt(theirs, YAML, identities) == PLAIN


FOREIGN = b"""    kms:
        - arn: arn:aws:kms:us-east-1:000000000000:key/not-real
          created_at: "2026-01-01T00:00:00Z"
          enc: AQICAHg-not-a-real-blob
          aws_profile: ""
    pgp:
        - created_at: "2026-01-01T00:00:00Z"
          enc: not-a-real-message
          fp: 0000000000000000000000000000000000000000
"""


def test_a_file_with_other_key_types_opens_with_age_and_names_them_otherwise(
    sops_bin: Path, three: list[AgeKey], tmp_path: Path
) -> None:
    ours = engine.encrypt(PLAIN, YAML, engine.Recipients(((three[0].recipient,),)))
    mixed = ours.replace(b"sops:\n", b"sops:\n" + FOREIGN, 1)
    assert engine.decrypt(mixed, YAML, _ids(three[0])) == PLAIN
    (tmp_path / "m.yaml").write_bytes(mixed)
    assert (
        run_sops(sops_bin, ["decrypt", "m.yaml"], tmp_path, SOPS_AGE_KEY=_key_env(three[0])).stdout
        == PLAIN
    )
    with pytest.raises(DecryptionError, match="age, kms, pgp"):
        engine.decrypt(mixed, YAML, _ids(three[1]))
    opened = engine.open_file(mixed, YAML, _ids(three[0]))
    assert b"arn:aws:kms" in engine.reencrypt(opened, YAML)
