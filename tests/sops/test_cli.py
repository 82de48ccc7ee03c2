"""The sops-compatible CLI, run as a process against the real sops binary."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sops.conftest import AgeKey, clean_env, make_age_key, run_sops

# Written the way sops writes YAML (indent 4), so decrypted output compares byte for byte.
PLAIN = b"name: app\ndata:\n    password: hunter22\n    token_unencrypted: visible\n"


def cli(
    args: list[str], home: Path, *, stdin: bytes = b"", **env: str
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "secretsync", *args],
        input=stdin,
        env=clean_env(home, **env),
        capture_output=True,
        cwd=home,
        timeout=120,
        check=False,
    )


def sops_decrypt(sops: Path, path: Path, key: AgeKey) -> bytes:
    return run_sops(
        sops, ["decrypt", str(path)], path.parent, SOPS_AGE_KEY_FILE=str(key.path)
    ).stdout


@pytest.fixture
def encrypted(tmp_path: Path, age_key: AgeKey) -> Path:
    path = tmp_path / "secret.yaml"
    path.write_bytes(PLAIN)
    result = cli(["encrypt", "-i", "--age", age_key.recipient, str(path)], tmp_path)
    assert result.returncode == 0, result.stderr
    return path


@pytest.mark.parametrize(
    ("flags", "identity", "pattern"),
    [
        ([], "AGE-SECRET-KEY-1", r"age1[0-9a-z]+"),
        (["--pq"], "AGE-SECRET-KEY-PQ-1", r"age1pq1[0-9a-z]+"),
    ],
)
def test_keygen_writes_a_private_identity_sops_can_use(
    sops_bin: Path, tmp_path: Path, flags: list[str], identity: str, pattern: str
) -> None:
    keyfile = tmp_path / "keys.txt"
    assert cli(["keygen", *flags, "-o", str(keyfile)], tmp_path).returncode == 0
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    assert identity in keyfile.read_text()
    recipient = re.search(pattern, keyfile.read_text())
    assert recipient
    plain = tmp_path / "p.yaml"
    plain.write_bytes(PLAIN)
    enc = run_sops(
        sops_bin, ["encrypt", str(plain)], tmp_path, SOPS_AGE_RECIPIENTS=recipient.group(0)
    ).stdout
    (tmp_path / "e.yaml").write_bytes(enc)
    result = cli(["decrypt", str(tmp_path / "e.yaml")], tmp_path, SOPS_AGE_KEY_FILE=str(keyfile))
    assert result.stdout == PLAIN
    assert sops_decrypt(sops_bin, tmp_path / "e.yaml", AgeKey(keyfile, recipient.group(0))) == PLAIN


def test_encrypt_in_place_keeps_the_mode_and_sops_decrypts_it(
    sops_bin: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    path = tmp_path / "secret.yaml"
    path.write_bytes(PLAIN)
    path.chmod(0o640)
    assert cli(["encrypt", "-i", "--age", age_key.recipient, str(path)], tmp_path).returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert b"hunter22" not in path.read_bytes()
    assert sops_decrypt(sops_bin, path, age_key) == PLAIN
    again = cli(["encrypt", "-i", "--age", age_key.recipient, str(path)], tmp_path)
    assert again.returncode == 203


def test_creation_rules_are_found_walking_up_from_the_file(
    sops_bin: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    (tmp_path / ".sops.yaml").write_text(
        "creation_rules:\n"
        "  - path_regex: nothing/.*\n    age: age1qqqq\n"
        f"  - path_regex: apps/.*\\.yaml$\n    encrypted_regex: ^password$\n"
        f"    age: {age_key.recipient}\n"
    )
    folder = tmp_path / "apps" / "deep"
    folder.mkdir(parents=True)
    path = folder / "s.yaml"
    path.write_bytes(PLAIN)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = cli(["encrypt", "-i", str(path)], elsewhere)
    assert result.returncode == 0, result.stderr
    text = path.read_bytes()
    assert b"encrypted_regex: ^password$" in text
    assert b"name: app" in text
    assert sops_decrypt(sops_bin, path, age_key) == PLAIN


def test_decrypt_matches_sops_and_in_place_writes_plaintext(
    sops_bin: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    plain = tmp_path / "p.json"
    plain.write_bytes(b'{"a": 1, "b": {"c": "<x>"}}')
    enc = run_sops(
        sops_bin, ["encrypt", str(plain)], tmp_path, SOPS_AGE_RECIPIENTS=age_key.recipient
    ).stdout
    path = tmp_path / "e.json"
    path.write_bytes(enc)
    expected = sops_decrypt(sops_bin, path, age_key)
    ours = cli(["decrypt", str(path)], tmp_path, SOPS_AGE_KEY_FILE=str(age_key.path))
    assert ours.stdout == expected
    extract = cli(
        ["decrypt", "--extract", '["b"]["c"]', str(path)],
        tmp_path,
        SOPS_AGE_KEY=age_key.path.read_text(),
    )
    assert extract.stdout == b"<x>"
    assert (
        cli(["decrypt", "-i", str(path)], tmp_path, SOPS_AGE_KEY_FILE=str(age_key.path)).returncode
        == 0
    )
    assert path.read_bytes() == expected


def test_a_tampered_plaintext_value_is_a_mac_mismatch(
    encrypted: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    encrypted.write_bytes(encrypted.read_bytes().replace(b"visible", b"changed"))
    result = cli(["decrypt", str(encrypted)], tmp_path, SOPS_AGE_KEY_FILE=str(age_key.path))
    assert result.returncode == 51
    assert b"MAC mismatch" in result.stderr
    assert b"hunter22" not in result.stdout + result.stderr
    ignored = cli(
        ["decrypt", "--ignore-mac", str(encrypted)], tmp_path, SOPS_AGE_KEY_FILE=str(age_key.path)
    )
    assert ignored.returncode == 0
    assert b"changed" in ignored.stdout


def test_no_usable_identity_exits_128_and_names_the_key_types(
    encrypted: Path, tmp_path: Path
) -> None:
    result = cli(["decrypt", str(encrypted)], tmp_path)
    assert result.returncode == 128
    assert b"age" in result.stderr


def test_identities_come_from_key_cmd_and_the_default_keys_file(
    encrypted: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    by_cmd = cli(["decrypt", str(encrypted)], tmp_path, SOPS_AGE_KEY_CMD=f"cat {age_key.path}")
    assert by_cmd.stdout == PLAIN
    default = tmp_path / ".config" / "sops" / "age" / "keys.txt"
    default.parent.mkdir(parents=True)
    default.write_bytes(age_key.path.read_bytes())
    assert cli(["decrypt", str(encrypted)], tmp_path).stdout == PLAIN


def _editor(tmp_path: Path, body: str) -> str:
    script = tmp_path / "editor.py"
    script.write_text("import os, pathlib, stat, sys\np = pathlib.Path(sys.argv[1])\n" + body)
    return f"{sys.executable} {script}"


def test_edit_changes_one_value_in_a_private_temp_file(
    sops_bin: Path, encrypted: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    before = encrypted.read_bytes()
    log = tmp_path / "log.json"
    editor = _editor(
        tmp_path,
        (
            f"pathlib.Path({str(log)!r}).write_text(__import__('json').dumps(["
            "str(p), oct(stat.S_IMODE(p.stat().st_mode)),"
            " oct(stat.S_IMODE(p.parent.stat().st_mode))]))\n"
            "p.write_text(p.read_text().replace('hunter22', 'hunter23'))\n"
        ),
    )
    result = cli(
        ["edit", str(encrypted)], tmp_path, EDITOR=editor, SOPS_AGE_KEY_FILE=str(age_key.path)
    )
    assert result.returncode == 0, result.stderr
    temp, file_mode, dir_mode = json.loads(log.read_text())
    assert (file_mode, dir_mode) == ("0o600", "0o700")
    assert not Path(temp).parent.exists()
    assert sops_decrypt(sops_bin, encrypted, age_key) == PLAIN.replace(b"hunter22", b"hunter23")
    changed = set(before.splitlines()) ^ set(encrypted.read_bytes().splitlines())
    assert all(
        b"password" in line or b"lastmodified" in line or b"mac:" in line for line in changed
    )


def test_edit_without_changes_exits_200_and_leaves_the_file(
    encrypted: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    before = encrypted.read_bytes()
    result = cli(
        ["edit", str(encrypted)], tmp_path, EDITOR="true", SOPS_AGE_KEY_FILE=str(age_key.path)
    )
    assert result.returncode == 200
    assert encrypted.read_bytes() == before


def test_edit_reopens_the_editor_when_the_yaml_does_not_parse(
    sops_bin: Path, encrypted: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    counter = tmp_path / "count"
    editor = _editor(
        tmp_path,
        (
            f"c = pathlib.Path({str(counter)!r})\n"
            "n = int(c.read_text()) if c.exists() else 0\nc.write_text(str(n + 1))\n"
            "p.write_text('name: [unclosed\\n' if n == 0 else 'name: fixed\\n')\n"
        ),
    )
    result = cli(
        ["edit", str(encrypted)], tmp_path, EDITOR=editor, SOPS_AGE_KEY_FILE=str(age_key.path)
    )
    assert result.returncode == 0, result.stderr
    assert b"not valid" in result.stderr
    assert counter.read_text() == "2"
    assert sops_decrypt(sops_bin, encrypted, age_key) == b"name: fixed\n"


def test_rotate_changes_the_data_key(
    sops_bin: Path, encrypted: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    before = encrypted.read_bytes()
    result = cli(["rotate", "-i", str(encrypted)], tmp_path, SOPS_AGE_KEY_FILE=str(age_key.path))
    assert result.returncode == 0, result.stderr
    after = encrypted.read_bytes()
    old_enc = re.findall(rb"password: (ENC\[[^\]]+\])", before)
    assert old_enc and old_enc[0] not in after
    assert sops_decrypt(sops_bin, encrypted, age_key) == PLAIN


def test_updatekeys_asks_then_rewraps_the_same_key(
    sops_bin: Path, age_keygen_bin: Path, encrypted: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    second = make_age_key(age_keygen_bin, tmp_path / "second.txt")
    (tmp_path / ".sops.yaml").write_text(
        f"creation_rules:\n  - age: {age_key.recipient},{second.recipient}\n"
    )
    before = encrypted.read_bytes()
    declined = cli(
        ["updatekeys", str(encrypted)], tmp_path, stdin=b"n\n", SOPS_AGE_KEY_FILE=str(age_key.path)
    )
    assert declined.returncode == 0
    assert encrypted.read_bytes() == before
    result = cli(
        ["updatekeys", "--yes", str(encrypted)], tmp_path, SOPS_AGE_KEY_FILE=str(age_key.path)
    )
    assert result.returncode == 0, result.stderr
    after = encrypted.read_bytes()
    assert second.recipient.encode() in after
    for line in (b"mac:", b"lastmodified:", b"password:"):
        assert [x for x in before.splitlines() if line in x] == [
            x for x in after.splitlines() if line in x
        ]
    assert sops_decrypt(sops_bin, encrypted, second) == PLAIN


def test_set_and_unset_one_value(
    sops_bin: Path, encrypted: Path, age_key: AgeKey, tmp_path: Path
) -> None:
    env = {"SOPS_AGE_KEY_FILE": str(age_key.path)}
    assert (
        cli(
            ["set", str(encrypted), '["data"]["extra"]', '{"k": [1, "two"]}'], tmp_path, **env
        ).returncode
        == 0
    )
    decrypted = sops_decrypt(sops_bin, encrypted, age_key)
    assert b"extra:\n        k:\n            - 1\n            - two\n" in decrypted
    assert cli(["unset", str(encrypted), '["data"]["password"]'], tmp_path, **env).returncode == 0
    assert b"hunter22" not in sops_decrypt(sops_bin, encrypted, age_key)


def test_filestatus(encrypted: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_bytes(PLAIN)
    assert cli(["filestatus", str(encrypted)], tmp_path).stdout == b'{"encrypted":true}\n'
    assert cli(["filestatus", str(plain)], tmp_path).stdout == b'{"encrypted":false}\n'
