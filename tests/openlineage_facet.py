"""The auditor_dataFlow facet as a service would build it with the openlineage-python client."""

from __future__ import annotations

from typing import Any

import attr
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import RunFacet
from openlineage.client.serde import Serde

from auditor.intake.openlineage import FACET, FACET_SCHEMA_URL

PRODUCER = "https://github.com/example/recorder-service/v1.4.0"


@attr.define
class AuditorDataFlowRunFacet(RunFacet):
    data_class: str
    operation: str
    origin: dict[str, Any]
    destination: dict[str, Any]
    processor: str | None = None
    purpose: str | None = None
    tenant: dict[str, Any] | None = None
    encryption: dict[str, Any] | None = None
    retention_days: int | None = None

    @staticmethod
    def _get_schema() -> str:
        return FACET_SCHEMA_URL


def golden_run_event(processor: str = "dpf-processor") -> str:
    """A COMPLETE RunEvent of a recording upload, serialised by the client."""
    facet = AuditorDataFlowRunFacet(
        data_class="personal_data",
        operation="transfer",
        origin={"location": "aws:eu-central-1"},
        destination={"location": "aws:us-east-1"},
        processor=processor,
        tenant={"id": "acme"},
        encryption={"in_transit": "tls1.3"},
    )
    facet._producer = PRODUCER
    event = RunEvent(
        eventType=RunState.COMPLETE,
        eventTime="2026-03-02T09:00:00.000Z",
        run=Run(runId="0191c4a8-7e44-7c1a-9d52-3c7f2f0f5a11", facets={FACET: facet}),
        job=Job(namespace="recorder", name="upload_recording"),
        producer=PRODUCER,
    )
    text: str = Serde.to_json(event)
    return text
