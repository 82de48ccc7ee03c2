"""Git push to Secrets updated through the webhook: N ExternalSecrets read one SOPS file in one
repository; both the store's fetch interval and the ExternalSecrets' refreshInterval are an hour,
so only the webhook brings a commit in. Times a commit pushed, then a signed GitHub-style
delivery, until every one of the N Secrets holds the new value.

    python bench/webhook_bench.py

The operator runs as its own process with its ServiceAccount's kubeconfig on a private test bed.
Writes "## Git push webhook" in docs/benchmarks.md.
"""

from __future__ import annotations

import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubernetes import client

from bench import docs_section
from tests.operator import harness
from tests.operator.manifests import external_secret, sops_store
from tests.operator.webhooks import deliver, github, operator_args, push
from tests.providers.sops_git_fixtures import WorkTree, age_key, encrypt
from tests.testbed import binaries, cluster, stack

NAMESPACE = "webhook"
ROUNDS = 5
INTRO = [
    "`bench/webhook_bench.py`: the operator (its own process and ServiceAccount) on a private",
    "test bed; N ExternalSecrets read one SOPS file from one repository on the test bed's Git",
    "server, with the store's fetch interval and every refreshInterval at 1h, so only the",
    "webhook brings a commit in. Timed from the signed delivery (sent right after `git push`)",
    f"until all N Secrets hold the new value; median of {ROUNDS} pushes.",
    "",
    "| ExternalSecrets | delivery → all Secrets updated (median) | slowest |",
    "|---|---|---|",
]
OUTRO = [
    "",
    "The delivery is answered once the syncs are queued; a fetch of the new commit is shared",
    "by every ExternalSecret on the repository. Target (DESIGN.md §6): with a Git webhook,",
    "source change to Secret updated ≤ 5 s.",
]


def run(count: int) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="secretsync-webhook-") as folder_name:
        folder = Path(folder_name)
        testbed = stack.up(folder / "stack", log=lambda _: None)
        try:
            harness.install(testbed)
            api = cluster.api(Path(testbed.KUBECONFIG))
            client.CoreV1Api(api).create_namespace(
                client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE))
            )
            kube = harness.Cluster(api, NAMESPACE)
            sops, keygen = binaries.require(binaries.SOPS), binaries.require(binaries.AGE_KEYGEN)
            key = age_key(keygen, folder, "age")
            url = testbed.git_server().create_repo("bench")
            tree = WorkTree(folder / "repo", url)

            def commit(value: str) -> None:
                plain = f"password: {value}\n".encode()
                tree.write("app.yaml", encrypt(sops, key, "app.yaml", plain, folder))
                tree.commit(value)

            commit("v0")
            kube.put_secret("age", {"key.agekey": key.identity})
            sops_store(kube, url, interval="1h")
            for i in range(count):
                body = external_secret(f"es-{i}", "app.yaml", store="git", properties=("password",))
                kube.apply("externalsecrets", body)
            port, args = operator_args(folder)
            operator = harness.start(
                harness.operator_kubeconfig(testbed, folder),
                folder / "operator.log",
                "--namespace",
                NAMESPACE,
                "--no-leader-elect",
                "--log-level",
                "WARNING",
                *args,
            )
            try:
                _wait_all(kube, count, b"v0", timeout=120)
                samples = []
                for round_ in range(1, ROUNDS + 1):
                    value = f"v{round_}".encode()
                    commit(value.decode())
                    started = time.perf_counter()
                    status, _ = deliver(port, push(url), github(push(url)))
                    assert status == 202, status
                    _wait_all(kube, count, value, timeout=60)
                    samples.append(time.perf_counter() - started)
            finally:
                operator.stop()
        finally:
            stack.down(folder / "stack")
    return samples


def _wait_all(kube: harness.Cluster, count: int, value: bytes, timeout: float) -> None:
    """Every N Secrets hold `value`; one list call per poll, every 50 ms."""
    encoded = base64.b64encode(value).decode()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = kube.core.list_namespaced_secret(NAMESPACE).items
        done = [s for s in listed if (s.data or {}).get("password") == encoded]
        if len(done) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"not every Secret held the new value after {timeout}s")


def main() -> None:
    rows = []
    for count in (1, 100):
        samples = run(count)
        print(count, [round(s, 2) for s in samples])
        rows.append(f"| {count} | {statistics.median(samples):.2f} s | {max(samples):.2f} s |")
    docs_section.write_section("## Git push webhook", "\n".join([*INTRO, *rows, *OUTRO]))


if __name__ == "__main__":
    main()
