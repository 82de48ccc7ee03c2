"""The secretsync CLI with only the commands the SOPS benchmark runs (encrypt, decrypt).

The benchmark runs it next to `python -m secretsync` to separate the SOPS engine's own cost
from what the CLI's dispatch adds. Since issue 15 §4 the CLI imports only the running
subcommand's module, so the two should measure the same; a gap that opens again points at an
import added to the dispatch path.
"""

from __future__ import annotations

import argparse
import sys

from secretsync.cli import sops_commands


def main() -> int:
    parser = argparse.ArgumentParser(prog="secretsync")
    subparsers = parser.add_subparsers(dest="command")
    sops_commands.register_encrypt(subparsers)
    sops_commands.register_decrypt(subparsers)
    args = parser.parse_args()
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
