"""Nubitalk (Collab) flows that break a promise of the notice, and flows the auditor cannot
decide."""

from __future__ import annotations

import random

from auditor.traffic import Event, Tenant, at
from auditor.traffic.nubitalk.lawful import (
    call_setup_to_operator,
    contact_stored,
    conversation_stored,
    email_queued,
    labels_stored,
    media_to_operator,
    run,
    sent,
    stored,
    support_from_lisbon,
    voice_recorded,
)
from auditor.traffic.nubitalk.tenants import customer_of, hosted


# --- broken promises ----------------------------------------------------------------------
def email_archived(rng: random.Random, t: Tenant) -> Event:
    return stored(
        t,
        "email_content",
        "reporting",
        "reporting",
        origin=at(customer_of(t).mailbox),
        retention_days=365,
    )


def email_kept_after_handling(rng: random.Random, t: Tenant) -> Event:
    event = email_queued(rng, t)
    event["retention_days"] = rng.choice((1, 3, 7))
    return event


def social_stored(rng: random.Random, t: Tenant) -> Event:
    return stored(
        t,
        "social_media_content",
        "routing",
        "social-connector",
        processor="collab",
        origin=at("country:US"),
        retention_days=30,
    )


def crm_record_cached(rng: random.Random, t: Tenant) -> Event:
    return stored(
        t,
        "crm_record",
        "crm_integration",
        "crm-connector",
        processor="collab",
        origin=at(customer_of(t).crm),
        retention_days=90,
    )


def labels_without_choice(rng: random.Random, t: Tenant) -> Event:
    return labels_stored(rng, t)


def recording_unencrypted(rng: random.Random, t: Tenant) -> Event:
    event = voice_recorded(rng, t)
    event["encryption"] = {"in_transit": "tls1.3", "at_rest": "none"}
    return event


def conversation_copied_unencrypted(rng: random.Random, t: Tenant) -> Event:
    """A conversation replicated to a second Azure region: a move, so it must be encrypted."""
    west = customer_of(t).region == "azure:westeurope"
    other = "azure:northeurope" if west else "azure:westeurope"
    return {
        **conversation_stored(rng, t),
        "origin": hosted(t),
        "destination": {"location": other, "system": "azure-sql-replica"},
        "encryption": {"in_transit": "none", "at_rest": "aes-256"},
    }


def media_to_operator_rtp(rng: random.Random, t: Tenant) -> Event:
    event = media_to_operator(rng, t)
    event["encryption"] = {"in_transit": "none"}
    return event


def call_setup_tls11(rng: random.Random, t: Tenant) -> Event:
    event = call_setup_to_operator(rng, t)
    event["encryption"] = {"in_transit": "tls1.1"}
    return event


def crm_not_set_up(rng: random.Random, t: Tenant) -> Event:
    return sent(
        t, "contact_info", "country:DE", "customer-crm", "crm_integration", "crm-connector"
    )


def uk_crm_lookup_in_us(rng: random.Random, t: Tenant) -> Event:
    """The CRM's US instance: customer-crm has EU SCCs but no IDTA for UK data."""
    return sent(
        t, "contact_info", "country:US", "customer-crm", "crm_integration", "crm-connector"
    )


def contacts_for_marketing(rng: random.Random, t: Tenant) -> Event:
    return run(t, "contact_info", "process", customer_of(t).region, "marketing", "reporting")


def stored_outside_azure(rng: random.Random, t: Tenant) -> Event:
    return stored(
        t,
        "contact_info",
        "reporting",
        "reporting",
        processor="collab",
        destination=at(rng.choice(("aws:eu-west-1", "country:PT"))),
    )


def operator_from_india(rng: random.Random, t: Tenant) -> Event:
    # A third party is an importer (Collab's own staff would not be: EDPB 05/2021).
    event = support_from_lisbon(rng, t)
    event.update(destination=at("country:IN"), processor="telecom-operator")
    return event


def unknown_region(rng: random.Random, t: Tenant) -> Event:
    return stored(
        t,
        "contact_info",
        "reporting",
        "reporting",
        destination=at(rng.choice(("aws:eu-west-10", "azure:portugalnorth"))),
    )


# --- bad input ----------------------------------------------------------------------------
def retention_as_text(rng: random.Random, t: Tenant) -> Event:
    event = email_queued(rng, t)
    event["retention_days"] = "0"
    return event


def operation_misspelt(rng: random.Random, t: Tenant) -> Event:
    event = contact_stored(rng, t)
    event["operation"] = "upload"
    return event
