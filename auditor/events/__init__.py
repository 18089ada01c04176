"""Lineage event v1: vocabulary, validation and the flow key the engine classifies."""

from auditor.events.validate import Parsed, parse_event, validation_error
from auditor.events.vocabulary import (
    AT_REST,
    DEROGATIONS,
    IN_TRANSIT,
    OPERATIONS,
    SPECIAL_CATEGORIES,
)

__all__ = [
    "AT_REST",
    "DEROGATIONS",
    "IN_TRANSIT",
    "OPERATIONS",
    "SPECIAL_CATEGORIES",
    "Parsed",
    "parse_event",
    "validation_error",
]
