"""`rotate` (a new data key) and `updatekeys` (the same key, re-wrapped for .sops.yaml's keys)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from secretsync.cli import sops_common as common
from secretsync.cli.files import atomic_write, read_input, write_output
from secretsync.errors import ConfigError

if TYPE_CHECKING:
    from secretsync.sops.metadata import Metadata

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def _recipient_groups(metadata: Metadata, *, strict: bool = True) -> list[list[str]]:
    """Each group's keys as recipients: age keys, KMS keys as `ARN[+ROLE]`, Vault transit keys
    as their URI. Other kinds
    are refused when `strict` (rotate keeps every key), else named (updatekeys replaces them
    with .sops.yaml's keys, as sops does)."""
    from secretsync.sops.masterkeys import recipient_of  # noqa: PLC0415 - lazy

    groups = []
    for group in metadata.key_groups:
        found = [k.recipient for k in group.age]
        for other in group.others:
            recipient = recipient_of(other.type, dict(other.fields))
            if recipient is None and not strict:
                recipient = f"({other.type} key)"
            if recipient is None:
                raise ConfigError(
                    f"also has a {other.type} key that secretsync cannot re-wrap; use sops",
                    field="sops",
                )
            found.append(recipient)
        groups.append(found)
    return groups


def _split(text: str | None) -> list[str]:
    return [r.strip() for r in (text or "").split(",") if r.strip()]


def _rotate(args: argparse.Namespace) -> int:
    from secretsync.sops import engine  # noqa: PLC0415 - lazy
    from secretsync.sops.cipher import ValueCipher, random_data_key  # noqa: PLC0415 - lazy

    fmt = common.formats(args, args.file)
    opened = engine.open_file(read_input(args.file), fmt.input, common.identities())
    groups = _recipient_groups(opened.metadata)
    added = _split(args.add_age) + _split(args.add_kms) + _split(args.add_hc_vault_transit)
    groups[0] += [r for r in added if r not in groups[0]]
    removed = set(_split(args.rm_age) + _split(args.rm_kms) + _split(args.rm_hc_vault_transit))
    groups = [[r for r in group if r not in removed] for group in groups]
    recipients = common.recipients(groups, opened.metadata.shamir_threshold)
    key = random_data_key()
    metadata = engine.wrap_key(key, recipients, keep=opened.metadata)
    out = engine.encrypt_opened(opened.branches, metadata, ValueCipher(key), fmt.output)
    if args.in_place:
        atomic_write(Path(args.file), out)
    else:
        write_output(out, None)
    return 0


def _describe(old: list[list[str]], new: tuple[tuple[str, ...], ...]) -> str:
    lines = []
    for index in range(max(len(old), len(new))):
        before = old[index] if index < len(old) else []
        after = list(new[index]) if index < len(new) else []
        lines.append(f"key group {index}:")
        lines += [f"  - {r}" for r in before if r not in after]
        lines += [f"  + {r}" for r in after if r not in before]
    return "\n".join(lines) + "\n"


def _confirm(question: str) -> bool:
    sys.stderr.write(question)
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in {"y", "yes"}


def _update_one(args: argparse.Namespace, name: str) -> None:
    from secretsync.sops import engine  # noqa: PLC0415 - lazy
    from secretsync.sops.formats import embed_metadata  # noqa: PLC0415 - lazy
    from secretsync.sops.metadata import to_branch  # noqa: PLC0415 - lazy

    store = common.formats(args, name).input
    loaded = engine.load(read_input(name), store, name)
    rule = common.creation_rule(args, name)
    if rule is None or not rule.groups:
        raise ConfigError("no .sops.yaml creation rule with keys matches this file", field=name)
    old = _recipient_groups(loaded.metadata, strict=False)
    if [list(g) for g in rule.groups] == old:
        sys.stderr.write(f"{name}: already up to date\n")
        return
    sys.stderr.write(f"The following changes will be made to the file's groups ({name}):\n")
    sys.stderr.write(_describe(old, rule.groups))
    if not args.yes and not _confirm("Is this okay? (y/n): "):
        sys.stderr.write(f"{name}: changes not applied\n")
        return
    key = engine.data_key(loaded.metadata, common.identities())
    recipients = common.recipients(rule.groups, rule.shamir_threshold)
    metadata = engine.wrap_key(key, recipients, keep=loaded.metadata)
    # Values, MAC, lastmodified and version stay exactly as they were.
    atomic_write(
        Path(name), store.emit(embed_metadata(store, loaded.branches, to_branch(metadata)), None)
    )
    sys.stderr.write(f"{name}: updated\n")


def _updatekeys(args: argparse.Namespace) -> int:
    for name in args.files:
        _update_one(args, name)
    return 0


def register_rotate(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("rotate", help="re-encrypt a file with a new data key")
    parser.add_argument("file")
    parser.add_argument("-i", "--in-place", action="store_true")
    parser.add_argument("--add-age", help="comma-separated recipients to add")
    parser.add_argument("--rm-age", help="comma-separated recipients to remove")
    parser.add_argument("--add-kms", help="comma-separated KMS key ARNs (+ROLE_ARN) to add")
    parser.add_argument("--rm-kms", help="comma-separated KMS key ARNs (+ROLE_ARN) to remove")
    parser.add_argument("--add-hc-vault-transit", help="comma-separated Vault transit key URIs")
    parser.add_argument("--rm-hc-vault-transit", help="comma-separated Vault transit key URIs")
    common.add_format_flags(parser)
    parser.set_defaults(handler=common.guarded(_rotate))


def register_updatekeys(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("updatekeys", help="re-wrap the data key for .sops.yaml's keys")
    parser.add_argument("files", nargs="+")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    common.add_format_flags(parser, output=False)
    parser.set_defaults(handler=common.guarded(_updatekeys))
