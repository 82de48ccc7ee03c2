"""Interop both ways with the real sops binaries: same plaintext bytes, MAC checked each way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from secretsync.sops import engine
from secretsync.sops.formats import store_for
from secretsync.sops.rules import Rules
from tests.sops.conftest import AgeKey, run_sops
from tests.sops.samples import SAMPLES, SUFFIX, YAML_MULTI

RULE_FLAGS = {
    "default": ([], Rules()),
    "encrypted_regex": (
        ["--encrypted-regex", "^(data|name|key|KEY)$"],
        Rules(encrypted_regex="^(data|name|key|KEY)$"),
    ),
    "unencrypted_regex": (
        ["--unencrypted-regex", "^(kind|n)$"],
        Rules(unencrypted_regex="^(kind|n)$"),
    ),
    "encrypted_suffix": (["--encrypted-suffix", "a"], Rules(encrypted_suffix="a")),
    "mac_only_encrypted": ([], Rules(encrypted_regex="^data$", mac_only_encrypted=True)),
    "unencrypted_comment_regex": ([], Rules(unencrypted_comment_regex="inline")),
    "encrypted_comment_regex": ([], Rules(encrypted_comment_regex="about")),
}
# Rules sops takes only from .sops.yaml, not from flags.
CONFIG_ONLY = {
    "mac_only_encrypted": "encrypted_regex: ^data$\n    mac_only_encrypted: true",
    "unencrypted_comment_regex": "unencrypted_comment_regex: inline",
    "encrypted_comment_regex": "encrypted_comment_regex: about",
}
FORMATS = ["yaml", "json", "dotenv", "ini", "binary"]
# Comment rules only mean something for formats that have comments.
CASES = [
    (fmt, rule)
    for fmt in FORMATS
    for rule in RULE_FLAGS
    if "comment" not in rule or fmt in {"yaml", "ini"}
]


def _write(tmp_path: Path, fmt: str, data: bytes, name: str = "plain") -> Path:
    path = tmp_path / f"{name}{SUFFIX[fmt]}"
    path.write_bytes(data)
    return path


def _sops_decrypt(sops: Path, path: Path, key: AgeKey, fmt: str) -> bytes:
    args = ["decrypt", "--input-type", fmt, "--output-type", fmt, str(path)]
    return run_sops(sops, args, path.parent, SOPS_AGE_KEY_FILE=str(key.path)).stdout


@pytest.mark.parametrize(("fmt", "rule"), CASES)
def test_we_decrypt_what_sops_encrypts_byte_for_byte(
    sops_bin: Path, age_key: AgeKey, tmp_path: Path, fmt: str, rule: str
) -> None:
    flags, _ = RULE_FLAGS[rule]
    if rule in CONFIG_ONLY:
        (tmp_path / ".sops.yaml").write_text(f"creation_rules:\n  - {CONFIG_ONLY[rule]}\n")
    plain = _write(tmp_path, fmt, SAMPLES[fmt])
    args = ["encrypt", *flags, "--input-type", fmt, "--output-type", fmt, str(plain)]
    encrypted = run_sops(sops_bin, args, tmp_path, SOPS_AGE_RECIPIENTS=age_key.recipient).stdout
    ours = engine.decrypt(encrypted, store_for(fmt), age_key.identities)
    enc_path = _write(tmp_path, fmt, encrypted, "enc")
    assert ours == _sops_decrypt(sops_bin, enc_path, age_key, fmt)


@pytest.mark.parametrize(("fmt", "rule"), CASES)
def test_sops_decrypts_what_we_encrypt_with_the_mac_checked(
    sops_bin: Path, age_key: AgeKey, tmp_path: Path, fmt: str, rule: str
) -> None:
    _, rules = RULE_FLAGS[rule]
    recipients = engine.Recipients(((age_key.recipient,),))
    encrypted = engine.encrypt(SAMPLES[fmt], store_for(fmt), recipients, rules)
    enc_path = _write(tmp_path, fmt, encrypted, "enc")
    theirs = _sops_decrypt(sops_bin, enc_path, age_key, fmt)
    assert theirs == engine.decrypt(encrypted, store_for(fmt), age_key.identities)
    if fmt == "binary":
        assert theirs == SAMPLES[fmt]


def _mask(data: bytes) -> bytes:
    data = re.sub(rb"ENC\[AES256_GCM,[^\]]*\]", b"ENC", data)
    data = re.sub(rb"lastmodified[^\n]*", b"lastmodified", data)
    return re.sub(rb"-----BEGIN AGE ENCRYPTED FILE-----[^-]*-----END", b"AGE", data)


@pytest.mark.parametrize("fmt", FORMATS)
def test_our_encrypted_layout_matches_sops(
    sops_bin: Path, age_key: AgeKey, tmp_path: Path, fmt: str
) -> None:
    plain = _write(tmp_path, fmt, SAMPLES[fmt])
    args = ["encrypt", "--input-type", fmt, "--output-type", fmt, str(plain)]
    theirs = run_sops(sops_bin, args, tmp_path, SOPS_AGE_RECIPIENTS=age_key.recipient).stdout
    ours = engine.encrypt(SAMPLES[fmt], store_for(fmt), engine.Recipients(((age_key.recipient,),)))
    assert _mask(ours) == _mask(theirs)


def test_multi_document_yaml_round_trips_with_sops(
    sops_bin: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    ours = engine.encrypt(YAML_MULTI, store_for("yaml"), engine.Recipients(((age_key.recipient,),)))
    theirs = _sops_decrypt(sops_bin, _write(tmp_path, "yaml", ours, "enc"), age_key, "yaml")
    assert theirs == engine.decrypt(ours, store_for("yaml"), age_key.identities)
    assert theirs.count(b"---") == 2


@pytest.mark.parametrize("fmt", ["yaml", "json", "dotenv"])
def test_sops_3_9_reads_ours_and_we_read_its_legacy_layout(
    sops_bin: Path, sops_old_bin: Path, age_key: AgeKey, tmp_path: Path, fmt: str
) -> None:
    sample = SAMPLES[fmt].replace(b"e: 2024-01-01", b"e: '2024-01-01'")  # 3.9 has no type:time
    ours = engine.encrypt(sample, store_for(fmt), engine.Recipients(((age_key.recipient,),)))
    _sops_decrypt(sops_old_bin, _write(tmp_path, fmt, ours, "ours"), age_key, fmt)
    plain = _write(tmp_path, fmt, sample)
    args = ["encrypt", "--input-type", fmt, "--output-type", fmt, str(plain)]
    legacy = run_sops(sops_old_bin, args, tmp_path, SOPS_AGE_RECIPIENTS=age_key.recipient).stdout
    assert b"unencrypted_suffix" in legacy
    # Compared with the current sops, whose output rules (JSON numbers, final newline) we follow.
    expected = _sops_decrypt(sops_bin, _write(tmp_path, fmt, legacy, "legacy"), age_key, fmt)
    assert engine.decrypt(legacy, store_for(fmt), age_key.identities) == expected
