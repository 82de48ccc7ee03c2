"""AWS Systems Manager Parameter Store as a store provider (ESO's `aws` provider with service
ParameterStore).

Where ESO makes one GetParameter per key (and N+1 calls for find by tags), `get_many` and find
fetch values with GetParameters, 10 names per call. `version` probes with GetParameter *without*
decryption: it is the same high-throughput read API, skips the KMS decrypt that SecureString
reads cost (KMS has its own quota), and avoids DescribeParameters, a control-plane call with a
low, account-wide rate limit (ESO #4065 hit its throttling).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from secretsync.api.aws import AWSProvider, AWSService
from secretsync.api.sources import Find, MetadataPolicy, RemoteRef
from secretsync.errors import NotFound, SecretSyncError
from secretsync.providers import aws_values as values
from secretsync.providers.aws_errors import Caller
from secretsync.providers.aws_session import AwsSession, store_provider
from secretsync.providers.aws_ssm_push import ParameterStorePush
from secretsync.providers.aws_values import RemoteValue
from secretsync.providers.base import Provider, PushRef, RemoteState, StoreContext

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

PROVIDER = "AWS/ParameterStore"
BATCH_SIZE = 10  # GetParameters' Names limit
PATH_PAGE = 10  # GetParametersByPath's MaxResults limit
DESCRIBE_PAGE = 50

Cache = dict[str, RemoteValue | SecretSyncError]


def parameter_name(prefix: str, key: str, version: str | None) -> str:
    """`name:<version>` selects a version number or a label."""
    return f"{prefix}{key}:{version}" if version else f"{prefix}{key}"


def _answered_as(parameter: Mapping[str, Any]) -> set[str]:
    """The unversioned names a GetParameters request could have used for this result. Batches
    hold unversioned names only: some servers (moto) omit `Selector`, so `x` and `x:1` in one
    batch could not be told apart."""
    if parameter.get("Selector"):
        return set()
    return {str(parameter.get("Name")), str(parameter.get("ARN"))}


class ParameterStoreProvider:
    def __init__(self, ctx: StoreContext, aws: AWSProvider) -> None:
        self._call = Caller(PROVIDER, ctx.telemetry)
        self._session = AwsSession(ctx, aws, self._call)
        self._prefix = aws.prefix or ""
        self._push = ParameterStorePush(self._client, self._call, aws, self._session.log_in)

    def _client(self) -> SSMClient:
        return self._session.ssm()

    def _name(self, ref: RemoteRef) -> str:
        return parameter_name(self._prefix, ref.key, ref.version)

    # --- Provider ---------------------------------------------------------------------------

    def validate(self) -> None:
        self._session.validate()

    def get(self, ref: RemoteRef) -> bytes:
        return self._resolve(ref, {})

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        name = self._name(ref)
        if ref.metadata_policy is MetadataPolicy.FETCH:
            return values.extract(values.tags_json(self._tags(ref)), name)
        return values.extract(self._read(name, {}).json_text(), name)

    def find(self, query: Find) -> dict[str, bytes]:
        pattern = values.name_matcher(query.name.regexp if query.name else None)
        if query.tags:
            names = [n for n in self._described(query) if values.matches(n, pattern)]
            cache: Cache = {}
            self._prefetch(names, cache)
            return {n: v.raw() for n in names if isinstance(v := cache.get(n), RemoteValue)}
        return {
            item["Name"]: item["Value"].encode()
            for item in self._by_path(query.path or "/")
            if values.matches(item["Name"], pattern)
        }

    def version(self, ref: RemoteRef) -> str | None:
        if ref.metadata_policy is MetadataPolicy.FETCH:
            return values.fingerprint(values.tags_json(self._tags(ref)))
        name = self._name(ref)
        response = self._call(
            "GetParameter",
            name,
            lambda: self._client().get_parameter(Name=name, WithDecryption=False),
        )
        return str(response["Parameter"]["Version"])

    def close(self) -> None:
        return None

    # --- PushSecret (the Writer protocol; aws_ssm_push.py) ------------------------------------

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
        names = {
            self._name(r)
            for r in refs
            if r.metadata_policy is not MetadataPolicy.FETCH and not r.version
        }
        if len(names) > 1:
            self._prefetch(sorted(names), cache)
        return values.each(refs, lambda ref: self._resolve(ref, cache))

    # --- reads ------------------------------------------------------------------------------

    def _resolve(self, ref: RemoteRef, cache: Cache) -> bytes:
        name = self._name(ref)
        if ref.metadata_policy is MetadataPolicy.FETCH:
            return values.metadata(self._tags(ref), ref.property, name)
        return values.value_of(self._read(name, cache), ref.property, name)

    def _read(self, name: str, cache: Cache) -> RemoteValue:
        if name not in cache:
            try:
                response = self._call(
                    "GetParameter",
                    name,
                    lambda: self._client().get_parameter(Name=name, WithDecryption=True),
                )
                cache[name] = RemoteValue(text=response["Parameter"]["Value"])
            except SecretSyncError as exc:
                cache[name] = exc
        found = cache[name]
        if isinstance(found, SecretSyncError):
            raise found
        return found

    def _prefetch(self, names: list[str], cache: Cache) -> None:
        """GetParameters, 10 names per call; names it did not answer are read one by one later."""
        for chunk in values.chunks(names, BATCH_SIZE):
            response = self._call(
                "GetParameters",
                f"({len(chunk)} parameters)",
                lambda chunk=chunk: self._client().get_parameters(  # type: ignore[misc]
                    Names=chunk, WithDecryption=True
                ),
            )
            requested = set(chunk)
            for parameter in response.get("Parameters", []):
                for name in _answered_as(parameter) & requested:
                    cache[name] = RemoteValue(text=parameter["Value"])
            for name in set(response.get("InvalidParameters", [])) & requested:
                cache[name] = NotFound(f"{PROVIDER} GetParameters {name}: ParameterNotFound")

    def _tags(self, ref: RemoteRef) -> list[Mapping[str, str]]:
        name = self._prefix + ref.key  # tags belong to the parameter, not to a version
        response = self._call(
            "ListTagsForResource",
            name,
            lambda: self._client().list_tags_for_resource(
                ResourceType="Parameter", ResourceId=name
            ),
        )
        return [{"Key": t["Key"], "Value": t["Value"]} for t in response.get("TagList", [])]

    def _by_path(self, path: str) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        params: dict[str, Any] = {
            "Path": path,
            "Recursive": True,
            "WithDecryption": True,
            "MaxResults": PATH_PAGE,
        }
        while True:
            page = self._call(
                "GetParametersByPath", path, lambda: self._client().get_parameters_by_path(**params)
            )
            found.extend(page.get("Parameters", []))
            if not page.get("NextToken"):
                return found
            params["NextToken"] = page["NextToken"]

    def _described(self, query: Find) -> list[str]:
        params: dict[str, Any] = {
            "ParameterFilters": tag_filters(query),
            "MaxResults": DESCRIBE_PAGE,
        }
        names: list[str] = []
        while True:
            page = self._call(
                "DescribeParameters", "", lambda: self._client().describe_parameters(**params)
            )
            names.extend(str(p["Name"]) for p in page.get("Parameters", []))
            if not page.get("NextToken"):
                return names
            params["NextToken"] = page["NextToken"]


def tag_filters(query: Find) -> list[dict[str, Any]]:
    filters: list[dict[str, Any]] = [
        {"Key": f"tag:{key}", "Option": "Equals", "Values": [value]}
        for key, value in query.tags.items()
    ]
    if query.path:
        filters.append({"Key": "Path", "Option": "Recursive", "Values": [query.path]})
    return filters


def factory(ctx: StoreContext) -> Provider:
    return ParameterStoreProvider(ctx, store_provider(ctx, AWSService.PARAMETER_STORE))
