"""Vault/OpenBao transit master keys (the test bed's OpenBao, plain and TLS), both ways with the
real sops 3.13: from flags and .sops.yaml, kept by rotate, and clear when the token is wrong."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.sops.conftest import AgeKey, layout, plain_file, run_sops
from tests.sops.test_cli import PLAIN, cli
from tests.testbed import bao


def _transit_key(server: bao.Bao) -> str:
    """A fresh transit mount and key; returns sops' URI for it."""
    mount = f"sops-{uuid.uuid4().hex[:8]}"
    bao.request(server, "POST", f"sys/mounts/{mount}", {"type": "transit"})
    bao.request(server, "POST", f"{mount}/keys/files", {})
    return f"{server.addr}/v1/{mount}/keys/files"


def _env(server: bao.Bao) -> dict[str, str]:
    env = {"VAULT_TOKEN": server.token}
    if server.cacert is not None:
        env["VAULT_CACERT"] = str(server.cacert)
    return env


@pytest.mark.parametrize("server_name", ["bao_dev", "bao_tls"])
def test_both_ways_with_sops_and_the_same_layout(
    sops_bin: Path, tmp_path: Path, server_name: str, request: pytest.FixtureRequest
) -> None:
    server: bao.Bao = request.getfixturevalue(server_name)
    uri, env = _transit_key(server), _env(server)
    args = ["encrypt", "--hc-vault-transit", uri, str(plain_file(tmp_path, PLAIN))]
    theirs = run_sops(sops_bin, args, tmp_path, **env).stdout
    (tmp_path / "theirs.yaml").write_bytes(theirs)
    ours = cli(["decrypt", str(tmp_path / "theirs.yaml")], tmp_path, **env)
    assert ours.stdout == PLAIN, ours.stderr

    written = cli(args, tmp_path, **env)
    assert written.returncode == 0, written.stderr
    assert layout(written.stdout) == layout(theirs)
    (tmp_path / "ours.yaml").write_bytes(written.stdout)
    assert run_sops(sops_bin, ["decrypt", str(tmp_path / "ours.yaml")], tmp_path, **env).stdout == (
        PLAIN
    )


def test_sops_yaml_rules_and_key_groups_and_rotate(
    sops_bin: Path, bao_dev: bao.Bao, age_key: AgeKey, tmp_path: Path
) -> None:
    uri, env = _transit_key(bao_dev), _env(bao_dev)
    (tmp_path / ".sops.yaml").write_text(
        "creation_rules:\n"
        "  - path_regex: grouped\\.yaml$\n"
        "    key_groups:\n"
        f"      - hc_vault:\n          - {uri}\n        age:\n          - {age_key.recipient}\n"
        f"  - hc_vault_transit_uri: {uri}\n"
    )
    plain = plain_file(tmp_path, PLAIN)
    assert cli(["encrypt", "-i", str(plain)], tmp_path, **env).returncode == 0
    assert b"hc_vault" in plain.read_bytes()
    grouped = tmp_path / "grouped.yaml"
    grouped.write_bytes(PLAIN)
    assert cli(["encrypt", "-i", str(grouped)], tmp_path, **env).returncode == 0
    by_age = cli(["decrypt", str(grouped)], tmp_path, SOPS_AGE_KEY_FILE=str(age_key.path))
    assert by_age.stdout == PLAIN, "either key of the group opens it"

    before = plain.read_bytes()
    assert cli(["rotate", "-i", str(plain)], tmp_path, **env).returncode == 0
    assert plain.read_bytes() != before and uri.encode().split(b"/v1/")[0] in plain.read_bytes()
    assert run_sops(sops_bin, ["decrypt", str(plain)], tmp_path, **env).stdout == PLAIN


def test_a_wrong_token_or_uri_is_a_clear_error(bao_dev: bao.Bao, tmp_path: Path) -> None:
    uri, env = _transit_key(bao_dev), _env(bao_dev)
    path = plain_file(tmp_path, PLAIN)
    encrypted = cli(["encrypt", "-i", "--hc-vault-transit", uri, str(path)], tmp_path, **env)
    assert encrypted.returncode == 0
    denied = cli(["decrypt", str(path)], tmp_path, VAULT_TOKEN="not-a-token")
    assert denied.returncode == 128
    assert uri.encode() in denied.stderr and b"Traceback" not in denied.stderr
    assert b"hunter22" not in denied.stderr and bao_dev.token.encode() not in denied.stderr
    wrong_uri = f"{bao_dev.addr}/files"
    bad = cli(
        ["encrypt", "--hc-vault-transit", wrong_uri, str(plain_file(tmp_path, PLAIN))],
        tmp_path,
        **env,
    )
    assert bad.returncode == 1 and b"is not a Vault transit key URI" in bad.stderr
