"""Enumerations shared by every layer (a leaf module)."""

from __future__ import annotations

import enum

__all__ = ["ArrayStyle", "EntityType"]


class EntityType(enum.StrEnum):
    """The entity types that can be linked to a project.

    Every operation that takes an ``entity_type`` also accepts the plain
    strings the API uses (``"invoices"``, ...).
    """

    LOGISTIC_REQUESTS = "logistic_requests"
    LOGISTIC_RECHARGES = "logistic_recharges"
    LOGISTIC_PACKAGES = "logistic_packages"
    INVOICES = "invoices"
    FILE_READINGS = "file_readings"


class ArrayStyle(enum.StrEnum):
    """How a multi-valued filter is written into a query string.

    The Dcycle docs use both: ``REPEAT`` is ``status=a&status=b`` (the
    transports pages and the vehicles list page), ``BRACKETS`` is
    ``status[]=a&status[]=b`` (the vehicles bulk-delete-by-filters page).
    """

    REPEAT = "repeat"
    BRACKETS = "brackets"
