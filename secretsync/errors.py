"""The one error hierarchy of secretsync, grouped by what happens next.

    SecretSyncError
    ├── ConfigError        the user must edit the spec or the file; retrying will not help
    │   └── AlreadyEncrypted  a file to encrypt already has sops metadata
    │   └── TemplateError  a target.template failed to parse or execute
    │   └── LimitExceeded  one of secretsync.limits' bounds (a Secret over 1 MiB, say)
    │   └── Unsupported    an ESO field, provider or kind secretsync does not implement (yet):
    │                      the user must edit the spec or wait for support; the object is kept
    ├── AccessDenied       permanent until someone changes permissions
    ├── NotFound           the remote key is absent; drives deletionPolicy
    ├── Retryable          try again with backoff
    │   ├── Unavailable    the source did not answer, or answered 5xx
    │   ├── Throttled      the source asked us to slow down
    │   └── Conflict       the object changed, or already exists, since it was read: read it
    │                      again and retry at once
    └── DecryptionError    permanent; the last good Secret is kept
        └── MacMismatch    the values decrypted but the file's MAC does not match them

Adapters translate their client library's exceptions into these in one place, chained with
``from exc``. Only secretsync.operator maps them onto kopf's temporary and permanent errors.
Messages must already be redacted (see secretsync.redact) when an error is raised.
"""

from __future__ import annotations


class SecretSyncError(Exception):
    """Base of every error secretsync raises on purpose."""


class ConfigError(SecretSyncError):
    """The spec or file is wrong; the message names the field and what to change."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class TemplateError(ConfigError):
    """A template failed to parse or execute.

    The message names the template key and the line:column in its text, plus what went wrong in
    terms of the template's own source (never a rendered value: the data are secrets).
    """

    def __init__(self, message: str, *, key: str = "", line: int = 0, column: int = 0) -> None:
        self.key = key
        self.line = line
        self.column = column
        self.reason = message
        where = f"template {key!r}" if key else "template"
        if line:
            where += f" at {line}:{column}"
        super().__init__(f"{where}: {message}")


class LimitExceeded(ConfigError):
    """A sync went past one of the bounds in secretsync.limits; the message names the object,
    the limit and what to change. The last good Secret is kept."""


class TemplateLimitExceeded(TemplateError, LimitExceeded):
    """A template ran too long or wrote too much (secretsync.limits)."""


class Unsupported(ConfigError):
    """The spec uses something ESO defines and secretsync does not implement (yet).

    The object is valid and stored intact; secretsync leaves its Secret alone and says, once,
    which field it is and what secretsync supports instead. Permanent until the spec changes.
    """

    def __init__(self, *, field: str, instead: str, value: str | None = None) -> None:
        self.instead = instead
        self.value = value
        what = f"{value!r} is" if value is not None else "is"
        super().__init__(f"{what} not supported by secretsync; {instead}", field=field)

    def within(self, where: str) -> Unsupported:
        """The same finding, its message led by the object it was found in (e.g. the store an
        ExternalSecret uses): `SecretStore gcp: spec.provider.gcpsm: is not supported ...`."""
        located = Unsupported(field=self.field or "", instead=self.instead, value=self.value)
        located.args = (f"{where}: {self}",)
        return located


class AccessDenied(SecretSyncError):
    """The source refused our identity; permanent until permissions change."""


class NotFound(SecretSyncError):
    """The remote key or file does not exist."""


class Retryable(SecretSyncError):
    """A transient failure; the caller retries with capped, jittered backoff."""


class Unavailable(Retryable):
    """The source could not be reached or failed on its side."""


class Throttled(Retryable):
    """The source rate-limited us."""


class Conflict(Retryable):
    """The object changed since we read it, or one we meant to create already exists: read it
    again and retry at once."""


class DecryptionError(SecretSyncError):
    """Ciphertext, key or MAC did not verify; no partial plaintext is ever returned."""


class MacMismatch(DecryptionError):
    """A SOPS file's MAC does not match its values: it was altered outside sops, or is corrupt."""


class AlreadyEncrypted(ConfigError):
    """The file already carries sops metadata; encrypting it again would lose the data key."""
