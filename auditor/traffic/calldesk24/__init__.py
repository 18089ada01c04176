"""Synthetic traffic of the 24CallDesk notice (seed 002) for policies/24calldesk.yaml."""

from __future__ import annotations

from auditor.traffic import Pack, Template, Tenant
from auditor.traffic.calldesk24 import breaches, lawful
from auditor.traffic.calldesk24.tenants import CALENDARS, TENANTS, enabled


# Which tenants can produce a flow.
def eu_resident(t: Tenant) -> bool:
    return t.settings.get("eu_residency") is True


def not_eu_resident(t: Tenant) -> bool:
    return not eu_resident(t)


TEMPLATES = (
    Template("recording stored in the hosting region", 14, lawful.recording_stored),
    Template("transcript stored", 9, lawful.transcript_stored),
    Template("transcript sent to OpenAI", 11, lawful.transcript_to_openai),
    Template("AI summary generated", 7, lawful.summary_generated),
    Template("AI summary stored", 4, lawful.summary_stored),
    Template("reply spoken by voice synthesis", 8, lawful.reply_spoken),
    Template("live call audio to Twilio (SRTP)", 7, lawful.live_audio_to_twilio),
    Template("call metadata from Twilio", 4, lawful.call_metadata_from_twilio),
    Template("SMS sent through Twilio", 4, lawful.sms_sent),
    Template(
        "calendar synced (enabled)",
        5,
        lawful.calendar_synced,
        tenants=lambda t: any(p in CALENDARS for p in enabled(t)),
    ),
    Template(
        "contact pushed to the tenant's CRM (enabled)",
        2.5,
        lawful.crm_synced,
        tenants=lambda t: "customer-crm" in enabled(t),
    ),
    Template(
        "Zapier webhook (enabled)",
        1.5,
        lawful.zapier_webhook,
        tenants=lambda t: "zapier" in enabled(t),
    ),
    Template("contact record stored", 4, lawful.contact_stored),
    Template("assistant personalised on own transcripts", 3, lawful.assistant_personalised),
    Template("aggregate analytics computed", 2.5, lawful.analytics_computed),
    Template("analytics stored", 1, lawful.analytics_stored),
    Template(
        "support access with permission",
        1.5,
        lawful.support_with_permission,
        tenants=lambda t: t.settings.get("support_access_granted") is True,
    ),
    Template("security monitoring", 2, lawful.security_monitoring),
    Template("team member login", 2, lawful.team_login),
    Template("billing details updated", 1, lawful.billing_updated),
    Template("recording deleted at end of retention", 2, lawful.recording_deleted),
    Template(
        "EU-residency transcript processed in the US (warning)",
        0.5,
        lawful.eu_transcript_processed_in_us,
        tenants=eu_resident,
    ),
    Template(
        "recording uploaded over TLS 1.2",
        1.2,
        breaches.recording_over_tls12,
        verdict="violation",
        kinds=("encryption",),
    ),
    Template(
        "recording kept past the tenant's retention",
        1.2,
        breaches.recording_kept_too_long,
        verdict="violation",
        kinds=("retention",),
    ),
    Template(
        "EU-residency recording stored in us-east-1",
        0.8,
        breaches.recording_hosted_in_us_for_eu_tenant,
        tenants=eu_resident,
        verdict="violation",
        kinds=("residency",),
    ),
    Template(
        "contact list shared with an ad network",
        0.4,
        breaches.contacts_to_ad_network,
        tenants=not_eu_resident,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "EU contact list shared with an ad network",
        0.2,
        breaches.contacts_to_ad_network,
        tenants=eu_resident,
        verdict="violation",
        kinds=("purpose", "transfer"),
    ),
    Template(
        "contact records sold to a data broker",
        0.2,
        breaches.contacts_sold,
        tenants=not_eu_resident,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "support opened a recording without permission",
        0.6,
        breaches.support_without_permission,
        tenants=lambda t: t.settings.get("support_access_granted") is not True,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "24CallDesk staff read a recording or transcript for analytics",
        0.4,
        breaches.staff_read_for_analytics,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "calendar sync not enabled by the tenant",
        0.5,
        breaches.calendar_not_enabled,
        tenants=lambda t: "google-calendar" not in enabled(t),
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "OpenAI retains a transcript 30 days",
        0.4,
        breaches.openai_keeps_transcript,
        verdict="violation",
        kinds=("retention",),
    ),
    Template(
        "UK caller's transcript straight to OpenAI",
        0.3,
        breaches.uk_caller_to_openai,
        tenants=lambda t: t.id == "thames-lettings",
        verdict="violation",
        kinds=("transfer",),
    ),
    Template(
        "transcripts train another customer's model",
        0.3,
        breaches.trains_other_customers,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "Zapier webhook over TLS 1.2",
        0.3,
        breaches.webhook_over_tls12,
        tenants=lambda t: "zapier" in enabled(t),
        verdict="violation",
        kinds=("encryption",),
    ),
    Template(
        "recording stored in an unknown region",
        0.2,
        breaches.unknown_region,
        verdict="violation",
        kinds=("unknown_reference",),
    ),
    Template(
        "retention_days sent as text",
        0.3,
        breaches.retention_as_text,
        verdict="invalid",
        kinds=("schema",),
    ),
    Template(
        "TLS version misspelt", 0.2, breaches.misspelt_tls, verdict="invalid", kinds=("schema",)
    ),
)

PACK = Pack(
    name="24calldesk",
    tenants=TENANTS,
    templates=TEMPLATES,
    services=("call-engine", "transcriber", "assistant", "integrations", "console", "analytics"),
)
