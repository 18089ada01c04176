"""Lineage event v1: vocabulary, validation into typed records, partition keys."""

from auditor.events.flow import Event, Flow
from auditor.events.invalid import CODES, Invalid
from auditor.events.validate import parse_event, validation_error
from auditor.events.vocabulary import (
    AT_REST,
    DEROGATIONS,
    IN_TRANSIT,
    OPERATIONS,
    SPECIAL_CATEGORIES,
)

__all__ = [
    "AT_REST",
    "CODES",
    "DEROGATIONS",
    "IN_TRANSIT",
    "OPERATIONS",
    "SPECIAL_CATEGORIES",
    "Event",
    "Flow",
    "Invalid",
    "parse_event",
    "validation_error",
]
