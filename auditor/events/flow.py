"""The typed records of one valid event: its flow key and the event around it."""

from __future__ import annotations

from typing import Any

import msgspec

# A tenant setting as the flow keys it: (name, Python type, value). The type is part of
# the key because True == 1 in Python but not in a policy.
SettingItem = tuple[str, type, Any]


class Flow(msgspec.Struct, frozen=True, gc=False):
    """Every field of an event that can change its stateless decision.

    Equal flows at the same legal epoch get equal decisions, so this is the decision
    cache's key: hashable, compared field by field (msgspec hashes it in C).
    """

    data_class: str
    operation: str
    origin: str
    destination: str
    processor: str | None
    purpose: str | None
    in_transit: str | None
    at_rest: str | None
    retention_days: int | None
    retention_stated: bool
    special_categories: tuple[str, ...]
    anonymized: bool
    home_region: str | None
    settings: tuple[SettingItem, ...]
    derogation: str | None
    # The regime an onward transfer stays under (spec §1 origin.regime), if stated.
    origin_regime: str | None = None


class Event(msgspec.Struct, frozen=True, gc=False):
    """A valid lineage event v1: what the engine decides and what memory remembers."""

    event_id: str
    at: float  # event_time as POSIX seconds
    flow: Flow
    tenant: str | None
    subject: str | None
    system: str | None  # destination.system
    value: dict[str, Any]  # the event as decoded; it rides along in the decision record
    json: bytes = b""  # ``value`` as orjson writes it, when the input layer has it
