"""`python -m tests.testbed build|up|down|status`, behind the make targets."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.testbed import baoplugins, binaries, eso_crds, monitoring_crds, paths, stack
from tests.testbed.procs import TestbedError


def describe(testbed: stack.Testbed, env_file: Path) -> str:
    return "\n".join(
        [
            f"test bed is up; `source {env_file}` to use it from a shell.",
            f"  Kubernetes   {testbed.KUBE_SERVER}   KUBECONFIG={testbed.KUBECONFIG}",
            f"               kubectl: {testbed.KUBECTL_BIN}",
            f"  OpenBao dev  {testbed.VAULT_ADDR}   VAULT_TOKEN in the env file",
            f"  OpenBao TLS  {testbed.VAULT_TLS_ADDR}   VAULT_CACERT={testbed.VAULT_CACERT}",
            f"  AWS (moto)   {testbed.AWS_ENDPOINT_URL}   region {testbed.AWS_DEFAULT_REGION}",
            f"  Git (HTTP)   {testbed.GIT_HTTP_URL}/public/<repo>.git, /private/ needs auth",
            f"  sops         {testbed.SOPS_BIN}  (old: {testbed.SOPS_OLD_BIN})",
            f"  age          {testbed.AGE_BIN}",
            f"  logs         {testbed.TESTBED_STATE_DIR}/logs/",
        ]
    )


def _say(message: str) -> None:
    # One write per line, so messages from components starting in parallel do not interleave.
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.testbed")
    parser.add_argument("command", choices=["build", "up", "down", "status"])
    parser.add_argument("--state-dir", type=Path, default=paths.DEFAULT_STATE_DIR)
    args = parser.parse_args()
    try:
        if args.command == "build":
            started = time.monotonic()
            print(
                "building the test bed's binaries (cached in "
                f"{paths.cache_dir() / 'bin'}, keyed by version)",
                flush=True,
            )
            # With OpenBao's ldap and aws auth methods (the Vault auth tests).
            binaries.build_all(binaries.ALL + baoplugins.ALL)
            eso_crds.download()  # the yardstick tests read ESO's CRDs from its Go module
            monitoring_crds.download()  # the chart's ServiceMonitor/PrometheusRule dry runs
            print(f"binaries ready in {time.monotonic() - started:.0f}s")
        elif args.command == "up":
            started = time.monotonic()
            print("starting the test bed on loopback:", flush=True)
            testbed = stack.up(args.state_dir, log=_say)
            print(f"all components up in {time.monotonic() - started:.1f}s")
            print(describe(testbed, stack.env_path(args.state_dir)))
        elif args.command == "down":
            stopped = stack.down(args.state_dir)
            print(f"stopped: {', '.join(stopped) or 'nothing was running'}")
        else:
            running = stack.is_running(args.state_dir)
            print("running" if running else "not running")
            return 0 if running else 1
    except TestbedError as exc:
        print(f"test bed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
