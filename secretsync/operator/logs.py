"""Structured logs: one JSON object per line, with a stable set of keys."""

from __future__ import annotations

import datetime
import json
import logging
import sys
import traceback

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
            # The type and where it was raised, not the message: only messages made by our
            # error hierarchy are redacted, and a foreign exception's text could echo a value.
            entry["exception"] = record.exc_info[0].__name__
            frames = traceback.extract_tb(record.exc_info[2])
            if frames:
                last = frames[-1]
                entry["where"] = f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno} {last.name}"
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
