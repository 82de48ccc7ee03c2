"""Post-quantum hybrid age recipients (age1pq1, ML-KEM-768 + X25519), both ways with the real
sops 3.13 and age 1.3: keys from `age-keygen -pq`, files from either side. Our own `keygen --pq`
is tested with the other keygen tests (test_cli.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from secretsync.errors import ConfigError, DecryptionError
from secretsync.sops import engine, keys
from secretsync.sops.formats import store_for
from tests.sops.conftest import AgeKey, run_sops
from tests.sops.samples import SAMPLES

YAML = store_for("yaml")


def _sops_decrypt(sops: Path, path: Path, key_file: Path) -> bytes:
    args = ["decrypt", str(path)]
    return run_sops(sops, args, path.parent, SOPS_AGE_KEY_FILE=str(key_file)).stdout


def test_we_decrypt_what_sops_encrypts_to_a_post_quantum_key(
    sops_bin: Path, pq_key: AgeKey, tmp_path: Path
) -> None:
    assert pq_key.recipient.startswith("age1pq1")
    plain = tmp_path / "plain.yaml"
    plain.write_bytes(SAMPLES["yaml"])
    encrypted = run_sops(
        sops_bin, ["encrypt", str(plain)], tmp_path, SOPS_AGE_RECIPIENTS=pq_key.recipient
    ).stdout
    assert b"age1pq1" in encrypted
    (tmp_path / "enc.yaml").write_bytes(encrypted)
    theirs = _sops_decrypt(sops_bin, tmp_path / "enc.yaml", pq_key.path)
    assert engine.decrypt(encrypted, YAML, pq_key.identities) == theirs


def test_sops_opens_ours_with_either_key_of_a_mixed_group(
    sops_bin: Path, pq_key: AgeKey, age_key: AgeKey, tmp_path: Path
) -> None:
    recipients = engine.Recipients(((pq_key.recipient, age_key.recipient),))
    encrypted = engine.encrypt(SAMPLES["yaml"], YAML, recipients)
    path = tmp_path / "enc.yaml"
    path.write_bytes(encrypted)
    expected = engine.decrypt(encrypted, YAML, pq_key.identities)
    assert _sops_decrypt(sops_bin, path, pq_key.path) == expected
    assert _sops_decrypt(sops_bin, path, age_key.path) == expected
    assert engine.decrypt(encrypted, YAML, age_key.identities) == expected


def test_the_real_age_opens_our_post_quantum_data_key(
    age_bin: Path, pq_key: AgeKey, tmp_path: Path
) -> None:
    data_key = bytes(range(32))
    armored = keys.wrap(data_key, pq_key.recipient)
    (tmp_path / "key.age").write_text(armored)
    opened = subprocess.run(
        [str(age_bin), "-d", "-i", str(pq_key.path), str(tmp_path / "key.age")],
        capture_output=True,
        check=True,
    ).stdout
    assert opened == data_key


def test_a_stranger_or_a_tampered_stanza_does_not_open(
    pq_key: AgeKey, age_keygen_bin: Path, tmp_path: Path
) -> None:
    armored = keys.wrap(b"k" * 32, pq_key.recipient)
    stranger_text, _ = keys.generate(post_quantum=True)
    stranger = keys.parse_identities(stranger_text + "\n")
    with pytest.raises(DecryptionError):
        keys.unwrap(armored, stranger)
    lines = armored.splitlines()
    middle = lines[5]
    lines[5] = middle[:10] + ("A" if middle[10] != "A" else "B") + middle[11:]
    with pytest.raises(DecryptionError):
        keys.unwrap("\n".join(lines) + "\n", pq_key.identities)


@pytest.mark.parametrize(
    "bad",
    ["age1pq1qqqqqqqq", "age1pq1" + "q" * 1950, "AGE-SECRET-KEY-PQ-1QQQQQQQQQQQQQQ"],
)
def test_malformed_post_quantum_keys_are_clear_errors(bad: str) -> None:
    with pytest.raises(ConfigError):
        if bad.startswith("AGE-"):
            keys.parse_identities(bad + "\n", "keys.txt")
        else:
            keys.check_recipient(bad)
