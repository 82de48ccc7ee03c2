"""Structured logs: one JSON object per line, with a stable set of keys."""

from __future__ import annotations

import datetime
import json
import logging
import sys

from secretsync.settings import LogFormat

STABLE_KEYS = ("object", "store", "provider", "reason", "duration_ms", "token", "workload", "error")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in STABLE_KEYS:
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: a traceback's frames can hold values, and messages are redacted
            # where they are made.
            entry["exception"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str)


def configure(log_format: LogFormat, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format is LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # kopf narrates every watch event at INFO; its warnings are what an operator needs.
    logging.getLogger("kopf").setLevel(max(logging.WARNING, root.level))
