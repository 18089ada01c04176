"""The flows the 24CallDesk notice describes, each lawful for the tenants that can make it."""

from __future__ import annotations

import random

from auditor.traffic import STORED, TLS13, Event, Tenant
from auditor.traffic.calldesk24.tenants import CALENDARS, caller, enabled, hosting, setting


def flow(rng: random.Random, t: Tenant, data_class: str, operation: str, **rest: object) -> Event:
    """A flow inside the tenant's hosting region; ``rest`` overrides or adds fields."""
    region = hosting(rng, t)
    event: Event = {
        "data_class": data_class,
        "operation": operation,
        "origin": {"location": region},
        "destination": {"location": region},
    }
    event.update(rest)
    return event


def recording_stored(rng: random.Random, t: Tenant) -> Event:
    return {
        "data_class": "call_recording",
        "operation": "store",
        "origin": caller(t),
        "destination": {"location": hosting(rng, t), "system": "s3"},
        "processor": rng.choice(("24calldesk", "aws")),
        "encryption": STORED,
        "retention_days": setting(t, "recording_retention_days", 90),
    }


def transcript_stored(rng: random.Random, t: Tenant) -> Event:
    return flow(
        rng,
        t,
        "transcript",
        "store",
        encryption=STORED,
        retention_days=setting(t, "transcript_retention_days", 365),
    )


def summary_stored(rng: random.Random, t: Tenant) -> Event:
    return flow(
        rng,
        t,
        "ai_summary",
        "store",
        encryption=STORED,
        retention_days=setting(t, "transcript_retention_days", 365),
    )


def transcript_to_openai(rng: random.Random, t: Tenant) -> Event:
    event = flow(
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
    return flow(rng, t, "ai_summary", "process", encryption=TLS13)


def reply_spoken(rng: random.Random, t: Tenant) -> Event:
    return flow(
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
        "origin": caller(t),
        "destination": {"location": "country:US"},
        "processor": "twilio",
        "encryption": {"in_transit": "srtp"},
    }


def call_metadata_from_twilio(rng: random.Random, t: Tenant) -> Event:
    return {
        "data_class": "call_metadata",
        "operation": "transfer",
        "origin": {"location": "country:US"},
        "destination": {"location": hosting(rng, t)},
        "encryption": TLS13,
    }


def sms_sent(rng: random.Random, t: Tenant) -> Event:
    return flow(
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
    calendar = rng.choice([p for p in enabled(t) if p in CALENDARS])
    return flow(
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
    return flow(
        rng,
        t,
        "contact_record",
        "transfer",
        destination={"location": "country:US"},
        processor="customer-crm",
        encryption=TLS13,
    )


def zapier_webhook(rng: random.Random, t: Tenant) -> Event:
    return flow(
        rng,
        t,
        rng.choice(("call_metadata", "integration_config")),
        "transfer",
        destination={"location": "country:US"},
        processor="zapier",
        encryption=TLS13,
    )


def contact_stored(rng: random.Random, t: Tenant) -> Event:
    return flow(
        rng, t, "contact_record", "store", origin=caller(t), encryption=STORED, retention_days=None
    )


def assistant_personalised(rng: random.Random, t: Tenant) -> Event:
    return flow(rng, t, "transcript", "process", purpose="ai_personalization", encryption=TLS13)


def analytics_computed(rng: random.Random, t: Tenant) -> Event:
    return flow(rng, t, "analytics", "process", purpose="analytics")


def analytics_stored(rng: random.Random, t: Tenant) -> Event:
    return flow(
        rng,
        t,
        "analytics",
        "store",
        purpose="analytics",
        retention_days=rng.choice((365, 730, 731)),
    )


def support_with_permission(rng: random.Random, t: Tenant) -> Event:
    return flow(
        rng,
        t,
        "call_recording",
        "access",
        destination={"location": "country:US"},
        purpose="support",
        encryption=TLS13,
    )


def security_monitoring(rng: random.Random, t: Tenant) -> Event:
    return flow(
        rng, t, "call_metadata", "process", purpose="security_monitoring", encryption=TLS13
    )


def team_login(rng: random.Random, t: Tenant) -> Event:
    return flow(rng, t, "credentials", "transfer", origin=caller(t), encryption=TLS13)


def billing_updated(rng: random.Random, t: Tenant) -> Event:
    return flow(rng, t, "billing_details", "transfer", origin=caller(t), encryption=TLS13)


def recording_deleted(rng: random.Random, t: Tenant) -> Event:
    return flow(rng, t, "call_recording", "delete")


def eu_transcript_processed_in_us(rng: random.Random, t: Tenant) -> Event:
    """Lawful, but warned: an EU-residency tenant's transcript processed in us-east-1."""
    return flow(
        rng, t, "transcript", "process", destination={"location": "aws:us-east-1"}, encryption=TLS13
    )
