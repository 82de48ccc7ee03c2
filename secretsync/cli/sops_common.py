"""What the SOPS subcommands share: formats, .sops.yaml lookup, identities and exit codes.

Exit codes follow sops (cmd/sops/codes) where sops has one, so scripts written for sops work.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secretsync.errors import (
    AlreadyEncrypted,
    ConfigError,
    DecryptionError,
    MacMismatch,
    NotFound,
    SecretSyncError,
)

if TYPE_CHECKING:
    from secretsync.sops.config import Config, CreationRule
    from secretsync.sops.engine import Recipients
    from secretsync.sops.formats import Store
    from secretsync.sops.keys import Identities
    from secretsync.sops.masterkeys import KeyService

EXIT_ERROR = 1
EXIT_MAC_MISMATCH = 51
EXIT_NO_DATA_KEY = 128
EXIT_NOT_MODIFIED = 200
EXIT_ALREADY_ENCRYPTED = 203

Handler = Callable[[argparse.Namespace], int]


def guarded(handler: Handler) -> Handler:
    """Turn our errors into a one-line message and sops' exit code; never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except MacMismatch as exc:
            return _fail(exc, EXIT_MAC_MISMATCH, "use --ignore-mac only if you trust the file")
        except DecryptionError as exc:
            return _fail(exc, EXIT_NO_DATA_KEY, None)
        except AlreadyEncrypted as exc:
            return _fail(exc, EXIT_ALREADY_ENCRYPTED, None)
        except (ConfigError, NotFound, SecretSyncError) as exc:
            return _fail(exc, EXIT_ERROR, None)
        except KeyboardInterrupt:
            return 130

    return run


def _fail(exc: Exception, code: int, hint: str | None) -> int:
    sys.stderr.write(f"secretsync: error: {exc}\n")
    if hint:
        sys.stderr.write(f"secretsync: hint: {hint}\n")
    return code


@dataclass(frozen=True)
class Formats:
    input: Store
    output: Store


def formats(args: argparse.Namespace, path: str | None) -> Formats:
    from secretsync.sops.formats import format_for_path, store_for  # noqa: PLC0415 - lazy

    name = getattr(args, "filename_override", None) or path or ""
    in_name = args.input_type or format_for_path(name)
    out_name = getattr(args, "output_type", None) or in_name
    return Formats(store_for(in_name), store_for(out_name))


def identities() -> Identities:
    from secretsync.cli import identities as finder  # noqa: PLC0415 - imports pyrage
    from secretsync.sops.keys import Identities  # noqa: PLC0415 - lazy

    return finder.find(os.environ) + Identities(services=services())


def services() -> tuple[KeyService, ...]:
    """Master keys held by services: AWS KMS and Vault/OpenBao transit (their client libraries
    are imported only when such a key is used)."""
    from secretsync.providers.aws_kms import KmsService  # noqa: PLC0415 - lazy
    from secretsync.providers.vault_transit import TransitService  # noqa: PLC0415 - lazy

    return (KmsService(), TransitService(os.environ))


def recipients(groups: Sequence[Sequence[str]], threshold: int) -> Recipients:
    from secretsync.sops.engine import Recipients  # noqa: PLC0415 - lazy

    return Recipients(tuple(tuple(g) for g in groups), threshold, services())


def flag_group(*flags: str | None) -> tuple[tuple[str, ...], ...]:
    """One key group from comma-separated flag values (`--age`, `--kms`, `--hc-vault-transit`),
    as sops builds it."""
    group = tuple(r.strip() for flag in flags for r in (flag or "").split(",") if r.strip())
    return (group,) if group else ()


def load_config(args: argparse.Namespace, target: str | None) -> tuple[Config, Path] | None:
    """The .sops.yaml from --config or SOPS_CONFIG, else found walking up from the file."""
    from secretsync.cli.files import find_upwards  # noqa: PLC0415 - lazy
    from secretsync.sops import config  # noqa: PLC0415 - lazy

    explicit = getattr(args, "config", None) or os.environ.get("SOPS_CONFIG")
    start = Path(target).parent if target and target != "-" else Path.cwd()
    path = Path(explicit) if explicit else find_upwards(start, ".sops.yaml")
    if path is None:
        return None
    try:
        text = path.read_bytes()
    except OSError:
        raise ConfigError("cannot be read", field=str(path)) from None
    return config.parse(text, str(path)), path.parent


def creation_rule(args: argparse.Namespace, target: str | None) -> CreationRule | None:
    from secretsync.sops import config  # noqa: PLC0415 - lazy

    found = load_config(args, target)
    if found is None:
        return None
    cfg, folder = found
    name = getattr(args, "filename_override", None) or target or ""
    absolute = Path(name).resolve() if name and name != "-" else Path.cwd() / "stdin"
    try:
        relative = absolute.relative_to(folder.resolve()).as_posix()
    except ValueError:
        relative = absolute.as_posix()
    return config.rule_for(cfg, relative)


def add_format_flags(parser: argparse.ArgumentParser, *, output: bool = True) -> None:
    parser.add_argument("--input-type", choices=["yaml", "json", "dotenv", "ini", "binary"])
    if output:
        parser.add_argument("--output-type", choices=["yaml", "json", "dotenv", "ini", "binary"])
    parser.add_argument("--config", help="path to .sops.yaml (default: found walking up)")
