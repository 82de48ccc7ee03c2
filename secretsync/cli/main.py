"""Argument parsing and dispatch for the `secretsync` command.

Each subcommand module exposes `register(subparsers)`, which adds its parser and sets
`handler` (a callable taking the parsed namespace and returning an exit code) as a default.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from secretsync import __version__
from secretsync.cli import cluster_commands, sops_commands, sops_edit, sops_keys

Handler = Callable[[argparse.Namespace], int]

# Subcommand modules, registered in the order `--help` lists them.
_COMMAND_MODULES: tuple[
    Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None], ...
] = (
    sops_commands.register_keygen,
    sops_commands.register_encrypt,
    sops_commands.register_decrypt,
    sops_edit.register_edit,
    sops_keys.register_rotate,
    sops_keys.register_updatekeys,
    sops_commands.register_set_unset,
    sops_commands.register_filestatus,
    cluster_commands.register_operator,
    cluster_commands.register_render,
    cluster_commands.register_crds,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="secretsync",
        description="Sync ExternalSecrets from Vault/OpenBao, AWS and SOPS-in-Git.",
    )
    parser.add_argument("--version", action="version", version=f"secretsync {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in _COMMAND_MODULES:
        register(subparsers)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return handler(args)
