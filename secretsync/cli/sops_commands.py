"""sops-compatible subcommands: keygen, encrypt, decrypt, set, unset, filestatus.

edit lives in sops_edit.py and rotate/updatekeys in sops_keys.py. Heavy modules (pyrage,
cryptography, ruamel) are imported inside the handlers so `secretsync --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from secretsync.cli import sops_common as common
from secretsync.cli.files import atomic_write, read_input, write_output
from secretsync.errors import ConfigError

if TYPE_CHECKING:
    from secretsync.sops.engine import Opened
    from secretsync.sops.formats import Store
    from secretsync.sops.rules import Rules
    from secretsync.sops.tree import Value

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

RULE_FLAGS = (
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
)


def _keygen(args: argparse.Namespace) -> int:
    from secretsync.sops import keys  # noqa: PLC0415 - imports pyrage

    identity, recipient = keys.generate(post_quantum=args.pq)
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    text = f"# created: {created}\n# public key: {recipient}\n{identity}\n".encode()
    if args.output:
        path = Path(args.output)
        if path.exists():
            raise ConfigError("already exists; refusing to overwrite an identity", field=str(path))
        atomic_write(path, text, mode=0o600)
        sys.stderr.write(f"Public key: {recipient}\n")
    else:
        sys.stdout.write(text.decode())
    return 0


def _rules(args: argparse.Namespace, rule_rules: Rules) -> Rules:
    from secretsync.sops.rules import Rules  # noqa: PLC0415 - lazy

    chosen = {name: getattr(args, name) for name in RULE_FLAGS if getattr(args, name)}
    if chosen or args.mac_only_encrypted:
        return Rules(**chosen, mac_only_encrypted=args.mac_only_encrypted)
    return rule_rules


def _encrypt(args: argparse.Namespace) -> int:
    from secretsync.sops import engine  # noqa: PLC0415 - lazy
    from secretsync.sops.rules import Rules  # noqa: PLC0415 - lazy

    fmt = common.formats(args, args.file)
    rule = common.creation_rule(args, args.file)
    flags = common.flag_group(args.age, args.kms, args.hc_vault_transit)
    groups = flags or (rule.groups if rule else ())
    threshold = args.shamir_secret_sharing_threshold or (rule.shamir_threshold if rule else 0)
    rules = _rules(args, rule.rules if rule else Rules())
    out = engine.encrypt(
        read_input(args.file),
        fmt.input,
        common.recipients(groups, threshold),
        rules,
        output=fmt.output,
        indent=args.indent,
        source=args.file or "stdin",
    )
    return _deliver(args, out)


def _deliver(args: argparse.Namespace, data: bytes) -> int:
    if getattr(args, "in_place", False):
        if not args.file or args.file == "-":
            raise ConfigError("needs a file, not stdin", field="--in-place")
        atomic_write(Path(args.file), data)
    else:
        write_output(data, getattr(args, "output", None))
    return 0


def _decrypt(args: argparse.Namespace) -> int:
    from secretsync.sops import engine  # noqa: PLC0415 - lazy

    fmt = common.formats(args, args.file)
    data = read_input(args.file)
    if not args.extract:
        out = engine.decrypt(
            data,
            fmt.input,
            common.identities(),
            output=fmt.output,
            ignore_mac=args.ignore_mac,
            source=args.file or "stdin",
        )
        return _deliver(args, out)
    from secretsync.sops import treepath  # noqa: PLC0415 - only --extract reads a path

    opened = engine.open_file(data, fmt.input, common.identities(), ignore_mac=args.ignore_mac)
    value = treepath.get(opened.branches[0], treepath.parse(args.extract))
    return _deliver(args, _emit_value(value, fmt.output))


def _emit_value(value: Value, store: Store) -> bytes:
    from secretsync.sops.tree import Branch  # noqa: PLC0415 - lazy

    if isinstance(value, Branch):
        return store.plain_emitter((value,), None)
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, tuple):
        return store.plain_emitter((Branch((("value", value),)),), None)
    import json  # noqa: PLC0415 - lazy: a YAML decrypt never needs it

    return json.dumps(value).encode()


def _set(args: argparse.Namespace) -> int:
    from secretsync.sops import engine, treepath  # noqa: PLC0415 - lazy

    fmt = common.formats(args, args.file)
    text = sys.stdin.read() if args.value_stdin else args.value
    if text is None:
        raise ConfigError("give a value, or --value-stdin", field="value")
    opened = engine.open_file(read_input(args.file), fmt.input, common.identities())
    first = treepath.set_value(
        opened.branches[0], treepath.parse(args.path), treepath.from_json(text)
    )
    return _save(args, opened, first)


def _unset(args: argparse.Namespace) -> int:
    from secretsync.sops import engine, treepath  # noqa: PLC0415 - lazy

    fmt = common.formats(args, args.file)
    opened = engine.open_file(read_input(args.file), fmt.input, common.identities())
    first = treepath.unset(opened.branches[0], treepath.parse(args.path))
    return _save(args, opened, first)


def _save(args: argparse.Namespace, opened: Opened, first: Value) -> int:
    from secretsync.sops import engine  # noqa: PLC0415 - lazy
    from secretsync.sops.tree import Branch  # noqa: PLC0415 - lazy

    if not isinstance(first, Branch):
        raise ConfigError("the document must stay a mapping", field="path")
    fmt = common.formats(args, args.file)
    out = engine.reencrypt(opened, fmt.input, (first, *opened.branches[1:]))
    atomic_write(Path(args.file), out)
    return 0


def _filestatus(args: argparse.Namespace) -> int:
    from secretsync.sops import engine  # noqa: PLC0415 - lazy

    fmt = common.formats(args, args.file)
    try:
        loaded = engine.load(read_input(args.file), fmt.input, args.file)
        encrypted = bool(loaded.metadata.version and loaded.metadata.mac)
    except ConfigError:
        encrypted = False
    import json  # noqa: PLC0415 - lazy: a YAML decrypt never needs it

    sys.stdout.write(json.dumps({"encrypted": encrypted}, separators=(",", ":")) + "\n")
    return 0


def _add_rule_flags(parser: argparse.ArgumentParser) -> None:
    for name in RULE_FLAGS:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, metavar="VALUE")
    parser.add_argument("--mac-only-encrypted", action="store_true")
    parser.add_argument("--shamir-secret-sharing-threshold", type=int, default=0)


def register_keygen(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("keygen", help="create a new age identity")
    parser.add_argument("-o", "--output", help="write the identity to this file (mode 0600)")
    parser.add_argument(
        "--pq",
        action="store_true",
        help="a post-quantum hybrid (ML-KEM-768 + X25519) identity, as `age-keygen -pq` makes",
    )
    parser.set_defaults(handler=common.guarded(_keygen))


def register_encrypt(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("encrypt", help="encrypt a file (sops-compatible)")
    parser.add_argument("file", nargs="?", help="file to encrypt (default: stdin)")
    parser.add_argument("-i", "--in-place", action="store_true")
    parser.add_argument("--output", help="write here instead of stdout")
    parser.add_argument("--age", help="comma-separated age recipients (overrides .sops.yaml)")
    parser.add_argument("--kms", help="comma-separated AWS KMS key ARNs, each optionally +ROLE_ARN")
    parser.add_argument(
        "--hc-vault-transit",
        help="comma-separated Vault transit key URIs (https://vault:8200/v1/transit/keys/NAME)",
    )
    parser.add_argument("--filename-override", help="path used for format and .sops.yaml rules")
    parser.add_argument("--indent", type=int)
    common.add_format_flags(parser)
    _add_rule_flags(parser)
    parser.set_defaults(handler=common.guarded(_encrypt))


def register_decrypt(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("decrypt", help="decrypt a file, verifying its MAC")
    parser.add_argument("file", nargs="?", help="file to decrypt (default: stdin)")
    parser.add_argument("-i", "--in-place", action="store_true")
    parser.add_argument("--output", help="write here instead of stdout")
    parser.add_argument("--extract", help='print one value, e.g. \'["data"]["key"]\'')
    parser.add_argument("--ignore-mac", action="store_true", help="skip the MAC check (unsafe)")
    parser.add_argument("--filename-override", help="path used to pick the format")
    common.add_format_flags(parser)
    parser.set_defaults(handler=common.guarded(_decrypt))


def register_set_unset(subparsers: Subparsers) -> None:
    setter = subparsers.add_parser("set", help="set one value at a path, e.g. '[\"a\"][0]'")
    setter.add_argument("file")
    setter.add_argument("path")
    setter.add_argument("value", nargs="?", help="a JSON value")
    setter.add_argument("--value-stdin", action="store_true")
    common.add_format_flags(setter, output=False)
    setter.set_defaults(handler=common.guarded(_set))
    unsetter = subparsers.add_parser("unset", help="remove the value at a path")
    unsetter.add_argument("file")
    unsetter.add_argument("path")
    common.add_format_flags(unsetter, output=False)
    unsetter.set_defaults(handler=common.guarded(_unset))


def register_filestatus(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("filestatus", help='print {"encrypted":true|false}')
    parser.add_argument("file")
    common.add_format_flags(parser, output=False)
    parser.set_defaults(handler=common.guarded(_filestatus))
