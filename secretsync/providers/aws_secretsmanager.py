"""AWS Secrets Manager as a store provider (ESO's `aws` provider with service SecretsManager).

Reads follow ESO's. Where ESO makes one GetSecretValue per key, we batch:
`get_many` serves every current-stage key that is due at once with BatchGetSecretValue (20 ids per
call), and `find` lists names (ListSecrets) and then fetches the matches the same way. Within one
call of get/get_map/get_many/find each (secret, version) is read once, like ESO's per-reconcile
cache (#114); nothing is cached across calls, so a refresh never serves stale data (#3312).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from secretsync.api.aws import AWSProvider, AWSService
from secretsync.api.sources import Find, MetadataPolicy, RemoteRef
from secretsync.errors import NotFound, SecretSyncError
from secretsync.providers import aws_values as values
from secretsync.providers.aws_errors import Caller, error_type, sanitize
from secretsync.providers.aws_session import AwsSession, store_provider
from secretsync.providers.aws_sm_push import SecretsManagerPush
from secretsync.providers.aws_values import RemoteValue
from secretsync.providers.base import Provider, PushRef, RemoteState, StoreContext

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

PROVIDER = "AWS/SecretsManager"
BATCH_SIZE = 20  # BatchGetSecretValue's SecretIdList limit
LIST_PAGE = 100
CURRENT = "AWSCURRENT"
UUID_PREFIX = "uuid/"

Cache = dict[tuple[str, str | None], RemoteValue | SecretSyncError]


def version_selector(version: str | None) -> dict[str, str]:
    """`uuid/<id>` names a VersionId; anything else is a stage (default AWSCURRENT)."""
    if version and version.startswith(UUID_PREFIX):
        return {"VersionId": version[len(UUID_PREFIX) :]}
    return {"VersionStage": version or CURRENT}


def is_current(version: str | None) -> bool:
    """BatchGetSecretValue only returns AWSCURRENT, so only these keys can be batched."""
    return not version or version == CURRENT


def current_version_id(versions: Mapping[str, Sequence[str]], stage: str) -> str | None:
    for version_id, stages in versions.items():
        if stage in stages:
            return version_id
    return None


def _value(item: Mapping[str, Any]) -> RemoteValue:
    if item.get("SecretString") is not None:
        return RemoteValue(text=item["SecretString"])
    return RemoteValue(binary=bytes(item.get("SecretBinary") or b""))


class SecretsManagerProvider:
    def __init__(self, ctx: StoreContext, aws: AWSProvider) -> None:
        self._call = Caller(PROVIDER, ctx.telemetry)
        self._session = AwsSession(ctx, aws, self._call)
        self._prefix = aws.prefix or ""
        self._push = SecretsManagerPush(self._client, self._call, aws, self._session.log_in)

    def _client(self) -> SecretsManagerClient:
        return self._session.secrets_manager()

    # --- Provider ---------------------------------------------------------------------------

    def validate(self) -> None:
        self._session.validate()

    def get(self, ref: RemoteRef) -> bytes:
        return self._resolve(ref, {})

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        secret_id = self._prefix + ref.key
        if ref.metadata_policy is MetadataPolicy.FETCH:
            return values.extract(values.tags_json(self._tags(secret_id)), secret_id)
        value = self._read(secret_id, ref.version, {})
        return values.extract(value.json_text(), secret_id)

    def find(self, query: Find) -> dict[str, bytes]:
        pattern = values.name_matcher(query.name.regexp if query.name else None)
        wanted = {
            item["Name"]: item["ARN"]
            for item in self._list(_filters(query))
            if values.matches(item["Name"], pattern)
            and values.has_tags(item.get("Tags", []), query.tags)
        }
        cache: Cache = {}
        self._prefetch(sorted(wanted.values()), cache)
        found = {}
        for name, arn in wanted.items():
            value = cache.get((arn, None))
            if isinstance(value, RemoteValue):  # deleted between list and read: skip it
                found[name] = value.raw()
        return found

    def version(self, ref: RemoteRef) -> str | None:
        secret_id = self._prefix + ref.key
        if ref.metadata_policy is MetadataPolicy.FETCH:
            return values.fingerprint(values.tags_json(self._tags(secret_id)))
        if ref.version and ref.version.startswith(UUID_PREFIX):
            return ref.version  # a VersionId names immutable content
        described = self._call(
            "DescribeSecret", secret_id, lambda: self._client().describe_secret(SecretId=secret_id)
        )
        stage = ref.version or CURRENT
        version_id = current_version_id(described.get("VersionIdsToStages", {}), stage)
        if version_id is None:
            raise NotFound(f"{PROVIDER}: secret {secret_id} has no version in stage {stage}")
        return version_id

    def close(self) -> None:
        return None

    # --- PushSecret (the Writer protocol; aws_sm_push.py) -------------------------------------

    def remote(self, ref: PushRef) -> RemoteState:
        return self._push.remote(ref)

    def set(self, ref: PushRef, value: bytes) -> bool:
        return self._push.set(ref, value)

    def delete(self, ref: PushRef) -> bool:
        return self._push.delete(ref)

    # --- batching for the operator ---------------------------------------------------------

    def get_many(self, refs: Iterable[RemoteRef]) -> dict[RemoteRef, bytes | SecretSyncError]:
        """Values for many refs at once; a failure of one key is returned, not raised."""
        refs = list(dict.fromkeys(refs))
        cache: Cache = {}
        batchable = {
            self._prefix + ref.key
            for ref in refs
            if ref.metadata_policy is not MetadataPolicy.FETCH and is_current(ref.version)
        }
        if len(batchable) > 1:
            self._prefetch(sorted(batchable), cache)
        return values.each(refs, lambda ref: self._resolve(ref, cache))

    # --- reads ------------------------------------------------------------------------------

    def _resolve(self, ref: RemoteRef, cache: Cache) -> bytes:
        secret_id = self._prefix + ref.key
        if ref.metadata_policy is MetadataPolicy.FETCH:
            return values.metadata(self._tags(secret_id), ref.property, secret_id)
        return values.value_of(self._read(secret_id, ref.version, cache), ref.property, secret_id)

    def _read(self, secret_id: str, version: str | None, cache: Cache) -> RemoteValue:
        slot = (secret_id, None if is_current(version) else version)
        if slot not in cache:
            try:
                response = self._call(
                    "GetSecretValue",
                    secret_id,
                    lambda: self._client().get_secret_value(
                        SecretId=secret_id,
                        **version_selector(version),
                    ),
                )
                cache[slot] = _value(response)
            except SecretSyncError as exc:
                cache[slot] = exc
        found = cache[slot]
        if isinstance(found, SecretSyncError):
            raise found
        return found

    def _prefetch(self, secret_ids: list[str], cache: Cache) -> None:
        """BatchGetSecretValue, 20 ids per call; ids it did not answer are read one by one later."""
        for chunk in values.chunks(secret_ids, BATCH_SIZE):
            response = self._call(
                "BatchGetSecretValue",
                f"({len(chunk)} secrets)",
                lambda chunk=chunk: self._client().batch_get_secret_value(SecretIdList=chunk),  # type: ignore[misc]
            )
            requested = set(chunk)
            for item in response.get("SecretValues", []):
                for secret_id in {item.get("Name"), item.get("ARN")} & requested:
                    cache[(str(secret_id), None)] = _value(item)
            for error in response.get("Errors", []):
                secret_id = str(error.get("SecretId"))
                if secret_id in requested:
                    cache[(secret_id, None)] = _batch_error(secret_id, error)

    def _tags(self, secret_id: str) -> list[Mapping[str, str]]:
        described = self._call(
            "DescribeSecret", secret_id, lambda: self._client().describe_secret(SecretId=secret_id)
        )
        return [{"Key": t["Key"], "Value": t["Value"]} for t in described.get("Tags", [])]

    def _list(self, filters: list[dict[str, Any]]) -> list[Mapping[str, Any]]:
        listed: list[Mapping[str, Any]] = []
        params: dict[str, Any] = {"MaxResults": LIST_PAGE}
        if filters:
            params["Filters"] = filters
        while True:
            page = self._call("ListSecrets", "", lambda: self._client().list_secrets(**params))
            listed.extend(page.get("SecretList", []))
            if not page.get("NextToken"):
                return listed
            params["NextToken"] = page["NextToken"]


def _filters(query: Find) -> list[dict[str, Any]]:
    """Server-side narrowing: name is a prefix filter; tag filters match keys and values apart,
    so the exact pairs are checked again on the listed tags."""
    filters: list[dict[str, Any]] = []
    if query.path:
        filters.append({"Key": "name", "Values": [query.path]})
    for key, value in query.tags.items():
        filters.append({"Key": "tag-key", "Values": [key]})
        filters.append({"Key": "tag-value", "Values": [value]})
    return filters


def _batch_error(secret_id: str, error: Mapping[str, Any]) -> SecretSyncError:
    code = str(error.get("ErrorCode", "Unknown"))
    message = sanitize(str(error.get("Message", "")))
    kind = error_type(code, 400, message)
    return kind(f"{PROVIDER} BatchGetSecretValue {secret_id}: {code}: {message}")


def factory(ctx: StoreContext) -> Provider:
    return SecretsManagerProvider(ctx, store_provider(ctx, AWSService.SECRETS_MANAGER))
