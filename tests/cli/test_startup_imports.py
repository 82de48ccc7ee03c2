"""`secretsync decrypt` loads the SOPS engine and nothing else: no Kubernetes, AWS or Vault client,
no operator, no other subcommand's module (issue 15 §4).

Start-up imports were most of the CLI's time against the sops binary at 1,000 values. These
tests check which modules a real decrypt leaves in sys.modules, not how long it took, so an
import that creeps back into the decrypt path fails here whatever the machine's load.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from secretsync.cli import main

# What a YAML decrypt with an age identity must not load, each removed from (or never on) its path.
NOT_LOADED = (
    # The cluster side's client libraries.
    "kubernetes",
    "kopf",
    "boto3",
    "botocore",
    "hvac",
    "urllib3",
    "requests",
    "prometheus_client",
    # ruamel (the YAML fallback parser) and RE2 (only for regex rules in the file's metadata).
    "ruamel",
    "re2",
    # Other layers and subcommands.
    "secretsync.operator",
    "secretsync.kube",
    "secretsync.reconcile",
    "secretsync.resolve",
    "secretsync.template",
    "secretsync.goregexp",
    "secretsync.cli.cluster_commands",
    "secretsync.cli.sops_edit",
    "secretsync.cli.sops_keys",
    # Parts of the engine a single-group age file to stdout never reaches.
    "secretsync.sops.agepq",
    "secretsync.sops.bech32",
    "secretsync.sops.shamir",
    "secretsync.sops.jsonfmt",
    "secretsync.sops.treepath",
    "secretsync.sops.yamlfmt",
    # Standard library modules only other paths need (SOPS_AGE_KEY_CMD, file writes, JSON).
    "subprocess",
    "tempfile",
    "json",
)

# Runs the CLI as the console script does, then lists the loaded modules on stderr (stdout is the
# decrypted file).
DRIVER = (
    "import sys\n"
    "from secretsync.cli import main\n"
    "code = main.run(sys.argv[1:])\n"
    "sys.stdout.flush()\n"
    "sys.stderr.write('\\n'.join(sorted(sys.modules)))\n"
    "raise SystemExit(code)\n"
)

PLAIN = "data:\n    password: hunter22\n    token: abc123\n"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "AGE_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), **extra)
    return env


def _baseline(home: Path) -> set[str]:
    """What the interpreter loads before secretsync runs (site, sitecustomize, .pth files)."""
    result = subprocess.run(
        [sys.executable, "-c", "import sys; sys.stderr.write('\\n'.join(sorted(sys.modules)))"],
        env=_env(home),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(result.stderr.split("\n"))


def _loaded_by(name: str, modules: set[str]) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_a_real_decrypt_loads_none_of_the_cluster_side(
    sops_bin: Path, age_keygen_bin: Path, tmp_path: Path
) -> None:
    key = tmp_path / "key.txt"
    subprocess.run([str(age_keygen_bin), "-o", str(key)], check=True, capture_output=True)
    recipient = next(
        line.split(": ", 1)[1]
        for line in key.read_text().splitlines()
        if line.startswith("# public key: ")
    )
    plain = tmp_path / "secret.yaml"
    plain.write_text(PLAIN)
    encrypted = tmp_path / "secret.enc.yaml"
    encrypted.write_bytes(
        subprocess.run(
            [str(sops_bin), "encrypt", "--age", recipient, str(plain)],
            env=_env(tmp_path),
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    )

    result = subprocess.run(
        [sys.executable, "-c", DRIVER, "decrypt", str(encrypted)],
        env=_env(tmp_path, SOPS_AGE_KEY_FILE=str(key)),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == PLAIN
    loaded = set(result.stderr.split("\n")) - _baseline(tmp_path)
    assert "secretsync.sops.engine" in loaded  # the listing is of the process that decrypted
    assert [name for name in NOT_LOADED if _loaded_by(name, loaded)] == []


def test_help_still_lists_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "secretsync", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    listing = result.stdout.split("positional arguments:", 1)[1].split("options:", 1)[0]
    # argparse indents the COMMAND heading by 2, each command by 4 and a wrapped help line more.
    names = [
        line.split()[0]
        for line in listing.splitlines()
        if line[:4].isspace() and line[4:5].isalpha()
    ]
    assert names == list(main.COMMANDS)


@pytest.mark.parametrize("command", sorted(main.COMMANDS))
def test_each_command_parses_with_only_its_own_module(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main.build_parser(command).parse_args([command, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: secretsync {command} ")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["decrypt", "f.yaml"], "decrypt"),
        (["--version"], None),
        ([], None),
        (["-h"], None),
        (["-h", "set", "f", "p"], "set"),
        (["nosuch", "decrypt"], None),
        (["crds"], "crds"),
    ],
)
def test_the_command_is_the_first_word_that_is_not_an_option(
    argv: list[str], expected: str | None
) -> None:
    assert main.command_in(argv) == expected
