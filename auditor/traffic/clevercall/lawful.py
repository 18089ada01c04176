"""The flows the CleverCall.ai notice describes, each lawful for the customers that can make it."""

from __future__ import annotations

import random

from auditor.traffic import STORED, TLS13, Event, Tenant, at
from auditor.traffic.clevercall.tenants import ABROAD, home_country, within_interval

SCANNET = "site:scannet-dk"
EU_CLOUD = "country:DE"  # eu-cloud's data centres in Germany
SRTP = {"in_transit": "srtp"}
INVOICE_DAYS = (30, 90, 395, 1825)  # phone-only numbers kept as invoicing documentation
SPECIAL = (
    "health",
    "religious_or_philosophical_beliefs",
    "trade_union_membership",
    "racial_or_ethnic_origin",
    "political_opinions",
    "sex_life_or_sexual_orientation",
)


def flow(
    data_class: str,
    operation: str,
    origin: str,
    destination: str,
    processor: str,
    service: str,
    *,
    encryption: dict[str, str] | None = None,
    purpose: str = "service_delivery",
    system: str | None = None,
    **rest: object,
) -> Event:
    """One flow between two locations (TLS 1.3 in transit unless ``encryption`` says else);
    ``rest`` adds fields."""
    dest: dict[str, str] = at(destination)
    if system is not None:
        dest["system"] = system
    event: Event = {
        "data_class": data_class,
        "operation": operation,
        "origin": at(origin),
        "destination": dest,
        "processor": processor,
        "purpose": purpose,
        "encryption": dict(encryption if encryption is not None else TLS13),
        "service": service,
    }
    event.update(rest)
    return event


def stored_at_scannet(
    data_class: str,
    origin: str,
    retention: int | None,
    *,
    service: str = "storage",
    purpose: str = "service_delivery",
    **rest: object,
) -> Event:
    """A copy kept at ScanNet in Denmark (the notice's place for data at rest)."""
    event = flow(
        data_class,
        "store",
        origin,
        SCANNET,
        "scannet",
        service,
        encryption=STORED,
        purpose=purpose,
        system="scannet-postgres",
        retention_days=retention,
    )
    event.update(rest)
    return event


# --- the call: audio in, transcription, transcript back ---------------------------------------
def audio_streamed(rng: random.Random, t: Tenant) -> Event:
    caller = home_country(t) if rng.random() < 0.85 else rng.choice(ABROAD)
    return flow(
        "call_audio",
        "transfer",
        caller,
        SCANNET,
        "clevercall",
        "call-gateway",
        encryption=rng.choice((SRTP, SRTP, TLS13)),
    )


def audio_transcribed_eu_cloud(rng: random.Random, t: Tenant) -> Event:
    event = flow("call_audio", "process", SCANNET, EU_CLOUD, "eu-cloud", "transcriber")
    if rng.random() < 0.15:  # the filter finds Art. 9 data in the live call
        event["special_categories"] = [rng.choice(SPECIAL)]
    return event


def audio_transcribed_scannet(rng: random.Random, t: Tenant) -> Event:
    return flow("call_audio", "process", SCANNET, SCANNET, "clevercall", "transcriber")


def audio_buffered(rng: random.Random, t: Tenant) -> Event:
    return flow(
        "call_audio",
        "store",
        SCANNET,
        SCANNET,
        "clevercall",
        "transcriber",
        encryption=STORED,
        system="audio-buffer",
        retention_days=0,
    )


def transcript_returned(rng: random.Random, t: Tenant) -> Event:
    return flow("transcript", "transfer", EU_CLOUD, SCANNET, "scannet", "transcriber")


# --- stored at ScanNet, anonymised on the customer's schedule ----------------------------------
def transcript_stored(rng: random.Random, t: Tenant) -> Event:
    return stored_at_scannet("transcript", rng.choice((SCANNET, EU_CLOUD)), within_interval(rng, t))


def sensitive_transcript_anonymised(rng: random.Random, t: Tenant) -> Event:
    return stored_at_scannet(
        "transcript",
        SCANNET,
        rng.choice((None, 365, 3650)),
        special_categories=rng.sample(SPECIAL, rng.choice((1, 2))),
        anonymized=True,
    )


def contact_details_stored(rng: random.Random, t: Tenant) -> Event:
    return stored_at_scannet("contact_details", SCANNET, within_interval(rng, t))


def number_stored(rng: random.Random, t: Tenant) -> Event:
    return stored_at_scannet("phone_number", SCANNET, within_interval(rng, t))


def anonymised_on_schedule(rng: random.Random, t: Tenant) -> Event:
    data_class = rng.choice(("transcript", "transcript", "contact_details", "phone_number"))
    return flow(
        data_class,
        "anonymize",
        SCANNET,
        SCANNET,
        "scannet",
        "anonymizer",
        system="scannet-postgres",
        anonymized=True,
    )


def anonymised_kept(rng: random.Random, t: Tenant) -> Event:
    return stored_at_scannet("transcript", SCANNET, None, anonymized=True)


def forget_me(rng: random.Random, t: Tenant) -> Event:
    event = flow(
        "contact_details",
        "erasure_request",
        home_country(t),
        SCANNET,
        "clevercall",
        "portal",
        system="scannet-postgres",
    )
    # A person of their own, not one of the sample's recurring callers: the sample shows
    # the request without it changing the decisions of other flows.
    event["subject"] = {"key": f"forgotten-{rng.getrandbits(40):010x}"}
    return event


def forget_me_deleted(rng: random.Random, t: Tenant) -> Event:
    return flow(
        rng.choice(("contact_details", "transcript", "phone_number")),
        "delete",
        SCANNET,
        SCANNET,
        "scannet",
        "storage",
        system="scannet-postgres",
    )


def stored_at_eu_cloud(rng: random.Random, t: Tenant) -> Event:
    """Another EU-owned hosting option: lawful, with a stored-at-scannet warning."""
    return flow(
        "transcript",
        "store",
        EU_CLOUD,
        EU_CLOUD,
        "eu-cloud",
        "transcriber",
        encryption=STORED,
        system="eu-cloud-objects",
        retention_days=within_interval(rng, t),
    )


# --- phone number only ---------------------------------------------------------------------
def number_for_invoicing(rng: random.Random, t: Tenant) -> Event:
    return stored_at_scannet(
        "phone_number", SCANNET, rng.choice(INVOICE_DAYS), purpose="invoicing", service="invoicing"
    )


def invoice_run(rng: random.Random, t: Tenant) -> Event:
    return flow(
        "phone_number",
        "access",
        SCANNET,
        "country:DK",
        "clevercall",
        "invoicing",
        purpose="invoicing",
    )


def number_deleted(rng: random.Random, t: Tenant) -> Event:
    return flow(
        "phone_number",
        "delete",
        SCANNET,
        SCANNET,
        "scannet",
        "invoicing",
        system="scannet-postgres",
        purpose="invoicing",
    )


def transcript_passes_through(rng: random.Random, t: Tenant) -> Event:
    return flow(
        rng.choice(("transcript", "contact_details", "dynamic_answer")),
        "store",
        SCANNET,
        SCANNET,
        "clevercall",
        "answer-engine",
        encryption=STORED,
        system="session-cache",
        retention_days=0,
    )


# --- answers -------------------------------------------------------------------------------
def static_answer_played(rng: random.Random, t: Tenant) -> Event:
    return flow("static_answer", "process", SCANNET, SCANNET, "clevercall", "answer-engine")


def dynamic_answer_generated(rng: random.Random, t: Tenant) -> Event:
    return flow("dynamic_answer", "process", SCANNET, SCANNET, "clevercall", "answer-engine")


# --- access -------------------------------------------------------------------------------
def caseworker_reads(rng: random.Random, t: Tenant) -> Event:
    return flow(
        rng.choice(("transcript", "transcript", "contact_details", "dynamic_answer")),
        "access",
        SCANNET,
        home_country(t),
        "clevercall",
        "portal",
    )


def support_reads(rng: random.Random, t: Tenant) -> Event:
    return flow(
        "transcript",
        "access",
        SCANNET,
        "country:DK",
        "clevercall",
        "support-console",
        purpose="support",
    )


def anonymised_analytics(rng: random.Random, t: Tenant) -> Event:
    return flow(
        "transcript",
        "process",
        SCANNET,
        EU_CLOUD,
        "eu-cloud",
        "analytics",
        purpose="analytics",
        anonymized=True,
    )
