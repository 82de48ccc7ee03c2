"""AWS store `secretsManager` options (eso.md §3.1): accepted and validated as ESO validates
them. They are options of DeleteSecret, so they take effect only when PushSecret deletes a
secret (deletionPolicy Delete); reads ignore them."""

from __future__ import annotations

from typing import Any

import pytest

from secretsync.api.aws import AWSProvider, AWSSecretsManagerOptions
from secretsync.api.objects import parse_store
from secretsync.errors import ConfigError


def _aws(**fields: Any) -> AWSProvider:
    store = parse_store(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "SecretStore",
            "metadata": {"name": "a", "namespace": "n"},
            "spec": {
                "provider": {"aws": {"service": "SecretsManager", "region": "eu-west-1", **fields}}
            },
        }
    )
    provider = store.spec.provider
    assert isinstance(provider, AWSProvider)
    return provider


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, AWSSecretsManagerOptions()),
        (
            {"forceDeleteWithoutRecovery": True},
            AWSSecretsManagerOptions(force_delete_without_recovery=True),
        ),
        ({"recoveryWindowInDays": 7}, AWSSecretsManagerOptions(recovery_window_in_days=7)),
        ({"recoveryWindowInDays": 30}, AWSSecretsManagerOptions(recovery_window_in_days=30)),
        # 0 is Go's zero value: "not set", so AWS's default window applies, even with force.
        (
            {"recoveryWindowInDays": 0, "forceDeleteWithoutRecovery": True},
            AWSSecretsManagerOptions(force_delete_without_recovery=True),
        ),
    ],
)
def test_accepted_options(options: dict[str, Any], expected: AWSSecretsManagerOptions) -> None:
    assert _aws(secretsManager=options).secrets_manager == expected


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"recoveryWindowInDays": 6}, "recoveryWindowInDays", "between 7 and 30"),
        ({"recoveryWindowInDays": 31}, "recoveryWindowInDays", "between 7 and 30"),
        ({"recoveryWindowInDays": -1}, "recoveryWindowInDays", "between 7 and 30"),
        (
            {"recoveryWindowInDays": 10, "forceDeleteWithoutRecovery": True},
            "",
            "not both",
        ),
        ({"recoveryWindowInDays": "7"}, "recoveryWindowInDays", "must be"),
    ],
)
def test_refused_options_name_the_field(options: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        _aws(secretsManager=options)
    path = "spec.provider.aws.secretsManager" + (f".{field}" if field else "")
    assert refused.value.field == path


def test_unset_means_no_options() -> None:
    assert _aws().secrets_manager is None
