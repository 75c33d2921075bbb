"""What every implementation is given (a ``Job``) and hands back (an ``Outcome``)."""

from __future__ import annotations

from typing import Any, Final, Literal

import attrs

__all__ = ["API_KEY", "ORG_ID", "PROJECT_ID", "Job", "Outcome", "request_headers"]

# The fast server checks nothing; the emulator gets these (or its own) credentials.
API_KEY: Final = "sk_bench_0123456789abcdef0123456789abcdef"
ORG_ID: Final = "5d0a3c9e-7b1f-4e2a-9c3d-8f6e5a4b3c2d"
PROJECT_ID: Final = "b7f2a1c3-4d5e-4f7a-8b9c-0d1e2f3a4b5c"

Kind = Literal["link", "delete"]


@attrs.frozen
class Job:
    """One workload's sending, as every implementation must do it.

    Attributes:
        kind: ``link`` (POST {entity_type, entity_ids}, answer {created, skipped})
            or ``delete`` (POST {transport_ids}, answer the 5-field summary).
        base_url: the server, e.g. ``http://127.0.0.1:8080``.
        ids: the ids to send, pre-generated before the clock starts.
        chunk_size, concurrency: as the workload says.
    """

    kind: Kind
    base_url: str
    ids: list[str]
    chunk_size: int
    concurrency: int
    api_key: str = API_KEY
    org_id: str = ORG_ID
    project_id: str = PROJECT_ID
    entity_type: str = "invoices"

    @property
    def url(self) -> str:
        """The endpoint every chunk is posted to."""
        if self.kind == "link":
            return f"{self.base_url}/v1/projects/{self.project_id}/entities/link"
        return f"{self.base_url}/v1/transports/bulk-delete"

    def body(self, chunk: list[str]) -> dict[str, Any]:
        """The JSON body of one chunk."""
        if self.kind == "link":
            return {"entity_type": self.entity_type, "entity_ids": chunk}
        return {"transport_ids": chunk}

    def chunks(self) -> list[list[str]]:
        """The ids cut into chunk_size slices."""
        ids, size = self.ids, self.chunk_size
        return [ids[i : i + size] for i in range(0, len(ids), size)]


@attrs.define
class Outcome:
    """What an implementation did: requests sent and ids the server confirmed.

    ``ok`` is ``created + skipped`` for links and ``success_count`` for
    deletes; ``failed`` is the ids the server refused (deletes only).
    """

    requests: int = 0
    ok: int = 0
    failed: int = 0
    ids_sent: int = 0


def request_headers(job: Job) -> dict[str, str]:
    """The headers the hand-written loops send (what the API documents)."""
    return {
        "x-api-key": job.api_key,
        "x-organization-id": job.org_id,
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
