"""`secretsync edit`: decrypt to a private temp file, run $EDITOR, re-encrypt if it changed.

The plaintext lives in a 0600 file inside a 0700 folder that is removed on every exit path. The
data key and the IVs of unchanged values are kept, so the git diff shows only what was edited.
If the edited text does not parse, the error is shown and the editor opens again, as in sops.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from secretsync.cli import sops_common as common
from secretsync.cli.files import atomic_write, private_dir, write_private
from secretsync.errors import ConfigError

if TYPE_CHECKING:
    from secretsync.sops.engine import Opened
    from secretsync.sops.formats import Store
    from secretsync.sops.tree import Branch

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
MAX_ATTEMPTS_WITHOUT_TTY = 3
EXAMPLE_TEXT = "Welcome to secretsync! Edit this file as you please!"


def _editor_command(path: Path) -> list[str]:
    editor = os.environ.get("SOPS_EDITOR") or os.environ.get("EDITOR") or "vi"
    return [*shlex.split(editor), str(path)]


def _run_editor(path: Path) -> None:
    try:
        result = subprocess.run(_editor_command(path), check=False)
    except OSError as exc:
        raise ConfigError(f"could not be started ({exc.strerror})", field="$EDITOR") from None
    if result.returncode != 0:
        raise ConfigError(f"exited with status {result.returncode}", field="$EDITOR")


def _edit_until_valid(path: Path, store: Store) -> tuple[Branch, ...] | None:
    """Loop until the text parses; None when the user left it unchanged."""
    from secretsync.sops.formats import has_metadata_key  # noqa: PLC0415 - lazy

    original = path.read_bytes()
    attempts = 0
    while True:
        _run_editor(path)
        edited = path.read_bytes()
        if edited == original:
            return None
        try:
            branches = store.plain_loader(edited, "edited file")
            if branches and has_metadata_key(store, branches[0]):
                raise ConfigError("must not contain a top-level sops key", field="edited file")
            return branches
        except ConfigError as exc:
            attempts += 1
            sys.stderr.write(f"secretsync: the edited file is not valid: {exc}\n")
            if not _may_retry(attempts):
                raise
            original = edited


def _may_retry(attempts: int) -> bool:
    if not sys.stdin.isatty():
        return attempts < MAX_ATTEMPTS_WITHOUT_TTY
    sys.stderr.write("Press Enter to return to the editor, or Ctrl+C to give up.\n")
    sys.stdin.readline()
    return True


def _open(args: argparse.Namespace, store: Store) -> Opened:
    from secretsync.sops import engine  # noqa: PLC0415 - lazy

    path = Path(args.file)
    if path.exists():
        data = path.read_bytes()
        return engine.open_file(data, store, common.identities(), ignore_mac=args.ignore_mac)
    return _new_file(args, store)


def _new_file(args: argparse.Namespace, store: Store) -> Opened:
    """A missing file starts from an example document, encrypted per .sops.yaml or --age."""
    from secretsync.sops import engine  # noqa: PLC0415 - lazy
    from secretsync.sops.cipher import ValueCipher, random_data_key  # noqa: PLC0415 - lazy
    from secretsync.sops.rules import Rules  # noqa: PLC0415 - lazy
    from secretsync.sops.tree import Branch  # noqa: PLC0415 - lazy

    rule = common.creation_rule(args, args.file)
    flags = common.flag_group(args.age, args.kms, args.hc_vault_transit)
    groups = flags or (rule.groups if rule else ())
    recipients = common.recipients(groups, rule.shamir_threshold if rule else 0)
    key = random_data_key()
    rules = rule.rules if rule else Rules()
    rules = Rules() if store.single_value else rules.effective()
    metadata = replace(engine.wrap_key(key, recipients), rules=rules)
    if store.single_value:
        example = Branch((("data", EXAMPLE_TEXT + "\n"),))
    else:
        example = Branch((("hello", EXAMPLE_TEXT), ("example_key", "example_value")))
    return engine.Opened((example,), metadata, key, ValueCipher(key, stash=True))


def _edit(args: argparse.Namespace) -> int:
    from secretsync.sops import engine  # noqa: PLC0415 - lazy

    store = common.formats(args, args.file).input
    opened = _open(args, store)
    with private_dir() as folder:
        temp = folder / f"edit{Path(args.file).suffix}"
        write_private(temp, store.plain_emitter(opened.branches, None))
        edited = _edit_until_valid(temp, store)
    if edited is None:
        sys.stderr.write("secretsync: the file was not changed\n")
        return common.EXIT_NOT_MODIFIED
    out = engine.reencrypt(opened, store, edited, version=engine.WRITER_VERSION)
    atomic_write(Path(args.file), out)
    return 0


def register_edit(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("edit", help="edit an encrypted file in $EDITOR")
    parser.add_argument("file")
    parser.add_argument("--ignore-mac", action="store_true", help="skip the MAC check (unsafe)")
    parser.add_argument("--age", help="recipients for a new file (overrides .sops.yaml)")
    parser.add_argument("--kms", help="AWS KMS key ARNs for a new file (overrides .sops.yaml)")
    parser.add_argument(
        "--hc-vault-transit",
        help="comma-separated Vault transit key URIs (https://vault:8200/v1/transit/keys/NAME)",
    )
    common.add_format_flags(parser, output=False)
    parser.set_defaults(handler=common.guarded(_edit))
