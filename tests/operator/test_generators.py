"""Generators on the real operator: Password, UUID, SSHKey and ECRAuthorizationToken (against
moto), namespaced and through a ClusterGenerator, from `dataFrom[]` and `data[]`; and ESO's
refresh semantics: a generator runs again on each refresh, CreatedOnce keeps the first value
across a forced refresh, OnChange regenerates on a change, Periodic on every interval.
Generated values never reach the operator's logs, the Events or the status."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import condition, unique
from tests.providers import aws_fixtures
from tests.testbed import stack

Start = Callable[..., Operator]
GROUP = "generators.external-secrets.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
SERVED = ["passwords", "uuids", "sshkeys", "ecrauthorizationtokens"]
def _generator(kube: Cluster, kind: str, name: str, spec: dict[str, Any]) -> None:
    body = {"apiVersion": API_VERSION, "kind": kind, "metadata": {"name": name}, "spec": spec}
    kube.custom.create_namespaced_custom_object(
        GROUP, VERSION, kube.namespace, f"{kind.lower()}s", body
    )


@pytest.fixture
def cluster_generator(kube: Cluster) -> Iterator[Callable[[str, dict[str, Any]], str]]:
    made: list[str] = []

    def create(kind: str, generator: dict[str, Any]) -> str:
        name = unique("cg-")
        body = {
            "apiVersion": API_VERSION,
            "kind": "ClusterGenerator",
            "metadata": {"name": name},
            "spec": {"kind": kind, "generator": generator},
        }
        kube.custom.create_cluster_custom_object(GROUP, VERSION, "clustergenerators", body)
        made.append(name)
        return name

    yield create
    for name in made:
        kube.custom.delete_cluster_custom_object(GROUP, VERSION, "clustergenerators", name)


def _ref(kind: str, name: str) -> dict[str, Any]:
    return {"generatorRef": {"apiVersion": API_VERSION, "kind": kind, "name": name}}


def _es(name: str, data_from: list[Any] | None = None, data: list[Any] | None = None,
        **spec: Any) -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {"refreshInterval": "1h", "target": {"name": name}, **spec}
    if data_from:
        body["dataFrom"] = data_from
    if data:
        body["data"] = data
    return {"kind": "ExternalSecret", "metadata": {"name": name}, "spec": body}


def _synced(kube: Cluster, name: str) -> dict[str, bytes]:
    condition(kube, name, "True", "SecretSynced", timeout=30)
    found = kube.data(name)
    assert found is not None
    return found


def _assert_never_shown(kube: Cluster, operator: Operator, names: list[str],
                        values: list[bytes]) -> None:  # fmt: skip
    """No generated value in the operator's logs, any Event or status of these objects."""
    shown = [operator.logs()]
    for name in names:
        shown.append(str(kube.es(name).get("status")))
        shown.extend(str(e.message) for e in kube.events(name))
    text = "\n".join(shown)
    for value in values:
        for form in {value, base64.b64encode(value)}:
            assert form.decode() not in text


def test_password_uuid_and_ssh_keys_namespaced_and_clustered(
    kube: Cluster, start_operator: Start, cluster_generator: Callable[[str, dict[str, Any]], str]
) -> None:
    _generator(kube, "Password", "pw", {"length": 32, "digits": 5, "symbols": 0,
                                         "secretKeys": ["password", "backup"]})  # fmt: skip
    _generator(kube, "UUID", "id", {})
    _generator(kube, "SSHKey", "rsa", {"keyType": "rsa", "keySize": 3072, "comment": "ci"})
    ed = cluster_generator("SSHKey", {"sshKeySpec": {"keyType": "ed25519"}})
    clustered_pw = cluster_generator("Password", {"passwordSpec": {"length": 16}})
    kube.apply("externalsecrets", _es("pw", [{"sourceRef": _ref("Password", "pw")}]))
    kube.apply("externalsecrets", _es(
        "mixed",
        [{"sourceRef": _ref("UUID", "id")},
         {"sourceRef": _ref("ClusterGenerator", clustered_pw),
          "rewrite": [{"regexp": {"source": "password", "target": "db-password"}}]}],
        [{"secretKey": "id_ed25519", "remoteRef": {"key": "privateKey"},
          "sourceRef": _ref("ClusterGenerator", ed)},
         {"secretKey": "id_ed25519.pub", "remoteRef": {"key": "publicKey"},
          "sourceRef": _ref("ClusterGenerator", ed)},
         {"secretKey": "id_rsa.pub", "remoteRef": {"key": "publicKey"},
          "sourceRef": _ref("SSHKey", "rsa")}],
    ))  # fmt: skip
    operator = start_operator()

    pw = _synced(kube, "pw")
    assert sorted(pw) == ["backup", "password"]
    assert len(pw["password"]) == 32 and sum(c in b"0123456789" for c in pw["password"]) == 5
    assert pw["password"] != pw["backup"]

    mixed = _synced(kube, "mixed")
    assert sorted(mixed) == ["db-password", "id_ed25519", "id_ed25519.pub", "id_rsa.pub", "uuid"]
    assert uuid.UUID(mixed["uuid"].decode()).version == 4
    assert len(mixed["db-password"]) == 16
    private = serialization.load_ssh_private_key(mixed["id_ed25519"], None)
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    assert mixed["id_ed25519.pub"] == public + b"\n"  # one run serves both keys
    assert mixed["id_rsa.pub"].startswith(b"ssh-rsa ") and mixed["id_rsa.pub"].endswith(b" ci\n")

    _assert_never_shown(kube, operator, ["pw", "mixed"],
                        [*pw.values(), mixed["uuid"], mixed["db-password"],
                         mixed["id_ed25519"]])  # fmt: skip


def test_refresh_policies_decide_when_a_generator_runs_again(
    kube: Cluster, start_operator: Start
) -> None:
    _generator(kube, "UUID", "id", {})
    source = [{"sourceRef": _ref("UUID", "id")}]
    kube.apply("externalsecrets", _es("once", source, refreshPolicy="CreatedOnce",
                                      refreshInterval="1s"))  # fmt: skip
    kube.apply("externalsecrets", _es("on-change", source, refreshPolicy="OnChange"))
    kube.apply("externalsecrets", _es("periodic", source, refreshInterval="1s"))
    operator = start_operator()
    first = {name: _synced(kube, name)["uuid"] for name in ("once", "on-change", "periodic")}
    assert len(set(first.values())) == 3

    # Periodic: a new value on a later refresh.
    eventually(lambda: kube.data("periodic")["uuid"] != first["periodic"], timeout=20,  # type: ignore[index]
               what="the periodic refresh to generate again")  # fmt: skip

    # A forced refresh (any annotation change, as ESO's force-sync): OnChange generates again,
    # CreatedOnce keeps its first value. The OnChange one, forced after, is the witness that the
    # operator has seen both changes.
    once_status = kube.es("once")["status"]
    for name in ("once", "on-change"):
        kube.patch_es(name, {"metadata": {"annotations": {"force-sync": str(time.time())}}})
    eventually(lambda: kube.data("on-change")["uuid"] != first["on-change"],  # type: ignore[index]
               what="OnChange to generate again on the forced refresh")  # fmt: skip
    assert kube.data("once") == {"uuid": first["once"]}
    assert kube.es("once")["status"]["refreshTime"] == once_status["refreshTime"]

    shown = [*first.values(), kube.data("on-change")["uuid"]]  # type: ignore[index]
    _assert_never_shown(kube, operator, ["once", "on-change", "periodic"], shown)


def test_a_spec_that_cannot_generate_names_the_generator_and_field(
    kube: Cluster, start_operator: Start, cluster_generator: Callable[[str, dict[str, Any]], str]
) -> None:
    _generator(kube, "Password", "short", {"length": 4, "digits": 3, "symbols": 3})
    wrong = cluster_generator(
        "Password",
        {"passwordSpec": {"length": 8, "digits": 11, "symbols": 0, "allowRepeat": False}},
    )
    kube.apply("externalsecrets", _es("short", [{"sourceRef": _ref("Password", "short")}]))
    kube.apply("externalsecrets", _es("wrong", [{"sourceRef": _ref("ClusterGenerator", wrong)}]))
    kube.apply("externalsecrets", _es("missing", [{"sourceRef": _ref("UUID", "absent")}]))
    start_operator()
    short = condition(kube, "short", "False", "SecretSyncedError")
    assert "Password short: spec.length: digits (3) plus symbols (3) exceed" in short["message"]
    wrong_ready = condition(kube, "wrong", "False", "SecretSyncedError")
    assert f"ClusterGenerator {wrong}: spec.generator.passwordSpec." in wrong_ready["message"]
    missing = condition(kube, "missing", "False", "SecretSyncedError")
    assert "UUID absent" in missing["message"] and "does not exist" in missing["message"]
    assert kube.secret("short") is None


def test_ecr_authorization_token_from_moto(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start,
    cluster_generator: Callable[[str, dict[str, Any]], str],
) -> None:  # fmt: skip
    kube.put_secret(
        aws_fixtures.KEYS_SECRET,
        {"access-key": testbed.AWS_ACCESS_KEY_ID,
         "secret-access-key": testbed.AWS_SECRET_ACCESS_KEY},
    )  # fmt: skip
    spec = {"region": testbed.AWS_DEFAULT_REGION, "auth": aws_fixtures.static_auth()}
    _generator(kube, "ECRAuthorizationToken", "ecr", spec)
    clustered = cluster_generator("ECRAuthorizationToken", {"ecrAuthorizationTokenSpec": spec})
    kube.apply("externalsecrets", _es("ecr", [{"sourceRef": _ref("ECRAuthorizationToken", "ecr")}]))
    kube.apply("externalsecrets", _es(
        "ecr-login",
        data=[{"secretKey": "user", "remoteRef": {"key": "username"},
               "sourceRef": _ref("ClusterGenerator", clustered)}],
    ))  # fmt: skip
    operator = start_operator(env={"AWS_ENDPOINT_URL": testbed.AWS_ENDPOINT_URL})

    found = _synced(kube, "ecr")
    assert sorted(found) == ["expires_at", "password", "proxy_endpoint", "username"]
    expected = aws_fixtures.seed_client(testbed, "ecr").get_authorization_token()
    data = expected["authorizationData"][0]
    user, _, _ = base64.b64decode(data["authorizationToken"]).partition(b":")
    assert found["username"] == user
    assert found["proxy_endpoint"] == data["proxyEndpoint"].encode()
    # moto's token always expires at the same moment, which pins ESO's Unix-seconds format.
    assert found["expires_at"] == str(int(data["expiresAt"].timestamp())).encode()
    assert _synced(kube, "ecr-login") == {"user": user}
    _assert_never_shown(kube, operator, ["ecr"], [found["password"]])
