"""The resources reached as ``client.projects``, ``client.transports``, ``client.vehicles``."""

from ._projects import ProjectsResource
from ._records import RecordsResource
from ._transports import TransportsResource
from ._vehicles import VehiclesResource

__all__ = ["ProjectsResource", "RecordsResource", "TransportsResource", "VehiclesResource"]
