"""OpenLineage RunEvents that carry a lineage event v1 in the ``auditor_dataFlow`` run facet."""

from __future__ import annotations

from typing import Any

from auditor.events.invalid import Invalid

FACET = "auditor_dataFlow"
# Versioned and immutable, as OpenLineage asks of custom facets: a change to the facet is a
# new version folder beside this one (schemas/openlineage/facets/), never an edit. Readers
# take the facet whatever version its RunEvent names.
FACET_VERSION = "1-0-0"
FACET_SCHEMA_URL = (
    f"https://auditor.dev/schemas/openlineage/facets/{FACET_VERSION}/"
    "auditor-data-flow-run-facet.json#/$defs/AuditorDataFlowRunFacet"
)


def is_run_event(value: object) -> bool:
    """True if ``value`` is shaped like an OpenLineage RunEvent (not a v1 event)."""
    return type(value) is dict and "eventType" in value and "run" in value


def unwrap_run_event(run_event: dict[str, Any]) -> dict[str, Any] | Invalid:
    """The v1 event carried by an OpenLineage RunEvent, or an Invalid saying why not.

    The facet holds the v1 fields; ``event_id`` defaults to ``<runId>:<eventType>`` and
    ``event_time`` to the RunEvent's ``eventTime``. The facet's ``_producer`` and
    ``_schemaURL`` (OpenLineage's facet bookkeeping) are not part of the event.
    """
    run = run_event.get("run")
    facets = run.get("facets") if isinstance(run, dict) else None
    facet = facets.get(FACET) if isinstance(facets, dict) else None
    if not isinstance(facet, dict):
        return Invalid.of(
            "openlineage", "openlineage",
            f"RunEvent has no run facet '{FACET}' carrying a lineage event",
        )
    event = {k: v for k, v in facet.items() if k not in ("_producer", "_schemaURL", "_deleted")}
    run_id = run.get("runId") if isinstance(run, dict) else None
    if "event_id" not in event and isinstance(run_id, str):
        event["event_id"] = f"{run_id}:{run_event.get('eventType', 'OTHER')}"
    if "event_time" not in event and isinstance(run_event.get("eventTime"), str):
        event["event_time"] = run_event["eventTime"]
    return event
