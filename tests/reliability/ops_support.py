"""Scenarios for the reliability tests: one id operation, its inputs, its invariants.

A ``Scenario`` seeds an emulator organisation for one of the four id
operations, builds a messy input (known, unknown, foreign, invalid and
repeated ids in several spellings) and remembers the store's state before
the run.  The ``check_*`` functions state what must hold afterwards.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import Counter, defaultdict
from typing import Any, Final, Literal

import anyio
import attrs
from dcycle_async import (
    APIConnectionError,
    BulkDeleteReport,
    DcycleClient,
    EntityType,
    LinkReport,
    RateLimitError,
    ServerError,
    UnlinkReport,
)
from dcycle_async.testing import Emulator, Fault, Organization, RequestRecord

Operation = Literal[
    "transports.bulk_delete", "vehicles.bulk_delete", "projects.link", "projects.unlink"
]
OPERATIONS: Final[tuple[Operation, ...]] = (
    "transports.bulk_delete",
    "vehicles.bulk_delete",
    "projects.link",
    "projects.unlink",
)
Report = BulkDeleteReport | LinkReport | UnlinkReport

#: The status whose failed attempt the client knows was not applied.
NOT_APPLIED_STATUS: Final = 429


async def wait_until_idle(emu: Emulator) -> None:
    """Return once the emulator serves nothing (requests the client gave up on included).

    Polling: the emulator may serve from another thread and has no event
    to wait on; this is a barrier before reading its store, not a timing.
    """
    while emu.in_flight:  # noqa: ASYNC110
        await anyio.sleep(0.002)


def client_for(emu: Emulator, org: Organization, **kwargs: Any) -> DcycleClient:
    """A client bound to the emulator with the org's API key."""
    return DcycleClient(api_key=org.api_key, organization_id=org.id, base_url=emu.url, **kwargs)


def random_uuid(rng: random.Random) -> str:
    """A canonical UUID drawn from ``rng`` (reproducible, unknown to every org)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def respelled(rng: random.Random, value: str) -> str | uuid.UUID:
    """The same id spelled another way: upper case, braces, URN, bare hex or a UUID."""
    form = rng.randrange(5)
    if form == 0:
        return value.upper()
    if form == 1:
        return "{" + value + "}"
    if form == 2:
        return "urn:uuid:" + value
    if form == 3:
        return value.replace("-", "")
    return uuid.UUID(value)


@attrs.define
class Scenario:
    """One id operation's inputs against a seeded organisation, and the state before.

    Attributes:
        op: the operation.
        emu, org: where it runs.
        inputs: the ids as passed (with invalid and repeated ones).
        valid: the unique valid ids, canonical, in first-seen order.
        invalid: the invalid inputs, in order.
        known: valid ids that exist in the organisation.
        before: the records of the organisation (deletes) or the project's
            links (link, unlink) before the run.
        project, entity_type: for link and unlink.
    """

    op: Operation
    emu: Emulator
    org: Organization
    inputs: list[str | uuid.UUID]
    valid: list[str]
    invalid: list[str]
    known: set[str]
    before: set[str]
    project: str | None = None
    entity_type: EntityType | None = None

    @property
    def is_delete(self) -> bool:
        """True for the two bulk deletes."""
        return self.op.endswith("bulk_delete")

    @property
    def path(self) -> str:
        """The endpoint every chunk of the operation is posted to."""
        if self.op == "transports.bulk_delete":
            return "/v1/transports/bulk-delete"
        if self.op == "vehicles.bulk_delete":
            return "/v1/vehicles/bulk-delete"
        action = self.op.removeprefix("projects.")
        return f"/v1/projects/{self.project}/entities/{action}"

    def state(self) -> set[str]:
        """The organisation's records (deletes) or the project's links, now."""
        store = self.emu.store
        if self.op == "transports.bulk_delete":
            return store.transport_ids(self.org.id)
        if self.op == "vehicles.bulk_delete":
            return store.vehicle_ids(self.org.id)
        assert self.project is not None
        assert self.entity_type is not None
        return store.linked_ids(self.project, self.entity_type)

    async def run(self, client: DcycleClient, **kwargs: Any) -> Report:
        """Run the operation on ``inputs`` with ``client``."""
        if self.op == "transports.bulk_delete":
            return await client.transports.bulk_delete(self.inputs, **kwargs)
        if self.op == "vehicles.bulk_delete":
            return await client.vehicles.bulk_delete(self.inputs, **kwargs)
        assert self.project is not None
        assert self.entity_type is not None
        if self.op == "projects.link":
            return await client.projects.link(self.project, self.entity_type, self.inputs, **kwargs)
        return await client.projects.unlink(self.project, self.entity_type, self.inputs, **kwargs)


def make_scenario(
    emu: Emulator, org: Organization, op: Operation, rng: random.Random, *, size: int = 200
) -> Scenario:
    """Seed ``size`` records or entities for ``op`` and build a messy input for it.

    The input holds about 80% of the seeded ids, unknown ids, ids of another
    organisation, unique invalid strings and repeats in other spellings,
    shuffled.  For link about a quarter, for unlink about two thirds of the
    entities start linked.
    """
    store = emu.store
    foreign_org = emu.create_organization()
    project: str | None = None
    entity_type: EntityType | None = None
    if op == "transports.bulk_delete":
        seeded = store.seed_transports(org.id, size)
        foreign = store.seed_transports(foreign_org.id, 5)
    elif op == "vehicles.bulk_delete":
        seeded = store.seed_vehicles(org.id, size)
        foreign = store.seed_vehicles(foreign_org.id, 5)
    else:
        entity_type = rng.choice(list(EntityType))
        project = store.create_project(org.id)
        seeded = store.seed_entities(org.id, entity_type, size)
        foreign = store.seed_entities(foreign_org.id, entity_type, 5)
        share = 0.25 if op == "projects.link" else 0.66
        owner = store.project(org.id, project)
        assert owner is not None
        store.link(owner, entity_type, rng.sample(seeded, int(size * share)))
    chosen = rng.sample(seeded, int(size * 0.8))
    unknown = [random_uuid(rng) for _ in range(size // 20)]
    valid = [*chosen, *unknown, *foreign]
    rng.shuffle(valid)
    invalid = [f"not-an-id-{n}" for n in range(3)] + ["", valid[0][:-1] + "g"]
    inputs: list[str | uuid.UUID] = [*valid, *invalid]
    inputs += [respelled(rng, value) for value in rng.sample(valid, len(valid) // 10)]
    inputs += rng.sample(invalid, 2)
    rng.shuffle(inputs)
    # The order in which the client meets each valid id (chunks follow it).
    order = {value: n for n, value in enumerate(valid)}
    first_seen: dict[str, int] = {}
    for position, raw in enumerate(inputs):
        key = str(raw) if isinstance(raw, uuid.UUID) else raw
        canonical = _canonical(key)
        if canonical in order and canonical not in first_seen:
            first_seen[canonical] = position
    valid.sort(key=first_seen.__getitem__)
    invalid_order = [raw for raw in inputs if isinstance(raw, str) and raw in invalid]
    scenario = Scenario(
        op=op,
        emu=emu,
        org=org,
        inputs=inputs,
        valid=valid,
        invalid=list(dict.fromkeys(invalid_order)),
        known=set(seeded),
        before=set(),
        project=project,
        entity_type=entity_type,
    )
    scenario.before = scenario.state()
    return scenario


def _canonical(value: str) -> str | None:
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        return None


# --- fault mixes ---------------------------------------------------------------

#: Every fault the matrix injects, by name.  Only after a 429 does the
#: client know the attempt was not applied; after any other (a 5xx, a
#: dropped connection, a timeout) it may have been.
FAULT_KINDS: Final[dict[str, dict[str, Any]]] = {
    "429+retry-after": {"kind": "status", "status": 429, "retry_after": 1},
    "429+retry-after-date": {
        "kind": "status",
        "status": 429,
        "retry_after": "Wed, 21 Oct 2015 07:28:00 GMT",
    },
    "429": {"kind": "status", "status": 429},
    "500": {"kind": "status", "status": 500},
    "502": {"kind": "status", "status": 502, "body": "<html>502 Bad Gateway</html>"},
    "503": {"kind": "status", "status": 503},
    "504": {"kind": "status", "status": 504},
    "drop_before": {"kind": "drop_before"},
    "answer_lost": {"kind": "drop_after"},
}


def fault_mix(
    rng: random.Random, rate: float, path: str, extra: dict[str, dict[str, Any]] | None = None
) -> list[Fault]:
    """Faults on ``path`` that together hit a share ``rate`` of its requests.

    Each kind gets a random weight; the per-fault rates are corrected for
    the faults before it (the first one that fires wins), so that kind i
    hits its share of requests exactly in expectation.
    """
    kinds = {**FAULT_KINDS, **(extra or {})}
    names = list(kinds)
    rng.shuffle(names)
    weights = [rng.uniform(0.2, 1.0) for _ in names]
    total = sum(weights)
    faults: list[Fault] = []
    taken = 0.0
    for name, weight in zip(names, weights, strict=True):
        share = rate * weight / total
        spec = dict(kinds[name])
        kind = spec.pop("kind")
        faults.append(
            Fault(kind, rate=min(1.0, share / (1.0 - taken)), path=path, name=name, **spec)
        )
        taken += share
    return faults


# --- invariants ------------------------------------------------------------------


def flagged_ids(report: Report) -> set[str]:
    """Ids of the chunks the report flags as possibly applied by a lost attempt."""
    return {i for chunk in report.retried_chunks for i in chunk.ids}


def check_accounting(s: Scenario, report: Report, *, aborted: bool = False) -> None:
    """Every input is accounted for exactly once: valid, invalid or repeated."""
    assert list(report.invalid_ids) == s.invalid
    assert report.duplicate_count == len(s.inputs) - len(s.valid) - len(s.invalid)
    failed = Counter(report.failed_ids)
    assert all(n == 1 for n in failed.values()), "an id is reported failed twice"
    assert set(failed) <= set(s.valid)
    in_errors = Counter(i for error in report.errors for i in error.ids)
    assert all(n == 1 for n in in_errors.values()), "an id is in two failed chunks"
    assert set(in_errors) <= set(failed)
    if isinstance(report, BulkDeleteReport):
        assert Counter([*report.success_ids, *report.failed_ids]) == Counter(s.valid)
        assert report.success_count == len(report.success_ids)
        assert report.failed_count == len(report.failed_ids)
    else:
        if not aborted:
            assert set(failed) == set(in_errors), "only a failed chunk fails its ids"
        if isinstance(report, LinkReport):
            assert report.created + report.skipped + len(failed) == len(s.valid)
        else:
            assert report.deleted + len(failed) <= len(s.valid)
    assert report.ok == (not report.failed_ids and not report.invalid_ids and not report.errors)


def check_store(
    s: Scenario, report: Report, *, also_uncertain: frozenset[str] | set[str] = frozenset()
) -> None:
    """The store agrees with the report, and every disagreement is in a flagged chunk.

    Where an applied attempt's answer was lost the report cannot know, so
    it must flag the chunk (``retried_chunks``) instead of guessing.
    ``also_uncertain``: ids the caller knows to be of unknown outcome for
    another reason (chunks cancelled in flight by an abort).
    """
    after = s.state()
    valid = set(s.valid)
    failed = set(report.failed_ids)
    maybe = flagged_ids(report) | also_uncertain
    if isinstance(report, BulkDeleteReport):
        gone = s.before - after
        assert after <= s.before, "a record appeared"
        assert gone <= valid, "a record that was not asked for was deleted"
        assert set(report.success_ids) <= gone, "an id reported deleted is still there"
        assert after & valid <= failed, "an id still there is not reported failed"
        assert gone & failed <= maybe, "an id reported failed was deleted, unflagged"
        assert set(report.uncertain_ids) == failed & flagged_ids(report)
    elif isinstance(report, LinkReport):
        newly = after - s.before
        assert s.before <= after, "link removed a link"
        assert newly <= valid & s.known, "an id not asked for, or unknown, got linked"
        assert (valid & s.known) - failed <= after, "an id not reported failed is not linked"
        assert newly & failed <= maybe, "an id reported failed got linked, unflagged"
        assert report.created <= len(newly) <= report.created + len(newly & maybe)
    else:
        removed = s.before - after
        assert after <= s.before, "unlink created a link"
        assert removed <= valid, "a link not asked for was removed"
        assert not (valid - failed) & after, "an id not reported failed is still linked"
        assert removed & failed <= maybe, "an id reported failed got unlinked, unflagged"
        assert report.deleted <= len(removed) <= report.deleted + len(removed & maybe)


def check_exact(s: Scenario, report: Report) -> None:
    """With no chunk failed and no applied answer lost, the report is exact.

    Only the scenario's own ids are compared, so other operations may run
    on the same organisation at the same time.
    """
    valid = set(s.valid)
    assert not report.errors
    if isinstance(report, BulkDeleteReport):
        mine = s.known | valid
        assert set(report.success_ids) == valid & s.before
        assert set(report.failed_ids) == valid - s.before
        assert s.state() & mine == (s.before & mine) - valid
        return
    assert not report.failed_ids
    if isinstance(report, LinkReport):
        assert report.created == len((valid & s.known) - s.before)
        assert report.skipped == len(valid) - report.created
        assert s.state() == s.before | (valid & s.known)
    else:
        assert report.deleted == len(valid & s.before)
        assert s.state() == s.before - valid


def peak_overlap(records: list[RequestRecord]) -> int:
    """The most of these requests the server was serving at the same moment."""
    events = sorted(
        [(r.started, 1) for r in records] + [(r.started + r.duration, -1) for r in records]
    )
    current = peak = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


def chunks_served(s: Scenario) -> dict[str, list[RequestRecord]]:
    """The scenario's requests the emulator served, grouped by chunk (its first id)."""
    valid = set(s.valid)
    groups: dict[str, list[RequestRecord]] = defaultdict(list)
    for record in s.emu.requests:
        if record.path == s.path and record.first_id in valid:
            groups[record.first_id].append(record)
    # In arrival order: a timed-out attempt may be recorded after its retry.
    return {first: sorted(g, key=lambda r: r.started) for first, g in groups.items()}


def check_attempts(s: Scenario, report: Report, *, chunk_size: int, max_retries: int) -> None:
    """Retries follow failures only, never beyond max_retries; counts and flags match the server.

    The emulator's records are grouped by chunk: each chunk is sent again
    only after a faulted attempt, at most ``max_retries`` times; a chunk
    fails for good exactly when its last attempt was faulted; and it is
    flagged in ``retried_chunks`` exactly when an attempt other than a 429
    went unanswered (a 5xx, a drop or a timeout may have been applied).
    """
    groups = chunks_served(s)
    assert len(groups) == math.ceil(len(s.valid) / chunk_size)
    assert max(map(len, groups.values()), default=0) <= max_retries + 1
    assert report.requests == sum(map(len, groups.values()))
    assert report.retries == report.requests - len(groups)
    for first, attempts in groups.items():
        assert all(r.fault is not None for r in attempts[:-1]), (
            f"chunk {first} resent after a success"
        )
    failed_chunks = {error.ids[0] for error in report.errors}
    assert failed_chunks == {first for first, g in groups.items() if g[-1].fault is not None}
    for error in report.errors:
        assert isinstance(error.error, RateLimitError | ServerError | APIConnectionError)
        assert error.error.attempts == max_retries + 1
        assert len(groups[error.ids[0]]) == max_retries + 1
    unanswered = {
        first
        for first, g in groups.items()
        if any(
            r.fault is not None and r.status != NOT_APPLIED_STATUS
            for r in (g if first in failed_chunks else g[:-1])
        )
    }
    flagged = {chunk.ids[0] for chunk in report.retried_chunks}
    assert flagged == unanswered, {
        "flagged, all answered": [[r.fault for r in groups[f]] for f in flagged - unanswered],
        "unanswered, not flagged": [[r.fault for r in groups[f]] for f in unanswered - flagged],
    }
