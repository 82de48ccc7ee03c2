"""Git push webhooks through the running operator: a signed push brings the sync of every
ExternalSecret on that repository forward to now, whatever its refreshInterval; an unsigned or
mis-signed one changes nothing; a standby forwards the push to the leader."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kubernetes import client

from tests.operator import harness
from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import external_secret, sops_store
from tests.operator.webhooks import TOKEN, deliver, github, operator_args, push
from tests.providers.sops_git_fixtures import AgeKey, WorkTree, age_key, encrypt
from tests.testbed import procs
from tests.testbed.git import GitServer

WEBHOOK_TARGET_SECONDS = 5.0


class Repo:
    def __init__(self, git_server: GitServer, sops: Path, keygen: Path, folder: Path) -> None:
        self.key: AgeKey = age_key(keygen, folder, "age")
        self.url = git_server.create_repo(f"hook-{uuid.uuid4().hex[:8]}")
        self.tree = WorkTree(folder / "repo", self.url)
        self._sops, self._folder = sops, folder

    def commit(self, password: str) -> None:
        plain = f"password: {password}\n".encode()
        self.tree.write("app.yaml", encrypt(self._sops, self.key, "app.yaml", plain, self._folder))
        self.tree.commit(password)


def _setup(kube: Cluster, repo: Repo) -> None:
    repo.commit("one")
    kube.put_secret("age", {"key.agekey": repo.key.identity})
    # Both intervals an hour: only the webhook can bring the new commit in within the test.
    sops_store(kube, repo.url, interval="1h")
    kube.apply(
        "externalsecrets",
        external_secret("db", "app.yaml", store="git", properties=("password",)),
    )


@pytest.fixture
def repo(git_server: GitServer, sops_bin: Path, age_keygen_bin: Path, tmp_path: Path) -> Repo:
    return Repo(git_server, sops_bin, age_keygen_bin, tmp_path)


def test_a_signed_push_syncs_now_and_a_forged_one_changes_nothing(
    kube: Cluster, repo: Repo, tmp_path: Path, start_operator: Callable[..., Operator]
) -> None:
    _setup(kube, repo)
    port, args = operator_args(tmp_path)
    start_operator(*args)
    eventually(lambda: kube.data("db-secret") == {"password": b"one"}, what="first sync")

    repo.commit("two")
    assert deliver(port, push(repo.url), github(push(repo.url), "wrong"))[0] == 401
    assert deliver(port, push(repo.url), {})[0] == 401
    gitlab = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "wrong"}
    assert deliver(port, push(repo.url), gitlab)[0] == 401
    other = push(repo.url.replace("/hook-", "/other-"))
    assert deliver(port, other, github(other)) == (202, {"externalSecrets": 0})
    branch = push(repo.url, ref="refs/heads/dev")
    assert deliver(port, branch, github(branch)) == (202, {"externalSecrets": 0})
    time.sleep(2)  # a refresh the forged and unrelated pushes wrongly caused would be done
    assert kube.data("db-secret") == {"password": b"one"}

    pushed = time.monotonic()
    assert deliver(port, push(repo.url), github(push(repo.url))) == (
        202,
        {"externalSecrets": 1},
    )
    eventually(
        lambda: kube.data("db-secret") == {"password": b"two"},
        timeout=WEBHOOK_TARGET_SECONDS,
        what="the pushed commit synced within the target",
    )
    print(f"push to Secret updated: {time.monotonic() - pushed:.2f}s")

    repo.commit("three")
    gitlab = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": TOKEN}
    assert deliver(port, push(repo.url), gitlab) == (202, {"externalSecrets": 1})
    eventually(lambda: kube.data("db-secret") == {"password": b"three"}, what="a GitLab push")
    ping = {**github({"zen": "hi"}), "X-GitHub-Event": "ping"}
    assert deliver(port, {"zen": "hi"}, ping) == (200, {"pong": True})


def test_an_operator_without_its_token_file_refuses_to_start(
    operator_kubeconfig: Path, tmp_path: Path
) -> None:
    argv = [sys.executable, "-m", "secretsync", "operator", "--kubeconfig"]
    argv += [str(operator_kubeconfig), "--no-leader-elect", "--metrics-address", ""]
    argv += ["--webhook-address", f"127.0.0.1:{procs.free_port()}"]
    argv += ["--webhook-token-file", str(tmp_path / "missing")]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "--webhook-token-file: cannot read" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.xdist_group("lease")  # takes the real Lease, like test_ha
def test_a_standby_forwards_the_push_to_the_leader(
    kube: Cluster,
    kube_api: client.ApiClient,
    repo: Repo,
    operator_kubeconfig: Path,
    tmp_path: Path,
) -> None:
    _setup(kube, repo)

    def replica(name: str) -> tuple[Operator, int, str]:
        port, args = operator_args(tmp_path)
        identity = f"{name}-{uuid.uuid4().hex[:6]}"
        operator = harness.start(
            operator_kubeconfig,
            tmp_path / f"{identity}.log",
            "--leader-elect",  # off by default outside a cluster
            "--namespace",
            kube.namespace,
            "--identity",
            identity,
            "--webhook-advertise",
            f"http://127.0.0.1:{port}",
            *args,
        )
        return operator, port, identity

    leader, _, leader_name = replica("leader")
    try:
        eventually(lambda: _holder(kube_api) == leader_name, what="the first replica to lead")
        standby, standby_port, _ = replica("standby")
        try:
            eventually(lambda: kube.data("db-secret") == {"password": b"one"}, what="first sync")
            repo.commit("two")
            reply = deliver(standby_port, push(repo.url), github(push(repo.url)))
            assert reply == (202, {"externalSecrets": 1}), "the leader answered via the standby"
            eventually(
                lambda: kube.data("db-secret") == {"password": b"two"},
                timeout=WEBHOOK_TARGET_SECONDS,
                what="the leader to sync the push the standby took",
            )
            forged = deliver(standby_port, push(repo.url), github(push(repo.url), "wrong"))
            assert forged[0] == 401, "the standby checks the signature before forwarding"
        finally:
            standby.stop()
    finally:
        leader.stop()


def _holder(api: client.ApiClient) -> str | None:
    lease = client.CoordinationV1Api(api).read_namespaced_lease(
        "secretsync-operator", "secretsync-system"
    )
    return lease.spec.holder_identity if lease.spec else None
