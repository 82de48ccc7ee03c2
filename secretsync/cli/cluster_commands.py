"""Parsers for the commands that work with ExternalSecrets (render, crds, operator).

Their implementations import the resolver, providers and Kubernetes client; they are imported
only when one of these commands runs, so `secretsync encrypt` starts as fast as it can.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _render(args: argparse.Namespace) -> int:
    from secretsync.cli import render_command  # noqa: PLC0415 - lazy, see module docstring

    return render_command.render(args)


def _crds(args: argparse.Namespace) -> int:
    from secretsync.cli import crds_command  # noqa: PLC0415 - lazy, see module docstring

    return crds_command.run(args)


def register_render(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "render", help="resolve ExternalSecret manifests and print the Secrets they produce"
    )
    parser.add_argument(
        "-f",
        "--filename",
        action="append",
        default=[],
        metavar="FILE",
        help="manifests (stores, credential Secrets, ExternalSecrets); '-' or nothing reads stdin",
    )
    parser.add_argument(
        "--kubeconfig",
        help="read referenced Secrets, ServiceAccount tokens and missing stores from this cluster",
    )
    parser.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace for manifests that name none (default: default)",
    )
    parser.add_argument("-o", "--output", choices=["yaml", "json"], default="yaml")
    parser.set_defaults(handler=_render)


def register_crds(subparsers: Any) -> None:
    parser = subparsers.add_parser("crds", help="print the CustomResourceDefinitions")
    parser.add_argument(
        "--write",
        type=Path,
        metavar="DIR",
        help="write one file per CRD (and a kustomization.yaml) into DIR",
    )
    parser.set_defaults(handler=_crds)
