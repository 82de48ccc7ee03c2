"""AWS KMS master keys (the test bed's moto), both ways with the real sops 3.13: files either
side writes open on the other, alone or beside age keys, from flags or .sops.yaml."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from tests.sops.conftest import AgeKey, layout, plain_file, run_sops
from tests.sops.test_cli import PLAIN, cli
from tests.testbed import stack

SECRET = b"hunter22"


@pytest.fixture
def aws(testbed: stack.Testbed) -> dict[str, str]:
    """The environment sops and our CLI need to reach moto's KMS."""
    return {
        "AWS_ENDPOINT_URL": testbed.AWS_ENDPOINT_URL,
        "AWS_ACCESS_KEY_ID": testbed.AWS_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": testbed.AWS_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": testbed.AWS_DEFAULT_REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture
def kms_arn(aws: dict[str, str]) -> str:
    client = boto3.client(
        "kms",
        endpoint_url=aws["AWS_ENDPOINT_URL"],
        region_name=aws["AWS_DEFAULT_REGION"],
        aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
    )
    return str(client.create_key()["KeyMetadata"]["Arn"])


def test_we_decrypt_what_sops_encrypts_with_kms_and_write_its_layout(
    sops_bin: Path, kms_arn: str, aws: dict[str, str], tmp_path: Path
) -> None:
    args = ["encrypt", "--kms", kms_arn, str(plain_file(tmp_path, PLAIN))]
    theirs = run_sops(sops_bin, args, tmp_path, **aws)
    (tmp_path / "theirs.yaml").write_bytes(theirs.stdout)
    ours = cli(["decrypt", str(tmp_path / "theirs.yaml")], tmp_path, **aws)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == PLAIN

    written = cli(["encrypt", "--kms", kms_arn, str(plain_file(tmp_path, PLAIN))], tmp_path, **aws)
    assert written.returncode == 0, written.stderr
    assert layout(written.stdout) == layout(theirs.stdout)
    (tmp_path / "ours.yaml").write_bytes(written.stdout)
    back = run_sops(sops_bin, ["decrypt", str(tmp_path / "ours.yaml")], tmp_path, **aws)
    assert back.stdout == PLAIN


def test_a_group_of_kms_and_age_opens_with_either(
    sops_bin: Path, kms_arn: str, age_key: AgeKey, aws: dict[str, str], tmp_path: Path
) -> None:
    args = [
        "encrypt",
        "--kms",
        kms_arn,
        "--age",
        age_key.recipient,
        str(plain_file(tmp_path, PLAIN)),
    ]
    written = cli(args, tmp_path, **aws)
    assert written.returncode == 0, written.stderr
    path = tmp_path / "enc.yaml"
    path.write_bytes(written.stdout)
    no_aws = {"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": aws["AWS_ENDPOINT_URL"]}
    by_age = cli(["decrypt", str(path)], tmp_path, SOPS_AGE_KEY_FILE=str(age_key.path), **no_aws)
    assert by_age.stdout == PLAIN, by_age.stderr
    assert cli(["decrypt", str(path)], tmp_path, **aws).stdout == PLAIN
    sops_by_age = ["decrypt", str(path)]
    assert run_sops(sops_bin, sops_by_age, tmp_path, SOPS_AGE_KEY_FILE=str(age_key.path)).stdout
    assert run_sops(sops_bin, ["decrypt", str(path)], tmp_path, **aws).stdout == PLAIN


def test_sops_yaml_key_groups_with_kms_and_a_shamir_threshold(
    sops_bin: Path, kms_arn: str, age_key: AgeKey, aws: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / ".sops.yaml").write_text(
        "creation_rules:\n"
        "  - shamir_threshold: 2\n"
        "    key_groups:\n"
        f"      - kms:\n          - arn: {kms_arn}\n"
        f"      - age:\n          - {age_key.recipient}\n"
    )
    written = cli(["encrypt", "-i", str(plain_file(tmp_path, PLAIN))], tmp_path, **aws)
    assert written.returncode == 0, written.stderr
    path = tmp_path / "secret.yaml"
    assert b"key_groups" in path.read_bytes() and b"kms" in path.read_bytes()
    both = {**aws, "SOPS_AGE_KEY_FILE": str(age_key.path)}
    assert run_sops(sops_bin, ["decrypt", str(path)], tmp_path, **both).stdout == PLAIN
    only_age = cli(["decrypt", str(path)], tmp_path, SOPS_AGE_KEY_FILE=str(age_key.path))
    assert only_age.returncode == 128, "one share of two is not enough"


def test_rotate_keeps_the_kms_key_and_can_remove_it(
    sops_bin: Path, kms_arn: str, age_key: AgeKey, aws: dict[str, str], tmp_path: Path
) -> None:
    path = plain_file(tmp_path, PLAIN)
    args = ["encrypt", "-i", "--kms", kms_arn, "--age", age_key.recipient, str(path)]
    assert cli(args, tmp_path, **aws).returncode == 0
    before = path.read_bytes()
    assert cli(["rotate", "-i", str(path)], tmp_path, **aws).returncode == 0
    assert path.read_bytes() != before and kms_arn.encode() in path.read_bytes()
    assert run_sops(sops_bin, ["decrypt", str(path)], tmp_path, **aws).stdout == PLAIN
    removed = cli(["rotate", "-i", "--rm-kms", kms_arn, str(path)], tmp_path, **aws)
    assert removed.returncode == 0, removed.stderr
    assert kms_arn.encode() not in path.read_bytes()
    assert cli(["decrypt", str(path)], tmp_path, **aws).returncode == 128


def test_kms_failures_are_clear_and_name_the_key(
    kms_arn: str, aws: dict[str, str], tmp_path: Path
) -> None:
    path = plain_file(tmp_path, PLAIN)
    assert cli(["encrypt", "-i", "--kms", kms_arn, str(path)], tmp_path, **aws).returncode == 0
    no_creds = {"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": aws["AWS_ENDPOINT_URL"]}
    result = cli(["decrypt", str(path)], tmp_path, **no_creds)
    assert result.returncode == 128
    assert kms_arn.encode() in result.stderr and b"no AWS credentials" in result.stderr
    assert SECRET not in result.stderr and b"Traceback" not in result.stderr

    other = kms_arn.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    wrong = cli(["encrypt", "--kms", other, str(plain_file(tmp_path, PLAIN))], tmp_path, **aws)
    assert wrong.returncode == 1 and other.encode() in wrong.stderr, wrong.stderr
    bad = cli(
        ["encrypt", "--kms", "arn:aws:kms:nowhere", str(plain_file(tmp_path, PLAIN))],
        tmp_path,
        **aws,
    )
    assert bad.returncode == 1 and b"is not a KMS key ARN" in bad.stderr

    (tmp_path / ".sops.yaml").write_text(
        "creation_rules:\n  - key_groups:\n"
        f"      - kms:\n          - arn: {kms_arn}\n            context: {{app: x}}\n"
    )
    context = cli(["encrypt", str(plain_file(tmp_path, PLAIN))], tmp_path, **aws)
    assert context.returncode == 1 and b"encryption contexts are not supported" in context.stderr
