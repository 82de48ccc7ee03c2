"""AWS credentials and clients for one provider instance.

The credential chain is built the way ESO builds it: a base identity
(static keys from Secrets, web identity from a ServiceAccount token, or the SDK's default chain),
then `additionalRoles` assumed in order, then `role` with ExternalId and session tags. Unlike ESO,
which calls STS on every reconcile, each assumed identity is a botocore refreshable credential
that lives as long as the provider instance and is renewed shortly before it expires.

Endpoints are not configured here on purpose: botocore (>= 1.31) reads AWS_ENDPOINT_URL and the
per-service AWS_ENDPOINT_URL_SECRETS_MANAGER / _SSM / _STS itself when a client is created, which
is what users of ESO-compatible stores expect (ESO's store has no endpoint field).
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    Credentials,
    DeferredRefreshableCredentials,
)

from secretsync.api.aws import AWSJwtAuth, AWSProvider, AWSSecretRef, AWSService, SessionTagsPolicy
from secretsync.errors import ConfigError
from secretsync.providers.aws_errors import Caller
from secretsync.providers.aws_retry import configure as configure_retries
from secretsync.providers.aws_retry import retry_config
from secretsync.providers.base import StoreContext

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_sts import STSClient

ROLE_ARN_ANNOTATION = "eks.amazonaws.com/role-arn"
AUDIENCE_ANNOTATION = "eks.amazonaws.com/audience"
DEFAULT_AUDIENCE = "sts.amazonaws.com"
# A token is only shown to STS once per refresh, so the shortest lifetime TokenRequest allows.
TOKEN_SECONDS = 600
# Adaptive mode adds client-side rate limiting on top of standard retries: after a throttle it
# slows the whole client down instead of letting every reconcile hammer the API. The attempt
# limit and delay follow the store's retrySettings (aws_retry.py); by default 3 attempts, as ESO.
RETRY_CONFIG = retry_config(None)


@dataclasses.dataclass(frozen=True)
class AssumeStep:
    role_arn: str
    external_id: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    transitive_tag_keys: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class StoreIdentity:
    """What sessionTagsPolicy Simple/Custom tag a session with."""

    namespace: str
    """The ExternalSecret's namespace (a ClusterSecretStore serves many)."""

    store_name: str
    store_kind: str


def session_tags(provider: AWSProvider, who: StoreIdentity) -> tuple[tuple[str, str], ...]:
    """ESO's buildSessionTags: under Simple or Custom the store's sessionTags are replaced by
    the three identity tags (plus customSessionTags under Custom; empty keys or values are
    dropped). Sorted by key, so one store always sends the same tags in the same order."""
    if provider.session_tags_policy is SessionTagsPolicy.NONE:
        return tuple((tag.key, tag.value) for tag in provider.session_tags)
    tags: dict[str, str] = {}
    if provider.session_tags_policy is SessionTagsPolicy.CUSTOM:
        tags.update({k: v for k, v in provider.custom_session_tags.items() if k and v})
    tags.update(
        esoNamespace=who.namespace, esoStoreName=who.store_name, esoStoreKind=who.store_kind
    )
    return tuple(sorted(tags.items()))


def assume_steps(provider: AWSProvider, who: StoreIdentity) -> list[AssumeStep]:
    """additionalRoles in order, then role; ExternalId and session tags belong to role only."""
    steps = [AssumeStep(arn) for arn in provider.additional_roles]
    if provider.role:
        tags = session_tags(provider, who)
        steps.append(
            AssumeStep(provider.role, provider.external_id, tags, provider.transitive_tag_keys)
        )
    return steps


def assume_role_params(step: AssumeStep, session_name: str) -> dict[str, Any]:
    params: dict[str, Any] = {"RoleArn": step.role_arn, "RoleSessionName": session_name}
    if step.external_id:
        params["ExternalId"] = step.external_id
    if step.tags:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in step.tags]
    if step.transitive_tag_keys:
        params["TransitiveTagKeys"] = list(step.transitive_tag_keys)
    return params


def session_name(store_name: str) -> str:
    """STS session names allow [\\w+=,.@-] and at most 64 characters."""
    return re.sub(r"[^\w+=,.@-]", "-", f"secretsync-{store_name}")[:64]


def web_identity_audiences(
    annotations: Mapping[str, str], extra: tuple[str, ...]
) -> tuple[str, ...]:
    """IRSA: the SA's audience annotation (default sts.amazonaws.com), then the selector's."""
    return (annotations.get(AUDIENCE_ANNOTATION) or DEFAULT_AUDIENCE, *extra)


def store_provider(ctx: StoreContext, service: AWSService) -> AWSProvider:
    """The store's aws block, checked to be for `service` (stores are a tagged union)."""
    provider = ctx.store.spec.provider
    if not isinstance(provider, AWSProvider):
        raise ConfigError("the store has no aws provider", field="spec.provider")
    if provider.service is not service:
        raise ConfigError(f"expected service {service.value}", field="spec.provider.aws.service")
    return provider


def _metadata(response: Mapping[str, Any]) -> dict[str, str]:
    creds = response["Credentials"]
    return {
        "access_key": creds["AccessKeyId"],
        "secret_key": creds["SecretAccessKey"],
        "token": creds["SessionToken"],
        "expiry_time": creds["Expiration"].isoformat(),
    }


class _Fixed(CredentialProvider):
    """Hands a botocore session the credentials we built (the public way to install them)."""

    METHOD = "secretsync"

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    def load(self) -> Credentials:
        return self._credentials


class AwsSession:
    """One credential chain and one client per service, built lazily and reused."""

    def __init__(self, ctx: StoreContext, provider: AWSProvider, call: Caller) -> None:
        self._ctx = ctx
        self._provider = provider
        self._call = call
        self._config = Config(
            region_name=provider.region,
            retries=retry_config(ctx.store.spec.retry_settings),  # type: ignore[arg-type]
            connect_timeout=5,
            read_timeout=30,
            user_agent_extra="secretsync",
        )
        self._retry_settings = ctx.store.spec.retry_settings
        self._session_name = session_name(ctx.store.metadata.name)
        self._lock = threading.Lock()
        self._boto: boto3.session.Session | None = None
        self._clients: dict[str, Any] = {}

    def validate(self) -> None:
        """STS GetCallerIdentity with the store's credentials: needs no permission at all, so
        it tests the credential chain (keys, role assumptions, web identity) and nothing else."""
        credentials = self.credentials()
        sts = self._sts(credentials)
        self._call("GetCallerIdentity", self._session_name, sts.get_caller_identity)

    def secrets_manager(self) -> SecretsManagerClient:
        client: SecretsManagerClient = self._client("secretsmanager")
        return client

    def ssm(self) -> SSMClient:
        client: SSMClient = self._client("ssm")
        return client

    def ecr(self, public: bool = False) -> Any:
        """An ECR (or ECR Public) client, for the ECRAuthorizationToken generator."""
        return self._client("ecr-public" if public else "ecr")

    def credentials(self) -> Credentials | None:
        return self._session().get_credentials()

    def log_in(self) -> None:
        """Resolve the credentials now (a deferred role or web identity too), so that a
        credential Secret or ServiceAccount that is gone raises here, not inside a read whose
        NotFound a PushSecret would take for an absent remote value."""
        credentials = self.credentials()
        if credentials is not None:
            credentials.get_frozen_credentials()

    def _client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                boto = self._session_locked()
                client = boto.client(service, config=self._config)  # type: ignore[call-overload]
                self._clients[service] = configure_retries(client, self._retry_settings)
            return self._clients[service]

    def _session(self) -> boto3.session.Session:
        with self._lock:
            return self._session_locked()

    def _session_locked(self) -> boto3.session.Session:
        if self._boto is None:
            credentials = self._base_credentials()
            who = StoreIdentity(
                self._ctx.namespace, self._ctx.store.metadata.name, self._ctx.store.kind
            )
            for step in assume_steps(self._provider, who):
                credentials = self._assumed(credentials, step)
            self._boto = _session_with(credentials)
        return self._boto

    def _base_credentials(self) -> Credentials | None:
        auth = self._provider.auth
        if auth is not None and auth.secret_ref is not None:
            return self._static(auth.secret_ref)
        if auth is not None and auth.jwt is not None:
            return self._web_identity(auth.jwt)
        return None  # botocore's default chain: env, shared config, container/IMDS roles

    def _static(self, ref: AWSSecretRef) -> Credentials:
        key_id = self._ctx.secret_value(ref.access_key_id_secret_ref).decode().strip()
        secret = self._ctx.secret_value(ref.secret_access_key_secret_ref).decode().strip()
        token = None
        if ref.session_token_secret_ref is not None:
            token = self._ctx.secret_value(ref.session_token_secret_ref).decode().strip()
        return Credentials(key_id, secret, token, method="secretsync-secret-ref")

    def _web_identity(self, jwt: AWSJwtAuth) -> Credentials:
        account = jwt.service_account_ref
        namespace = self._ctx.ref_namespace(account.namespace)
        annotations = self._ctx.credentials.service_account_annotations(namespace, account.name)
        role_arn = annotations.get(ROLE_ARN_ANNOTATION)
        if not role_arn:
            raise ConfigError(
                f"serviceaccount {namespace}/{account.name} has no {ROLE_ARN_ANNOTATION} annotation"
            )
        audiences = web_identity_audiences(annotations, account.audiences)
        sts = self._sts(None, unsigned=True)

        def refresh() -> dict[str, str]:
            token = self._ctx.credentials.service_account_token(
                namespace, account.name, audiences, TOKEN_SECONDS
            )
            response = self._call(
                "AssumeRoleWithWebIdentity",
                role_arn,
                lambda: sts.assume_role_with_web_identity(
                    RoleArn=role_arn, RoleSessionName=self._session_name, WebIdentityToken=token
                ),
            )
            return _metadata(response)

        return DeferredRefreshableCredentials(refresh, "secretsync-web-identity")

    def _assumed(self, previous: Credentials | None, step: AssumeStep) -> Credentials:
        sts = self._sts(previous)
        params = assume_role_params(step, self._session_name)

        def refresh() -> dict[str, str]:
            response = self._call("AssumeRole", step.role_arn, lambda: sts.assume_role(**params))
            return _metadata(response)

        return DeferredRefreshableCredentials(refresh, "secretsync-assume-role")

    def _sts(self, credentials: Credentials | None, unsigned: bool = False) -> STSClient:
        if unsigned:
            # AssumeRoleWithWebIdentity is an unsigned call: the token is the credential.
            config = self._config.merge(Config(signature_version=UNSIGNED))
            sts = _session_with(None).client("sts", config=config)
        else:
            sts = _session_with(credentials).client("sts", config=self._config)
        return configure_retries(sts, self._retry_settings)  # type: ignore[no-any-return]


def _session_with(credentials: Credentials | None) -> boto3.session.Session:
    """A private botocore session (never the module-global one), holding `credentials` if set."""
    core = botocore.session.Session()
    if credentials is not None:
        core.register_component("credential_provider", CredentialResolver([_Fixed(credentials)]))
    return boto3.session.Session(botocore_session=core)
