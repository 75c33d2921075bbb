"""The HTTP side of the emulator: one aiohttp handler for every request.

Each request goes through the same steps: it is counted in flight, its body
is read and decoded once, a fault may be picked for it, it is routed,
authenticated, validated and applied to the store, the fault (if any) acts
on the answer, and a ``RequestRecord`` is kept.  Routing is done here, not
by aiohttp's router, so that unknown routes, wrong methods and faults on
any path are all answered the way the API answers them.
"""

from __future__ import annotations

import asyncio
import http
import logging
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal, Protocol

import attrs
import orjson
from aiohttp import web

from .._enums import EntityType
from ._faults import Fault, FaultSet
from ._hashing import filter_hash, raw_filter_pairs
from ._ids import canonical_uuid
from ._params import (
    DELETE_MAX_IDS,
    LINK_MAX_IDS,
    TRANSPORT_COUNT_PARAMS,
    TRANSPORT_PARAMS,
    TRANSPORT_SORTS,
    VEHICLE_PARAMS,
    VEHICLE_SORTS,
    ApiReply,
    QueryParam,
    ValidationErrors,
    check_enum,
    error_reply,
    id_list,
    parse_link_filters,
    parse_page,
    parse_query_filters,
    parse_sort,
    path_uuid,
)
from ._store import Project, Resource, Store, UnknownEntityError

__all__ = ["ApiApp", "RequestRecord", "Settings", "Stats"]

logger = logging.getLogger("dcycle_async.testing")

# A 100,001-id body is about 4 MB; aiohttp's default limit is 1 MB.
MAX_BODY_BYTES: Final = 64 * 1024 * 1024
# A slow body is written in this many pieces, spread over the fault's delay.
SLOW_BODY_STEPS: Final = 10
ID_FIELDS: Final = ("entity_ids", "transport_ids", "vehicle_ids")
_JSON: Final = "application/json"
_ENTITY_TYPES: Final = tuple(t.value for t in EntityType)


@attrs.frozen
class RequestRecord:
    """One request the emulator served (or dropped).

    Attributes:
        method: the HTTP method.
        path: the request path, without the query string.
        query: the decoded query parameters as ``(key, value)`` pairs, in order.
        status: the status the emulator decided on (for ``drop_after`` the
            status of the change that was applied but never delivered);
            None when nothing was answered or applied (``drop_before``).
        body_size: the request body's size in bytes.
        id_count: how many ids the body's id array held (0 if none).
        org_id: the ``x-organization-id`` header as sent, or None.
        auth: ``"x-api-key"``, ``"bearer"`` or None: how credentials came.
        fault: the name of the fault applied, or None.
        started: ``time.monotonic()`` when the request arrived.
        duration: seconds spent on it (faults' delays included).
        first_id: the first entry of the body's id array, or None: the ids
            of one bulk operation's chunks are disjoint, so this tells which
            chunk a request (or a retry of it) carried.
    """

    method: str
    path: str
    query: list[tuple[str, str]]
    status: int | None
    body_size: int
    id_count: int
    org_id: str | None
    auth: str | None
    fault: str | None
    started: float
    duration: float
    first_id: str | None = None


class Settings(Protocol):
    """The emulator options the app reads on every request (changeable live)."""

    latency: float
    filter_hash_covers_data: bool
    unknown_link_ids: Literal["skip", "not_found"]
    record_requests: bool


@attrs.define
class Stats:
    """What has been served: the records and the in-flight counters."""

    requests: list[RequestRecord] = attrs.Factory(list)
    in_flight: int = 0
    peak_in_flight: int = 0

    def reset(self) -> None:
        """Forget the records; the peak restarts from what is in flight now."""
        self.requests.clear()
        self.peak_in_flight = self.in_flight


@attrs.define
class _Outcome:
    status: int | None = None
    body_size: int = 0
    id_count: int = 0
    first_id: str | None = None
    fault: str | None = None
    auth: str | None = None


class _Missing:
    """The body was empty."""


@attrs.frozen
class _BadJson:
    position: int
    message: str


_MISSING: Final = _Missing()


@attrs.frozen
class _Call:
    request: web.Request
    args: tuple[str, ...]
    body: Any


Handler = Callable[[_Call], ApiReply]


def _decode(raw: bytes) -> Any:
    if not raw:
        return _MISSING
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return _BadJson(exc.pos, exc.msg)


def _id_array(body: Any) -> list[Any] | None:
    if isinstance(body, dict):
        for field in ID_FIELDS:
            value = body.get(field)
            if isinstance(value, list):
                return value
    return None


def _drop(request: web.Request) -> None:
    # Closing the socket before (or instead of) a response: the client sees
    # the server disconnect.  aiohttp then fails to write the response we
    # return, and only notes that at debug level.
    transport = request.transport
    if transport is not None:
        transport.close()


def _summary(deleted: Sequence[str], failed: Sequence[str], noun: str) -> dict[str, Any]:
    message = f"{len(deleted)} {noun} deleted"
    if failed:
        message += f", {len(failed)} not found"
    return {
        "success_count": len(deleted),
        "success_ids": list(deleted),
        "failed_count": len(failed),
        "failed_ids": list(failed),
        "message": message,
    }


def _fault_reply(fault: Fault) -> tuple[bytes, dict[str, str]]:
    headers: dict[str, str] = {}
    if fault.retry_after is not None:
        value = fault.retry_after
        headers["Retry-After"] = value if isinstance(value, str) else f"{value:g}"
    if fault.body is not None:
        data = fault.body.encode() if isinstance(fault.body, str) else fault.body
        headers["Content-Type"] = fault.content_type or _guess_type(data)
        return data, headers
    if fault.status == http.HTTPStatus.TOO_MANY_REQUESTS:
        payload = {"detail": "Too many requests", "code": "RATE_LIMITED"}
    elif fault.status == http.HTTPStatus.INTERNAL_SERVER_ERROR:
        payload = {"detail": "Internal server error", "code": "INTERNAL_ERROR"}
    else:
        try:
            phrase = http.HTTPStatus(fault.status).phrase
        except ValueError:
            phrase = "Error"
        payload = {"detail": phrase, "code": "EMULATED_FAULT"}
    headers["Content-Type"] = fault.content_type or _JSON
    return orjson.dumps(payload), headers


def _guess_type(data: bytes) -> str:
    if data.lstrip().startswith(b"<"):
        return "text/html; charset=utf-8"
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError:
        return "text/plain; charset=utf-8"
    return _JSON


@attrs.define
class ApiApp:
    """The emulated API: routes, authentication, validation, faults, records.

    Attributes:
        settings: live options (latency, hash mode, unknown link ids, recording).
        store: the data.
        faults: the faults to inject.
        stats: records and in-flight counters.
    """

    settings: Settings
    store: Store
    faults: FaultSet
    stats: Stats
    _routes: list[tuple[re.Pattern[str], Mapping[str, Handler]]] = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        uuid_arg = r"([^/]+)"
        table: list[tuple[str, Mapping[str, Handler]]] = [
            (rf"/v1/projects/{uuid_arg}/entities/link", {"POST": self._link}),
            (rf"/v1/projects/{uuid_arg}/entities/unlink", {"POST": self._unlink}),
            (rf"/v1/projects/{uuid_arg}/entities/link-by-filters", {"POST": self._link_filters}),
            (rf"/v1/projects/{uuid_arg}", {"DELETE": self._delete_project}),
            (r"/v1/transports", {"GET": self._list_transports}),
            (r"/v1/transports/counts", {"GET": self._transport_counts}),
            (r"/v1/transports/bulk-delete", {"POST": self._bulk_delete_transports}),
            (r"/v1/transports/bulk-delete-by-filters", {"POST": self._delete_transports_by}),
            (rf"/v1/transports/{uuid_arg}", {"DELETE": self._delete_transport}),
            (r"/v1/vehicles", {"GET": self._list_vehicles}),
            (r"/v1/vehicles/bulk-delete", {"POST": self._bulk_delete_vehicles}),
            (r"/v1/vehicles/bulk-delete-by-filters", {"POST": self._delete_vehicles_by}),
            (rf"/v1/vehicles/{uuid_arg}", {"DELETE": self._delete_vehicle}),
        ]
        self._routes = [(re.compile(pattern), methods) for pattern, methods in table]

    def make_app(self) -> web.Application:
        """An aiohttp application that sends every request to ``handle``."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    # --- the request pipeline ----------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one request: count, fault, route, apply, record."""
        stats = self.stats
        stats.in_flight += 1
        stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
        started = time.monotonic()
        outcome = _Outcome()
        try:
            return await self._serve(request, outcome)
        finally:
            stats.in_flight -= 1
            if self.settings.record_requests:
                stats.requests.append(
                    RequestRecord(
                        method=request.method,
                        path=request.path,
                        query=list(request.query.items()),
                        status=outcome.status,
                        body_size=outcome.body_size,
                        id_count=outcome.id_count,
                        org_id=request.headers.get("x-organization-id"),
                        auth=outcome.auth,
                        fault=outcome.fault,
                        started=started,
                        duration=time.monotonic() - started,
                        first_id=outcome.first_id,
                    )
                )

    async def _serve(self, request: web.Request, outcome: _Outcome) -> web.StreamResponse:
        raw = await request.read() if request.body_exists else b""
        body = _decode(raw)
        outcome.body_size = len(raw)
        ids = _id_array(body)
        if ids is not None:
            outcome.id_count = len(ids)
            if ids and isinstance(ids[0], str):
                outcome.first_id = ids[0]
        if "x-api-key" in request.headers:
            outcome.auth = "x-api-key"
        elif request.headers.get("Authorization", "").lower().startswith("bearer "):
            outcome.auth = "bearer"
        fault = self.faults.select(request.method, request.path)
        if self.settings.latency > 0:
            await asyncio.sleep(self.settings.latency)
        if fault is not None:
            outcome.fault = fault.label
            if fault.kind in ("latency", "status", "drop_before") and fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.kind == "status":
                outcome.status = fault.status
                data, headers = _fault_reply(fault)
                return web.Response(status=fault.status, body=data, headers=headers)
            if fault.kind == "drop_before":
                _drop(request)
                return web.Response(status=http.HTTPStatus.NO_CONTENT)

        reply = self._dispatch(request, body)
        outcome.status = reply.status
        headers = dict(reply.headers)
        data = b""
        if reply.payload is not None:
            data = orjson.dumps(reply.payload)
            headers["Content-Type"] = _JSON

        if fault is not None:
            if fault.kind == "drop_after":
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                _drop(request)
                return web.Response(status=http.HTTPStatus.NO_CONTENT)
            if fault.kind == "slow_body":
                return await self._send_slowly(request, reply.status, headers, data, fault.delay)
            if fault.kind == "truncated":
                return await self._send_truncated(request, reply.status, headers, data, fault)
        return web.Response(status=reply.status, body=data or None, headers=headers)

    async def _send_slowly(
        self,
        request: web.Request,
        status: int,
        headers: dict[str, str],
        data: bytes,
        duration: float,
    ) -> web.StreamResponse:
        if not data:
            await asyncio.sleep(duration)
            return web.Response(status=status, headers=headers)
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(data)
        step = math.ceil(len(data) / SLOW_BODY_STEPS)
        pause = duration / math.ceil(len(data) / step)
        try:
            await response.prepare(request)
            for offset in range(0, len(data), step):
                await asyncio.sleep(pause)
                await response.write(data[offset : offset + step])
            await response.write_eof()
        except ConnectionError:
            # The client gave up (a read timeout, most likely): nothing to do.
            pass
        return response

    async def _send_truncated(
        self,
        request: web.Request,
        status: int,
        headers: dict[str, str],
        data: bytes,
        fault: Fault,
    ) -> web.StreamResponse:
        if not data:
            # A 204 has no body to cut: answer 200 with a JSON body to cut.
            status, data = http.HTTPStatus.OK, b"{}"
            headers["Content-Type"] = _JSON
        response = web.StreamResponse(status=status, headers=headers)
        response.content_length = len(data)
        try:
            await response.prepare(request)
            await response.write(data[: len(data) // 2])
            if fault.delay:
                await asyncio.sleep(fault.delay)
        except ConnectionError:
            pass
        _drop(request)
        return response

    def _dispatch(self, request: web.Request, body: Any) -> ApiReply:
        path = request.path
        allowed: list[str] = []
        for pattern, methods in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                allowed.extend(methods)
                continue
            try:
                return handler(_Call(request, match.groups(), body))
            except ApiReply as reply:
                return reply
            except Exception:
                # A bug of the emulator itself: make it loud, answer like the API.
                logger.exception("emulator failed on %s %s", request.method, path)
                return error_reply(500, "Internal server error", "INTERNAL_ERROR")
        if allowed:
            return ApiReply(405, {"detail": "Method Not Allowed"}, {"Allow": ", ".join(allowed)})
        return ApiReply(404, {"detail": "Not Found"})

    # --- shared steps ----------------------------------------------------------

    def _authenticate(self, call: _Call, errors: ValidationErrors) -> str | None:
        """The caller's organisation id; None after a header problem was recorded.

        Raises the 401/403/404 replies the API gives for bad credentials.
        """
        headers = call.request.headers
        raw_org = headers.get("x-organization-id")
        loc = ("header", "x-organization-id")
        if raw_org is None:
            errors.add("missing", loc, "Field required", None)
            return None
        org_id = canonical_uuid(raw_org)
        if org_id is None:
            errors.add("uuid_parsing", loc, "Input should be a valid UUID", raw_org)
            return None
        credential = headers.get("x-api-key")
        if credential is None:
            scheme, _, token = headers.get("Authorization", "").partition(" ")
            credential = token.strip() if scheme.lower() == "bearer" else None
        owner = self.store.org_for_credential(credential) if credential else None
        if owner is None:
            raise error_reply(401, "Invalid API key for organization", "INVALID_API_KEY")
        if not self.store.has_organization(org_id):
            raise ApiReply(
                404,
                {
                    "code": "ORGANIZATION_NOT_FOUND",
                    "detail": f"Organization with id=UUID('{org_id}') not found",
                },
            )
        if owner != org_id:
            raise error_reply(
                403, "Logged User is not Member of Organization", "LOGGED_USER_NOT_MEMBER"
            )
        return org_id

    @staticmethod
    def _body(call: _Call, errors: ValidationErrors) -> dict[str, Any] | None:
        """The JSON object body, or None after recording why it is not one."""
        body = call.body
        if isinstance(body, dict):
            return body
        if body is _MISSING:
            errors.add("missing", ("body",), "Field required", None)
        elif isinstance(body, _BadJson):
            errors.add(
                "json_invalid",
                ("body", body.position),
                "JSON decode error",
                {},
                {"error": body.message},
            )
        else:
            errors.add(
                "model_attributes_type",
                ("body",),
                "Input should be a valid dictionary or object to extract fields from",
                body,
            )
        return None

    @staticmethod
    def _entity_type(body: dict[str, Any] | None, errors: ValidationErrors) -> EntityType | None:
        if body is None:
            return None
        if "entity_type" not in body:
            errors.add("missing", ("body", "entity_type"), "Field required", None)
            return None
        value = body["entity_type"]
        if check_enum(value, _ENTITY_TYPES, ("body", "entity_type"), errors):
            return EntityType(value)
        return None

    def _project_call(self, call: _Call) -> tuple[Project | None, EntityType, list[str]]:
        """The common part of link and unlink: the project (None if not the
        caller's), the entity type and the ids."""
        errors = ValidationErrors()
        org_id = self._authenticate(call, errors)
        project_id = path_uuid(call.args[0], "project_id", errors)
        body = self._body(call, errors)
        entity_type = self._entity_type(body, errors)
        ids = id_list(body, "entity_ids", LINK_MAX_IDS, errors) if body is not None else None
        errors.raise_if_any()
        # raise_if_any() let nothing through that is still None:
        assert org_id is not None
        assert project_id is not None
        assert entity_type is not None
        assert ids is not None
        return self.store.project(org_id, project_id), entity_type, ids

    # --- projects ------------------------------------------------------------

    def _link(self, call: _Call) -> ApiReply:
        project, entity_type, ids = self._project_call(call)
        if project is None:
            raise error_reply(404, "Project not found")
        try:
            created, skipped = self.store.link(
                project, entity_type, ids, unknown=self.settings.unknown_link_ids
            )
        except UnknownEntityError as exc:
            raise error_reply(
                404, f"Entity with id=UUID('{exc.entity_id}') not found", "NOT_FOUND"
            ) from None
        return ApiReply(200, {"created": created, "skipped": skipped})

    def _unlink(self, call: _Call) -> ApiReply:
        project, entity_type, ids = self._project_call(call)
        if project is None:
            raise error_reply(404, "Project not found")
        return ApiReply(200, {"deleted": self.store.unlink(project, entity_type, ids)})

    def _link_filters(self, call: _Call) -> ApiReply:
        errors = ValidationErrors()
        org_id = self._authenticate(call, errors)
        project_id = path_uuid(call.args[0], "project_id", errors)
        body = self._body(call, errors)
        entity_type = self._entity_type(body, errors)
        conds: tuple[Any, ...] = ()
        unknown: list[str] = []
        if body is not None and "filters" not in body:
            errors.add("missing", ("body", "filters"), "Field required", None)
        elif body is not None and entity_type is not None:
            conds, unknown = parse_link_filters(entity_type, body["filters"], errors)
        errors.raise_if_any()
        assert org_id is not None
        assert project_id is not None
        assert entity_type is not None
        if unknown:
            raise error_reply(422, f"Unknown filter key: '{unknown[0]}'", "INVALID_FILTERS")
        project = self.store.project(org_id, project_id)
        if project is None:
            raise error_reply(404, "Project not found", "NOT_FOUND")
        created, skipped = self.store.link_matching(project, entity_type, conds)
        return ApiReply(200, {"created": created, "skipped": skipped})

    def _delete_project(self, call: _Call) -> ApiReply:
        errors = ValidationErrors()
        org_id = self._authenticate(call, errors)
        project_id = path_uuid(call.args[0], "project_id", errors)
        errors.raise_if_any()
        assert org_id is not None
        assert project_id is not None
        if not self.store.delete_project(org_id, project_id):
            raise error_reply(404, "Project not found")
        return ApiReply(204)

    # --- transports and vehicles -------------------------------------------

    def _hash(
        self, call: _Call, org_id: str, resource: Resource, params: Sequence[QueryParam]
    ) -> str:
        pairs = raw_filter_pairs(call.request.rel_url.raw_query_string, (p.name for p in params))
        generation = (
            self.store.generation(org_id, resource)
            if self.settings.filter_hash_covers_data
            else None
        )
        return filter_hash(pairs, generation=generation)

    def _list(
        self,
        call: _Call,
        resource: Resource,
        params: Sequence[QueryParam],
        sorts: Mapping[str, str],
        *,
        multi_sort: bool,
    ) -> tuple[str, list[int], int, int, int, str]:
        errors = ValidationErrors()
        org_id = self._authenticate(call, errors)
        query = call.request.query
        conds = parse_query_filters(query, params, errors)
        sort = parse_sort(query, sorts, errors, multi=multi_sort)
        page, size = parse_page(query, errors)
        errors.raise_if_any()
        assert org_id is not None
        rows = self.store.query(org_id, resource, conds, sort)
        start = (page - 1) * size
        hashed = self._hash(call, org_id, resource, params)
        return org_id, list(rows[start : start + size]), len(rows), page, size, hashed

    def _list_transports(self, call: _Call) -> ApiReply:
        org_id, rows, total, page, size, hashed = self._list(
            call, "transports", TRANSPORT_PARAMS, TRANSPORT_SORTS, multi_sort=False
        )
        items = [self.store.render_transport(org_id, row) for row in rows]
        return ApiReply(
            200, {"items": items, "total": total, "page": page, "size": size, "filter_hash": hashed}
        )

    def _list_vehicles(self, call: _Call) -> ApiReply:
        org_id, rows, total, page, size, hashed = self._list(
            call, "vehicles", VEHICLE_PARAMS, VEHICLE_SORTS, multi_sort=True
        )
        items = [self.store.render_vehicle(org_id, row) for row in rows]
        return ApiReply(
            200,
            {
                "items": items,
                "total": total,
                "page": page,
                "size": size,
                "pages": math.ceil(total / size),
                "filter_hash": hashed,
            },
        )

    def _transport_counts(self, call: _Call) -> ApiReply:
        errors = ValidationErrors()
        org_id = self._authenticate(call, errors)
        conds = parse_query_filters(call.request.query, TRANSPORT_COUNT_PARAMS, errors)
        errors.raise_if_any()
        assert org_id is not None
        counts = self.store.count_statuses(org_id, conds)
        return ApiReply(200, {s: counts.get(s, 0) for s in ("pending", "active", "error")})

    def _bulk_delete(self, call: _Call, resource: Resource, field: str, noun: str) -> ApiReply:
        errors = ValidationErrors()
        org_id = self._authenticate(call, errors)
        body = self._body(call, errors)
        ids = id_list(body, field, DELETE_MAX_IDS, errors) if body is not None else None
        errors.raise_if_any()
        assert org_id is not None
        assert ids is not None
        # A repeated id is deleted (and reported) once.
        deleted, failed = self.store.delete(org_id, resource, dict.fromkeys(ids))
        return ApiReply(200, _summary(deleted, failed, noun))

    def _bulk_delete_transports(self, call: _Call) -> ApiReply:
        return self._bulk_delete(call, "transports", "transport_ids", "transport routes")

    def _bulk_delete_vehicles(self, call: _Call) -> ApiReply:
        return self._bulk_delete(call, "vehicles", "vehicle_ids", "vehicles")

    def _delete_by_filters(
        self, call: _Call, resource: Resource, params: Sequence[QueryParam], noun: str
    ) -> ApiReply:
        errors = ValidationErrors()
        org_id = self._authenticate(call, errors)
        conds = parse_query_filters(call.request.query, params, errors)
        body = self._body(call, errors)
        given_hash: Any = None
        if body is not None:
            if "filter_hash" not in body:
                errors.add("missing", ("body", "filter_hash"), "Field required", None)
            elif not isinstance(body["filter_hash"], str):
                errors.add(
                    "string_type",
                    ("body", "filter_hash"),
                    "Input should be a valid string",
                    body["filter_hash"],
                )
            else:
                given_hash = body["filter_hash"]
        errors.raise_if_any()
        assert org_id is not None
        if not conds:
            # Only narrowing filters make conditions: this refuses "delete all".
            raise error_reply(422, "At least one filter is required", "FILTERS_REQUIRED")
        if given_hash != self._hash(call, org_id, resource, params):
            raise error_reply(
                409, "filter_hash does not match the current filters", "FILTER_HASH_MISMATCH"
            )
        deleted = self.store.delete_matching(org_id, resource, conds)
        return ApiReply(200, _summary(deleted, [], noun))

    def _delete_transports_by(self, call: _Call) -> ApiReply:
        return self._delete_by_filters(call, "transports", TRANSPORT_PARAMS, "transport routes")

    def _delete_vehicles_by(self, call: _Call) -> ApiReply:
        return self._delete_by_filters(call, "vehicles", VEHICLE_PARAMS, "vehicles")

    def _delete_one(
        self, call: _Call, resource: Resource, param: str, code: str, entity: str
    ) -> ApiReply:
        errors = ValidationErrors()
        org_id = self._authenticate(call, errors)
        record_id = path_uuid(call.args[0], param, errors)
        errors.raise_if_any()
        assert org_id is not None
        assert record_id is not None
        deleted, _ = self.store.delete(org_id, resource, [record_id])
        if not deleted:
            raise error_reply(404, f"{entity} with id=UUID('{record_id}') not found", code)
        return ApiReply(204)

    def _delete_transport(self, call: _Call) -> ApiReply:
        return self._delete_one(
            call, "transports", "transport_route_id", "TRANSPORT_ROUTE_NOT_FOUND", "TransportRoute"
        )

    def _delete_vehicle(self, call: _Call) -> ApiReply:
        return self._delete_one(call, "vehicles", "vehicle_id", "VEHICLE_NOT_FOUND", "Vehicle")
