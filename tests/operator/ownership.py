"""Who wrote what, read from managedFields: secretsync writes Secrets and statuses as field
manager `secretsync`; ESO writes a Secret as `externalsecrets.external-secrets.io/<es>` and
statuses as `external-secrets` (its binary's name)."""

from __future__ import annotations

import base64
import datetime
import threading
from typing import Any

from kubernetes import client, watch

SECRETSYNC = "secretsync"
ESO_STATUS = "external-secrets"


def eso_secret_manager(es_name: str) -> str:
    return f"externalsecrets.external-secrets.io/{es_name}"


def managers(obj: Any, subresource: str = "") -> dict[str, datetime.datetime]:
    """manager -> when it last wrote, for entries on the object (or one subresource)."""
    meta = obj["metadata"] if isinstance(obj, dict) else obj.metadata
    entries = (meta.get("managedFields") if isinstance(meta, dict) else meta.managed_fields) or []
    found: dict[str, datetime.datetime] = {}
    for entry in entries:
        if isinstance(entry, dict):
            name, sub, when = entry.get("manager"), entry.get("subresource", ""), entry["time"]
            stamp = datetime.datetime.fromisoformat(when.replace("Z", "+00:00"))
        else:
            name, sub, stamp = entry.manager, entry.subresource or "", entry.time
        if sub == subresource and name:
            found[name] = max(stamp, found.get(name, stamp))
    return found


def data_managers(secret: client.V1Secret) -> set[str]:
    """The managers that own a value in the Secret's data (not just the map itself)."""
    owners = set()
    for entry in secret.metadata.managed_fields or []:
        data = (entry.fields_v1 or {}).get("f:data") or {}
        if any(key.startswith("f:") for key in data):
            owners.add(entry.manager)
    return owners


class SecretWatch:
    """Every event on some of the namespace's Secrets from now on, in a thread: enough to prove
    no Secret was ever deleted or seen with empty data during a hand-over."""

    def __init__(self, api: client.ApiClient, namespace: str, names: set[str]) -> None:
        self.names = names
        self._seen: list[tuple[str, str, dict[str, bytes]]] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.broken: str | None = None
        self._core = client.CoreV1Api(api)
        self._namespace = namespace
        self._watch = watch.Watch()
        self._version = self._core.list_namespaced_secret(namespace).metadata.resource_version
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._follow()
        except Exception as exc:  # the namespace goes at teardown; before stop() it counts
            if not self._stopped.is_set():
                self.broken = repr(exc)

    def _follow(self) -> None:
        stream = self._watch.stream(
            self._core.list_namespaced_secret,
            self._namespace,
            resource_version=self._version,
            timeout_seconds=900,
        )
        for event in stream:
            secret = event["object"]
            if secret.metadata.name in self.names:
                data = {k: base64.b64decode(v) for k, v in (secret.data or {}).items()}
                with self._lock:
                    self._seen.append((event["type"], secret.metadata.name, data))

    def seen(self) -> list[tuple[str, str, dict[str, bytes]]]:
        with self._lock:
            return list(self._seen)

    def gaps(self) -> list[str]:
        """Every moment a watched Secret was deleted or had no data, in words."""
        found = [
            f"{kind} {name} keys={sorted(data)}"
            for kind, name, data in self.seen()
            if kind == "DELETED" or not data or any(not v for v in data.values())
        ]
        return found + ([f"the watch broke: {self.broken}"] if self.broken else [])

    def stop(self) -> None:
        self._stopped.set()
        self._watch.stop()
