"""The application stand-in: pods that break when a Secret holds a bad value.

A pod whose annotations carry `testbed.secretsync.io/fail-if: <secret>/<key>=<value>` is checked
once, when it appears: if that Secret key (in the pod's namespace) holds exactly that value, the
pod gets `testbed.secretsync.io/never-ready`, and KWOK's pod-never-ready stage makes it crash-loop.
Either way it gets `testbed.secretsync.io/checked`. KWOK's pod-ready stage only readies a fail-if
pod once it is checked, so the check always wins the race against KWOK (kwok-stages.yaml).

Like a real application, a pod reads the Secret when it starts and never again.

Run by the test bed: `python -m tests.testbed.failif --kubeconfig ... --ready-file ...`.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import logging
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tests.testbed import paths, procs

FAIL_IF = "testbed.secretsync.io/fail-if"
CHECKED = "testbed.secretsync.io/checked"
NEVER_READY = "testbed.secretsync.io/never-ready"
NAME = "failif"

log = logging.getLogger(NAME)


@dataclasses.dataclass(frozen=True)
class Rule:
    secret: str
    key: str
    value: str


def parse_rule(text: str) -> Rule | None:
    """`<secret>/<key>=<value>`; the value may itself contain '=' or '/'."""
    target, sep, value = text.partition("=")
    secret, slash, key = target.strip().partition("/")
    if not sep or not slash or not secret or not key:
        return None
    return Rule(secret=secret, key=key, value=value)


def verdict(rule: Rule | None, secret_data: Mapping[str, str] | None) -> dict[str, str]:
    """The annotations to add: always `checked`, plus `never-ready` when the value matches."""
    marks = {CHECKED: "true"}
    if rule is None or secret_data is None or rule.key not in secret_data:
        return marks
    if base64.b64decode(secret_data[rule.key]).decode("utf-8", "replace") == rule.value:
        marks[NEVER_READY] = "true"
    return marks


def _secret_data(core: client.CoreV1Api, namespace: str, name: str) -> dict[str, str] | None:
    try:
        return dict(core.read_namespaced_secret(name, namespace).data or {})
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def check(core: client.CoreV1Api, pod: Mapping[str, Any], seen: set[str]) -> None:
    meta = pod.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    if FAIL_IF not in annotations or CHECKED in annotations or meta.get("deletionTimestamp"):
        return
    if meta.get("uid") in seen:  # an event from before our own patch: checked once is enough
        return
    namespace, name = meta["namespace"], meta["name"]
    rule = parse_rule(annotations[FAIL_IF])
    marks = verdict(rule, _secret_data(core, namespace, rule.secret) if rule else None)
    try:
        core.patch_namespaced_pod(name, namespace, {"metadata": {"annotations": marks}})
    except ApiException as exc:
        if exc.status != 404:  # a pod deleted meanwhile needs no verdict
            raise
    seen.add(str(meta.get("uid")))
    log.info("%s/%s: %s", namespace, name, "never-ready" if NEVER_READY in marks else "ok")


def run(kubeconfig: Path, ready_file: Path) -> None:
    api = config.new_client_from_config(config_file=str(kubeconfig))
    core = client.CoreV1Api(api)
    seen: set[str] = set()
    while True:
        try:
            _list_then_watch(api, core, ready_file, seen)
        except ApiException as exc:
            if exc.status != 410:  # 410: the version expired; a relist is all it needs
                log.warning("watch failed: %s", exc.reason)
                time.sleep(1)
        except Exception as exc:  # the apiserver restarting must not end the stand-in
            log.warning("watch failed: %s", type(exc).__name__)
            time.sleep(1)


def _list_then_watch(
    api: client.ApiClient, core: client.CoreV1Api, ready_file: Path, seen: set[str]
) -> None:
    listing = api.sanitize_for_serialization(core.list_pod_for_all_namespaces())
    for pod in listing.get("items") or []:
        check(core, pod, seen)
    ready_file.touch()
    stream = watch.Watch().stream(
        core.list_pod_for_all_namespaces,
        resource_version=listing["metadata"]["resourceVersion"],
        timeout_seconds=300,
    )
    for event in stream:
        if event["type"] in ("ADDED", "MODIFIED"):
            check(core, event["raw_object"], seen)


def start(state_dir: Path, kubeconfig: Path) -> procs.Daemon:
    ready_file = state_dir / f"{NAME}.ready"
    proc = procs.start(
        state_dir,
        NAME,
        [
            sys.executable,
            "-m",
            "tests.testbed.failif",
            "--kubeconfig",
            str(kubeconfig),
            "--ready-file",
            str(ready_file),
        ],
        env={"PYTHONPATH": str(paths.REPO_ROOT)},
    )
    procs.wait_for(state_dir, NAME, ready_file.exists, timeout=30, proc=proc)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.testbed.failif")
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--ready-file", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    run(args.kubeconfig, args.ready_file)


if __name__ == "__main__":
    main()
