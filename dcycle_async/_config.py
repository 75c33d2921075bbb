"""Client configuration: defaults, environment loading, validation, secrets.

Everything that can be wrong with the configuration is found here, when the
client is constructed, so that no request is ever sent with a bad one.
"""

from __future__ import annotations

import ipaddress
import json
import os
import unicodedata
import uuid
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import attrs

from ._enums import ArrayStyle
from ._uuids import canonical_uuid

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "ENV_API_KEY",
    "ENV_BASE_URL",
    "ENV_BEARER_TOKEN",
    "ENV_ORG_ID",
    "ClientConfig",
    "Secret",
]

DEFAULT_BASE_URL: Final = "https://api.dcycle.io"
DEFAULT_TIMEOUT: Final = 60.0
DEFAULT_MAX_RETRIES: Final = 3
DEFAULT_MAX_CONCURRENCY: Final = 8

ENV_API_KEY: Final = "DCYCLE_API_KEY"
ENV_BEARER_TOKEN: Final = "DCYCLE_BEARER_TOKEN"
ENV_ORG_ID: Final = "DCYCLE_ORG_ID"
ENV_BASE_URL: Final = "DCYCLE_BASE_URL"

_REDACTED: Final = "'**********'"
_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain"})


@attrs.frozen(repr=False)
class Secret:
    """A credential that never shows itself in a repr, str or log line.

    ``reveal()`` is the one way to read it; only the header builder calls it.
    """

    _value: str = attrs.field(alias="value")

    def reveal(self) -> str:
        """Return the secret value (for building request headers only)."""
        return self._value

    def __repr__(self) -> str:
        return _REDACTED

    __str__ = __repr__


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _shown_url(base_url: str) -> str:
    """``base_url`` as an error message may quote it: no user info, query or fragment.

    Those are where a credential pasted into a URL would be.
    """
    parts = urlsplit(base_url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"***@{host}" if "@" in parts.netloc else host
    shown = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return repr(shown + ("?..." if parts.query or parts.fragment else ""))


def _normalise_base_url(base_url: str, *, allow_insecure_http: bool) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"base_url must be an absolute http(s) URL such as {DEFAULT_BASE_URL!r},"
            f" got {_shown_url(base_url)} (set base_url= or {ENV_BASE_URL})"
        )
    if parts.username or parts.password:
        # Credentials in a URL end up in logs and error messages.
        raise ValueError("base_url must not contain credentials; pass api_key= instead")
    if parts.query or parts.fragment:
        raise ValueError(f"base_url must not have a query or fragment, got {_shown_url(base_url)}")
    if parts.scheme == "http" and not allow_insecure_http and not _is_loopback(parts.hostname):
        raise ValueError(
            f"base_url {base_url!r} is plain http on a non-loopback host: the API key would"
            " travel in clear text. Use https, or pass allow_insecure_http=True if you"
            " really mean it"
        )
    return base_url.rstrip("/")


def _check_org_id(organization_id: str | uuid.UUID | None) -> str:
    if organization_id is None or organization_id == "":
        raise ValueError(
            f"organization_id is required: pass organization_id= or set {ENV_ORG_ID}"
            " to your organisation's UUID"
        )
    if isinstance(organization_id, uuid.UUID):
        return str(organization_id)
    if not isinstance(organization_id, str):
        raise TypeError(
            f"organization_id must be a UUID string or uuid.UUID, got {type(organization_id)!r}"
        )
    canonical = canonical_uuid(organization_id)
    if canonical is None:
        raise ValueError(
            f"organization_id must be a UUID (e.g. 'b7f2a1c3-4d5e-6f7a-8b9c-0d1e2f3a4b5c'),"
            f" got {organization_id[:80]!r}"
        )
    return canonical


def _check_secret(name: str, value: str | None) -> Secret | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}")
    value = value.strip()
    if not value:
        return None
    if any(unicodedata.category(c) == "Cc" for c in value):
        # No control character belongs in a header value: a newline would
        # inject headers, others make aiohttp fail at the first request.
        raise ValueError(f"{name} contains a control character")
    return Secret(value)


@attrs.frozen
class ClientConfig:
    """The validated, immutable configuration of one client.

    Build it with ``ClientConfig.create(...)`` (which reads the environment
    for whatever is not given) or let ``DcycleClient`` do it.
    """

    organization_id: str
    api_key: Secret | None
    bearer_token: Secret | None
    base_url: str = DEFAULT_BASE_URL
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    array_style: ArrayStyle = ArrayStyle.REPEAT
    allow_insecure_http: bool = False

    @classmethod
    def create(
        cls,
        api_key: str | None = None,
        organization_id: str | uuid.UUID | None = None,
        *,
        bearer_token: str | None = None,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        array_style: ArrayStyle | str = ArrayStyle.REPEAT,
        allow_insecure_http: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        """Validate the arguments, filling what is missing from the environment.

        Explicit arguments win over ``DCYCLE_API_KEY`` / ``DCYCLE_BEARER_TOKEN``
        / ``DCYCLE_ORG_ID`` / ``DCYCLE_BASE_URL``.  Raises ValueError or
        TypeError with a message saying what to set.
        """
        env = os.environ if environ is None else environ
        key = _check_secret("api_key", api_key)
        token = _check_secret("bearer_token", bearer_token)
        if key is not None and token is not None:
            raise ValueError("pass either api_key or bearer_token, not both")
        if key is None and token is None:
            # Only fall back to the environment when nothing explicit was given,
            # so an explicit bearer_token never meets an env API key.
            key = _check_secret(ENV_API_KEY, env.get(ENV_API_KEY))
            token = _check_secret(ENV_BEARER_TOKEN, env.get(ENV_BEARER_TOKEN))
            if key is not None and token is not None:
                raise ValueError(f"set either {ENV_API_KEY} or {ENV_BEARER_TOKEN}, not both")
        if key is None and token is None:
            raise ValueError(
                f"no credentials: pass api_key= (or bearer_token=), or set {ENV_API_KEY}"
            )
        org = _check_org_id(organization_id if organization_id else env.get(ENV_ORG_ID))
        url = _normalise_base_url(
            base_url or env.get(ENV_BASE_URL) or DEFAULT_BASE_URL,
            allow_insecure_http=allow_insecure_http,
        )
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an int >= 0, got {max_retries!r}")
        if (
            isinstance(max_concurrency, bool)
            or not isinstance(max_concurrency, int)
            or max_concurrency < 1
        ):
            raise ValueError(f"max_concurrency must be an int >= 1, got {max_concurrency!r}")
        return cls(
            organization_id=org,
            api_key=key,
            bearer_token=token,
            base_url=url,
            timeout=float(timeout),
            max_retries=max_retries,
            max_concurrency=max_concurrency,
            array_style=ArrayStyle(array_style),
            allow_insecure_http=allow_insecure_http,
        )

    def secret_spellings(self) -> tuple[bytes, ...]:
        """How the credential could appear in a response body echoing it back.

        As is and as a Python repr would show it, each raw and JSON-escaped
        (with and without ``ensure_ascii``), UTF-8 encoded, longest first:
        the session blanks these out of error bodies before they reach an
        exception's message.
        """
        spellings: set[str] = set()
        for secret in (self.api_key, self.bearer_token):
            if secret is None:
                continue
            value = secret.reveal()
            for form in (value, repr(value)[1:-1]):
                spellings.update(
                    (form, json.dumps(form)[1:-1], json.dumps(form, ensure_ascii=False)[1:-1])
                )
        return tuple(sorted((s.encode() for s in spellings if s), key=len, reverse=True))

    def auth_headers(self) -> dict[str, str]:
        """The authentication headers of every request (secret values inside)."""
        headers = {"x-organization-id": self.organization_id}
        if self.api_key is not None:
            headers["x-api-key"] = self.api_key.reveal()
        elif self.bearer_token is not None:
            headers["Authorization"] = f"Bearer {self.bearer_token.reveal()}"
        return headers
