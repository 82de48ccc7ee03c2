"""The SOPS-in-Git store provider against the real loopback Git server, the real sops binary
and the real apiserver (Secrets hold the age key and the Git credentials)."""

from __future__ import annotations

import dataclasses
import json
import secrets
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from secretsync.api.sops import GitRef
from secretsync.api.sources import Find, FindName, RemoteRef
from secretsync.errors import (
    AccessDenied,
    ConfigError,
    DecryptionError,
    MacMismatch,
    NotFound,
    SecretSyncError,
)
from secretsync.gitsource import auth, paths, source
from secretsync.gitsource import client as gitclient
from secretsync.gitsource.registry import Repositories
from tests.providers.sops_git_fixtures import (
    AgeKey,
    Calls,
    SshServer,
    WorkTree,
    age_key,
    basic_header,
    encrypt,
    fetches,
    provider,
    put_secret,
    sops_decrypt,
    start_sshd,
    store,
)
from tests.testbed.git import GitServer

SEEDS = {name: f"seed-{name}-{secrets.token_hex(8)}" for name in ("db", "json", "env", "bin", "v1")}
DB_YAML = f"""\
user: admin
password: {SEEDS["db"]}
port: 5432
nested:
    a:
        b: deep
a.b: literal
list: [1, two]
""".encode()


@dataclasses.dataclass(frozen=True)
class Published:
    url: str
    first: str
    second: str
    key: AgeKey
    wrong: AgeKey
    folder: Path


@pytest.fixture(scope="module")
def published(
    git_server: GitServer,
    sops_bin: Path,
    age_keygen_bin: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Published:
    """One public repository: commit 1 (tag v1), then commit 2 (the branch head)."""
    folder = tmp_path_factory.mktemp("sops-git")
    key, wrong = age_key(age_keygen_bin, folder, "key"), age_key(age_keygen_bin, folder, "wrong")
    url = git_server.create_repo(f"sops-{secrets.token_hex(4)}")
    tree = WorkTree(folder / "work", url)

    def put(name: str, plain: bytes) -> None:
        tree.write(name, encrypt(sops_bin, key, Path(name).name, plain, folder))

    put("clusters/prod/db.yaml", f"user: admin\npassword: {SEEDS['v1']}\n".encode())
    first = _first(tree)
    put("clusters/prod/db.yaml", DB_YAML)
    put("clusters/prod/app.json", json.dumps({"token": SEEDS["json"], "cfg": {"x": 1}}).encode())
    put("clusters/prod/app.env", f"KEY={SEEDS['env']}\nOTHER=2\n".encode())
    put("clusters/prod/blob.bin", b"\x00\xff" + SEEDS["bin"].encode())
    put("clusters/prod/sub/extra.yaml", b"k: v\n")
    put("outside.yaml", b"top: secret\n")
    tampered = encrypt(sops_bin, key, "t.yaml", f"a: {SEEDS['db']}\nb: y\n".encode(), folder)
    tree.write(
        "clusters/prod/tampered.yaml",
        b"\n".join(line for line in tampered.split(b"\n") if not line.startswith(b"b:")),
    )
    tree.symlink("clusters/prod/escape.yaml", "/etc/hostname")
    tree.symlink("clusters/prod/up.yaml", "../../../../../../../etc/hostname")
    tree.symlink("clusters/prod/alias.yaml", "db.yaml")
    tree.write("clusters/prod/.sops.yaml", b"creation_rules: []\n")
    second = tree.commit("second")
    return Published(url, first, second, key, wrong, tree.folder)


def _first(tree: WorkTree) -> str:
    sha = tree.commit("first")
    tree.git("tag", "v1")
    tree.git("push", "--quiet", tree.url, "v1")
    return sha


@pytest.fixture
def age_secret(kube_api: client.ApiClient, namespace: str, published: Published) -> str:
    put_secret(kube_api, namespace, "sops-age", {"keys.agekey": published.key.identity.encode()})
    return namespace


@dataclasses.dataclass(frozen=True)
class Bed:
    api: client.ApiClient
    namespace: str
    git: GitServer
    sops: Path
    published: Published


@pytest.fixture
def bed(
    kube_api: client.ApiClient,
    age_secret: str,
    git_server: GitServer,
    sops_bin: Path,
    published: Published,
) -> Bed:
    """The test bed parts the fetch tests need, with the age key Secret in place."""
    return Bed(kube_api, age_secret, git_server, sops_bin, published)


@pytest.fixture
def repositories(tmp_path: Path) -> Iterator[Repositories]:
    yield Repositories(tmp_path / "cache")


def assert_clean(exc: BaseException) -> None:
    """No seeded value in the message, nor in anything it was chained from."""
    seen: BaseException | None = exc
    while seen is not None:
        for value in SEEDS.values():
            assert value not in str(seen)
        seen = seen.__cause__ or seen.__context__


def ref(key: str, prop: str | None = None) -> RemoteRef:
    return RemoteRef(key=key, property=prop)


# --- reading -------------------------------------------------------------------------------------


def test_branch_reads_whole_files_properties_and_extract(
    kube_api: client.ApiClient,
    age_secret: str,
    published: Published,
    repositories: Repositories,
    sops_bin: Path,
) -> None:
    calls = Calls()
    sops = provider(
        kube_api,
        age_secret,
        store(age_secret, published.url, {"branch": "main"}),
        repositories,
        calls,
    )
    db = published.folder / "clusters/prod/db.yaml"
    assert sops.get(ref("db.yaml")) == sops_decrypt(sops_bin, published.key, db)
    assert sops.get(ref("db.yaml", "password")) == SEEDS["db"].encode()
    assert sops.get(ref("db.yaml", "port")) == b"5432"
    assert sops.get(ref("db.yaml", "nested.a.b")) == b"deep"
    assert sops.get(ref("db.yaml", "a.b")) == b"literal"  # the literal key wins
    assert sops.get(ref("db.yaml", "nested")) == b'{"a":{"b":"deep"}}'
    assert sops.get(ref("db.yaml", "list.1")) == b"two"
    assert sops.get(ref("alias.yaml", "user")) == b"admin"  # a symlink inside the checkout
    assert sops.get_map(ref("db.yaml")) == {
        "user": b"admin",
        "password": SEEDS["db"].encode(),
        "port": b"5432",
        "nested": b'{"a":{"b":"deep"}}',
        "a.b": b"literal",
        "list": b'[1,"two"]',
    }
    assert sops.get_map(ref("db.yaml", "nested")) == {"a": b'{"b":"deep"}'}
    assert sops.get_map(ref("app.json")) == {"token": SEEDS["json"].encode(), "cfg": b'{"x":1}'}
    assert sops.get(ref("app.env")) == f"KEY={SEEDS['env']}\nOTHER=2\n".encode()
    assert sops.get(ref("app.env", "KEY")) == SEEDS["env"].encode()
    assert sops.get(ref("blob.bin")) == b"\x00\xff" + SEEDS["bin"].encode()
    assert sops.version(ref("db.yaml")) == published.second
    # One fetch and one decryption per file, however many keys were read from it.
    assert calls.counts[("Fetch", True)] == 1
    assert calls.counts[("Decrypt", True)] == 4


def test_a_post_quantum_age_key_in_the_secret_opens_files_sops_wrote_for_it(
    kube_api: client.ApiClient,
    namespace: str,
    git_server: GitServer,
    sops_bin: Path,
    age_keygen_bin: Path,
    repositories: Repositories,
    tmp_path: Path,
) -> None:
    key = age_key(age_keygen_bin, tmp_path, "pq", pq=True)
    url = git_server.create_repo(f"pq-{secrets.token_hex(4)}")
    tree = WorkTree(tmp_path / "work", url)
    tree.write(
        "clusters/prod/db.yaml",
        encrypt(sops_bin, key, "db.yaml", f"password: {SEEDS['db']}\n".encode(), tmp_path),
    )
    tree.commit("pq")
    put_secret(kube_api, namespace, "sops-age", {"keys.agekey": key.identity.encode()})
    sops = provider(kube_api, namespace, store(namespace, url, {"branch": "main"}), repositories)
    assert sops.get(ref("db.yaml", "password")) == SEEDS["db"].encode()


def test_find_by_path_glob_and_name_regexp(
    kube_api: client.ApiClient, age_secret: str, published: Published, repositories: Repositories
) -> None:
    sops = provider(
        kube_api, age_secret, store(age_secret, published.url, {"branch": "main"}), repositories
    )
    found = sops.find(Find(path="**/*.yaml", name=FindName(regexp="^(db|sub/)")))
    assert sorted(found) == ["db.yaml", "sub/extra.yaml"]
    assert found["sub/extra.yaml"] == b"k: v\n"
    assert sorted(sops.find(Find(path="sub", name=None, tags={}))) == ["sub/extra.yaml"]
    assert sorted(sops.find(Find(name=FindName(regexp=r"\.(json|env)$")))) == [
        "app.env",
        "app.json",
    ]
    with pytest.raises(ConfigError):
        sops.find(Find(tags={"team": "a"}))


def test_tag_and_commit_refs_pin_older_content(
    kube_api: client.ApiClient, age_secret: str, published: Published, repositories: Repositories
) -> None:
    for pinned in ({"tag": "v1"}, {"commit": published.first}):
        sops = provider(
            kube_api, age_secret, store(age_secret, published.url, pinned), repositories
        )
        assert sops.get(ref("db.yaml", "password")) == SEEDS["v1"].encode()
        assert sops.version(ref("db.yaml")) == published.first
        with pytest.raises(NotFound) as missing:
            sops.get(ref("app.json"))
        assert "app.json" in str(missing.value)


# --- failures ------------------------------------------------------------------------------------


def test_wrong_key_tampered_and_missing_files(
    kube_api: client.ApiClient, namespace: str, published: Published, repositories: Repositories
) -> None:
    put_secret(
        kube_api,
        namespace,
        "sops-age",
        {
            "keys.agekey": published.key.identity.encode(),
            "other.txt": b"not a key",
        },
    )
    sops = provider(
        kube_api, namespace, store(namespace, published.url, {"branch": "main"}), repositories
    )
    with pytest.raises(MacMismatch) as tampered:
        sops.get(ref("tampered.yaml", "a"))
    with pytest.raises(NotFound) as missing:
        sops.get(ref("nope.yaml"))
    with pytest.raises(ConfigError) as no_property:
        sops.get(ref("db.yaml", "nope"))
    gone = provider(
        kube_api, namespace, store(namespace, published.url, {"branch": "gone"}), repositories
    )
    with pytest.raises(NotFound) as no_branch:
        gone.version(ref("db.yaml"))
    client.CoreV1Api(kube_api).delete_namespaced_secret("sops-age", namespace)
    put_secret(kube_api, namespace, "sops-age", {"a.agekey": published.wrong.identity.encode()})
    wrong = provider(
        kube_api, namespace, store(namespace, published.url, {"branch": "main"}), repositories
    )
    with pytest.raises(DecryptionError) as wrong_key:
        wrong.get(ref("db.yaml", "password"))
    for failure in (tampered, missing, no_property, no_branch, wrong_key):
        assert "SecretStore" in str(failure.value)
        assert_clean(failure.value)


def test_paths_stay_inside_the_checkout(
    kube_api: client.ApiClient, age_secret: str, published: Published, repositories: Repositories
) -> None:
    sops = provider(
        kube_api, age_secret, store(age_secret, published.url, {"branch": "main"}), repositories
    )
    for key in ("../../outside.yaml", "/etc/hostname", "escape.yaml", "up.yaml", "sub/../../x"):
        with pytest.raises(ConfigError) as rejected:
            sops.get(ref(key))
        assert_clean(rejected.value)
    assert sorted(sops.find(Find(name=FindName(regexp="^(escape|up|db)")))) == ["db.yaml"]
    assert sorted(sops.find(Find(name=FindName(regexp="sops|sub")))) == ["sub/extra.yaml"]
    with pytest.raises(MacMismatch) as tampered:
        sops.find(Find(path="tampered.yaml"))
    assert "find: tampered.yaml" in str(tampered.value)
    with pytest.raises(ConfigError):
        provider(
            kube_api,
            age_secret,
            store(age_secret, published.url, {"branch": "main"}, path="clusters/../.."),
            repositories,
        )


# --- fetching ------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_fetch_per_interval_shared_then_new_commit(bed: Bed, tmp_path: Path) -> None:
    kube_api, age_secret, git_server, sops_bin, published = (
        bed.api,
        bed.namespace,
        bed.git,
        bed.sops,
        bed.published,
    )
    url = git_server.create_repo(f"interval-{secrets.token_hex(4)}")
    tree = WorkTree(tmp_path / "work", url)
    tree.write(
        "clusters/prod/a.yaml", encrypt(sops_bin, published.key, "a.yaml", b"v: one\n", tmp_path)
    )
    tree.commit("one")
    clock = Clock()
    shared = Repositories(tmp_path / "cache", clock=clock)
    readers = [
        provider(kube_api, age_secret, store(age_secret, url, {"branch": "main"}), shared)
        for _ in range(3)
    ]  # several ExternalSecrets' providers, one repository
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda r=r: results.append(r.get(ref("a.yaml", "v"))))
        for r in readers * 4
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [b"one"] * 12
    assert fetches(git_server, url) == 1
    first = readers[0].version(ref("a.yaml"))

    tree.write(
        "clusters/prod/a.yaml", encrypt(sops_bin, published.key, "a.yaml", b"v: two\n", tmp_path)
    )
    second = tree.commit("two")
    clock.now += 59  # still within the 1m interval: no fetch, the old commit is served
    assert readers[1].get(ref("a.yaml", "v")) == b"one"
    assert fetches(git_server, url) == 1
    clock.now += 1
    assert readers[2].version(ref("a.yaml")) == second != first
    assert readers[0].get(ref("a.yaml", "v")) == b"two"
    assert fetches(git_server, url) == 2


def test_private_repository_basic_and_bearer_auth(
    bed: Bed, repositories: Repositories, tmp_path: Path
) -> None:
    kube_api, age_secret, git_server, sops_bin, published = (
        bed.api,
        bed.namespace,
        bed.git,
        bed.sops,
        bed.published,
    )
    url = git_server.create_repo(f"private-{secrets.token_hex(4)}", private=True)
    tree = WorkTree(tmp_path / "work", url, header=basic_header(git_server))
    tree.write(
        "clusters/prod/a.yaml", encrypt(sops_bin, published.key, "a.yaml", b"v: p\n", tmp_path)
    )
    tree.commit("one")
    ns = age_secret
    put_secret(
        kube_api,
        ns,
        "basic",
        {"username": git_server.user.encode(), "password": git_server.password.encode()},
    )
    put_secret(kube_api, ns, "bearer", {"bearerToken": git_server.token.encode()})
    put_secret(
        kube_api,
        ns,
        "bad",
        {
            "username": git_server.user.encode(),
            "password": b"wrong-" + git_server.password.encode(),
        },
    )
    for name in ("basic", "bearer"):
        sops = provider(
            kube_api, ns, store(ns, url, {"branch": "main"}, secretRef={"name": name}), repositories
        )
        assert sops.get(ref("a.yaml", "v")) == b"p"
    for name in ("bad", None):
        extra = {"secretRef": {"name": name}} if name else {}
        sops = provider(kube_api, ns, store(ns, url, {"branch": "main"}, **extra), repositories)
        with pytest.raises(AccessDenied) as denied:
            sops.get(ref("a.yaml", "v"))
        assert git_server.password not in str(denied.value)
        assert git_server.token not in str(denied.value)
    # Credentials never reach the cache's git config.
    for config in repositories.cache_dir.glob("*/repo/config"):
        assert git_server.password not in config.read_text()
        assert "extraHeader" not in config.read_text()


def test_file_url_and_ssh_environment(
    kube_api: client.ApiClient,
    age_secret: str,
    published: Published,
    repositories: Repositories,
    tmp_path: Path,
) -> None:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", published.url, str(bare)], check=True)
    sops = provider(
        kube_api, age_secret, store(age_secret, f"file://{bare}", {"branch": "main"}), repositories
    )
    assert sops.get(ref("db.yaml", "user")) == b"admin"
    assert sops.version(ref("db.yaml")) == published.second
    ssh = auth.GitAuth(identity=b"KEY", known_hosts=b"[127.0.0.1]:22 ssh-ed25519 AAAA")
    with auth.git_environment(ssh) as env:
        scratch = Path(env["HOME"])
        assert scratch.stat().st_mode & 0o777 == 0o700
        assert "StrictHostKeyChecking=yes" in env["GIT_SSH_COMMAND"]
        assert (scratch / "identity").stat().st_mode & 0o777 == 0o600
    assert not scratch.exists()


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SshServer]:
    folder = tmp_path / "sshd"
    folder.mkdir()
    proc, server = start_sshd(folder)
    yield server
    proc.terminate()
    proc.wait(timeout=10)


def test_ssh_with_identity_and_known_hosts(
    bed: Bed, sshd: SshServer, repositories: Repositories, tmp_path: Path
) -> None:
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", bed.published.url, str(bare)], check=True)
    url = f"ssh://{sshd.user}@127.0.0.1:{sshd.port}{bare}"
    good = {"identity": sshd.identity, "known_hosts": sshd.known_hosts}
    put_secret(bed.api, bed.namespace, "ssh", good)
    other_host = sshd.known_hosts.replace(b"127.0.0.1", b"127.0.0.2")
    put_secret(bed.api, bed.namespace, "ssh-unknown-host", good | {"known_hosts": other_host})
    sops = provider(
        bed.api,
        bed.namespace,
        store(bed.namespace, url, {"branch": "main"}, secretRef={"name": "ssh"}),
        repositories,
    )
    assert sops.get(ref("db.yaml", "user")) == b"admin"
    assert sops.version(ref("db.yaml")) == bed.published.second
    strict = provider(
        bed.api,
        bed.namespace,
        store(bed.namespace, url, {"branch": "main"}, secretRef={"name": "ssh-unknown-host"}),
        repositories,
    )
    with pytest.raises(AccessDenied) as unknown:
        strict.version(ref("db.yaml"))
    assert "PRIVATE KEY" not in str(unknown.value)


# --- pure decisions ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref_",
    [
        GitRef(branch="--upload-pack=x"),
        GitRef(tag="a..b"),
        GitRef(commit="abc"),
        GitRef(branch="a b"),
        GitRef(branch="main", tag="v1"),
    ],
)
def test_revisions_that_could_reach_git_as_options_are_refused(ref_: GitRef) -> None:
    with pytest.raises(ConfigError):
        source.revision_from(ref_, "ref")


@pytest.mark.parametrize(
    "url", ["ext::sh -c touch% /tmp/x", "-oProxyCommand=x", "https://u:p@host/r.git", "/abs"]
)
def test_urls_are_limited_to_the_allowed_transports(url: str) -> None:
    with pytest.raises(ConfigError) as refused:
        source.check_url(url, "url")
    assert ":p@" not in str(refused.value)


def test_path_globs_and_prefixes() -> None:
    assert paths.matches_path("a/b/c.yaml", "**/*.yaml")
    assert paths.matches_path("c.yaml", "**/*.yaml")
    assert not paths.matches_path("a/c.yaml", "*.yaml")
    assert paths.matches_path("a/c.yaml", "a")
    assert not paths.matches_path("ab/c.yaml", "a")
    with pytest.raises(ConfigError):
        paths.relative_parts("a/../../b", "key")


def test_git_failures_map_to_the_error_hierarchy() -> None:
    assert gitclient.classify("fatal: Authentication failed for 'x'") is AccessDenied
    assert gitclient.classify("fatal: couldn't find remote ref refs/heads/x") is NotFound
    assert issubclass(gitclient.classify("fatal: unable to access 'x': Failed"), SecretSyncError)


def test_credentials_are_handed_over_in_the_environment_only() -> None:
    basic = auth.auth_from_secret({"username": b"u", "password": b"pw-123"}, "secret")
    assert "pw-123" not in repr(basic)
    with auth.git_environment(basic) as env:
        values = [v for k, v in env.items() if k.startswith("GIT_CONFIG_VALUE_")]
        assert "Authorization: Basic dTpwdy0xMjM=" in values
    with pytest.raises(ConfigError):
        auth.auth_from_secret({"bearerToken": b"a\nX-Injected: 1"}, "secret")
    with pytest.raises(ConfigError):
        auth.auth_from_secret({"identity": b"k"}, "secret")  # no known_hosts


def test_a_failed_fetch_is_remembered_briefly_then_retried(tmp_path: Path) -> None:
    clock, outcomes = Clock(), []
    shared = Repositories(tmp_path / "cache", clock=clock)
    missing = source.Remote(f"file://{tmp_path}/absent.git", source.Revision("branch", "main"))
    for step in (0.0, 1.0, 5.0):
        clock.now += step
        with pytest.raises(NotFound):
            shared.checkout(missing, auth.NO_AUTH, 60.0, outcomes.append)
    assert outcomes == [False, False]  # the second call reused the first failure
