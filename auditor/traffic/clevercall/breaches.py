"""CleverCall.ai flows that break a promise of the notice, and flows the auditor cannot decide."""

from __future__ import annotations

import random

from auditor.traffic import STORED, Event, Tenant
from auditor.traffic.clevercall.lawful import (
    EU_CLOUD,
    INVOICE_DAYS,
    SCANNET,
    SPECIAL,
    flow,
    stored_at_scannet,
    transcript_returned,
    transcript_stored,
)
from auditor.traffic.clevercall.tenants import home_country, keep_days, within_interval

AWS_EU = ("aws:eu-central-1", "aws:eu-west-1", "aws:eu-north-1", "aws:eu-west-3", "aws:eu-south-1")


# --- violations ----------------------------------------------------------------------------
def stored_in_aws_eu(rng: random.Random, t: Tenant) -> Event:
    return flow(
        "transcript",
        "store",
        SCANNET,
        rng.choice(AWS_EU),
        "aws",
        "storage",
        encryption=STORED,
        system="s3",
        retention_days=within_interval(rng, t),
    )


def transcribed_in_azure(rng: random.Random, t: Tenant) -> Event:
    return flow(
        "call_audio",
        "process",
        SCANNET,
        rng.choice(("azure:westeurope", "azure:northeurope", "azure:swedencentral")),
        "azure",
        "transcriber",
    )


def copied_to_us(rng: random.Random, t: Tenant) -> Event:
    return flow("transcript", "transfer", SCANNET, "aws:us-east-1", "aws", "analytics")


def sensitive_stored_plain(rng: random.Random, t: Tenant) -> Event:
    return stored_at_scannet(
        "transcript", SCANNET, within_interval(rng, t), special_categories=[rng.choice(SPECIAL)]
    )


def phone_only_contacts_stored(rng: random.Random, t: Tenant) -> Event:
    return stored_at_scannet("contact_details", SCANNET, rng.choice((1, 30, 90)))


def phone_only_number_analytics(rng: random.Random, t: Tenant) -> Event:
    return stored_at_scannet(
        "phone_number", SCANNET, rng.choice(INVOICE_DAYS), purpose="analytics", service="analytics"
    )


def sensitive_stored_unfiltered(rng: random.Random, t: Tenant) -> Event:
    """A customer without filters: special categories are stored like any personal data."""
    return sensitive_stored_plain(rng, t)


def kept_without_interval(rng: random.Random, t: Tenant) -> Event:
    """A customer that set no interval: no limit, even indefinitely."""
    return stored_at_scannet("transcript", SCANNET, rng.choice((None, 730, 3650)))


def kept_past_interval(rng: random.Random, t: Tenant) -> Event:
    retention: int | None = keep_days(t) + rng.choice((1, 7, 30))
    if rng.random() < 0.2:
        retention = None  # never anonymised
    return stored_at_scannet("transcript", SCANNET, retention)


def sent_over_tls11(rng: random.Random, t: Tenant) -> Event:
    return flow(
        "transcript",
        "transfer",
        EU_CLOUD,
        SCANNET,
        "scannet",
        "transcriber",
        encryption={"in_transit": "tls1.1"},
    )


def audio_plain_rtp(rng: random.Random, t: Tenant) -> Event:
    return flow(
        "call_audio",
        "transfer",
        home_country(t),
        SCANNET,
        "clevercall",
        "call-gateway",
        encryption={"in_transit": "none"},
    )


def support_from_india(rng: random.Random, t: Tenant) -> Event:
    return flow(
        "transcript",
        "access",
        SCANNET,
        "country:IN",
        "clevercall",
        "support-console",
        purpose="support",
    )


def backup_in_norway(rng: random.Random, t: Tenant) -> Event:
    return flow(
        "transcript",
        "store",
        SCANNET,
        "country:NO",
        "scannet",
        "backup",
        encryption=STORED,
        system="backup",
        retention_days=within_interval(rng, t),
    )


def unknown_region(rng: random.Random, t: Tenant) -> Event:
    event = stored_in_aws_eu(rng, t)
    event["destination"] = {"location": "aws:eu-west-10", "system": "s3"}
    return event


# --- bad input -----------------------------------------------------------------------------
def retention_as_text(rng: random.Random, t: Tenant) -> Event:
    event = transcript_stored(rng, t)
    event["retention_days"] = f"{keep_days(t)} days"
    return event


def misspelt_tls(rng: random.Random, t: Tenant) -> Event:
    event = transcript_returned(rng, t)
    event["encryption"] = {"in_transit": "TLSv1.3"}
    return event
