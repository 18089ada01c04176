"""Synthetic traffic of the Nubitalk (Collab) notice (seed 004) for policies/nubitalk.yaml."""

from __future__ import annotations

from auditor.traffic import Pack, Template, Tenant
from auditor.traffic.nubitalk import breaches, lawful
from auditor.traffic.nubitalk.tenants import TENANTS, customer_of

EEA_OR_UK = {"PT", "ES", "FR", "DE", "NL", "IE", "GB", "PL", "IT"}


# Which tenants can produce a flow.
def has_mail(t: Tenant) -> bool:
    return bool(customer_of(t).mailbox)


def has_crm(t: Tenant) -> bool:
    return bool(customer_of(t).crm)


def no_crm(t: Tenant) -> bool:
    return not customer_of(t).crm


def has_social(t: Tenant) -> bool:
    return "social-network" in str(t.settings.get("enabled_integrations", ""))


def labels_on(t: Tenant) -> bool:
    return t.settings.get("record_labels_enabled") is True


def labels_off(t: Tenant) -> bool:
    return not labels_on(t)


def eea_or_uk(t: Tenant) -> bool:
    return customer_of(t).country in EEA_OR_UK


def uk_with_crm(t: Tenant) -> bool:
    return customer_of(t).country == "GB" and has_crm(t)


TEMPLATES = (
    # lawful: ~93% of the weight
    Template("contact info stored in Azure", 14, lawful.contact_stored),
    Template("interaction time and duration stored in Azure", 14, lawful.timing_stored),
    Template("user account stored", 2, lawful.user_account_stored),
    Template(
        "record labels stored (tenant chose labels)", 3, lawful.labels_stored, tenants=labels_on
    ),
    Template("IM conversation stored for reporting or auditing", 8, lawful.conversation_stored),
    Template(
        "social message handled as IM and stored",
        2,
        lawful.social_dm_as_conversation,
        tenants=has_social,
    ),
    Template("aggregate report built", 4, lawful.aggregate_built),
    Template("e-mail read in the customer's mailbox", 5, lawful.email_read, tenants=has_mail),
    Template("e-mail queued while handled (retention 0)", 5, lawful.email_queued, tenants=has_mail),
    Template(
        "e-mail answer sent via the customer's provider", 3, lawful.email_answered, tenants=has_mail
    ),
    Template("handled e-mail deleted", 3, lawful.email_deleted, tenants=has_mail),
    Template("social-media interaction read at runtime", 3, lawful.social_read, tenants=has_social),
    Template("social-media reply posted", 2, lawful.social_answered, tenants=has_social),
    Template("voice recording stored AES-256", 7, lawful.voice_recorded),
    Template("screen recording stored encrypted", 2, lawful.screen_recorded),
    Template("recording with health data (warning)", 1, lawful.sensitive_call_recorded),
    Template("call media to the operator over SRTP", 10, lawful.media_to_operator),
    Template("call set-up to the operator over TLS", 5, lawful.call_setup_to_operator),
    Template("call detail exchanged with the operator", 2, lawful.cdr_from_operator),
    Template("call media to the customer's PBX over SRTP", 2, lawful.media_to_customer_pbx),
    Template(
        "call media to the customer's PBX without SRTP (warning)",
        1,
        lawful.media_to_pbx_without_srtp,
    ),
    Template("CRM lookup with contact info", 4, lawful.crm_lookup, tenants=has_crm),
    Template("CRM record shown at runtime", 3, lawful.crm_record_shown, tenants=has_crm),
    Template("recording replayed by an agent", 3, lawful.recording_replayed),
    Template("support access from Lisbon", 1, lawful.support_from_lisbon),
    # broken promises: ~7%
    Template(
        "e-mail archived for reporting",
        0.9,
        breaches.email_archived,
        "violation",
        ("purpose", "retention"),
        has_mail,
    ),
    Template(
        "e-mail kept days after handling",
        0.9,
        breaches.email_kept_after_handling,
        "violation",
        ("retention",),
        has_mail,
    ),
    Template(
        "social-media data stored",
        0.8,
        breaches.social_stored,
        "violation",
        ("retention",),
        has_social,
    ),
    Template(
        "CRM record cached 90 days",
        0.8,
        breaches.crm_record_cached,
        "violation",
        ("retention",),
        has_crm,
    ),
    Template(
        "labels stored for a tenant that did not choose them",
        0.6,
        breaches.labels_without_choice,
        "violation",
        ("retention",),
        labels_off,
    ),
    Template(
        "voice recording stored unencrypted",
        0.9,
        breaches.recording_unencrypted,
        "violation",
        ("encryption",),
    ),
    Template(
        "conversation copied to another Azure region unencrypted in transit",
        0.4,
        breaches.conversation_copied_unencrypted,
        "violation",
        ("encryption",),
        eea_or_uk,
    ),
    Template(
        "call media to the operator in plain RTP",
        0.8,
        breaches.media_to_operator_rtp,
        "violation",
        ("encryption",),
    ),
    Template(
        "call set-up to the operator over TLS 1.1",
        0.5,
        breaches.call_setup_tls11,
        "violation",
        ("encryption",),
    ),
    Template(
        "CRM lookup for a tenant without a CRM integration",
        0.8,
        breaches.crm_not_set_up,
        "violation",
        ("purpose",),
        no_crm,
    ),
    Template(
        "UK tenant's CRM lookup sent to the US instance",
        0.4,
        breaches.uk_crm_lookup_in_us,
        "violation",
        ("transfer",),
        uk_with_crm,
    ),
    Template(
        "contact info used for marketing",
        0.5,
        breaches.contacts_for_marketing,
        "violation",
        ("purpose",),
    ),
    Template(
        "contact info stored outside Azure",
        0.8,
        breaches.stored_outside_azure,
        "violation",
        ("residency",),
    ),
    Template(
        "telecom operator reads data from India", 0.3, breaches.operator_from_india, "violation",
        ("transfer",), eea_or_uk,
    ),
    Template("unknown region", 0.3, breaches.unknown_region, "violation", ("unknown_reference",)),
    # bad input
    Template(
        "retention_days as text", 0.2, breaches.retention_as_text, "invalid", ("schema",), has_mail
    ),
    Template("misspelt operation", 0.1, breaches.operation_misspelt, "invalid", ("schema",)),
)

PACK = Pack(
    name="nubitalk",
    tenants=TENANTS,
    templates=TEMPLATES,
    services=(
        "onecontact-core",
        "reporting",
        "chat-engine",
        "email-gateway",
        "social-connector",
        "media-server",
        "recording-service",
        "crm-connector",
    ),
)
