"""Argument parsing and dispatch for the `secretsync` command.

Each subcommand module exposes `register_*(subparsers)` functions, which add a parser and set
`handler` (a callable taking the parsed namespace and returning an exit code) as a default.

Only the module of the subcommand being run is imported: `secretsync decrypt` is measured
against the sops binary, and importing the operator's or the editor's modules on every run was
start-up time it never used. `--help`, no command or an unknown one register them all, so the
listing and argparse's "invalid choice" message still name every command.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from secretsync import __version__

Handler = Callable[[argparse.Namespace], int]
Registrar = Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]

# command -> (module under secretsync.cli, its register function), in the order `--help` lists
# them. One register function may add several commands (set and unset).
COMMANDS: dict[str, tuple[str, str]] = {
    "keygen": ("sops_commands", "register_keygen"),
    "encrypt": ("sops_commands", "register_encrypt"),
    "decrypt": ("sops_commands", "register_decrypt"),
    "edit": ("sops_edit", "register_edit"),
    "rotate": ("sops_keys", "register_rotate"),
    "updatekeys": ("sops_keys", "register_updatekeys"),
    "set": ("sops_commands", "register_set_unset"),
    "unset": ("sops_commands", "register_set_unset"),
    "filestatus": ("sops_commands", "register_filestatus"),
    "operator": ("cluster_commands", "register_operator"),
    "render": ("cluster_commands", "register_render"),
    "crds": ("cluster_commands", "register_crds"),
}


def _registrar(module: str, function: str) -> Registrar:
    registrar: Registrar = getattr(importlib.import_module(f"secretsync.cli.{module}"), function)
    return registrar


def command_in(argv: Sequence[str]) -> str | None:
    """The subcommand argv names, if it is one we know: the first word that is not an option
    (the top-level parser takes no option with a value)."""
    for word in argv:
        if not word.startswith("-"):
            return word if word in COMMANDS else None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or with `command`'s alone."""
    parser = argparse.ArgumentParser(
        prog="secretsync",
        description="Sync ExternalSecrets from Vault/OpenBao, AWS and SOPS-in-Git.",
    )
    parser.add_argument("--version", action="version", version=f"secretsync {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = [COMMANDS[command]] if command is not None else list(COMMANDS.values())
    for entry in dict.fromkeys(wanted):
        _registrar(*entry)(subparsers)
    return parser


def run(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(command_in(words))
    args = parser.parse_args(words)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    return handler(args)
