"""A stateful model of the emulator, driven through the client by hypothesis.

Random sequences of transport and vehicle bulk deletes, links and unlinks
(random subsets with unknown, foreign, invalid and repeated ids, in several
spellings), with bursts of transient faults now and then, are checked
against a plain Python model: after every step each report says what the
model predicts and the emulator's store equals the model.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import dcycle_async
from dcycle_async import BulkDeleteReport, DcycleClient, EntityType, LinkReport, UnlinkReport
from dcycle_async.testing import Emulator, Fault
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

MAX_RETRIES = 3
ENTITY_TYPES = (EntityType.INVOICES, EntityType.LOGISTIC_REQUESTS)
INVALID = ("not-an-id", "", "12345", "g" * 36)
SPELLINGS = ("canonical", "upper", "uuid", "braces")


def spell(value: str, how: str) -> str | uuid.UUID:
    """``value`` written the way ``how`` names."""
    if how == "upper":
        return value.upper()
    if how == "uuid":
        return uuid.UUID(value)
    if how == "braces":
        return "{" + value + "}"
    return value


class ClientAgainstModel(RuleBasedStateMachine):
    """The client and emulator on one event loop per example; a set-based model beside them."""

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.emu = Emulator(seed=0)
        self.org = self.emu.create_organization()
        foreign = self.emu.create_organization()
        store = self.emu.store
        self.transports = set(store.seed_transports(self.org.id, 12))
        self.vehicles = set(store.seed_vehicles(self.org.id, 12))
        self.entities = {t: set(store.seed_entities(self.org.id, t, 12)) for t in ENTITY_TYPES}
        self.projects = [store.create_project(self.org.id) for _ in range(2)]
        self.links: dict[tuple[str, EntityType], set[str]] = {
            (p, t): set() for p in self.projects for t in ENTITY_TYPES
        }
        unknown = [str(uuid.UUID(int=n + 1, version=4)) for n in range(4)]
        self.pools: dict[str, list[str]] = {
            "transports": sorted(self.transports) + unknown + store.seed_transports(foreign.id, 2),
            "vehicles": sorted(self.vehicles) + unknown + store.seed_vehicles(foreign.id, 2),
        }
        for t in ENTITY_TYPES:
            foreign_entities = store.seed_entities(foreign.id, t, 2)
            self.pools[t.value] = sorted(self.entities[t]) + unknown + foreign_entities
        self.runner.run(self.emu.start())
        self.client = DcycleClient(
            api_key=self.org.api_key,
            organization_id=self.org.id,
            base_url=self.emu.url,
            max_retries=MAX_RETRIES,
            max_concurrency=3,
        )
        self.chunk_size = 1
        # True while an "answer lost" fault may still fire: reports may then
        # count an applied change as skipped / not found (flagged chunks).
        self.lossy = False

    def teardown(self) -> None:
        """Close the client, stop the emulator and the loop."""
        try:
            self.runner.run(self.client.aclose())
            self.runner.run(self.emu.stop())
        finally:
            self.runner.close()

    # --- inputs --------------------------------------------------------------

    def draw_ids(self, data: st.DataObject, pool: str) -> tuple[list[Any], list[str], list[str]]:
        """A random input from a pool: (as passed, unique valid ids, unique invalid ones)."""
        entry = st.one_of(
            st.tuples(st.sampled_from(self.pools[pool]), st.sampled_from(SPELLINGS)),
            st.tuples(st.sampled_from(INVALID), st.just("invalid")),
        )
        drawn = data.draw(st.lists(entry, max_size=25), label=f"{pool} ids")
        inputs = [value if how == "invalid" else spell(value, how) for value, how in drawn]
        valid = list(dict.fromkeys(value for value, how in drawn if how != "invalid"))
        invalid = list(dict.fromkeys(value for value, how in drawn if how == "invalid"))
        return inputs, valid, invalid

    def check_common(
        self,
        report: BulkDeleteReport | LinkReport | UnlinkReport,
        inputs: list[Any],
        valid: list[str],
        invalid: list[str],
    ) -> None:
        """Invalid and repeated inputs are reported; no chunk failed; requests add up."""
        assert list(report.invalid_ids) == invalid
        assert report.duplicate_count == len(inputs) - len(valid) - len(invalid)
        assert not report.errors
        assert report.retries == report.requests - sum(
            1 for _ in range(0, len(valid), self.chunk_size)
        )

    # --- rules -----------------------------------------------------------------

    @initialize(chunk_size=st.integers(1, 8))
    def choose_chunk_size(self, chunk_size: int) -> None:
        """Every operation of the example uses this chunk size."""
        self.chunk_size = chunk_size

    @rule(
        kind=st.sampled_from(["429", "503", "drop_before", "answer_lost"]),
        times=st.integers(1, MAX_RETRIES),
    )
    def transient_faults(self, kind: str, times: int) -> None:
        """The next few requests fail; never more than one chunk's retries can absorb."""
        self.emu.faults.clear()
        if kind == "429":
            fault = Fault("status", status=429, retry_after=1, times=times)
        elif kind == "503":
            fault = Fault("status", status=503, times=times)
        elif kind == "drop_before":
            fault = Fault("drop_before", times=times)
        else:
            fault = Fault("drop_after", times=times)
        self.emu.faults.add(fault)
        self.lossy = kind == "answer_lost"

    @rule(data=st.data(), resource=st.sampled_from(["transports", "vehicles"]))
    def bulk_delete(self, data: st.DataObject, resource: str) -> None:
        """Deleted ids leave the model; unknown, foreign and gone ids come back failed."""
        inputs, valid, invalid = self.draw_ids(data, resource)
        records = self.transports if resource == "transports" else self.vehicles
        api = self.client.transports if resource == "transports" else self.client.vehicles
        report = self.runner.run(api.bulk_delete(inputs, chunk_size=self.chunk_size))
        self.check_common(report, inputs, valid, invalid)
        present = records.intersection(valid)
        assert Counter([*report.success_ids, *report.failed_ids]) == Counter(valid)
        assert set(report.success_ids) <= present
        # Only an id whose answer was lost may be reported failed although present.
        assert present - set(report.success_ids) <= set(report.uncertain_ids)
        if not self.lossy:
            assert set(report.success_ids) == present
        records.difference_update(valid)

    @rule(data=st.data(), project=st.integers(0, 1), entity_type=st.sampled_from(ENTITY_TYPES))
    def link(self, data: st.DataObject, project: int, entity_type: EntityType) -> None:
        """Known unlinked ids are created, the rest skipped (an unknown id too)."""
        inputs, valid, invalid = self.draw_ids(data, entity_type.value)
        key = (self.projects[project], entity_type)
        report = self.runner.run(
            self.client.projects.link(key[0], entity_type, inputs, chunk_size=self.chunk_size)
        )
        self.check_common(report, inputs, valid, invalid)
        new = self.entities[entity_type].intersection(valid) - self.links[key]
        assert not report.failed_ids
        assert report.created + report.skipped == len(valid)
        lost = {i for chunk in report.retried_chunks for i in chunk.ids}
        assert report.created <= len(new) <= report.created + len(new & lost)
        if not self.lossy:
            assert report.created == len(new)
        self.links[key] |= new

    @rule(data=st.data(), project=st.integers(0, 1), entity_type=st.sampled_from(ENTITY_TYPES))
    def unlink(self, data: st.DataObject, project: int, entity_type: EntityType) -> None:
        """Linked ids are unlinked and counted; the others are not counted and not failures."""
        inputs, valid, invalid = self.draw_ids(data, entity_type.value)
        key = (self.projects[project], entity_type)
        report = self.runner.run(
            self.client.projects.unlink(key[0], entity_type, inputs, chunk_size=self.chunk_size)
        )
        self.check_common(report, inputs, valid, invalid)
        linked = self.links[key].intersection(valid)
        assert not report.failed_ids
        lost = {i for chunk in report.retried_chunks for i in chunk.ids}
        assert report.deleted <= len(linked) <= report.deleted + len(linked & lost)
        if not self.lossy:
            assert report.deleted == len(linked)
        self.links[key] -= linked

    @precondition(lambda self: len(self.emu.faults) == 0)
    @rule()
    def calm(self) -> None:
        """No fault is pending: reports from here on are exact."""
        self.lossy = False

    # --- invariants ------------------------------------------------------------

    @invariant()
    def store_matches_model(self) -> None:
        """The emulator holds exactly the records and links of the model."""
        store = self.emu.store
        assert store.transport_ids(self.org.id) == self.transports
        assert store.vehicle_ids(self.org.id) == self.vehicles
        for (project, entity_type), linked in self.links.items():
            assert store.linked_ids(project, entity_type) == linked

    @invariant()
    def backoff_is_off(self) -> None:
        """Retries run without sleeping (the suite's testing switch is on)."""
        assert dcycle_async.is_testing()


ClientAgainstModel.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestClientAgainstModel = ClientAgainstModel.TestCase
