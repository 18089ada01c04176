"""Synthetic traffic of the 24CallDesk notice (seed 002) for policies/24calldesk.yaml."""

from __future__ import annotations

import random

from auditor.traffic import Event, Pack, Template, Tenant

TLS13 = {"in_transit": "tls1.3"}
STORED = {"in_transit": "tls1.3", "at_rest": "aes-256"}
CALENDARS = ("google-calendar", "microsoft-calendar")


def _tenant(tid: str, **settings: object) -> Tenant:
    return Tenant(tid, settings=settings)


TENANTS = (
    _tenant("bobs-plumbing", enabled_integrations="google-calendar"),
    _tenant(
        "sunrise-dental",
        recording_retention_days=30,
        support_access_granted=True,
        enabled_integrations="google-calendar,customer-crm",
    ),
    _tenant(
        "lexington-law",
        recording_retention_days=365,
        transcript_retention_days=730,
        enabled_integrations="microsoft-calendar,customer-crm",
    ),
    _tenant("quickfix-hvac"),
    _tenant("green-leaf-landscaping", support_access_granted=True, enabled_integrations="zapier"),
    _tenant(
        "metro-realty",
        recording_retention_days=180,
        enabled_integrations="google-calendar, zapier",
    ),
    _tenant("pawsome-vet", transcript_retention_days=90, enabled_integrations="microsoft-calendar"),
    _tenant("cityline-auto", recording_retention_days=60, support_access_granted=False),
    _tenant(
        "harbor-insurance",
        recording_retention_days=3650,
        transcript_retention_days=3650,
        support_access_granted=True,
        enabled_integrations="customer-crm,zapier",
    ),
    _tenant("toronto-movers", enabled_integrations="google-calendar"),
    _tenant("thames-lettings", enabled_integrations="microsoft-calendar"),
    _tenant("praxis-weber", eu_residency=True, enabled_integrations="microsoft-calendar"),
    _tenant(
        "cabinet-durand",
        eu_residency=True,
        recording_retention_days=60,
        support_access_granted=True,
    ),
    _tenant("dublin-physio", eu_residency=True, enabled_integrations="google-calendar"),
)

# Where each tenant's callers are, and (for EU residency) where its data is hosted.
_CALLERS = {
    "toronto-movers": "CA",
    "thames-lettings": "GB",
    "praxis-weber": "DE",
    "cabinet-durand": "FR",
    "dublin-physio": "IE",
}
_EU_HOSTING = {
    "praxis-weber": "aws:eu-central-1",
    "cabinet-durand": "aws:eu-west-3",
    "dublin-physio": "aws:eu-west-1",
}


def _caller(t: Tenant) -> dict[str, str]:
    return {"location": f"country:{_CALLERS.get(t.id, 'US')}"}


def _hosting(rng: random.Random, t: Tenant) -> str:
    return _EU_HOSTING.get(t.id) or rng.choice(("aws:us-east-1", "aws:us-east-1", "aws:us-west-2"))


def _setting(t: Tenant, name: str, default: int) -> int:
    value = t.settings.get(name, default)
    return value if isinstance(value, int) else default


def _enabled(t: Tenant) -> list[str]:
    text = str(t.settings.get("enabled_integrations", ""))
    return [p.strip() for p in text.split(",") if p.strip()]


def _eu(t: Tenant) -> bool:
    return t.settings.get("eu_residency") is True


def _flow(rng: random.Random, t: Tenant, data_class: str, operation: str, **rest: object) -> Event:
    """A flow inside the tenant's hosting region; ``rest`` overrides or adds fields."""
    region = _hosting(rng, t)
    event: Event = {
        "data_class": data_class,
        "operation": operation,
        "origin": {"location": region},
        "destination": {"location": region},
    }
    event.update(rest)
    return event


# --- lawful flows -------------------------------------------------------------------------
def recording_stored(rng: random.Random, t: Tenant) -> Event:
    return {
        "data_class": "call_recording",
        "operation": "store",
        "origin": _caller(t),
        "destination": {"location": _hosting(rng, t), "system": "s3"},
        "processor": rng.choice(("24calldesk", "aws")),
        "encryption": STORED,
        "retention_days": _setting(t, "recording_retention_days", 90),
    }


def transcript_stored(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng,
        t,
        "transcript",
        "store",
        encryption=STORED,
        retention_days=_setting(t, "transcript_retention_days", 365),
    )


def summary_stored(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng,
        t,
        "ai_summary",
        "store",
        encryption=STORED,
        retention_days=_setting(t, "transcript_retention_days", 365),
    )


def transcript_to_openai(rng: random.Random, t: Tenant) -> Event:
    event = _flow(
        rng,
        t,
        "transcript",
        "process",
        destination={"location": "country:US"},
        processor="openai",
        encryption=TLS13,
    )
    if rng.random() < 0.5:
        event["retention_days"] = 0
    return event


def summary_generated(rng: random.Random, t: Tenant) -> Event:
    return _flow(rng, t, "ai_summary", "process", encryption=TLS13)


def reply_spoken(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng,
        t,
        "conversation_history",
        "process",
        destination={"location": "country:US"},
        processor="voice-synthesis",
        encryption=TLS13,
    )


def live_audio_to_twilio(rng: random.Random, t: Tenant) -> Event:
    return {
        "data_class": "call_recording",
        "operation": "transfer",
        "origin": _caller(t),
        "destination": {"location": "country:US"},
        "processor": "twilio",
        "encryption": {"in_transit": "srtp"},
    }


def call_metadata_from_twilio(rng: random.Random, t: Tenant) -> Event:
    return {
        "data_class": "call_metadata",
        "operation": "transfer",
        "origin": {"location": "country:US"},
        "destination": {"location": _hosting(rng, t)},
        "encryption": TLS13,
    }


def sms_sent(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng,
        t,
        "contact_record",
        "transfer",
        destination={"location": "country:US"},
        processor="twilio",
        purpose="sms",
        encryption=TLS13,
    )


def calendar_synced(rng: random.Random, t: Tenant) -> Event:
    calendar = rng.choice([p for p in _enabled(t) if p in CALENDARS])
    return _flow(
        rng,
        t,
        rng.choice(("contact_record", "call_metadata")),
        "transfer",
        destination={"location": "country:US"},
        processor=calendar,
        purpose="calendar_sync",
        encryption=TLS13,
    )


def crm_synced(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng,
        t,
        "contact_record",
        "transfer",
        destination={"location": "country:US"},
        processor="customer-crm",
        encryption=TLS13,
    )


def zapier_webhook(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng,
        t,
        rng.choice(("call_metadata", "integration_config")),
        "transfer",
        destination={"location": "country:US"},
        processor="zapier",
        encryption=TLS13,
    )


def contact_stored(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng, t, "contact_record", "store", origin=_caller(t), encryption=STORED, retention_days=None
    )


def assistant_personalised(rng: random.Random, t: Tenant) -> Event:
    return _flow(rng, t, "transcript", "process", purpose="ai_personalization", encryption=TLS13)


def analytics_computed(rng: random.Random, t: Tenant) -> Event:
    return _flow(rng, t, "analytics", "process", purpose="analytics")


def analytics_stored(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng,
        t,
        "analytics",
        "store",
        purpose="analytics",
        retention_days=rng.choice((365, 730, 731)),
    )


def support_with_permission(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng,
        t,
        "call_recording",
        "access",
        destination={"location": "country:US"},
        purpose="support",
        encryption=TLS13,
    )


def security_monitoring(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng, t, "call_metadata", "process", purpose="security_monitoring", encryption=TLS13
    )


def team_login(rng: random.Random, t: Tenant) -> Event:
    return _flow(rng, t, "credentials", "transfer", origin=_caller(t), encryption=TLS13)


def billing_updated(rng: random.Random, t: Tenant) -> Event:
    return _flow(rng, t, "billing_details", "transfer", origin=_caller(t), encryption=TLS13)


def recording_deleted(rng: random.Random, t: Tenant) -> Event:
    return _flow(rng, t, "call_recording", "delete")


def eu_transcript_processed_in_us(rng: random.Random, t: Tenant) -> Event:
    """Lawful, but warned: an EU-residency tenant's transcript processed in us-east-1."""
    return _flow(
        rng, t, "transcript", "process", destination={"location": "aws:us-east-1"}, encryption=TLS13
    )


# --- broken promises ----------------------------------------------------------------------
def recording_over_tls12(rng: random.Random, t: Tenant) -> Event:
    event = recording_stored(rng, t)
    event["encryption"] = {"in_transit": "tls1.2", "at_rest": "aes-256"}
    return event


def recording_kept_too_long(rng: random.Random, t: Tenant) -> Event:
    event = recording_stored(rng, t)
    event["retention_days"] = _setting(t, "recording_retention_days", 90) + rng.choice((1, 7, 30))
    return event


def recording_hosted_in_us_for_eu_tenant(rng: random.Random, t: Tenant) -> Event:
    event = recording_stored(rng, t)
    event["destination"] = {"location": "aws:us-east-1", "system": "s3"}
    return event


def contacts_to_ad_network(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng,
        t,
        "contact_record",
        "transfer",
        destination={"location": "country:US"},
        processor="ad-network",
        purpose="advertising",
        encryption=TLS13,
    )


def contacts_sold(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng,
        t,
        "contact_record",
        "transfer",
        destination={"location": "country:US"},
        processor="data-broker",
        purpose="sale",
        encryption=TLS13,
    )


def support_without_permission(rng: random.Random, t: Tenant) -> Event:
    return support_with_permission(rng, t)


def staff_read_for_analytics(rng: random.Random, t: Tenant) -> Event:
    """24CallDesk staff read a customer's transcript for analytics: support is the only reason."""
    event = support_with_permission(rng, t)
    event["data_class"] = rng.choice(("call_recording", "transcript"))
    event["purpose"] = "analytics"
    return event


def calendar_not_enabled(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng,
        t,
        "contact_record",
        "transfer",
        destination={"location": "country:US"},
        processor="google-calendar",
        purpose="calendar_sync",
        encryption=TLS13,
    )


def openai_keeps_transcript(rng: random.Random, t: Tenant) -> Event:
    event = transcript_to_openai(rng, t)
    event["retention_days"] = 30
    return event


def uk_caller_to_openai(rng: random.Random, t: Tenant) -> Event:
    event = transcript_to_openai(rng, t)
    event["origin"] = _caller(t)
    return event


def trains_other_customers(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng, t, "transcript", "process", purpose="model_training_other_customers", encryption=TLS13
    )


def webhook_over_tls12(rng: random.Random, t: Tenant) -> Event:
    event = zapier_webhook(rng, t)
    event["data_class"] = "integration_config"
    event["encryption"] = {"in_transit": "tls1.2"}
    return event


# --- bad input ----------------------------------------------------------------------------
def retention_as_text(rng: random.Random, t: Tenant) -> Event:
    event = recording_stored(rng, t)
    event["retention_days"] = "90 days"
    return event


def misspelt_tls(rng: random.Random, t: Tenant) -> Event:
    event = recording_stored(rng, t)
    event["encryption"] = {"in_transit": "TLSv1.3", "at_rest": "aes-256"}
    return event


def unknown_region(rng: random.Random, t: Tenant) -> Event:
    event = recording_stored(rng, t)
    event["destination"] = {"location": "aws:us-east-3", "system": "s3"}
    return event


def _not_eu(t: Tenant) -> bool:
    return not _eu(t)


TEMPLATES = (
    Template("recording stored in the hosting region", 14, recording_stored),
    Template("transcript stored", 9, transcript_stored),
    Template("transcript sent to OpenAI", 11, transcript_to_openai),
    Template("AI summary generated", 7, summary_generated),
    Template("AI summary stored", 4, summary_stored),
    Template("reply spoken by voice synthesis", 8, reply_spoken),
    Template("live call audio to Twilio (SRTP)", 7, live_audio_to_twilio),
    Template("call metadata from Twilio", 4, call_metadata_from_twilio),
    Template("SMS sent through Twilio", 4, sms_sent),
    Template(
        "calendar synced (enabled)",
        5,
        calendar_synced,
        tenants=lambda t: any(p in CALENDARS for p in _enabled(t)),
    ),
    Template(
        "contact pushed to the tenant's CRM (enabled)",
        2.5,
        crm_synced,
        tenants=lambda t: "customer-crm" in _enabled(t),
    ),
    Template(
        "Zapier webhook (enabled)", 1.5, zapier_webhook, tenants=lambda t: "zapier" in _enabled(t)
    ),
    Template("contact record stored", 4, contact_stored),
    Template("assistant personalised on own transcripts", 3, assistant_personalised),
    Template("aggregate analytics computed", 2.5, analytics_computed),
    Template("analytics stored", 1, analytics_stored),
    Template(
        "support access with permission",
        1.5,
        support_with_permission,
        tenants=lambda t: t.settings.get("support_access_granted") is True,
    ),
    Template("security monitoring", 2, security_monitoring),
    Template("team member login", 2, team_login),
    Template("billing details updated", 1, billing_updated),
    Template("recording deleted at end of retention", 2, recording_deleted),
    Template(
        "EU-residency transcript processed in the US (warning)",
        0.5,
        eu_transcript_processed_in_us,
        tenants=_eu,
    ),
    Template(
        "recording uploaded over TLS 1.2",
        1.2,
        recording_over_tls12,
        verdict="violation",
        kinds=("encryption",),
    ),
    Template(
        "recording kept past the tenant's retention",
        1.2,
        recording_kept_too_long,
        verdict="violation",
        kinds=("retention",),
    ),
    Template(
        "EU-residency recording stored in us-east-1",
        0.8,
        recording_hosted_in_us_for_eu_tenant,
        tenants=_eu,
        verdict="violation",
        kinds=("residency",),
    ),
    Template(
        "contact list shared with an ad network",
        0.4,
        contacts_to_ad_network,
        tenants=_not_eu,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "EU contact list shared with an ad network",
        0.2,
        contacts_to_ad_network,
        tenants=_eu,
        verdict="violation",
        kinds=("purpose", "transfer"),
    ),
    Template(
        "contact records sold to a data broker",
        0.2,
        contacts_sold,
        tenants=_not_eu,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "support opened a recording without permission",
        0.6,
        support_without_permission,
        tenants=lambda t: t.settings.get("support_access_granted") is not True,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "24CallDesk staff read a recording or transcript for analytics",
        0.4,
        staff_read_for_analytics,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "calendar sync not enabled by the tenant",
        0.5,
        calendar_not_enabled,
        tenants=lambda t: "google-calendar" not in _enabled(t),
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "OpenAI retains a transcript 30 days",
        0.4,
        openai_keeps_transcript,
        verdict="violation",
        kinds=("retention",),
    ),
    Template(
        "UK caller's transcript straight to OpenAI",
        0.3,
        uk_caller_to_openai,
        tenants=lambda t: t.id == "thames-lettings",
        verdict="violation",
        kinds=("transfer",),
    ),
    Template(
        "transcripts train another customer's model",
        0.3,
        trains_other_customers,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "Zapier webhook over TLS 1.2",
        0.3,
        webhook_over_tls12,
        tenants=lambda t: "zapier" in _enabled(t),
        verdict="violation",
        kinds=("encryption",),
    ),
    Template(
        "recording stored in an unknown region",
        0.2,
        unknown_region,
        verdict="violation",
        kinds=("unknown_reference",),
    ),
    Template(
        "retention_days sent as text", 0.3, retention_as_text, verdict="invalid", kinds=("schema",)
    ),
    Template("TLS version misspelt", 0.2, misspelt_tls, verdict="invalid", kinds=("schema",)),
)

PACK = Pack(
    name="24calldesk",
    tenants=TENANTS,
    templates=TEMPLATES,
    services=("call-engine", "transcriber", "assistant", "integrations", "console", "analytics"),
)
