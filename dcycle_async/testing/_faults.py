"""Scriptable faults: slow answers, error statuses, lost connections and answers.

A test adds ``Fault`` values to ``emulator.faults``; each request is
matched against them in order and the first one that matches *and fires*
is applied.  ``times`` limits how often a fault fires, ``rate`` makes it
fire at random (from the emulator's seeded generator), ``path`` and
``method`` narrow what it matches.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Final, Literal, get_args

import attrs

__all__ = ["FAULT_KINDS", "Fault", "FaultKind", "FaultSet"]

#: The kinds of fault, as ``Fault(kind)`` takes them.
FaultKind = Literal["latency", "status", "drop_before", "drop_after", "slow_body", "truncated"]
FAULT_KINDS: Final[frozenset[str]] = frozenset(get_args(FaultKind))

_MIN_STATUS: Final = 100
_MAX_STATUS: Final = 599


def _check_kind(_: object, __: attrs.Attribute[str], value: str) -> None:
    if value not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {value!r}; one of: {', '.join(sorted(FAULT_KINDS))}")


def _check_status(_: object, __: attrs.Attribute[int], value: int) -> None:
    if not _MIN_STATUS <= value <= _MAX_STATUS:
        raise ValueError(f"status must be an HTTP status code, not {value}")


def _check_times(_: object, __: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None and value < 1:
        raise ValueError(f"times must be >= 1 (or None for unlimited), not {value}")


def _check_rate(_: object, __: attrs.Attribute[float | None], value: float | None) -> None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise ValueError(f"rate must be within 0..1, not {value}")


def _check_delay(_: object, __: attrs.Attribute[float], value: float) -> None:
    if value < 0:
        raise ValueError(f"delay must be >= 0, not {value}")


def _upper(value: str | None) -> str | None:
    return value.upper() if value is not None else None


@attrs.frozen
class Fault:
    """One fault to inject.

    Attributes:
        kind: what happens to a matching request:

            * ``latency``: sleep ``delay`` seconds, then serve normally.
            * ``status``: answer ``status`` without applying anything
              (after ``delay``); ``retry_after`` adds a ``Retry-After``
              header (seconds, or any string such as an HTTP date, passed
              through); ``body`` replaces the default JSON error body.
            * ``drop_before``: close the connection without answering and
              without applying (after ``delay``).
            * ``drop_after``: apply the request, then close the connection
              without answering: "applied but the answer was lost".
            * ``slow_body``: apply, send the headers, then trickle the body
              out over ``delay`` seconds.
            * ``truncated``: apply, send the headers with the full
              ``Content-Length`` and half of the body, then close the
              connection.

        status: the status a ``status`` fault answers (default 503).
        retry_after: the ``Retry-After`` header value, if any.
        delay: seconds: the sleep of ``latency``, the trickle time of
            ``slow_body``, a pause before the other kinds act.
        times: fire for the next N matching requests only (None: no limit).
        rate: fire for each matching request with this probability.
        path: the request path to match, exactly, or as a prefix when it
            ends in ``*`` (``"/v1/projects/*"``); None matches every path.
        method: the HTTP method to match (any case); None matches all.
        body: the body of a ``status`` fault (``str`` or ``bytes``), e.g.
            an HTML page from a proxy.
        content_type: the body's media type; by default JSON when the
            body parses as JSON, HTML when it starts with ``<``, else text.
        name: how the fault is called in ``RequestRecord.fault`` (default
            its kind).
    """

    kind: FaultKind = attrs.field(validator=_check_kind)
    status: int = attrs.field(default=503, kw_only=True, validator=_check_status)
    retry_after: float | str | None = attrs.field(default=None, kw_only=True)
    delay: float = attrs.field(default=0.0, kw_only=True, validator=_check_delay)
    times: int | None = attrs.field(default=None, kw_only=True, validator=_check_times)
    rate: float | None = attrs.field(default=None, kw_only=True, validator=_check_rate)
    path: str | None = attrs.field(default=None, kw_only=True)
    method: str | None = attrs.field(default=None, kw_only=True, converter=_upper)
    body: str | bytes | None = attrs.field(default=None, kw_only=True)
    content_type: str | None = attrs.field(default=None, kw_only=True)
    name: str | None = attrs.field(default=None, kw_only=True)

    @property
    def label(self) -> str:
        """The name recorded for requests this fault hit."""
        return self.name or self.kind

    def matches(self, method: str, path: str) -> bool:
        """Whether a request's method and path are ones this fault applies to."""
        if self.method is not None and method.upper() != self.method:
            return False
        if self.path is None:
            return True
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


@attrs.define
class _Entry:
    fault: Fault
    remaining: int | None


@attrs.define
class FaultSet:
    """The faults active in an emulator, in the order they were added.

    Attributes:
        rng: the generator that decides ``rate`` faults (seeded by the
            emulator's ``seed``).
    """

    rng: random.Random = attrs.Factory(random.Random)
    _entries: list[_Entry] = attrs.Factory(list)
    _fired: dict[Fault, int] = attrs.Factory(dict)

    def add(self, fault: Fault) -> Fault:
        """Activate a fault (after the ones already there); returns it."""
        self._entries.append(_Entry(fault, fault.times))
        return fault

    def remove(self, fault: Fault) -> None:
        """Deactivate the first active fault equal to ``fault`` (ValueError if none)."""
        for n, entry in enumerate(self._entries):
            if entry.fault == fault:
                del self._entries[n]
                return
        raise ValueError(f"not an active fault: {fault!r}")

    def clear(self) -> None:
        """Deactivate every fault."""
        self._entries.clear()

    def fired(self, fault: Fault) -> int:
        """How many requests a fault (or any equal one) has hit so far."""
        return self._fired.get(fault, 0)

    def __iter__(self) -> Iterator[Fault]:
        return iter([entry.fault for entry in self._entries])

    def __len__(self) -> int:
        return len(self._entries)

    def select(self, method: str, path: str) -> Fault | None:
        """The fault to apply to a request, if any, counting its firing.

        A fault used up by ``times`` is dropped from the set.
        """
        for n, entry in enumerate(self._entries):
            fault = entry.fault
            if not fault.matches(method, path):
                continue
            if fault.rate is not None and self.rng.random() >= fault.rate:
                continue
            self._fired[fault] = self._fired.get(fault, 0) + 1
            if entry.remaining is not None:
                entry.remaining -= 1
                if entry.remaining <= 0:
                    del self._entries[n]
            return fault
        return None
