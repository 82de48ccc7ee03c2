"""A store's `spec.retrySettings` ({maxRetries, retryInterval}) with ESO's meaning, per provider.

Vault (ESO: the Go client's MaxRetries / MinRetryWait = MaxRetryWait): maxRetries retries after the
first attempt, linear waits of retryInterval x the retry's number. AWS (ESO: the SDK's standard
retryer with AddWithMaxAttempts(maxRetries)): maxRetries attempts in all, a fixed delay of
retryInterval. The witness is a loopback proxy in front of the test bed's real OpenBao and moto
that fails the first N requests (503, or a dropped connection) and records every attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import hvac
import pytest
from kubernetes import client

from secretsync.api.fields import Duration
from secretsync.api.objects import parse_store
from secretsync.api.retry import RetrySettings
from secretsync.api.sources import RemoteRef
from secretsync.errors import ConfigError, Unavailable
from secretsync.kube.credentials import ClusterCredentials
from secretsync.providers import aws_secretsmanager, vault
from secretsync.providers.aws_retry import fixed_delay, retry_config
from secretsync.providers.base import Provider, StoreContext
from secretsync.providers.vault_retry import backoff_seconds, vault_retry
from tests.providers.aws_fixtures import Calls, put_keys, seed_client, static_auth, unique
from tests.providers.flaky_proxy import FlakyProxy, flaky_proxy
from tests.testbed import stack

Build = Callable[..., Provider]
VAULT = {"vault": {"server": "http://v", "auth": {"tokenSecretRef": {"name": "t", "key": "k"}}}}


def _store(namespace: str, provider: dict[str, Any], retry: dict[str, Any] | None) -> Any:
    spec: dict[str, Any] = {"provider": provider}
    if retry is not None:
        spec["retrySettings"] = retry
    return parse_store(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "SecretStore",
            "metadata": {"name": "retrying", "namespace": namespace},
            "spec": spec,
        }
    )


@pytest.fixture
def made() -> Iterator[list[Provider]]:
    providers: list[Provider] = []
    yield providers
    for provider in providers:
        provider.close()


# --- parsing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"maxRetries": 3, "retryInterval": "2s"},
         RetrySettings(max_retries=3, retry_interval=Duration(seconds=2))),
        ({"retryInterval": "1m30s"}, RetrySettings(retry_interval=Duration(seconds=90))),
        ({"maxRetries": 0}, RetrySettings(max_retries=0)),
        ({}, RetrySettings()),
    ],
)  # fmt: skip
def test_retry_settings_are_parsed(raw: dict[str, Any], expected: RetrySettings) -> None:
    store = _store("ns", VAULT, raw)
    assert store.spec.retry_settings == expected


def test_unset_retry_settings_are_none() -> None:
    assert _store("ns", VAULT, None).spec.retry_settings is None


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"retryInterval": "soon"}, "spec.retrySettings.retryInterval", "Go syntax"),
        ({"retryInterval": "5"}, "spec.retrySettings.retryInterval", "is not a duration"),
        ({"maxRetries": "3"}, "spec.retrySettings.maxRetries", "must be a int"),
        ({"maxRetries": True}, "spec.retrySettings.maxRetries", "must be a int"),
    ],
)
def test_bad_retry_settings_name_the_field(raw: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _store("ns", VAULT, raw)
    assert caught.value.field == field
    assert message in str(caught.value)


def test_vault_policy_follows_the_go_client() -> None:
    assert vault_retry(None) is None  # no retrySettings: no HTTP-level retries, as before
    unset = vault_retry(RetrySettings())
    assert unset is not None and unset.total == 0  # ESO: MaxRetries 0 when maxRetries is unset
    three = vault_retry(RetrySettings(max_retries=3, retry_interval=Duration(seconds=2)))
    assert three is not None
    assert (three.total, three.connect, three.read, three.status) == (3, 3, 3, 3)
    assert three.allowed_methods is None  # writes and logins too, as Vault's client does
    assert 503 in three.status_forcelist and 429 in three.status_forcelist
    assert 412 in three.status_forcelist and 501 not in three.status_forcelist
    negative = vault_retry(RetrySettings(max_retries=-2))
    assert negative is not None and negative.total == 0


def test_vault_backoff_is_linear_like_go_retryablehttp() -> None:
    assert [backoff_seconds(2.0, 2.0, n) for n in range(4)] == [0.0, 2.0, 4.0, 6.0]
    for n in (1, 2, 3):
        assert 1.0 * n <= backoff_seconds(1.0, 1.5, n) <= 1.5 * n  # Vault's default window
    assert backoff_seconds(-1.0, -1.0, 2) == 0.0  # a negative interval waits nothing, as Go


def test_aws_config_follows_eso() -> None:
    assert retry_config(None) == {"mode": "adaptive", "total_max_attempts": 3}
    assert retry_config(RetrySettings())["total_max_attempts"] == 3  # ESO's retryAmount default
    assert retry_config(RetrySettings(max_retries=5))["total_max_attempts"] == 5  # attempts
    assert retry_config(RetrySettings(max_retries=0))["total_max_attempts"] == 1
    assert fixed_delay(None) is None
    assert fixed_delay(RetrySettings(retry_interval=Duration(milliseconds=250))) == 0.25
    assert fixed_delay(RetrySettings(retry_interval=Duration(0))) is None  # SDK backoff kept


# --- Vault, against the test bed's OpenBao ------------------------------------------------------


@pytest.fixture
def vault_secret(testbed: stack.Testbed) -> str:
    key = unique("retry/")
    admin = hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)
    admin.secrets.kv.v2.create_or_update_secret(
        key, secret={"v": "after-retries"}, mount_point="secret"
    )
    return key


@pytest.fixture
def make_vault(
    testbed: stack.Testbed, kube_api: client.ApiClient, namespace: str, made: list[Provider]
) -> Build:
    body = client.V1Secret(
        metadata=client.V1ObjectMeta(name="vault-token"), string_data={"token": testbed.VAULT_TOKEN}
    )
    client.CoreV1Api(kube_api).create_namespaced_secret(namespace, body)

    def build(server: str, retry: dict[str, Any] | None) -> Provider:
        auth = {"tokenSecretRef": {"name": "vault-token", "key": "token"}}
        spec = {"server": server, "path": "secret", "version": "v2", "auth": auth}
        store = _store(namespace, {"vault": spec}, retry)
        provider = vault.factory(StoreContext(store, namespace, ClusterCredentials(kube_api)))
        made.append(provider)
        return provider

    return build


def _reads(proxy: FlakyProxy, key: str) -> int:
    return sum(
        1
        for _, method, path in proxy.arrivals
        if path == f"/v1/secret/data/{key}" and method == "GET"
    )


def test_vault_retries_up_to_max_retries(
    testbed: stack.Testbed, make_vault: Build, vault_secret: str
) -> None:
    with flaky_proxy(testbed.VAULT_ADDR, fail=3) as proxy:
        provider = make_vault(proxy.url, {"maxRetries": 3, "retryInterval": "20ms"})
        assert provider.get(RemoteRef(key=vault_secret, property="v")) == b"after-retries"
        assert _reads(proxy, vault_secret) == proxy.attempts == 4  # three 503s, then the answer


def test_vault_gives_up_after_max_retries(
    testbed: stack.Testbed, make_vault: Build, vault_secret: str
) -> None:
    with flaky_proxy(testbed.VAULT_ADDR, fail=3) as proxy:
        provider = make_vault(proxy.url, {"maxRetries": 2, "retryInterval": "20ms"})
        with pytest.raises(Unavailable) as caught:
            provider.get(RemoteRef(key=vault_secret, property="v"))
        assert "server error" in str(caught.value)
        assert proxy.attempts == 3  # the first attempt and two retries
        proxy.reset(fail=0)  # the server is back: the same provider reads again
        assert provider.get(RemoteRef(key=vault_secret, property="v")) == b"after-retries"


def test_vault_retries_dropped_connections(
    testbed: stack.Testbed, make_vault: Build, vault_secret: str
) -> None:
    with flaky_proxy(testbed.VAULT_ADDR, fail=2, drop=True) as proxy:
        provider = make_vault(proxy.url, {"maxRetries": 2, "retryInterval": "20ms"})
        assert provider.get(RemoteRef(key=vault_secret, property="v")) == b"after-retries"
        assert proxy.attempts == 3
        proxy.reset(fail=3)
        with pytest.raises(Unavailable) as caught:
            provider.get(RemoteRef(key=vault_secret, property="v"))
        assert "cannot reach the server" in str(caught.value)
        assert proxy.attempts == 3


def test_vault_waits_grow_linearly_with_retry_interval(
    testbed: stack.Testbed, make_vault: Build, vault_secret: str
) -> None:
    with flaky_proxy(testbed.VAULT_ADDR, fail=2) as proxy:
        provider = make_vault(proxy.url, {"maxRetries": 2, "retryInterval": "300ms"})
        assert provider.get(RemoteRef(key=vault_secret, property="v")) == b"after-retries"
        first, second = proxy.gaps()
        assert first >= 0.3 and second >= 0.6  # retryInterval x the retry's number


def test_vault_without_retry_settings_or_max_retries_does_not_retry(
    testbed: stack.Testbed, make_vault: Build, vault_secret: str
) -> None:
    for retry in (None, {"retryInterval": "20ms"}):  # ESO: maxRetries unset means 0
        with flaky_proxy(testbed.VAULT_ADDR, fail=1) as proxy:
            provider = make_vault(proxy.url, retry)
            with pytest.raises(Unavailable):
                provider.get(RemoteRef(key=vault_secret, property="v"))
            assert proxy.attempts == 1


# --- AWS, against the test bed's moto -----------------------------------------------------------


@pytest.fixture
def aws_secret(testbed: stack.Testbed) -> str:
    name = unique("app/retry-")
    seed_client(testbed, "secretsmanager").create_secret(
        Name=name, SecretString="aws-after-retries"
    )
    return name


@pytest.fixture
def make_aws(
    testbed: stack.Testbed,
    kube_api: client.ApiClient,
    namespace: str,
    made: list[Provider],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., tuple[Provider, Calls]]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    put_keys(kube_api, namespace, testbed.AWS_ACCESS_KEY_ID, testbed.AWS_SECRET_ACCESS_KEY)

    def build(proxy: FlakyProxy, retry: dict[str, Any] | None) -> tuple[Provider, Calls]:
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)  # read when the client is created
        aws = {
            "service": "SecretsManager",
            "region": testbed.AWS_DEFAULT_REGION,
            "auth": static_auth(),
        }
        calls = Calls()
        store = _store(namespace, {"aws": aws}, retry)
        ctx = StoreContext(store, namespace, ClusterCredentials(kube_api), calls)
        provider = aws_secretsmanager.factory(ctx)
        made.append(provider)
        return provider, calls

    return build


def test_aws_max_retries_is_the_attempt_limit(
    testbed: stack.Testbed, make_aws: Callable[..., tuple[Provider, Calls]], aws_secret: str
) -> None:
    with flaky_proxy(testbed.AWS_ENDPOINT_URL, fail=3) as proxy:
        provider, calls = make_aws(proxy, {"maxRetries": 4, "retryInterval": "20ms"})
        assert provider.get(RemoteRef(key=aws_secret)) == b"aws-after-retries"
        assert proxy.attempts == 4
        assert calls.counts[(aws_secretsmanager.PROVIDER, "GetSecretValue", True)] == 1
        proxy.reset(fail=3)
        provider, _ = make_aws(proxy, {"maxRetries": 3, "retryInterval": "20ms"})
        with pytest.raises(Unavailable):
            provider.get(RemoteRef(key=aws_secret))
        assert proxy.attempts == 3  # ESO passes maxRetries to AddWithMaxAttempts: attempts


def test_aws_retry_interval_is_a_fixed_delay(
    testbed: stack.Testbed, make_aws: Callable[..., tuple[Provider, Calls]], aws_secret: str
) -> None:
    with flaky_proxy(testbed.AWS_ENDPOINT_URL, fail=2, drop=True) as proxy:
        provider, _ = make_aws(proxy, {"maxRetries": 3, "retryInterval": "400ms"})
        assert provider.get(RemoteRef(key=aws_secret)) == b"aws-after-retries"
        assert proxy.attempts == 3
        # The SDK's own first backoffs are under 0.1 s for a 503 or a dropped connection.
        assert all(gap >= 0.4 for gap in proxy.gaps())


def test_aws_without_retry_settings_keeps_the_sdk_default(
    testbed: stack.Testbed, make_aws: Callable[..., tuple[Provider, Calls]], aws_secret: str
) -> None:
    with flaky_proxy(testbed.AWS_ENDPOINT_URL, fail=5) as proxy:
        provider, _ = make_aws(proxy, None)
        with pytest.raises(Unavailable):
            provider.get(RemoteRef(key=aws_secret))
        assert proxy.attempts == 3
