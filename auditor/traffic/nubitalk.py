"""Synthetic traffic of the Nubitalk (Collab) notice (seed 004) for policies/nubitalk.yaml."""

from __future__ import annotations

import random
from dataclasses import dataclass

from auditor.traffic import Event, Pack, Template, Tenant

TLS13 = {"in_transit": "tls1.3"}
STORED = {"in_transit": "tls1.3", "at_rest": "aes-256"}


@dataclass(frozen=True)
class _Customer:
    """A tenant with the places its flows touch (none of them is a policy name)."""

    tenant: Tenant
    country: str  # where its callers, agents, telecom operator and PBX are
    region: str  # the Azure region hosting it
    mailbox: str = ""  # location of its e-mail provider ("" = no e-mail channel)
    crm: str = ""  # location of its own CRM ("" = none)


def _customer(
    tid: str,
    country: str,
    region: str,
    *,
    mailbox: str = "",
    crm: str = "",
    social: bool = False,
    labels: bool = False,
) -> _Customer:
    integrations = [
        name
        for name, on in (
            ("email-provider", mailbox),
            ("customer-crm", crm),
            ("social-network", social),
        )
        if on
    ]
    settings: dict[str, object] = {"enabled_integrations": ",".join(integrations)}
    if labels:
        settings["record_labels_enabled"] = True
    tenant = Tenant(tid, settings=settings)
    return _Customer(tenant, country, f"azure:{region}", mailbox, crm)


_CUSTOMERS = (
    _customer(
        "seguros-atlantico",
        "PT",
        "westeurope",
        mailbox="country:IE",
        crm="country:DE",
        social=True,
        labels=True,
    ),
    _customer("energia-norte", "PT", "northeurope", mailbox="country:IE"),
    _customer(
        "banco-levante", "ES", "spaincentral", mailbox="country:ES", crm="country:US", labels=True
    ),
    _customer("telco-iberica", "ES", "westeurope", crm="country:FR", social=True),
    _customer("mutuelle-provence", "FR", "francecentral", mailbox="country:FR"),
    _customer("autohaus-rhein", "DE", "germanywestcentral", mailbox="country:DE", crm="country:DE"),
    _customer(
        "retail-holland",
        "NL",
        "westeurope",
        mailbox="country:US",
        crm="country:US",
        social=True,
        labels=True,
    ),
    _customer("utilities-eireann", "IE", "northeurope", crm="country:IE"),
    _customer(
        "varejo-paulista",
        "BR",
        "brazilsouth",
        mailbox="country:US",
        crm="country:US",
        social=True,
        labels=True,
    ),
    _customer("saude-carioca", "BR", "brazilsoutheast", mailbox="country:BR"),
    _customer("housing-albion", "GB", "uksouth", mailbox="country:GB", crm="country:GB"),
    _customer("logistics-atlanta", "US", "eastus", crm="country:US", social=True),
    _customer("ecommerce-wisla", "PL", "polandcentral"),
    _customer("assicura-milano", "IT", "italynorth", mailbox="country:IT", labels=True),
)
TENANTS = tuple(c.tenant for c in _CUSTOMERS)
_BY_ID = {c.tenant.id: c for c in _CUSTOMERS}
_EEA_OR_UK = {"PT", "ES", "FR", "DE", "NL", "IE", "GB", "PL", "IT"}


def _c(t: Tenant) -> _Customer:
    return _BY_ID[t.id]


def _at(location: str) -> dict[str, str]:
    return {"location": location}


def _home(t: Tenant) -> dict[str, str]:
    return _at(f"country:{_c(t).country}")


def _hosted(t: Tenant) -> dict[str, str]:
    return _at(_c(t).region)


# Which tenants can produce a flow.
def _has_mail(t: Tenant) -> bool:
    return bool(_c(t).mailbox)


def _has_crm(t: Tenant) -> bool:
    return bool(_c(t).crm)


def _no_crm(t: Tenant) -> bool:
    return not _c(t).crm


def _has_social(t: Tenant) -> bool:
    return "social-network" in str(t.settings.get("enabled_integrations", ""))


def _labels(t: Tenant) -> bool:
    return t.settings.get("record_labels_enabled") is True


def _no_labels(t: Tenant) -> bool:
    return not _labels(t)


def _eea_or_uk(t: Tenant) -> bool:
    return _c(t).country in _EEA_OR_UK


def _uk_with_crm(t: Tenant) -> bool:
    return _c(t).country == "GB" and _has_crm(t)


def _stored(t: Tenant, data_class: str, purpose: str, service: str, **rest: object) -> Event:
    """A copy the services keep in the tenant's Azure region, sent from the tenant's country."""
    event: Event = {
        "data_class": data_class,
        "operation": "store",
        "origin": _home(t),
        "destination": {"location": _c(t).region, "system": "azure-sql"},
        "processor": "azure",
        "purpose": purpose,
        "encryption": STORED,
        "service": service,
    }
    event.update(rest)
    return event


def _sent(
    t: Tenant, data_class: str, to: str, processor: str, purpose: str, service: str, **rest: object
) -> Event:
    """Data the services send from the tenant's Azure region to another party."""
    event: Event = {
        "data_class": data_class,
        "operation": "transfer",
        "origin": _hosted(t),
        "destination": _at(to),
        "processor": processor,
        "purpose": purpose,
        "encryption": TLS13,
        "service": service,
    }
    event.update(rest)
    return event


def _run(
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
        "origin": _at(origin),
        "destination": _hosted(t),
        "processor": "collab",
        "purpose": purpose,
        "encryption": TLS13,
        "service": service,
    }
    event.update(rest)
    return event


# --- lawful flows -------------------------------------------------------------------------
def contact_stored(rng: random.Random, t: Tenant) -> Event:
    return _stored(t, "contact_info", "reporting", "reporting")


def timing_stored(rng: random.Random, t: Tenant) -> Event:
    return _stored(t, "interaction_metadata", "reporting", "reporting")


def user_account_stored(rng: random.Random, t: Tenant) -> Event:
    return _stored(t, "user_account", "service_delivery", "onecontact-core")


def labels_stored(rng: random.Random, t: Tenant) -> Event:
    return _stored(t, "record_labels", "reporting", "reporting")


def conversation_stored(rng: random.Random, t: Tenant) -> Event:
    return _stored(
        t,
        "instant_message",
        rng.choice(("reporting", "auditing")),
        "chat-engine",
        retention_days=rng.choice((365, 730, None)),
    )


def social_dm_as_conversation(rng: random.Random, t: Tenant) -> Event:
    return _stored(t, "instant_message", "reporting", "social-connector", origin=_at("country:US"))


def aggregate_built(rng: random.Random, t: Tenant) -> Event:
    return _run(t, "aggregate_report", "process", _c(t).region, "reporting", "reporting")


def email_read(rng: random.Random, t: Tenant) -> Event:
    return _run(t, "email_content", "access", _c(t).mailbox, "routing", "email-gateway")


def email_queued(rng: random.Random, t: Tenant) -> Event:
    return _stored(
        t,
        "email_content",
        "routing",
        "email-gateway",
        processor="collab",
        origin=_at(_c(t).mailbox),
        retention_days=0,
    )


def email_answered(rng: random.Random, t: Tenant) -> Event:
    return _sent(
        t, "email_content", _c(t).mailbox, "email-provider", "service_delivery", "email-gateway"
    )


def email_deleted(rng: random.Random, t: Tenant) -> Event:
    return _run(t, "email_content", "delete", _c(t).region, "routing", "email-gateway")


def social_read(rng: random.Random, t: Tenant) -> Event:
    return _run(
        t,
        "social_media_content",
        "access",
        "country:US",
        rng.choice(("routing", "service_delivery")),
        "social-connector",
    )


def social_answered(rng: random.Random, t: Tenant) -> Event:
    return _sent(
        t,
        "social_media_content",
        "country:US",
        "social-network",
        "service_delivery",
        "social-connector",
    )


def voice_recorded(rng: random.Random, t: Tenant) -> Event:
    return _stored(
        t,
        "voice_recording",
        "auditing",
        "recording-service",
        retention_days=rng.choice((90, 180, 365)),
    )


def screen_recorded(rng: random.Random, t: Tenant) -> Event:
    return _stored(
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
    return _sent(
        t,
        "voice_media",
        f"country:{_c(t).country}",
        "telecom-operator",
        "service_delivery",
        "media-server",
        encryption={"in_transit": "srtp"},
    )


def call_setup_to_operator(rng: random.Random, t: Tenant) -> Event:
    return _sent(
        t,
        "contact_info",
        f"country:{_c(t).country}",
        "telecom-operator",
        "routing",
        "media-server",
        encryption={"in_transit": rng.choice(("tls1.2", "tls1.3"))},
    )


def cdr_from_operator(rng: random.Random, t: Tenant) -> Event:
    return _sent(
        t,
        "interaction_metadata",
        f"country:{_c(t).country}",
        "telecom-operator",
        "service_delivery",
        "media-server",
    )


def media_to_customer_pbx(rng: random.Random, t: Tenant) -> Event:
    return _sent(
        t,
        "voice_media",
        f"country:{_c(t).country}",
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
    return _sent(t, "contact_info", _c(t).crm, "customer-crm", "crm_integration", "crm-connector")


def crm_record_shown(rng: random.Random, t: Tenant) -> Event:
    return _run(t, "crm_record", "process", _c(t).crm, "crm_integration", "crm-connector")


def recording_replayed(rng: random.Random, t: Tenant) -> Event:
    return {
        "data_class": rng.choice(("voice_recording", "screen_recording")),
        "operation": "access",
        "origin": _hosted(t),
        "destination": _home(t),
        "processor": "collab",
        "purpose": "auditing",
        "encryption": TLS13,
        "service": "recording-service",
    }


def support_from_lisbon(rng: random.Random, t: Tenant) -> Event:
    event = recording_replayed(rng, t)
    event.update(
        data_class="interaction_metadata",
        destination=_at("country:PT"),
        purpose="support",
        service="onecontact-core",
    )
    return event


# --- broken promises ----------------------------------------------------------------------
def email_archived(rng: random.Random, t: Tenant) -> Event:
    return _stored(
        t, "email_content", "reporting", "reporting", origin=_at(_c(t).mailbox), retention_days=365
    )


def email_kept_after_handling(rng: random.Random, t: Tenant) -> Event:
    event = email_queued(rng, t)
    event["retention_days"] = rng.choice((1, 3, 7))
    return event


def social_stored(rng: random.Random, t: Tenant) -> Event:
    return _stored(
        t,
        "social_media_content",
        "routing",
        "social-connector",
        processor="collab",
        origin=_at("country:US"),
        retention_days=30,
    )


def crm_record_cached(rng: random.Random, t: Tenant) -> Event:
    return _stored(
        t,
        "crm_record",
        "crm_integration",
        "crm-connector",
        processor="collab",
        origin=_at(_c(t).crm),
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
    other = "azure:northeurope" if _c(t).region == "azure:westeurope" else "azure:westeurope"
    return {
        **conversation_stored(rng, t),
        "origin": _hosted(t),
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
    return _sent(
        t, "contact_info", "country:DE", "customer-crm", "crm_integration", "crm-connector"
    )


def uk_crm_lookup_in_us(rng: random.Random, t: Tenant) -> Event:
    """The CRM's US instance: customer-crm has EU SCCs but no IDTA for UK data."""
    return _sent(
        t, "contact_info", "country:US", "customer-crm", "crm_integration", "crm-connector"
    )


def contacts_for_marketing(rng: random.Random, t: Tenant) -> Event:
    return _run(t, "contact_info", "process", _c(t).region, "marketing", "reporting")


def stored_outside_azure(rng: random.Random, t: Tenant) -> Event:
    return _stored(
        t,
        "contact_info",
        "reporting",
        "reporting",
        processor="collab",
        destination=_at(rng.choice(("aws:eu-west-1", "country:PT"))),
    )


def operator_from_india(rng: random.Random, t: Tenant) -> Event:
    # A third party is an importer (Collab's own staff would not be: EDPB 05/2021).
    event = support_from_lisbon(rng, t)
    event.update(destination=_at("country:IN"), processor="telecom-operator")
    return event


def unknown_region(rng: random.Random, t: Tenant) -> Event:
    return _stored(
        t,
        "contact_info",
        "reporting",
        "reporting",
        destination=_at(rng.choice(("aws:eu-west-10", "azure:portugalnorth"))),
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


TEMPLATES = (
    # lawful: ~93% of the weight
    Template("contact info stored in Azure", 14, contact_stored),
    Template("interaction time and duration stored in Azure", 14, timing_stored),
    Template("user account stored", 2, user_account_stored),
    Template("record labels stored (tenant chose labels)", 3, labels_stored, tenants=_labels),
    Template("IM conversation stored for reporting or auditing", 8, conversation_stored),
    Template(
        "social message handled as IM and stored", 2, social_dm_as_conversation, tenants=_has_social
    ),
    Template("aggregate report built", 4, aggregate_built),
    Template("e-mail read in the customer's mailbox", 5, email_read, tenants=_has_mail),
    Template("e-mail queued while handled (retention 0)", 5, email_queued, tenants=_has_mail),
    Template(
        "e-mail answer sent via the customer's provider", 3, email_answered, tenants=_has_mail
    ),
    Template("handled e-mail deleted", 3, email_deleted, tenants=_has_mail),
    Template("social-media interaction read at runtime", 3, social_read, tenants=_has_social),
    Template("social-media reply posted", 2, social_answered, tenants=_has_social),
    Template("voice recording stored AES-256", 7, voice_recorded),
    Template("screen recording stored encrypted", 2, screen_recorded),
    Template("recording with health data (warning)", 1, sensitive_call_recorded),
    Template("call media to the operator over SRTP", 10, media_to_operator),
    Template("call set-up to the operator over TLS", 5, call_setup_to_operator),
    Template("call detail exchanged with the operator", 2, cdr_from_operator),
    Template("call media to the customer's PBX over SRTP", 2, media_to_customer_pbx),
    Template(
        "call media to the customer's PBX without SRTP (warning)", 1, media_to_pbx_without_srtp
    ),
    Template("CRM lookup with contact info", 4, crm_lookup, tenants=_has_crm),
    Template("CRM record shown at runtime", 3, crm_record_shown, tenants=_has_crm),
    Template("recording replayed by an agent", 3, recording_replayed),
    Template("support access from Lisbon", 1, support_from_lisbon),
    # broken promises: ~7%
    Template(
        "e-mail archived for reporting",
        0.9,
        email_archived,
        "violation",
        ("purpose", "retention"),
        _has_mail,
    ),
    Template(
        "e-mail kept days after handling",
        0.9,
        email_kept_after_handling,
        "violation",
        ("retention",),
        _has_mail,
    ),
    Template(
        "social-media data stored", 0.8, social_stored, "violation", ("retention",), _has_social
    ),
    Template(
        "CRM record cached 90 days", 0.8, crm_record_cached, "violation", ("retention",), _has_crm
    ),
    Template(
        "labels stored for a tenant that did not choose them",
        0.6,
        labels_without_choice,
        "violation",
        ("retention",),
        _no_labels,
    ),
    Template(
        "voice recording stored unencrypted",
        0.9,
        recording_unencrypted,
        "violation",
        ("encryption",),
    ),
    Template(
        "conversation copied to another Azure region unencrypted in transit",
        0.4,
        conversation_copied_unencrypted,
        "violation",
        ("encryption",),
        _eea_or_uk,
    ),
    Template(
        "call media to the operator in plain RTP",
        0.8,
        media_to_operator_rtp,
        "violation",
        ("encryption",),
    ),
    Template(
        "call set-up to the operator over TLS 1.1",
        0.5,
        call_setup_tls11,
        "violation",
        ("encryption",),
    ),
    Template(
        "CRM lookup for a tenant without a CRM integration",
        0.8,
        crm_not_set_up,
        "violation",
        ("purpose",),
        _no_crm,
    ),
    Template(
        "UK tenant's CRM lookup sent to the US instance",
        0.4,
        uk_crm_lookup_in_us,
        "violation",
        ("transfer",),
        _uk_with_crm,
    ),
    Template(
        "contact info used for marketing", 0.5, contacts_for_marketing, "violation", ("purpose",)
    ),
    Template(
        "contact info stored outside Azure", 0.8, stored_outside_azure, "violation", ("residency",)
    ),
    Template(
        "telecom operator reads data from India", 0.3, operator_from_india, "violation",
        ("transfer",), _eea_or_uk,
    ),
    Template("unknown region", 0.3, unknown_region, "violation", ("unknown_reference",)),
    # bad input
    Template("retention_days as text", 0.2, retention_as_text, "invalid", ("schema",), _has_mail),
    Template("misspelt operation", 0.1, operation_misspelt, "invalid", ("schema",)),
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
