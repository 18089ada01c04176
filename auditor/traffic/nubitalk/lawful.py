"""The flows the Nubitalk (Collab) notice describes, each lawful for the customers that can
make it."""

from __future__ import annotations

import random

from auditor.traffic import STORED, TLS13, Event, Tenant, at
from auditor.traffic.nubitalk.tenants import customer_of, home, hosted


def stored(t: Tenant, data_class: str, purpose: str, service: str, **rest: object) -> Event:
    """A copy the services keep in the tenant's Azure region, sent from the tenant's country."""
    event: Event = {
        "data_class": data_class,
        "operation": "store",
        "origin": home(t),
        "destination": {"location": customer_of(t).region, "system": "azure-sql"},
        "processor": "azure",
        "purpose": purpose,
        "encryption": STORED,
        "service": service,
    }
    event.update(rest)
    return event


def sent(
    t: Tenant, data_class: str, to: str, processor: str, purpose: str, service: str, **rest: object
) -> Event:
    """Data the services send from the tenant's Azure region to another party."""
    event: Event = {
        "data_class": data_class,
        "operation": "transfer",
        "origin": hosted(t),
        "destination": at(to),
        "processor": processor,
        "purpose": purpose,
        "encryption": TLS13,
        "service": service,
    }
    event.update(rest)
    return event


def run(
    t: Tenant,
    data_class: str,
    operation: str,
    origin: str,
    purpose: str,
    service: str,
    **rest: object,
) -> Event:
    """The services (Collab) read or process data at runtime in the tenant's Azure region."""
    event: Event = {
        "data_class": data_class,
        "operation": operation,
        "origin": at(origin),
        "destination": hosted(t),
        "processor": "collab",
        "purpose": purpose,
        "encryption": TLS13,
        "service": service,
    }
    event.update(rest)
    return event


def contact_stored(rng: random.Random, t: Tenant) -> Event:
    return stored(t, "contact_info", "reporting", "reporting")


def timing_stored(rng: random.Random, t: Tenant) -> Event:
    return stored(t, "interaction_metadata", "reporting", "reporting")


def user_account_stored(rng: random.Random, t: Tenant) -> Event:
    return stored(t, "user_account", "service_delivery", "onecontact-core")


def labels_stored(rng: random.Random, t: Tenant) -> Event:
    return stored(t, "record_labels", "reporting", "reporting")


def conversation_stored(rng: random.Random, t: Tenant) -> Event:
    return stored(
        t,
        "instant_message",
        rng.choice(("reporting", "auditing")),
        "chat-engine",
        retention_days=rng.choice((365, 730, None)),
    )


def social_dm_as_conversation(rng: random.Random, t: Tenant) -> Event:
    return stored(t, "instant_message", "reporting", "social-connector", origin=at("country:US"))


def aggregate_built(rng: random.Random, t: Tenant) -> Event:
    return run(t, "aggregate_report", "process", customer_of(t).region, "reporting", "reporting")


def email_read(rng: random.Random, t: Tenant) -> Event:
    return run(t, "email_content", "access", customer_of(t).mailbox, "routing", "email-gateway")


def email_queued(rng: random.Random, t: Tenant) -> Event:
    return stored(
        t,
        "email_content",
        "routing",
        "email-gateway",
        processor="collab",
        origin=at(customer_of(t).mailbox),
        retention_days=0,
    )


def email_answered(rng: random.Random, t: Tenant) -> Event:
    return sent(
        t,
        "email_content",
        customer_of(t).mailbox,
        "email-provider",
        "service_delivery",
        "email-gateway",
    )


def email_deleted(rng: random.Random, t: Tenant) -> Event:
    return run(t, "email_content", "delete", customer_of(t).region, "routing", "email-gateway")


def social_read(rng: random.Random, t: Tenant) -> Event:
    return run(
        t,
        "social_media_content",
        "access",
        "country:US",
        rng.choice(("routing", "service_delivery")),
        "social-connector",
    )


def social_answered(rng: random.Random, t: Tenant) -> Event:
    return sent(
        t,
        "social_media_content",
        "country:US",
        "social-network",
        "service_delivery",
        "social-connector",
    )


def voice_recorded(rng: random.Random, t: Tenant) -> Event:
    return stored(
        t,
        "voice_recording",
        "auditing",
        "recording-service",
        retention_days=rng.choice((90, 180, 365)),
    )


def screen_recorded(rng: random.Random, t: Tenant) -> Event:
    return stored(
        t,
        "screen_recording",
        "auditing",
        "recording-service",
        encryption={"in_transit": "tls1.3", "at_rest": rng.choice(("aes-256", "aes-128"))},
        retention_days=90,
    )


def sensitive_call_recorded(rng: random.Random, t: Tenant) -> Event:
    """Lawful, but warned: the agent did not pause the recording when health came up."""
    event = voice_recorded(rng, t)
    event["special_categories"] = ["health"]
    return event


def media_to_operator(rng: random.Random, t: Tenant) -> Event:
    return sent(
        t,
        "voice_media",
        f"country:{customer_of(t).country}",
        "telecom-operator",
        "service_delivery",
        "media-server",
        encryption={"in_transit": "srtp"},
    )


def call_setup_to_operator(rng: random.Random, t: Tenant) -> Event:
    return sent(
        t,
        "contact_info",
        f"country:{customer_of(t).country}",
        "telecom-operator",
        "routing",
        "media-server",
        encryption={"in_transit": rng.choice(("tls1.2", "tls1.3"))},
    )


def cdr_from_operator(rng: random.Random, t: Tenant) -> Event:
    return sent(
        t,
        "interaction_metadata",
        f"country:{customer_of(t).country}",
        "telecom-operator",
        "service_delivery",
        "media-server",
    )


def media_to_customer_pbx(rng: random.Random, t: Tenant) -> Event:
    return sent(
        t,
        "voice_media",
        f"country:{customer_of(t).country}",
        "customer-media-gateway",
        "service_delivery",
        "media-server",
        encryption={"in_transit": "srtp"},
    )


def media_to_pbx_without_srtp(rng: random.Random, t: Tenant) -> Event:
    """Lawful, but warned: the customer's own gateway does not support SRTP."""
    event = media_to_customer_pbx(rng, t)
    event["encryption"] = {"in_transit": "none"}
    return event


def crm_lookup(rng: random.Random, t: Tenant) -> Event:
    return sent(
        t, "contact_info", customer_of(t).crm, "customer-crm", "crm_integration", "crm-connector"
    )


def crm_record_shown(rng: random.Random, t: Tenant) -> Event:
    return run(t, "crm_record", "process", customer_of(t).crm, "crm_integration", "crm-connector")


def recording_replayed(rng: random.Random, t: Tenant) -> Event:
    return {
        "data_class": rng.choice(("voice_recording", "screen_recording")),
        "operation": "access",
        "origin": hosted(t),
        "destination": home(t),
        "processor": "collab",
        "purpose": "auditing",
        "encryption": TLS13,
        "service": "recording-service",
    }


def support_from_lisbon(rng: random.Random, t: Tenant) -> Event:
    event = recording_replayed(rng, t)
    event.update(
        data_class="interaction_metadata",
        destination=at("country:PT"),
        purpose="support",
        service="onecontact-core",
    )
    return event
