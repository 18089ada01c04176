"""The Kafka key of an event and of its decision: one tenant's events stay in one partition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditor.events.flow import Event


def partition_key(event: Mapping[str, Any]) -> bytes | None:
    """Partition key of an event: its tenant id, else its subject key, else its event id.

    Kafka keeps order only within a partition, and the auditor's stateful rules (a
    tenant's home region never changes, erasure of a subject) need a tenant's events in
    the order they happened: keying by tenant puts all of them in one partition. Events
    with no tenant fall back to the data subject (erasure order), then to the event id
    (no ordering need; spreads load evenly).
    """
    tenant = event.get("tenant")
    if isinstance(tenant, Mapping):
        tenant_id = tenant.get("id")
        if isinstance(tenant_id, str) and tenant_id:
            return tenant_id.encode("utf-8")
    subject = event.get("subject")
    if isinstance(subject, Mapping):
        subject_key = subject.get("key")
        if isinstance(subject_key, str) and subject_key:
            return subject_key.encode("utf-8")
    event_id = event.get("event_id")
    if isinstance(event_id, str) and event_id:
        return event_id.encode("utf-8")
    return None


def event_key(event: Event) -> bytes | None:
    """``partition_key(event.value)`` of a validated event, from its typed fields.

    Validation already found the tenant id, the subject key and the event id to be
    strings, so this is the same key without looking through the event again (the
    worker asks it of every event when it re-keys: auditor.stream.rekey).
    """
    key = event.tenant or event.subject or event.event_id
    return key.encode("utf-8") if key else None
