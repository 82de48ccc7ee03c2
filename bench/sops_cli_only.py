"""The secretsync CLI with only the SOPS subcommands registered.

The benchmark runs it next to `python -m secretsync` to separate the SOPS engine's own cost
from start-up imports that other subcommand modules add to every invocation.
"""

from __future__ import annotations

import argparse
import sys

from secretsync.cli import sops_commands, sops_edit, sops_keys


def main() -> int:
    parser = argparse.ArgumentParser(prog="secretsync")
    subparsers = parser.add_subparsers(dest="command")
    for register in (
        sops_commands.register_encrypt,
        sops_commands.register_decrypt,
        sops_edit.register_edit,
        sops_keys.register_rotate,
    ):
        register(subparsers)
    args = parser.parse_args()
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
