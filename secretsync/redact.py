"""Redaction of secret values from any text that may reach a log, event, status or exception.

A Redactor is seeded with the values that a unit of work has handled. Everything that leaves that
unit as text passes through it, so a value that sneaks into an error message from a client library
(botocore and hvac both echo request bodies at times) is masked before anyone sees it.
"""

from __future__ import annotations

from collections.abc import Iterable

MASK = "<redacted>"

# Very short values ("1", "no") occur in ordinary prose; masking them would garble messages
# without protecting anything an attacker could not guess.
MIN_SECRET_LENGTH = 4


class Redactor:
    """Masks every known secret value in a string; longest values first so overlaps stay masked."""

    def __init__(self, secrets: Iterable[str | bytes] = ()) -> None:
        self._values: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str | bytes]) -> None:
        for value in secrets:
            text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            for part in {text, text.strip()}:
                if len(part) >= MIN_SECRET_LENGTH:
                    self._values.add(part)

    def __call__(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text
