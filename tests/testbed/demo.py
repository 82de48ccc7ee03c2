"""`make demo`: the local stack, the operator running with its own ServiceAccount's RBAC, every
example in examples/ applied, and the Secrets it syncs printed. Ctrl-C tears it all down."""

from __future__ import annotations

import base64
import os
import signal
import socket
import string
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

from kubernetes import client

from tests.testbed import cluster, demo_sources, paths, procs, stack
from tests.testbed.__main__ import describe
from tests.testbed.procs import TestbedError

EXAMPLES = paths.REPO_ROOT / "examples"
NAMESPACE = demo_sources.NAMESPACE
SETTLE_SECONDS = 60.0
"""How long an ExternalSecret may take to become Ready before it is printed as it stands."""

STATE_DIR_ENV = "SECRETSYNC_DEMO_STATE_DIR"
"""Where the demo's stack keeps its state (default .testbed). Point it elsewhere to run the demo
beside a test bed that is already up: the demo stops its own stack when it ends."""


def _say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _kubectl(testbed: stack.Testbed, *args: str, stdin: str | None = None) -> None:
    subprocess.run(
        [testbed.KUBECTL_BIN, *args],
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
        env={**os.environ, "KUBECONFIG": testbed.KUBECONFIG},
    )


def _metrics_port() -> int:
    """8080 as the README says, unless something already listens there."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 8080))
        except OSError:
            return procs.free_port()
    return 8080


def _start_operator(
    testbed: stack.Testbed, state_dir: Path, metrics_port: int
) -> subprocess.Popen[bytes]:
    _kubectl(testbed, "apply", "--server-side", "-k", str(paths.REPO_ROOT / "crds"))
    _kubectl(testbed, "apply", "--server-side", "-k", str(paths.REPO_ROOT / "deploy" / "rbac"))
    kubeconfig = cluster.service_account_kubeconfig(
        testbed.kube(), "secretsync-system", "secretsync", state_dir / "operator.kubeconfig"
    )
    log = (state_dir / "logs" / "operator.log").open("ab")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "secretsync",
            "operator",
            "--kubeconfig",
            str(kubeconfig),
            "--metrics-address",
            f"127.0.0.1:{metrics_port}",
            "--identity",
            "demo",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=paths.REPO_ROOT,
        env={**os.environ, "AWS_ENDPOINT_URL": testbed.AWS_ENDPOINT_URL},
        start_new_session=True,
    )


def _apply_examples(testbed: stack.Testbed, values: dict[str, str]) -> list[Path]:
    _kubectl(testbed, "create", "namespace", NAMESPACE)
    files = sorted(EXAMPLES.glob("*.yaml"))
    for path in files:
        text = string.Template(path.read_text()).safe_substitute(values)
        _kubectl(testbed, "apply", "-n", NAMESPACE, "-f", "-", stdin=text)
    return files


def _ready(es: dict[str, Any]) -> dict[str, Any] | None:
    conditions = (es.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), None)


def _print_one(core: client.CoreV1Api, es: dict[str, Any], settled: bool) -> None:
    """One ExternalSecret, once it settled: its Secret's data, or why it is not Ready."""
    name = es["metadata"]["name"]
    target = ((es.get("spec") or {}).get("target") or {}).get("name") or name
    ready = _ready(es)
    if ready is None:
        _say(
            f"\nExternalSecret {NAMESPACE}/{name}: no status after {SETTLE_SECONDS:.0f}s "
            "(see the operator log)"
        )
        return
    after = "" if settled else f" after {SETTLE_SECONDS:.0f}s"
    _say(
        f"\nExternalSecret {NAMESPACE}/{name}: Ready={ready['status']} "
        f"({ready.get('reason', '')}){after} -> Secret {target}"
    )
    if ready["status"] == "True":
        data = core.read_namespaced_secret(target, NAMESPACE).data or {}
        for key, value in sorted(data.items()):
            _say(f"    {key}: {base64.b64decode(value).decode(errors='replace')}")
    else:
        _say(f"    {ready.get('message', '')}")


def _print_secrets(testbed: stack.Testbed, operator: subprocess.Popen[bytes]) -> None:
    """Print each ExternalSecret once it is Ready, in the order they settle. One that is not
    Ready within SETTLE_SECONDS is printed then, with the reason from its status: a first sync
    can fail for a moment (a store not yet validated, a token not yet minted) and retry, and a
    newcomer should not read that passing error as the outcome."""
    api = client.CustomObjectsApi(cluster.api(Path(testbed.KUBECONFIG)))
    core = client.CoreV1Api(cluster.api(Path(testbed.KUBECONFIG)))
    listed = api.list_namespaced_custom_object(
        "external-secrets.io", "v1", NAMESPACE, "externalsecrets"
    )["items"]
    pending = {e["metadata"]["name"] for e in listed}
    deadline = time.monotonic() + SETTLE_SECONDS
    while pending:
        if operator.poll() is not None:
            _say(f"\ndemo: the operator exited with {operator.returncode}; see its log")
            return
        timed_out = time.monotonic() > deadline
        for name in sorted(pending):
            es = api.get_namespaced_custom_object(
                "external-secrets.io", "v1", NAMESPACE, "externalsecrets", name
            )
            ready = _ready(es)
            if timed_out or (ready is not None and ready["status"] == "True"):
                _print_one(core, es, settled=not timed_out)
                pending.discard(name)
        time.sleep(0.5)


def _run(state_dir: Path) -> None:
    started = time.monotonic()
    _say("demo: starting the local stack (Kubernetes + KWOK, OpenBao, moto, Git)...")
    testbed = stack.up(state_dir, log=_say)
    _say(f"demo: stack up in {time.monotonic() - started:.1f}s")
    _say("demo: seeding OpenBao, AWS (moto) and a Git repository of SOPS files...")
    demo_sources.seed_vault(testbed)
    demo_sources.seed_aws(testbed)
    values = {
        **os.environ,
        **{k: str(v) for k, v in vars(testbed).items()},
        **demo_sources.seed_git(testbed),
    }
    _say("demo: installing crds/ and deploy/rbac, starting the operator as its ServiceAccount...")
    metrics_port = _metrics_port()
    operator = _start_operator(testbed, state_dir, metrics_port)
    (state_dir / "pids" / "operator.pid").write_text(str(operator.pid))
    files = _apply_examples(testbed, values)
    _say(
        f"demo: applied {', '.join(p.name for p in files)} in namespace {NAMESPACE}; waiting "
        "for the operator to sync..."
    )
    _print_secrets(testbed, operator)
    _say("\n" + describe(testbed, stack.env_path(state_dir)))
    _say(
        f"  operator     logs in {state_dir}/logs/operator.log, metrics at "
        f"http://127.0.0.1:{metrics_port}/metrics"
    )
    _say(
        f"demo: running; try `source {stack.env_path(state_dir)}; kubectl -n demo get es`. "
        "Ctrl-C stops it."
    )
    while True:
        time.sleep(3600)


def main() -> int:
    # `make` forwards SIGTERM as well as SIGINT; both must end in the same clean teardown.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    state_dir = Path(os.environ.get(STATE_DIR_ENV) or paths.DEFAULT_STATE_DIR)
    try:
        _run(state_dir)
    except KeyboardInterrupt:
        _say("\ndemo: stopping...")
    except (TestbedError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or ""
        _say(f"demo: {exc}\n{detail}")
        return 1
    finally:
        stopped = stack.down(state_dir)
        if stopped:
            _say(f"demo: stopped {', '.join(stopped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
