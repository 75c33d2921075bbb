"""dcycle_async: an asyncio-first client for the Dcycle API's bulk endpoints.

Link, unlink and delete hundreds of thousands to millions of records: ids
are normalised, deduplicated, chunked to the API's limits, sent
concurrently under a limiter, retried when safe, and merged into one report.
"""

from ._batching import DELETE_CHUNK_LIMIT, LINK_CHUNK_LIMIT
from ._client import DcycleClient
from ._config import ClientConfig
from ._enums import ArrayStyle, EntityType
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BulkOperationError,
    ConflictError,
    DcycleError,
    FilterHashMismatchError,
    InvalidFiltersError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
)
from ._filters import (
    FileReadingsFilters,
    InvoicesFilters,
    LogisticPackagesFilters,
    LogisticRechargesFilters,
    LogisticRequestsFilters,
    TransportFilters,
    VehicleFilters,
)
from ._models import (
    BulkDeleteReport,
    ChunkError,
    DeletePreview,
    Emission,
    LinkByFiltersResult,
    LinkReport,
    Page,
    Progress,
    RetriedChunk,
    TransportRoute,
    TransportSection,
    TransportUnit,
    UnlinkReport,
    UploadedBy,
    Vehicle,
)
from ._retry import RetryPolicy, is_testing, set_testing
from ._version import __version__

__all__ = [
    "DELETE_CHUNK_LIMIT",
    "LINK_CHUNK_LIMIT",
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "ArrayStyle",
    "AuthenticationError",
    "BulkDeleteReport",
    "BulkOperationError",
    "ChunkError",
    "ClientConfig",
    "ConflictError",
    "DcycleClient",
    "DcycleError",
    "DeletePreview",
    "Emission",
    "EntityType",
    "FileReadingsFilters",
    "FilterHashMismatchError",
    "InvalidFiltersError",
    "InvalidResponseError",
    "InvoicesFilters",
    "LinkByFiltersResult",
    "LinkReport",
    "LogisticPackagesFilters",
    "LogisticRechargesFilters",
    "LogisticRequestsFilters",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "Progress",
    "RateLimitError",
    "RetriedChunk",
    "RetryPolicy",
    "ServerError",
    "TransportFilters",
    "TransportRoute",
    "TransportSection",
    "TransportUnit",
    "UnlinkReport",
    "UnprocessableEntityError",
    "UploadedBy",
    "Vehicle",
    "VehicleFilters",
    "__version__",
    "is_testing",
    "set_testing",
]
