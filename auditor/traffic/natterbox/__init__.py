"""Synthetic traffic of the Natterbox notices (seeds 000 and 001) for policies/natterbox.yaml."""

from __future__ import annotations

from auditor.traffic import Pack, Template, Tenant
from auditor.traffic.natterbox import breaches, lawful
from auditor.traffic.natterbox.tenants import TENANTS, recording_limit


# Which tenants can produce a flow.
def limited(t: Tenant) -> bool:
    return recording_limit(t) is not None


def not_opted_out(t: Tenant) -> bool:
    return t.settings.get("training_opt_out") is not True


def opted_out(t: Tenant) -> bool:
    return t.settings.get("training_opt_out") is True


TEMPLATES = (
    Template("route call in an AWS routing region", 16, lawful.route_call),
    Template("carrier transit leg (Art. 95)", 6, lawful.carrier_leg),
    Template("routing identity cached regionally", 5, lawful.routing_cache),
    Template("end-of-call logs to Home Region / UK over IPsec", 12, lawful.end_of_call_logs),
    Template("call log archived for billing / regulation", 6, lawful.archive_call_log),
    Template("call logs billed in the UK data centre", 4, lawful.bill_calls),
    Template("call information pushed to Salesforce", 7, lawful.crm_sync),
    Template("recording stored in EU Dublin", 7, lawful.record_eu),
    Template("recording stored in the Home Region", 5, lawful.record_home),
    Template("recording stored in the customer's own AWS", 2, lawful.record_customer_aws),
    Template("voicemail stored in AWS", 3, lawful.store_voicemail),
    Template("recording processed in the UK data centre, not kept", 3, lawful.process_recording_uk),
    Template("recording sent to the US transcription supplier", 5, lawful.to_transcription),
    Template("legacy AI data kept by the supplier", 3, lawful.supplier_keeps),
    Template("transcript stored in the Home Region", 3, lawful.transcript_home),
    Template("transcript analysed on Bedrock", 4, lawful.bedrock_analysis),
    Template("AI result stored in the Home Region", 3, lawful.store_ai_result),
    Template("AI result shown in Salesforce", 2, lawful.ai_result_to_crm),
    Template(
        "transcription partner trains on anonymised data",
        2,
        lawful.partner_training,
        tenants=not_opted_out,
    ),
    Template("support partner in India accesses data", 3, lawful.support_partner_access),
    Template("Natterbox staff access data for support", 2, lawful.staff_access),
    Template("operational logs kept up to 30 days", 5, lawful.operational_logs),
    # violations
    Template(
        "recording stored in Singapore",
        1.0,
        breaches.recording_in_singapore,
        verdict="violation",
        kinds=("residency",),
    ),
    Template(
        "end-of-call logs over TLS, not IPsec",
        0.8,
        breaches.logs_over_tls,
        verdict="violation",
        kinds=("encryption",),
    ),
    Template(
        "operational logs kept 45 days",
        0.8,
        breaches.operational_logs_45_days,
        verdict="violation",
        kinds=("retention",),
    ),
    Template(
        "recording kept past the tenant's limit",
        0.8,
        breaches.recording_over_retention,
        verdict="violation",
        kinds=("retention",),
        tenants=limited,
    ),
    Template(
        "partner training after the tenant opted out",
        0.5,
        breaches.training_after_opt_out,
        verdict="violation",
        kinds=("purpose",),
        tenants=opted_out,
    ),
    Template(
        "Bedrock output used for training",
        0.4,
        breaches.bedrock_output_training,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "support partner copies a recording to India",
        0.4,
        breaches.support_partner_copy,
        verdict="violation",
        kinds=("purpose", "residency"),
    ),
    Template(
        "Natterbox staff reach data from the US for billing, not support",
        0.3,
        breaches.staff_billing_from_us,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "carrier receives a recording in the US",
        0.3,
        breaches.carrier_gets_recording,
        verdict="violation",
        kinds=("transfer",),
    ),
    Template(
        "partner trains on health data not anonymised",
        0.2,
        breaches.training_with_health_data,
        verdict="violation",
        kinds=("purpose", "special_category"),
        tenants=not_opted_out,
    ),
    Template(
        "transcription supplier processes in Mumbai",
        0.3,
        breaches.supplier_in_mumbai,
        verdict="violation",
        kinds=("residency",),
    ),
    Template(
        "recording processed by the US supplier unencrypted in transit",
        0.3,
        breaches.supplier_processes_unencrypted,
        verdict="violation",
        kinds=("encryption",),
    ),
    # fail closed and dead letters
    Template(
        "recording sent to an unknown region",
        0.3,
        breaches.unknown_region,
        verdict="violation",
        kinds=("unknown_reference",),
    ),
    Template(
        "retention_days written as text",
        0.3,
        breaches.retention_as_text,
        verdict="invalid",
        kinds=("schema",),
    ),
    Template(
        "unknown cipher name",
        0.2,
        breaches.unknown_cipher,
        verdict="invalid",
        kinds=("schema",),
    ),
)

PACK = Pack(
    name="natterbox",
    tenants=TENANTS,
    templates=TEMPLATES,
    services=("call-router", "log-shipper", "recording-store", "ai-pipeline", "crm-connector"),
)
