"""Whether each component of the fault tests' private bed runs and answers.

A restart waits on these probes (the component's own readiness, as a kubelet's probe would), and
every fault test checks the whole bed first: a component a fault broke fails that test with its
name and log, and the tests after it fail at once instead of each waiting out its timeouts.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.testbed import procs, stack

Probe = Callable[[], bool]
APISERVER_PROBE_CERT = ("probe.crt", "probe.key")
"""The system:masters client pair tests.testbed.kube issues to probe the apiserver's /readyz."""


def _get(url: str, context: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=3, context=context) as response:  # noqa: S310
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def etcd_url(state_dir: Path) -> str:
    argv = json.loads((state_dir / "pids" / "etcd.argv").read_text())["argv"]
    flag = "--listen-client-urls="
    return next(str(a).removeprefix(flag) for a in argv if str(a).startswith(flag))


def probes(testbed: stack.Testbed) -> dict[str, Probe]:
    """Readiness of the components the faults stop, and of those the checks lean on."""
    state = Path(testbed.TESTBED_STATE_DIR)
    kube_tls = ssl.create_default_context(cafile=testbed.KUBE_CA)
    cert, key = (state / "pki" / name for name in APISERVER_PROBE_CERT)
    kube_tls.load_cert_chain(str(cert), str(key))
    bao_tls = ssl.create_default_context(cafile=testbed.VAULT_CACERT)
    return {
        # /health is true only once etcd has a leader and serves reads.
        "etcd": lambda: b'"true"' in _get(f"{etcd_url(state)}/health")[1],
        # /readyz includes the apiserver's own etcd check and its caches being ready.
        "kube-apiserver": lambda: _get(f"{testbed.KUBE_SERVER}/readyz", kube_tls) == (200, b"ok"),
        "moto": lambda: _get(f"{testbed.AWS_ENDPOINT_URL}/moto-api/")[0] == 200,
        # Any answer will do: a restarted OpenBao answers sealed (503) until it is unsealed.
        "openbao-tls": lambda: _get(f"{testbed.VAULT_TLS_ADDR}/v1/sys/health", bao_tls)[0] > 0,
        "git-http": lambda: _get(f"{testbed.GIT_HTTP_URL}/private/")[0] == 401,
    }


class BedBroken(AssertionError):
    """A component of the private bed is down or does not answer; later tests cannot run."""


def check(testbed: stack.Testbed, *, timeout: float = 60.0) -> None:
    """Every recorded process runs and every probed one answers within `timeout`; otherwise
    raise BedBroken naming each failing component with its log tail. A process that ended is
    reported at once: waiting would not bring it back."""
    state = Path(testbed.TESTBED_STATE_DIR)
    names = sorted(p.stem for p in (state / "pids").glob("*.pid"))
    checks = probes(testbed)
    deadline = time.monotonic() + timeout
    while True:
        dead = [n for n in names if not procs.running(state, n)]
        silent = [n for n, ready in checks.items() if n not in dead and not _answers(ready)]
        if not dead and not silent:
            return
        if dead or time.monotonic() >= deadline:
            break
        time.sleep(1)
    raise BedBroken(
        "the private test bed is broken: "
        + "; ".join(
            [f"{n} is not running" for n in dead]
            + [f"{n} does not answer after {timeout:.0f}s" for n in silent]
        )
        + "".join(f"\n--- {n} log ---\n{procs.log_tail(state, n)}" for n in [*dead, *silent])
    )


def _answers(ready: Probe) -> bool:
    try:
        return ready()
    except Exception:  # refused, reset, TLS or timeout: not answering yet
        return False
