"""PushSecret writes to AWS Secrets Manager and SSM Parameter Store against the test bed's real
moto server (providers/aws_sm_push.py, aws_ssm_push.py): ESO's managed-by tag written with the
value, a secret or parameter without it refused and never deleted, property merges, metadata
(format, type, tags) applied, the store's deletion options honoured, and a credential that
cannot be read is an error rather than an absent value. Values never reach an error message."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from kubernetes import client

from secretsync.errors import ConfigError, NotFound, Unsupported
from secretsync.providers import aws_parameterstore, aws_secretsmanager
from secretsync.providers.base import ForeignValue, PushRef, Writer
from tests.providers.aws_fixtures import (
    Calls,
    context,
    put_keys,
    seed_client,
    static_auth,
    store,
    unique,
)
from tests.testbed import stack

VALUE = b"pushed-Aws-Pw-8rT1"
OTHER = b"pushed-Aws-Pw-2nd-5kL0"
MANAGED = {"Key": "managed-by", "Value": "external-secrets"}
MakeWriter = Callable[..., Writer]


def _meta(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kubernetes.external-secrets.io/v1alpha1",
        "kind": "PushSecretMetadata",
        "spec": spec,
    }


@pytest.fixture
def make(
    testbed: stack.Testbed,
    kube_api: client.ApiClient,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> MakeWriter:
    monkeypatch.setenv("AWS_ENDPOINT_URL", testbed.AWS_ENDPOINT_URL)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    put_keys(kube_api, namespace, testbed.AWS_ACCESS_KEY_ID, testbed.AWS_SECRET_ACCESS_KEY)

    def build(service: str, auth: Any = None, **extra: Any) -> Writer:
        spec = store(namespace, service, testbed.AWS_DEFAULT_REGION, auth or static_auth(), **extra)
        module = aws_secretsmanager if service == "SecretsManager" else aws_parameterstore
        provider = module.factory(context(kube_api, namespace, spec, Calls()))
        assert isinstance(provider, Writer)
        return provider

    return build


@pytest.fixture
def sm(testbed: stack.Testbed) -> Any:
    return seed_client(testbed, "secretsmanager")


@pytest.fixture
def ssm(testbed: stack.Testbed) -> Any:
    return seed_client(testbed, "ssm")


# --- Secrets Manager -------------------------------------------------------------------------


def test_sm_creates_with_the_tag_skips_an_unchanged_value_and_puts_a_new_version(
    make: MakeWriter, sm: Any
) -> None:
    writer, name = make("SecretsManager"), unique("push/sm-")
    ref = PushRef(name)
    assert writer.remote(ref).found is False

    assert writer.set(ref, VALUE) is True
    described = sm.describe_secret(SecretId=name)
    assert MANAGED in described["Tags"]
    assert described["Description"] == "secret 'managed-by:external-secrets'"
    assert sm.get_secret_value(SecretId=name)["SecretBinary"] == VALUE  # ESO's default format
    assert writer.set(ref, VALUE) is False
    assert len(sm.describe_secret(SecretId=name)["VersionIdsToStages"]) == 1

    assert writer.set(ref, OTHER) is True
    assert sm.get_secret_value(SecretId=name)["SecretBinary"] == OTHER
    state = writer.remote(ref)
    assert (state.found, state.managed, state.has_value) == (True, True, True)


def test_sm_properties_merge_format_string_and_tags_from_metadata(
    make: MakeWriter, sm: Any
) -> None:
    writer, name = make("SecretsManager"), unique("push/sm-prop-")
    meta = _meta(secretPushFormat="string", tags={"team": "payments"})
    writer.set(PushRef(name, "user", meta), b"app")
    writer.set(PushRef(name, "password", meta), VALUE)

    stored = sm.get_secret_value(SecretId=name)["SecretString"]
    assert json.loads(stored) == {"user": "app", "password": VALUE.decode()}
    assert writer.remote(PushRef(name, "password")).has_value
    assert not writer.remote(PushRef(name, "other")).has_value
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=name)["Tags"]}
    assert tags == {"team": "payments", "managed-by": "external-secrets"}

    writer.set(
        PushRef(name, "password", _meta(secretPushFormat="string", tags={"team": "x"})), VALUE
    )
    tags = {t["Key"]: t["Value"] for t in sm.describe_secret(SecretId=name)["Tags"]}
    assert tags == {"team": "x", "managed-by": "external-secrets"}

    assert writer.delete(PushRef(name, "user", meta)) is True
    assert json.loads(sm.get_secret_value(SecretId=name)["SecretString"]) == {
        "password": VALUE.decode()
    }


def test_sm_refuses_a_secret_without_the_tag_and_never_deletes_it(
    make: MakeWriter, sm: Any
) -> None:
    writer, name = make("SecretsManager"), unique("push/sm-theirs-")
    sm.create_secret(Name=name, SecretString="theirs")

    state = writer.remote(PushRef(name))
    assert (state.found, state.managed) == (True, False)
    with pytest.raises(ForeignValue) as refused:
        writer.set(PushRef(name), VALUE)
    assert name in str(refused.value) and VALUE.decode() not in str(refused.value)
    assert writer.delete(PushRef(name)) is False
    assert sm.get_secret_value(SecretId=name)["SecretString"] == "theirs"


def test_sm_deletion_follows_the_store_options_and_a_scheduled_secret_is_restored(
    make: MakeWriter, sm: Any
) -> None:
    forced = make("SecretsManager", secretsManager={"forceDeleteWithoutRecovery": True})
    name = unique("push/sm-gone-")
    forced.set(PushRef(name), VALUE)
    assert forced.delete(PushRef(name)) is True
    with pytest.raises(ClientError):
        sm.describe_secret(SecretId=name)
    assert forced.delete(PushRef(name)) is False

    windowed = make("SecretsManager", secretsManager={"recoveryWindowInDays": 7})
    name = unique("push/sm-window-")
    windowed.set(PushRef(name), VALUE)
    assert windowed.delete(PushRef(name)) is True
    assert sm.describe_secret(SecretId=name).get("DeletedDate")
    assert windowed.remote(PushRef(name)).has_value is False
    assert windowed.set(PushRef(name), OTHER) is True  # pushed again within the window
    assert not sm.describe_secret(SecretId=name).get("DeletedDate")
    assert sm.get_secret_value(SecretId=name)["SecretBinary"] == OTHER


def test_sm_metadata_esos_fields_we_do_not_apply_are_refused_by_name(make: MakeWriter) -> None:
    writer, name = make("SecretsManager"), unique("push/sm-meta-")
    with pytest.raises(Unsupported) as policy:
        writer.set(PushRef(name, None, _meta(resourcePolicy={"blockPublicPolicy": True})), VALUE)
    assert "metadata.spec.resourcePolicy" in str(policy.value)
    with pytest.raises(ConfigError) as reserved:
        writer.set(PushRef(name, None, _meta(tags={"managed-by": "me"})), VALUE)
    assert "managed-by" in str(reserved.value)
    with pytest.raises(ConfigError) as typo:
        writer.set(PushRef(name, None, _meta(secretPushFormt="string")), VALUE)
    assert "secretPushFormt" in str(typo.value)
    assert writer.remote(PushRef(name)).found is False


# --- Parameter Store ---------------------------------------------------------------------------


def test_ssm_creates_a_tagged_string_and_overwrites_on_change(make: MakeWriter, ssm: Any) -> None:
    writer, name = make("ParameterStore"), "/" + unique("push/ssm-")
    ref = PushRef(name)
    assert writer.remote(ref).found is False

    assert writer.set(ref, VALUE) is True
    parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert (parameter["Type"], parameter["Value"], parameter["Version"]) == (
        "String",
        VALUE.decode(),
        1,
    )
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert MANAGED in tags
    assert writer.set(ref, VALUE) is False
    assert writer.set(ref, OTHER) is True
    parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert (parameter["Value"], parameter["Version"]) == (OTHER.decode(), 2)
    assert (
        MANAGED in ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    )

    assert writer.delete(ref) is True
    assert writer.remote(ref).found is False
    assert writer.delete(ref) is False


def test_ssm_secure_string_and_property_merge(make: MakeWriter, ssm: Any) -> None:
    writer, name = make("ParameterStore"), "/" + unique("push/ssm-prop-")
    meta = _meta(secretType="SecureString", tags={"team": "db"})
    writer.set(PushRef(name, "user", meta), b"app")
    writer.set(PushRef(name, "password", meta), VALUE)

    parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert parameter["Type"] == "SecureString"
    assert json.loads(parameter["Value"]) == {"user": "app", "password": VALUE.decode()}
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {"team": "db", "managed-by": "external-secrets"}
    assert writer.delete(PushRef(name, "user", meta)) is True
    value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    assert json.loads(value) == {"password": VALUE.decode()}


def test_ssm_refuses_a_parameter_without_the_tag_and_never_deletes_it(
    make: MakeWriter, ssm: Any
) -> None:
    writer, name = make("ParameterStore"), "/" + unique("push/ssm-theirs-")
    ssm.put_parameter(Name=name, Value="theirs", Type="String")
    with pytest.raises(ForeignValue) as refused:
        writer.set(PushRef(name), VALUE)
    assert name in str(refused.value) and VALUE.decode() not in str(refused.value)
    assert writer.delete(PushRef(name)) is False
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == "theirs"


@pytest.mark.parametrize("service", ["SecretsManager", "ParameterStore"])
def test_a_credential_that_cannot_be_read_is_an_error_not_an_absent_value(
    make: MakeWriter, service: str
) -> None:
    name = "/" + unique("push/orphan-")
    make(service).set(PushRef(name), VALUE)
    lost = make(service, auth=static_auth("no-such-keys"))
    with pytest.raises(NotFound) as failed:
        lost.delete(PushRef(name))
    assert "no-such-keys" in str(failed.value)
    with pytest.raises(NotFound):
        lost.remote(PushRef(name))
    assert make(service).remote(PushRef(name)).has_value
