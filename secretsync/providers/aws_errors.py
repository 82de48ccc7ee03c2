"""The one place where botocore's exceptions become secretsync's error hierarchy, and where each
AWS API call is counted for telemetry.

Messages name the operation, the remote key and AWS's error code. AWS error messages on reads do
not carry secret values, but they do carry request IDs, which change on every call and would make
every status update a new one (ESO's SanitizeErr strips them for the same reason).
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Callable, Iterator
from typing import TypeVar

from botocore import exceptions as boto_errors

from secretsync.errors import (
    AccessDenied,
    ConfigError,
    NotFound,
    SecretSyncError,
    Throttled,
    Unavailable,
)
from secretsync.providers.base import Telemetry

T = TypeVar("T")

_NOT_FOUND = {"ResourceNotFoundException", "ParameterNotFound", "ParameterVersionNotFound"}
_DENIED = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "AuthFailure",
    "KMSAccessDeniedException",
}
_THROTTLED = {"TooManyRequestsException", "RequestLimitExceeded", "SlowDown"}
_UNAVAILABLE = {"InternalServiceError", "InternalFailure", "InternalServerError"}
# Deleted-but-recoverable secrets answer InvalidRequestException (InvalidParameterException in
# ESO's SDK version); both mean "absent" to deletionPolicy.
_MARKED_FOR_DELETION = re.compile(r"marked (for )?delet")
_XML_CODE = re.compile(r"<Code>([^<]*)</Code>")
_XML_MESSAGE = re.compile(r"<Message>([^<]*)</Message>")
_REQUEST_ID = re.compile(r"(?i)\s*\(?(request ?id|x-amzn-requestid)[:=]? ?[a-z0-9-]+\)?,?")


def error_type(code: str, status: int, message: str) -> type[SecretSyncError]:
    """What an AWS error code means for the caller (pure: tested on constructed responses)."""
    if code in _NOT_FOUND or _MARKED_FOR_DELETION.search(message):
        return NotFound
    if code.startswith("AccessDenied") or code in _DENIED or status in {401, 403}:
        return AccessDenied
    if code.startswith("Throttl") or code in _THROTTLED or "Rate exceeded" in message:
        return Throttled
    if status == 429:
        return Throttled
    if status >= 500 or code in _UNAVAILABLE or code.startswith("ServiceUnavailable"):
        return Unavailable
    return ConfigError


def sanitize(message: str) -> str:
    return " ".join(_REQUEST_ID.sub("", message).split())


def _unparsed(code: str, message: str) -> tuple[str, str]:
    """An XML error body where botocore expected JSON (some proxies, moto's IAM layer) leaves the
    HTTP status as the code and the whole body as the message; take both out of the XML."""
    if not message.lstrip().startswith("<"):
        return code, message
    inner_code = _XML_CODE.search(message)
    inner_message = _XML_MESSAGE.search(message)
    return (
        inner_code.group(1) if inner_code else code,
        inner_message.group(1) if inner_message else "",
    )


def _client_error(what: str, exc: boto_errors.ClientError) -> SecretSyncError:
    error = exc.response.get("Error", {})
    code, message = _unparsed(str(error.get("Code", "Unknown")), str(error.get("Message", "")))
    message = sanitize(message)
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    kind = error_type(code, status, message)
    return kind(f"{what}: {code}: {message}" if message else f"{what}: {code}")


def translate(what: str, exc: Exception) -> SecretSyncError | None:
    """Our error for a botocore exception, or None when it is not one of botocore's."""
    if isinstance(exc, boto_errors.ClientError):
        return _client_error(what, exc)
    if isinstance(exc, boto_errors.NoCredentialsError | boto_errors.PartialCredentialsError):
        return ConfigError(f"{what}: no AWS credentials: set auth on the store")
    if isinstance(exc, boto_errors.NoRegionError | boto_errors.ParamValidationError):
        return ConfigError(f"{what}: {sanitize(str(exc))}")
    if isinstance(exc, boto_errors.ConnectionError | boto_errors.HTTPClientError):
        # Connection errors carry the endpoint URL and the reason; never request bodies.
        return Unavailable(f"{what}: {type(exc).__name__}: {sanitize(str(exc))}")
    if isinstance(exc, boto_errors.BotoCoreError):
        return Unavailable(f"{what}: {type(exc).__name__}")
    return None


@contextlib.contextmanager
def mapped(what: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        ours = translate(what, exc)
        if ours is None:
            raise
        raise ours from exc


@dataclasses.dataclass(frozen=True)
class Caller:
    """Runs one AWS API call: maps its errors and counts it (provider, operation, ok)."""

    provider: str
    telemetry: Telemetry

    def __call__(self, operation: str, subject: str, call: Callable[[], T]) -> T:
        ok = False
        try:
            with mapped(f"{self.provider} {operation} {subject}"):
                result = call()
            ok = True
            return result
        finally:
            self.telemetry.provider_call(self.provider, operation, ok)
