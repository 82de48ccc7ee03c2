"""Git push webhooks through the running operator: a signed push brings the sync of every
ExternalSecret on that repository forward to now, whatever its refreshInterval; an unsigned or
mis-signed one changes nothing; a standby forwards the push to the leader."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.operator import harness
from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import external_secret, sops_store
from tests.providers.sops_git_fixtures import AgeKey, WorkTree, age_key, encrypt
from tests.testbed import procs
from tests.testbed.git import GitServer

TOKEN = "webhook-" + uuid.uuid4().hex
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


def _deliver(port: int, payload: dict[str, Any], headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/hooks/git",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _github(payload: dict[str, Any], secret: str = TOKEN) -> dict[str, str]:
    body = json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={digest}"}


def _push(url: str, ref: str = "refs/heads/main") -> dict[str, Any]:
    return {"ref": ref, "repository": {"clone_url": url, "html_url": url.removesuffix(".git")}}


def _setup(kube: Cluster, repo: Repo) -> None:
    repo.commit("one")
    kube.put_secret("age", {"key.agekey": repo.key.identity})
    # Both intervals an hour: only the webhook can bring the new commit in within the test.
    sops_store(kube, repo.url, interval="1h")
    kube.apply(
        "externalsecrets",
        external_secret("db", "app.yaml", store="git", properties=("password",)),
    )


def _webhook_args(tmp_path: Path) -> tuple[int, list[str]]:
    token_file = tmp_path / f"token-{uuid.uuid4().hex[:6]}"
    token_file.write_text(TOKEN + "\n")  # a trailing newline, as `kubectl create secret` leaves
    port = procs.free_port()
    args = ["--webhook-address", f"127.0.0.1:{port}", "--webhook-token-file", str(token_file)]
    return port, args


@pytest.fixture
def repo(git_server: GitServer, sops_bin: Path, age_keygen_bin: Path, tmp_path: Path) -> Repo:
    return Repo(git_server, sops_bin, age_keygen_bin, tmp_path)


def test_a_signed_push_syncs_now_and_a_forged_one_changes_nothing(
    kube: Cluster, repo: Repo, tmp_path: Path, start_operator: Callable[..., Operator]
) -> None:
    _setup(kube, repo)
    port, args = _webhook_args(tmp_path)
    start_operator(*args)
    eventually(lambda: kube.data("db-secret") == {"password": b"one"}, what="first sync")

    repo.commit("two")
    assert _deliver(port, _push(repo.url), _github(_push(repo.url), "wrong"))[0] == 401
    assert _deliver(port, _push(repo.url), {})[0] == 401
    gitlab = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "wrong"}
    assert _deliver(port, _push(repo.url), gitlab)[0] == 401
    other = _push(repo.url.replace("/hook-", "/other-"))
    assert _deliver(port, other, _github(other)) == (202, {"externalSecrets": 0})
    branch = _push(repo.url, ref="refs/heads/dev")
    assert _deliver(port, branch, _github(branch)) == (202, {"externalSecrets": 0})
    time.sleep(2)  # a refresh the forged and unrelated pushes wrongly caused would be done
    assert kube.data("db-secret") == {"password": b"one"}

    pushed = time.monotonic()
    assert _deliver(port, _push(repo.url), _github(_push(repo.url))) == (
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
    assert _deliver(port, _push(repo.url), gitlab) == (202, {"externalSecrets": 1})
    eventually(lambda: kube.data("db-secret") == {"password": b"three"}, what="a GitLab push")
    ping = {**_github({"zen": "hi"}), "X-GitHub-Event": "ping"}
    assert _deliver(port, {"zen": "hi"}, ping) == (200, {"pong": True})


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
        port, args = _webhook_args(tmp_path)
        identity = f"{name}-{uuid.uuid4().hex[:6]}"
        operator = harness.start(
            operator_kubeconfig,
            tmp_path / f"{identity}.log",
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
            reply = _deliver(standby_port, _push(repo.url), _github(_push(repo.url)))
            assert reply == (202, {"externalSecrets": 1}), "the leader answered via the standby"
            eventually(
                lambda: kube.data("db-secret") == {"password": b"two"},
                timeout=WEBHOOK_TARGET_SECONDS,
                what="the leader to sync the push the standby took",
            )
            forged = _deliver(standby_port, _push(repo.url), _github(_push(repo.url), "wrong"))
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
