"""The exception tree of dcycle_async.

A leaf module: it imports nothing from the rest of the package, so every
layer can raise these without creating an import cycle.  ``BulkOperationError``
carries a report, but only as an opaque object typed in ``_models``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuthenticationError",
    "BulkOperationError",
    "ConflictError",
    "DcycleError",
    "FilterHashMismatchError",
    "InvalidFiltersError",
    "InvalidResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "UnprocessableEntityError",
]

# Bodies are kept whole on the exception, but only a prefix goes into str():
# a proxy's HTML error page can be kilobytes long.
_MAX_BODY_IN_MESSAGE = 200


class DcycleError(Exception):
    """Base class of every exception raised by dcycle_async.

    Attributes:
        attempts: for errors of a request, how many attempts were made
            before giving up (1 = it was not retried).
        unknown_outcome: for errors of a request, True when one of its
            attempts may have been applied by the server although no answer
            said so (a dropped connection, a timeout, a 5xx, a body cut
            short), so the change may have happened despite the error.
    """

    attempts: int = 1
    unknown_outcome: bool = False


class APIError(DcycleError):
    """The API answered with a non-2xx status.

    Attributes:
        status: the HTTP status code.
        code: the machine-readable ``code`` of the error body, or None when
            the body has none (e.g. ``{"detail": "Project not found"}``).
        detail: the human-readable detail; for FastAPI validation errors the
            ``msg`` of each item, joined with ``"; "``.
        errors: the items of a FastAPI validation body
            (``{"detail": [{"loc", "msg", "type"}, ...]}``), else empty.
        body: the raw response body, decoded as text (never parsed further).
        method, url: what was requested (the URL never holds credentials).
        retry_after: seconds from a ``Retry-After`` header, if any.
    """

    status: int
    code: str | None
    detail: str
    errors: Sequence[Mapping[str, Any]]
    body: str
    method: str
    url: str
    retry_after: float | None

    def __init__(
        self,
        status: int,
        code: str | None = None,
        detail: str = "",
        body: str = "",
        *,
        errors: Sequence[Mapping[str, Any]] = (),
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.detail = detail
        self.body = body
        self.errors = tuple(errors)
        self.method = method
        self.url = url
        self.retry_after = retry_after
        super().__init__(self._message())

    def _message(self) -> str:
        where = f" for {self.method} {self.url}" if self.method else ""
        text = self.detail or _shorten(self.body) or "no error detail in the response"
        code = f" [{self.code}]" if self.code else ""
        return f"HTTP {self.status}{code}{where}: {text}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments are lost by Exception's default pickling.
        return (
            _rebuild_api_error,
            (
                type(self),
                self.status,
                self.code,
                self.detail,
                self.body,
                self.errors,
                self.method,
                self.url,
                self.retry_after,
            ),
        )


def _rebuild_api_error(
    cls: type[APIError],
    status: int,
    code: str | None,
    detail: str,
    body: str,
    errors: Sequence[Mapping[str, Any]],
    method: str,
    url: str,
    retry_after: float | None,
) -> APIError:
    return cls(
        status,
        code,
        detail,
        body,
        errors=errors,
        method=method,
        url=url,
        retry_after=retry_after,
    )


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_BODY_IN_MESSAGE:
        return text[: _MAX_BODY_IN_MESSAGE - 1] + "…"
    return text


class AuthenticationError(APIError):
    """401: the API key or bearer token was rejected (or has expired)."""


class PermissionDeniedError(APIError):
    """403: the credentials are valid but not for this organisation."""


class NotFoundError(APIError):
    """404: the project, organisation or record does not exist (in this org)."""


class ConflictError(APIError):
    """409: the request conflicts with the current state on the server."""


class FilterHashMismatchError(ConflictError):
    """409 from a delete-by-filters call: the filter_hash no longer matches.

    The filters sent differ from those the hash was listed with, or the data
    changed since.  List again with the same filters and retry with the new
    ``filter_hash``.
    """

    def _message(self) -> str:
        return (
            super()._message()
            + " (the filter_hash does not match these filters or the data changed:"
            " list again with the same filters and retry with the new filter_hash)"
        )


class UnprocessableEntityError(APIError):
    """422: the server rejected the request body or query as invalid."""


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` says how long to wait, if known."""


class ServerError(APIError):
    """5xx: the server (or a proxy in front of it) failed."""


class InvalidResponseError(APIError):
    """A 2xx answer whose body is not the JSON the endpoint documents.

    Typically a body cut short by a dropped connection: the request may have
    been applied, so it is retried like a 5xx.
    """


class APIConnectionError(DcycleError):
    """No answer: the connection failed, was dropped, or could not be made.

    Whether the request reached the server is unknown; every operation of
    this client is safe to repeat, which is why these are retried.
    """


class APITimeoutError(APIConnectionError):
    """No answer within the configured timeout."""


class InvalidFiltersError(DcycleError, ValueError):
    """Filters were rejected client-side; no request was sent.

    Attributes:
        key: the offending filter key, if the problem is about one key.
        allowed: the filter keys allowed for this entity type.
    """

    key: str | None
    allowed: tuple[str, ...]

    def __init__(
        self, message: str, *, key: str | None = None, allowed: Sequence[str] = ()
    ) -> None:
        self.key = key
        self.allowed = tuple(allowed)
        if allowed:
            message = f"{message} (allowed keys: {', '.join(allowed)})"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_invalid_filters, (str(self), self.key))


def _rebuild_invalid_filters(message: str, key: str | None) -> InvalidFiltersError:
    # The message already holds the allowed keys; don't append them twice.
    return InvalidFiltersError(message, key=key)


class BulkOperationError(DcycleError):
    """A bulk operation was aborted by an error that dooms every chunk.

    401, 403 and a missing project (404) abort at once: chunks in flight are
    cancelled.  The cause is chained (``__cause__``) and ``report`` holds what
    completed before the abort, with every id that was not confirmed in its
    ``failed_ids``.
    """

    report: Any

    def __init__(self, message: str, report: Any) -> None:
        self.report = report
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (str(self), self.report))
