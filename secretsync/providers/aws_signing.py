"""A signed sts:GetCallerIdentity request: the proof of identity that Vault's and OpenBao's aws
auth method (type iam) checks, for a Vault store's `auth.iam` (eso.md §2.1).

The login never calls STS from here: the request is signed and handed to the Vault server, which
sends it to its own configured STS endpoint and trusts the identity STS answers with. What is
signed follows Vault's Go client (api/auth/aws, as ESO uses it): POST of the form body
`Action=GetCallerIdentity&Version=2011-06-15` to the STS endpoint aws-sdk-go v1 picks for the
region (see sts_url), SigV4 for the store's region, with the `X-Vault-AWS-IAM-Server-ID` header
signed in when the store sets `vaultAwsIamServerID` (the server may require it, against replay
to another Vault).

The AWS identity comes from the same credential chain an AWS store builds (aws_session.py):
static keys from Secrets, web identity from a ServiceAccount token, or the SDK's default chain,
then `role` assumed with `externalID`. botocore is imported only here and in the other aws_*
modules; the Vault side only sees the finished request.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from secretsync.api.aws import AWSAuth, AWSProvider, AWSService
from secretsync.api.vault import VaultIamAuth
from secretsync.errors import ConfigError
from secretsync.providers.aws_errors import Caller, mapped
from secretsync.providers.aws_session import AwsSession
from secretsync.providers.base import StoreContext

BODY = "Action=GetCallerIdentity&Version=2011-06-15"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"
SERVER_ID_HEADER = "X-Vault-AWS-IAM-Server-ID"
GLOBAL_STS_URL = "https://sts.amazonaws.com/"
# aws-sdk-go v1's "legacy" STS regions, served by the global endpoint unless told otherwise.
LEGACY_GLOBAL_REGIONS = frozenset(
    {
        "ap-northeast-1",
        "ap-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ca-central-1",
        "eu-central-1",
        "eu-north-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "sa-east-1",
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
    }
)
# The telemetry name of the STS calls made for a Vault login (AssumeRole, web identity).
PROVIDER = "HashiCorp/Vault"


@dataclasses.dataclass(frozen=True)
class SignedRequest:
    method: str
    url: str
    headers: Mapping[str, tuple[str, ...]] = dataclasses.field(repr=False)
    """As Go's http.Header: name -> values (the form Vault parses)."""

    body: str


def sts_url(region: str, regional_setting: str | None = None) -> str:
    """The URL Vault's Go client signs (ESO's): aws-sdk-go v1's legacy STS endpoints, i.e. the
    global sts.amazonaws.com for the regions that had it, the regional endpoint elsewhere or
    when AWS_STS_REGIONAL_ENDPOINTS=regional. The signature's region is the store's either way;
    the Vault server decides where the request really goes (its sts_endpoint)."""
    if regional_setting != "regional" and region in LEGACY_GLOBAL_REGIONS:
        return GLOBAL_STS_URL
    return f"https://sts.{region}.amazonaws.com/"


def sign_caller_identity(
    credentials: Credentials, region: str, server_id: str | None
) -> SignedRequest:
    # The Go SDK's setting, read as it reads it; botocore's own default differs (regional).
    url = sts_url(region, os.environ.get("AWS_STS_REGIONAL_ENDPOINTS"))
    headers = {"Content-Type": CONTENT_TYPE}
    if server_id:
        headers[SERVER_ID_HEADER] = server_id
    request = AWSRequest(method="POST", url=url, data=BODY, headers=headers)
    SigV4Auth(credentials.get_frozen_credentials(), "sts", region).add_auth(request)
    signed = {name: (str(value),) for name, value in request.headers.items()}
    return SignedRequest("POST", url, signed, BODY)


def _as_aws_store(method: VaultIamAuth) -> AWSProvider:
    """The credential chain of `auth.iam`, in the shape an AWS store declares it."""
    return AWSProvider(
        service=AWSService.SECRETS_MANAGER,  # unused: only the credentials are built
        region=method.region,
        role=method.role,
        external_id=method.external_id,
        auth=AWSAuth(secret_ref=method.secret_ref, jwt=method.jwt),
    )


def caller_identity_request(ctx: StoreContext, method: VaultIamAuth) -> SignedRequest:
    """Build the chain (AssumeRole and web identity calls happen here) and sign the request."""
    session = AwsSession(ctx, _as_aws_store(method), Caller(PROVIDER, ctx.telemetry))
    with mapped(f"{PROVIDER} iam login"):
        credentials = session.credentials()  # STS calls are counted by the session's Caller
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
    if frozen is None or not frozen.access_key or not frozen.secret_key:
        raise ConfigError(
            "no AWS credentials for the iam login: set secretRef or jwt, or give the operator "
            "an AWS identity (IRSA, EKS Pod Identity or environment keys)",
            field="spec.provider.vault.auth.iam",
        )
    return sign_caller_identity(
        Credentials(frozen.access_key, frozen.secret_key, frozen.token),
        method.region,
        method.vault_aws_iam_server_id,
    )
