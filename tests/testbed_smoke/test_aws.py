"""moto serves Secrets Manager and SSM over real HTTP; boto3 reaches it through endpoint_url."""

from __future__ import annotations

import uuid

import boto3
import pytest

from tests.testbed import stack


def _client(testbed: stack.Testbed, service: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        service,
        endpoint_url=testbed.AWS_ENDPOINT_URL,
        region_name=testbed.AWS_DEFAULT_REGION,
        aws_access_key_id=testbed.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=testbed.AWS_SECRET_ACCESS_KEY,
    )


def test_secrets_manager_put_and_get(testbed: stack.Testbed) -> None:
    sm = _client(testbed, "secretsmanager")
    name = f"smoke/{uuid.uuid4().hex}"
    sm.create_secret(Name=name, SecretString='{"user":"admin"}')
    sm.put_secret_value(SecretId=name, SecretString='{"user":"root"}')
    value = sm.get_secret_value(SecretId=name)
    assert value["SecretString"] == '{"user":"root"}'
    assert "AWSCURRENT" in value["VersionStages"]
    previous = sm.get_secret_value(SecretId=name, VersionStage="AWSPREVIOUS")
    assert previous["SecretString"] == '{"user":"admin"}'


def test_ssm_parameter_put_and_get(testbed: stack.Testbed) -> None:
    ssm = _client(testbed, "ssm")
    name = f"/smoke/{uuid.uuid4().hex}"
    ssm.put_parameter(Name=name, Value="v1", Type="SecureString")
    ssm.put_parameter(Name=name, Value="v2", Type="SecureString", Overwrite=True)
    parameter = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert (parameter["Value"], parameter["Version"]) == ("v2", 2)
    assert ssm.get_parameter(Name=f"{name}:1", WithDecryption=True)["Parameter"]["Value"] == "v1"


def test_a_missing_secret_is_a_real_service_error(testbed: stack.Testbed) -> None:
    sm = _client(testbed, "secretsmanager")
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        sm.get_secret_value(SecretId=f"absent/{uuid.uuid4().hex}")
