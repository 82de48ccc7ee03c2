"""Process-wide settings, read once from flags and environment in __main__ and passed down."""

from __future__ import annotations

import dataclasses
import enum


class LogFormat(enum.StrEnum):
    JSON = "json"
    TEXT = "text"


@dataclasses.dataclass(frozen=True)
class Settings:
    log_format: LogFormat = LogFormat.JSON
    """Operator logs are JSON by default so that log pipelines can index the stable keys."""

    log_level: str = "INFO"
