"""Where the CLI finds age identities, as sops does; the operator never uses this module.

Sources are merged: SSH keys (SOPS_AGE_SSH_PRIVATE_KEY_FILE, ~/.ssh/id_ed25519, ~/.ssh/id_rsa),
SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD and <config dir>/sops/age/keys.txt.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from secretsync.errors import ConfigError
from secretsync.sops import keys


def default_keys_file(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "sops" / "age" / "keys.txt"


def _ssh_identities(env: Mapping[str, str]) -> keys.Identities:
    explicit = env.get("SOPS_AGE_SSH_PRIVATE_KEY_FILE")
    if explicit:
        return keys.ssh_identity(Path(explicit).read_bytes(), explicit)
    found = keys.Identities()
    home = Path(env.get("HOME", "~")).expanduser()
    for name in ("id_ed25519", "id_rsa"):
        path = home / ".ssh" / name
        if path.is_file():
            try:
                found += keys.ssh_identity(path.read_bytes(), str(path))
            except ConfigError:
                continue  # passphrase-protected or unsupported: sops would prompt; we skip it
    return found


def _from_command(command: str) -> keys.Identities:
    # Imported here: only SOPS_AGE_KEY_CMD runs a process, and subprocess is a measurable part
    # of `secretsync decrypt`'s start-up.
    import shlex  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    try:
        result = subprocess.run(
            shlex.split(command), capture_output=True, check=True, timeout=60, text=True
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError(
            f"failed to run ({type(exc).__name__})", field="SOPS_AGE_KEY_CMD"
        ) from None
    return keys.parse_identities(result.stdout, "SOPS_AGE_KEY_CMD")


def find(env: Mapping[str, str]) -> keys.Identities:
    found = _ssh_identities(env)
    if env.get("SOPS_AGE_KEY"):
        found += keys.parse_identities(env["SOPS_AGE_KEY"], "SOPS_AGE_KEY")
    if env.get("SOPS_AGE_KEY_FILE"):
        path = Path(env["SOPS_AGE_KEY_FILE"])
        try:
            found += keys.parse_identities(path.read_text(), str(path))
        except OSError:
            raise ConfigError("cannot be read", field=f"SOPS_AGE_KEY_FILE={path}") from None
    if env.get("SOPS_AGE_KEY_CMD"):
        found += _from_command(env["SOPS_AGE_KEY_CMD"])
    default = default_keys_file(env)
    if default.is_file():
        found += keys.parse_identities(default.read_text(), str(default))
    return found
