"""Parsers for the commands that work with ExternalSecrets (render, crds, operator).

Their implementations import the resolver, providers and Kubernetes client; they are imported
only when one of these commands runs, so `secretsync encrypt` starts as fast as it can.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def _render(args: argparse.Namespace) -> int:
    from secretsync.cli import render_command  # noqa: PLC0415 - lazy, see module docstring
    from secretsync.errors import ConfigError  # noqa: PLC0415

    try:
        return render_command.render(args)
    except ConfigError as exc:  # a kubeconfig that cannot be used, say
        print(f"secretsync render: {exc}", file=sys.stderr)
        return 2


def _crds(args: argparse.Namespace) -> int:
    from secretsync.cli import crds_command  # noqa: PLC0415 - lazy, see module docstring

    return crds_command.run(args)


def _operator(args: argparse.Namespace) -> int:
    from secretsync.errors import ConfigError  # noqa: PLC0415
    from secretsync.operator import app  # noqa: PLC0415 - lazy, see module docstring
    from secretsync.settings import (  # noqa: PLC0415
        SERVICE_ACCOUNT_NAMESPACE_FILE,
        LogFormat,
        OperatorSettings,
        leader_election_defaults,
        pod_namespace,
    )

    try:
        leader_elect = _flag_or_env(args.leader_elect)
    except ValueError:
        print("secretsync operator: SECRETSYNC_LEADER_ELECT must be true or false", file=sys.stderr)
        return 2
    leader_election, lease_namespace = leader_election_defaults(
        leader_elect,
        args.lease_namespace,
        pod_namespace(os.environ, SERVICE_ACCOUNT_NAMESPACE_FILE),
    )
    settings = OperatorSettings(
        namespaces=tuple(n for n in args.namespace.split(",") if n),
        label_selector=args.label_selector,
        controller_class=args.controller_class,
        concurrency=args.concurrency,
        store_concurrency=args.store_concurrency,
        store_qps=args.store_qps,
        store_burst=args.store_burst,
        default_refresh_interval=args.default_refresh_interval,
        refresh_time_resolution=args.refresh_time_resolution,
        metrics_address=args.metrics_address,
        extended_metric_labels=args.enable_extended_metric_labels,
        log_format=LogFormat(args.log_format),
        log_level=args.log_level,
        kubeconfig=args.kubeconfig,
        leader_election=leader_election,
        lease_namespace=lease_namespace,
        lease_name=args.lease_name,
        identity=args.identity,
        webhook_address=args.webhook_address,
        webhook_token_file=args.webhook_token_file,
        webhook_advertise=args.webhook_advertise,
        allow_generic_targets=args.unsafe_allow_generic_targets,
    )
    try:
        return app.run(settings)
    except ConfigError as exc:
        print(f"secretsync operator: {exc}", file=sys.stderr)
        return 2


def _env(name: str, default: str) -> str:
    return os.environ.get(f"SECRETSYNC_{name}", default)


def _flag_or_env(value: bool | str) -> bool | None:
    """A --[no-]flag given wins; else SECRETSYNC_<FLAG>=true|false; unset, empty or `auto`
    leave the choice to the defaults."""
    if isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text in ("", "auto"):
        return None
    if text not in ("true", "false"):
        raise ValueError(text)
    return text == "true"


def register_operator(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "operator",
        help="run the controller against the current kubeconfig or in-cluster",
        description="Every flag can also be set as SECRETSYNC_<FLAG> in the environment, e.g. "
        "SECRETSYNC_NAMESPACE=team-a,team-b.",
    )
    add = parser.add_argument
    add(
        "--namespace",
        default=_env("NAMESPACE", ""),
        help="comma-separated namespaces to watch (default: the whole cluster)",
    )
    add(
        "--label-selector",
        default=_env("LABEL_SELECTOR", ""),
        help="only ExternalSecrets with these labels (k=v,k!=v,k,!k), to shard replicas",
    )
    add(
        "--controller-class",
        default=_env("CONTROLLER_CLASS", "default"),
        help="ESO's controller class: only stores whose spec.controller is this or empty, and "
        "what uses them, are synced (default: default, as ESO's)",
    )
    add(
        "--concurrency",
        type=int,
        default=int(_env("CONCURRENCY", "32")),
        help="syncs running at once (default: 32)",
    )
    add(
        "--store-concurrency",
        type=int,
        default=int(_env("STORE_CONCURRENCY", "0")),
        help="syncs of one store's ExternalSecrets running at once, so a slow store leaves "
        "workers to the others (default: 0, half of --concurrency; docs/limits.md)",
    )
    add(
        "--store-qps",
        type=float,
        default=float(_env("STORE_QPS", "100")),
        help="provider calls per second per store, sustained; a store's secretsync.io/qps "
        "annotation overrides it; 0 turns the limit off (default: 100; docs/limits.md)",
    )
    add(
        "--store-burst",
        type=int,
        default=int(_env("STORE_BURST", "200")),
        help="provider calls per store allowed at once above that rate; a store's "
        "secretsync.io/burst annotation overrides it (default: 200)",
    )
    add(
        "--default-refresh-interval",
        default=_env("DEFAULT_REFRESH_INTERVAL", "1h"),
        help="refreshInterval for ExternalSecrets that set none (default: 1h)",
    )
    add(
        "--refresh-time-resolution",
        default=_env("REFRESH_TIME_RESOLUTION", "0"),
        help="a refresh that changes nothing writes status.refreshTime only once it is this "
        "old, so short refreshIntervals cost no status write each; 0 writes it on every "
        "refresh, as ESO does (default: 0; docs/limits.md)",
    )
    add(
        "--metrics-address",
        default=_env("METRICS_ADDRESS", "0.0.0.0:8080"),
        help="host:port of /metrics, /healthz and /readyz; empty turns them off",
    )
    add(
        "--enable-extended-metric-labels",
        action="store_true",
        default=_env("ENABLE_EXTENDED_METRIC_LABELS", "false") == "true",
        help="as ESO's flag: add the objects' app.kubernetes.io/* labels to their metrics",
    )
    add(
        "--unsafe-allow-generic-targets",
        action="store_true",
        default=_env("UNSAFE_ALLOW_GENERIC_TARGETS", "false") == "true",
        help="as ESO's flag: let spec.target.manifest write ConfigMaps and custom resources "
        "(not encrypted at rest; the kinds also need RBAC)",
    )
    add("--log-format", choices=["json", "text"], default=_env("LOG_FORMAT", "json"))
    add("--log-level", default=_env("LOG_LEVEL", "INFO"))
    add(
        "--kubeconfig",
        default=os.environ.get("KUBECONFIG"),
        help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster)",
    )
    add(
        "--leader-elect",
        action=argparse.BooleanOptionalAction,
        default=_env("LEADER_ELECT", ""),
        help="hold a Lease before syncing, so extra replicas stand by (default: on in a pod, "
        "where replicas may run side by side; off outside a cluster, where a process run by "
        "hand has no one to elect, as ESO's --enable-leader-election is off by default)",
    )
    add(
        "--lease-namespace",
        default=_env("LEASE_NAMESPACE", "") or None,
        help="namespace of the leader Lease; it must exist and the operator must be allowed "
        "to get, create and update the Lease there (default: the pod's namespace, outside a "
        "cluster secretsync-system)",
    )
    add("--lease-name", default=_env("LEASE_NAME", "secretsync-operator"))
    add("--identity", default=_env("IDENTITY", ""), help="this replica's name in the Lease")
    add(
        "--webhook-address",
        default=_env("WEBHOOK_ADDRESS", ""),
        help="host:port for Git push webhooks at /hooks/git (default: off)",
    )
    add(
        "--webhook-token-file",
        default=_env("WEBHOOK_TOKEN_FILE", ""),
        help="file with the webhook's shared secret (required with --webhook-address)",
    )
    add(
        "--webhook-advertise",
        default=_env("WEBHOOK_ADVERTISE", ""),
        help="URL standbys forward pushes to (default: http://$POD_IP:<webhook port>)",
    )
    parser.set_defaults(handler=_operator)


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
