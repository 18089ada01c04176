"""Synthetic traffic of the CleverCall.ai GDPR notice (seed 003) for policies/clevercall.yaml."""

from __future__ import annotations

from auditor.traffic import Pack, Template, Tenant
from auditor.traffic.clevercall import breaches, lawful
from auditor.traffic.clevercall.tenants import TENANTS


# Which tenants can produce a flow.
def phone_only(t: Tenant) -> bool:
    return t.settings.get("storage_mode") == "phone_only"


def keeps_data(t: Tenant) -> bool:
    return not phone_only(t)


def has_interval(t: Tenant) -> bool:
    """An anonymise-after customer that set its interval: the only ones with a limit."""
    return keeps_data(t) and isinstance(t.settings.get("anonymize_after_days"), int)


def no_interval(t: Tenant) -> bool:
    return keeps_data(t) and not has_interval(t)


def has_filters(t: Tenant) -> bool:
    """The customer set up filters that anonymise special categories immediately."""
    return keeps_data(t) and t.settings.get("sensitive_filters") is True


def no_filters(t: Tenant) -> bool:
    return keeps_data(t) and not has_filters(t)


TEMPLATES = (
    # the call
    Template("call audio streamed to CleverCall at ScanNet", 14, lawful.audio_streamed),
    Template("call audio transcribed at eu-cloud in Germany", 9, lawful.audio_transcribed_eu_cloud),
    Template("call audio transcribed at ScanNet", 5, lawful.audio_transcribed_scannet),
    Template("call audio buffered while transcribed (retention 0)", 4, lawful.audio_buffered),
    Template("transcript returned from eu-cloud to ScanNet", 6, lawful.transcript_returned),
    # stored, anonymised on schedule (anonymize_after customers)
    Template("transcript stored at ScanNet", 10, lawful.transcript_stored, tenants=keeps_data),
    Template(
        "special-category transcript stored anonymised",
        3,
        lawful.sensitive_transcript_anonymised,
        tenants=keeps_data,
    ),
    Template(
        "contact details stored at ScanNet", 5, lawful.contact_details_stored, tenants=keeps_data
    ),
    Template(
        "special-category transcript stored as it is (no filters set up)",
        1.5,
        breaches.sensitive_stored_unfiltered,
        tenants=no_filters,
    ),
    Template(
        "transcript kept with no limit (no interval set)",
        1.5,
        breaches.kept_without_interval,
        tenants=no_interval,
    ),
    Template(
        "phone number stored (anonymise-after customer)",
        3,
        lawful.number_stored,
        tenants=keeps_data,
    ),
    Template(
        "personal data anonymised on schedule", 4, lawful.anonymised_on_schedule, tenants=keeps_data
    ),
    Template("anonymised transcript kept for statistics", 2, lawful.anonymised_kept),
    Template('"Forget me" request', 1, lawful.forget_me, tenants=keeps_data),
    Template('"Forget me" deletion', 1, lawful.forget_me_deleted, tenants=keeps_data),
    Template(
        "transcript stored at eu-cloud (other EU hosting, warning)",
        1,
        lawful.stored_at_eu_cloud,
        tenants=keeps_data,
    ),
    # phone number only
    Template(
        "phone number stored for invoicing (phone-only)",
        5,
        lawful.number_for_invoicing,
        tenants=phone_only,
    ),
    Template("phone number read for the invoice run", 2, lawful.invoice_run, tenants=phone_only),
    Template("phone number deleted after invoicing", 2, lawful.number_deleted, tenants=phone_only),
    Template(
        "personal data passes through, not stored (phone-only)",
        3,
        lawful.transcript_passes_through,
        tenants=phone_only,
    ),
    # answers and access
    Template("static answer played", 6, lawful.static_answer_played),
    Template("dynamic answer generated at ScanNet", 6, lawful.dynamic_answer_generated),
    Template("caseworker reads via the portal", 5, lawful.caseworker_reads, tenants=keeps_data),
    Template(
        "support in Denmark reads a transcript", 1.5, lawful.support_reads, tenants=keeps_data
    ),
    Template("anonymised statistics analysed at eu-cloud", 1.5, lawful.anonymised_analytics),
    # violations
    Template(
        "transcript stored in an AWS EU region",
        1.2,
        breaches.stored_in_aws_eu,
        "violation",
        ("sovereignty",),
        keeps_data,
    ),
    Template(
        "call audio transcribed in Azure (EU region)",
        0.8,
        breaches.transcribed_in_azure,
        "violation",
        ("sovereignty",),
    ),
    Template(
        "transcript copied to AWS us-east-1",
        0.4,
        breaches.copied_to_us,
        "violation",
        ("residency", "sovereignty", "transfer"),
    ),
    Template(
        "special-category transcript stored without anonymisation",
        1.0,
        breaches.sensitive_stored_plain,
        "violation",
        ("special_category",),
        has_filters,
    ),
    Template(
        "phone-only customer stores contact details",
        0.8,
        breaches.phone_only_contacts_stored,
        "violation",
        ("retention",),
        phone_only,
    ),
    Template(
        "phone-only customer's number kept for analytics",
        0.6,
        breaches.phone_only_number_analytics,
        "violation",
        ("purpose",),
        phone_only,
    ),
    Template(
        "transcript kept past the customer's interval",
        0.8,
        breaches.kept_past_interval,
        "violation",
        ("retention",),
        has_interval,
    ),
    Template(
        "transcript sent over TLS 1.1", 0.6, breaches.sent_over_tls11, "violation", ("encryption",)
    ),
    Template(
        "call audio in plain RTP", 0.4, breaches.audio_plain_rtp, "violation", ("encryption",)
    ),
    Template(
        # CleverCall's own staff: no importer, so no Chapter V transfer (EDPB 05/2021),
        # but the data is read outside the EU.
        "support access from India",
        0.3,
        breaches.support_from_india,
        "violation",
        ("residency",),
    ),
    Template(
        "backup replicated to Norway",
        0.3,
        breaches.backup_in_norway,
        "violation",
        ("residency",),
        keeps_data,
    ),
    Template(
        "unknown region aws:eu-west-10",
        0.3,
        breaches.unknown_region,
        "violation",
        ("unknown_reference",),
        keeps_data,
    ),
    # bad input
    Template(
        "retention_days as text",
        0.2,
        breaches.retention_as_text,
        "invalid",
        ("schema",),
        keeps_data,
    ),
    Template("TLS version misspelt", 0.15, breaches.misspelt_tls, "invalid", ("schema",)),
)

PACK = Pack(
    name="clevercall",
    tenants=TENANTS,
    templates=TEMPLATES,
    services=(
        "call-gateway",
        "transcriber",
        "answer-engine",
        "storage",
        "anonymizer",
        "invoicing",
        "portal",
        "support-console",
        "analytics",
        "backup",
    ),
)
