"""24CallDesk flows that break a promise of the notice, and flows the auditor cannot decide."""

from __future__ import annotations

import random

from auditor.traffic import TLS13, Event, Tenant
from auditor.traffic.calldesk24.lawful import (
    flow,
    recording_stored,
    support_with_permission,
    transcript_to_openai,
    zapier_webhook,
)
from auditor.traffic.calldesk24.tenants import caller, setting


# --- broken promises ----------------------------------------------------------------------
def recording_over_tls12(rng: random.Random, t: Tenant) -> Event:
    event = recording_stored(rng, t)
    event["encryption"] = {"in_transit": "tls1.2", "at_rest": "aes-256"}
    return event


def recording_kept_too_long(rng: random.Random, t: Tenant) -> Event:
    event = recording_stored(rng, t)
    event["retention_days"] = setting(t, "recording_retention_days", 90) + rng.choice((1, 7, 30))
    return event


def recording_hosted_in_us_for_eu_tenant(rng: random.Random, t: Tenant) -> Event:
    event = recording_stored(rng, t)
    event["destination"] = {"location": "aws:us-east-1", "system": "s3"}
    return event


def contacts_to_ad_network(rng: random.Random, t: Tenant) -> Event:
    return flow(
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
    return flow(
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
    return flow(
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
    event["origin"] = caller(t)
    return event


def trains_other_customers(rng: random.Random, t: Tenant) -> Event:
    return flow(
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
