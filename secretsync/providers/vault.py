"""The Vault / OpenBao store provider: the only module that imports hvac (docs/design.md).

hvac is used as a thin HTTP client (its RawAdapter), because ESO's byte-exactness needs the raw
response text: numbers must reach Go-style marshalling as the server wrote them. Every HTTP call
passes through `HvacTransport.send`, which counts it and maps hvac's and requests' exceptions onto
secretsync's hierarchy in one place. What to call, and when, is decided in vault_client.py.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import hvac.exceptions
import requests
from hvac.adapters import RawAdapter

from secretsync.api.vault import VaultProvider
from secretsync.errors import (
    AccessDenied,
    ConfigError,
    NotFound,
    SecretSyncError,
    Throttled,
    Unavailable,
)
from secretsync.providers.base import Provider, StoreContext, Telemetry
from secretsync.providers.vault_client import Call, VaultClient
from secretsync.providers.vault_mtls import ClientCertAdapter, client_pair, tls_context
from secretsync.providers.vault_retry import RetryPolicy, vault_retry
from secretsync.providers.vault_tls import ca_file, ca_pem, client_cert_files
from secretsync.redact import Redactor

PROVIDER = "HashiCorp/Vault"
TIMEOUT_SECONDS = 15


class HvacTransport:
    def __init__(
        self,
        server: str,
        verify: str | bool,
        telemetry: Telemetry,
        headers: Mapping[str, str] | None = None,
        client_tls: tuple[bytes, bytes] | None = None,
        *,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._server = server
        session = requests.Session()
        session.verify = verify  # a CA file path, or the system roots; never disabled
        # Vault takes its token in a header; without an auth of its own, requests looks for
        # ~/.netrc credentials on every request (two file checks per secret read). ESO's client
        # reads no .netrc either.
        session.auth = _no_auth
        _environment_once(session, server)
        # The store's `headers` go with every request, logins included (ESO's AddHeader); a
        # request's own X-Vault-Token / X-Vault-Namespace still win.
        session.headers.update(headers or {})
        if retry is not None:  # spec.retrySettings (vault_retry.py): below every request
            for scheme in ("http://", "https://"):
                session.mount(scheme, requests.adapters.HTTPAdapter(max_retries=retry))
        if client_tls is not None:
            context = tls_context(verify, *client_tls)
            session.mount("https://", ClientCertAdapter(context, max_retries=retry or 0))
        self._adapter = RawAdapter(base_uri=server, session=session, timeout=TIMEOUT_SECONDS)
        self._telemetry = telemetry

    def send(self, call: Call) -> str:
        """One HTTP request; the response body as text ('' for 204)."""
        ok = False
        try:
            with _mapped(f"{call.what} ({self._server})", call.login, call.secrets):
                text = self._request(call)
            ok = True
            return text
        finally:
            self._telemetry.provider_call(PROVIDER, call.operation, ok)

    def _request(self, call: Call) -> str:
        headers = {}
        if call.token:
            headers["X-Vault-Token"] = call.token
        if call.namespace:
            headers["X-Vault-Namespace"] = call.namespace
        kwargs: dict[str, Any] = {"headers": headers}
        if call.params:
            kwargs["params"] = dict(call.params)
        if call.body is not None:
            kwargs["json"] = dict(call.body)
        url = "/v1/" + quote(call.path, safe="/")
        if call.client_cert is None:
            return self._adapter.request(call.method, url, **kwargs).text
        with client_cert_files(*call.client_cert) as cert:
            return self._adapter.request(call.method, url, cert=cert, **kwargs).text

    def close(self) -> None:
        self._adapter.close()


def _environment_once(session: requests.Session, server: str) -> None:
    """The proxy ($HTTPS_PROXY, $NO_PROXY) and CA bundle ($REQUESTS_CA_BUNDLE) settings of the
    environment, read once per store client, as Go's ProxyFromEnvironment (ESO's client) reads
    them once per process. requests would otherwise scan the whole environment on every
    request: 6.5% of the operator's CPU syncing 1,000 Vault ExternalSecrets (py-spy)."""
    session.proxies.update(requests.utils.get_environ_proxies(server))
    if session.verify is True:
        session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
    session.trust_env = False


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


@contextlib.contextmanager
def _mapped(what: str, login: bool, secrets: tuple[str, ...]) -> Iterator[None]:
    """hvac and requests failures -> our errors, chained, with known secrets masked."""
    redact = Redactor(secrets)
    try:
        yield
    except hvac.exceptions.VaultError as exc:
        raise _vault_error(what, exc, login, redact) from exc
    except requests.exceptions.SSLError as exc:
        # A CA that does not match the server is a spec problem, not a transient one.
        raise ConfigError(f"{what}: {_tls_problem(exc)}") from exc
    except requests.exceptions.Timeout as exc:
        raise Unavailable(f"{what}: the server did not answer in time") from exc
    except requests.exceptions.RequestException as exc:
        raise Unavailable(f"{what}: cannot reach the server ({type(exc).__name__})") from exc


# TLS alerts the *server* sends about our client certificate (verifying the server's own
# certificate fails locally instead, as CERTIFICATE_VERIFY_FAILED).
_CLIENT_CERT_ALERTS = (
    "CERTIFICATE_REQUIRED",
    "ALERT_BAD_CERTIFICATE",
    "ALERT_UNKNOWN_CA",
    "ALERT_CERTIFICATE_UNKNOWN",
)


def _tls_problem(exc: requests.exceptions.SSLError) -> str:
    if any(alert in str(exc).upper() for alert in _CLIENT_CERT_ALERTS):
        return (
            "the server refused the TLS client certificate, or wants one; "
            "check tls.certSecretRef and tls.keySecretRef"
        )
    return "TLS verification of the server failed; check caBundle/caProvider"


# How Go's net package and go-ldap say a connection failed, inside a login's 400 answer
# (OpenBao's ldap method: "error connecting to host ... Network Error: dial tcp ...";
# its aws method: "error making upstream request: ... dial tcp ...").
_UPSTREAM_DOWN = (
    "dial tcp",
    "Network Error",
    "connection refused",
    "i/o timeout",
    "no such host",
)


def _vault_error(
    what: str, exc: hvac.exceptions.VaultError, login: bool, redact: Redactor
) -> SecretSyncError:
    errors = exc.errors
    reasons = errors if isinstance(errors, str) else "; ".join(errors or ())
    reasons = " ".join(reasons.split())  # Vault's multi-error text spans lines and tabs
    detail = f"{what}: {redact(reasons)}" if reasons else what
    if isinstance(exc, hvac.exceptions.Forbidden | hvac.exceptions.Unauthorized):
        return AccessDenied(f"{detail} (permission denied)" if not reasons else detail)
    if login and isinstance(exc, hvac.exceptions.InvalidRequest):
        return _login_rejected(detail, reasons)
    if isinstance(exc, hvac.exceptions.InvalidPath):
        return NotFound(f"{detail} (not found)" if not reasons else detail)
    if isinstance(exc, hvac.exceptions.RateLimitExceeded):
        return Throttled(f"{detail} (rate limited)")
    if isinstance(
        exc,
        hvac.exceptions.InternalServerError
        | hvac.exceptions.VaultDown
        | hvac.exceptions.BadGateway
        | hvac.exceptions.VaultNotInitialized
        | hvac.exceptions.UnexpectedError,
    ):
        return Unavailable(f"{detail} (server error)")
    return ConfigError(f"{detail} (request rejected)")


def _login_rejected(detail: str, reasons: str) -> SecretSyncError:
    if any(sign in reasons for sign in _UPSTREAM_DOWN):
        # The auth method could not reach its own backend (LDAP, STS): a 400 all the same,
        # but an outage to retry, not a credential to fix.
        return Unavailable(f"{detail} (the auth method's upstream is unreachable)")
    return AccessDenied(f"{detail} (login rejected)")


def factory(ctx: StoreContext) -> Provider:
    spec = ctx.store.spec.provider
    if not isinstance(spec, VaultProvider):
        raise ConfigError("is not a vault provider", field="spec.provider")
    pem = ca_pem(ctx, spec)
    client = VaultClient(ctx, spec)
    verify: str | bool = True
    if pem is not None:
        path, cleanup = ca_file(client, pem)
        client.on_close(cleanup)
        verify = str(path)
    transport = HvacTransport(
        spec.server.rstrip("/"),
        verify,
        ctx.telemetry,
        spec.headers,
        client_pair(ctx, spec),
        retry=vault_retry(ctx.store.spec.retry_settings),
    )
    client.attach(transport)
    return client
