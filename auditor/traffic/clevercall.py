"""Synthetic traffic of the CleverCall.ai GDPR notice (seed 003) for policies/clevercall.yaml."""

from __future__ import annotations

import random
from dataclasses import dataclass

from auditor.traffic import Event, Pack, Template, Tenant

SCANNET = "site:scannet-dk"
EU_CLOUD = "country:DE"  # eu-cloud's data centres in Germany
TLS13 = {"in_transit": "tls1.3"}
SRTP = {"in_transit": "srtp"}
STORED = {"in_transit": "tls1.3", "at_rest": "aes-256"}
# What a customer that set no interval keeps a copy for: no limit applies to it, since "as a
# starting point, all personal data is stored".
NO_INTERVAL_DAYS = 365
INVOICE_DAYS = (30, 90, 395, 1825)  # phone-only numbers kept as invoicing documentation
AWS_EU = ("aws:eu-central-1", "aws:eu-west-1", "aws:eu-north-1", "aws:eu-west-3", "aws:eu-south-1")
SPECIAL = (
    "health",
    "religious_or_philosophical_beliefs",
    "trade_union_membership",
    "racial_or_ethnic_origin",
    "political_opinions",
    "sex_life_or_sexual_orientation",
)


@dataclass(frozen=True)
class _Customer:
    """A tenant with the country where its callers and caseworkers are (not a policy name)."""

    tenant: Tenant
    country: str


def _customer(
    tid: str, country: str, mode: str, days: int | None = None, filters: bool = False
) -> _Customer:
    settings: dict[str, object] = {"storage_mode": mode}
    if days is not None:
        settings["anonymize_after_days"] = days
    if filters:
        settings["sensitive_filters"] = True
    return _Customer(Tenant(tid, settings=settings), country)


_CUSTOMERS = (
    _customer("aarhus-kommune", "DK", "anonymize_after", 90, filters=True),
    _customer("koebenhavns-kommune", "DK", "anonymize_after", 180, filters=True),
    _customer("region-midtjylland", "DK", "anonymize_after", 30, filters=True),
    _customer("udbetaling-borgerservice", "DK", "anonymize_after", 60),
    _customer("odense-borgerservice", "DK", "phone_only"),
    _customer("pas-og-koerekort-vejle", "DK", "phone_only"),
    _customer("boligselskab-fyn", "DK", "phone_only"),
    _customer("aalborg-forsyning", "DK", "anonymize_after"),
    _customer("danske-fragt", "DK", "anonymize_after", 14),
    _customer("tandklinik-horsens", "DK", "anonymize_after", 7, filters=True),
    _customer("fitness-nord", "DK", "anonymize_after"),
    _customer("vindservice-esbjerg", "DK", "anonymize_after", 365),
    _customer("malmo-stad", "SE", "anonymize_after", 90, filters=True),
    _customer("helsingborg-vard", "SE", "phone_only"),
    _customer("espoo-asiointi", "FI", "anonymize_after", 120),
)
TENANTS = tuple(c.tenant for c in _CUSTOMERS)
_BY_ID = {c.tenant.id: c for c in _CUSTOMERS}
# Where callers phone from besides the customer's own country (travellers, expats).
_ABROAD = ("country:DE", "country:NO", "country:GB", "country:US", "country:PL", "country:ES")


def _at(location: str) -> dict[str, str]:
    return {"location": location}


def _home(t: Tenant) -> str:
    return f"country:{_BY_ID[t.id].country}"


def _phone_only(t: Tenant) -> bool:
    return t.settings.get("storage_mode") == "phone_only"


def _keeps_data(t: Tenant) -> bool:
    return not _phone_only(t)


def _has_interval(t: Tenant) -> bool:
    """An anonymise-after customer that set its interval: the only ones with a limit."""
    return _keeps_data(t) and isinstance(t.settings.get("anonymize_after_days"), int)


def _no_interval(t: Tenant) -> bool:
    return _keeps_data(t) and not _has_interval(t)


def _filters(t: Tenant) -> bool:
    """The customer set up filters that anonymise special categories immediately."""
    return _keeps_data(t) and t.settings.get("sensitive_filters") is True


def _no_filters(t: Tenant) -> bool:
    return _keeps_data(t) and not _filters(t)


def _limit(t: Tenant) -> int:
    """Days the customer keeps personal data before anonymisation (its interval, if set)."""
    days = t.settings.get("anonymize_after_days")
    return days if isinstance(days, int) else NO_INTERVAL_DAYS


def _within(rng: random.Random, t: Tenant) -> int:
    """A retention the customer's interval allows (sometimes exactly the interval)."""
    limit = _limit(t)
    return rng.choice((limit, max(1, limit // 2), max(1, limit // 3), 1, limit))


def _flow(
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
    dest: dict[str, str] = _at(destination)
    if system is not None:
        dest["system"] = system
    event: Event = {
        "data_class": data_class,
        "operation": operation,
        "origin": _at(origin),
        "destination": dest,
        "processor": processor,
        "purpose": purpose,
        "encryption": dict(encryption if encryption is not None else TLS13),
        "service": service,
    }
    event.update(rest)
    return event


def _stored_at_scannet(
    data_class: str,
    origin: str,
    retention: int | None,
    *,
    service: str = "storage",
    purpose: str = "service_delivery",
    **rest: object,
) -> Event:
    """A copy kept at ScanNet in Denmark (the notice's place for data at rest)."""
    event = _flow(
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
    caller = _home(t) if rng.random() < 0.85 else rng.choice(_ABROAD)
    return _flow(
        "call_audio",
        "transfer",
        caller,
        SCANNET,
        "clevercall",
        "call-gateway",
        encryption=rng.choice((SRTP, SRTP, TLS13)),
    )


def audio_transcribed_eu_cloud(rng: random.Random, t: Tenant) -> Event:
    event = _flow("call_audio", "process", SCANNET, EU_CLOUD, "eu-cloud", "transcriber")
    if rng.random() < 0.15:  # the filter finds Art. 9 data in the live call
        event["special_categories"] = [rng.choice(SPECIAL)]
    return event


def audio_transcribed_scannet(rng: random.Random, t: Tenant) -> Event:
    return _flow("call_audio", "process", SCANNET, SCANNET, "clevercall", "transcriber")


def audio_buffered(rng: random.Random, t: Tenant) -> Event:
    return _flow(
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
    return _flow("transcript", "transfer", EU_CLOUD, SCANNET, "scannet", "transcriber")


# --- stored at ScanNet, anonymised on the customer's schedule ----------------------------------
def transcript_stored(rng: random.Random, t: Tenant) -> Event:
    return _stored_at_scannet("transcript", rng.choice((SCANNET, EU_CLOUD)), _within(rng, t))


def sensitive_transcript_anonymised(rng: random.Random, t: Tenant) -> Event:
    return _stored_at_scannet(
        "transcript",
        SCANNET,
        rng.choice((None, 365, 3650)),
        special_categories=rng.sample(SPECIAL, rng.choice((1, 2))),
        anonymized=True,
    )


def contact_details_stored(rng: random.Random, t: Tenant) -> Event:
    return _stored_at_scannet("contact_details", SCANNET, _within(rng, t))


def number_stored(rng: random.Random, t: Tenant) -> Event:
    return _stored_at_scannet("phone_number", SCANNET, _within(rng, t))


def anonymised_on_schedule(rng: random.Random, t: Tenant) -> Event:
    data_class = rng.choice(("transcript", "transcript", "contact_details", "phone_number"))
    return _flow(
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
    return _stored_at_scannet("transcript", SCANNET, None, anonymized=True)


def forget_me(rng: random.Random, t: Tenant) -> Event:
    event = _flow(
        "contact_details",
        "erasure_request",
        _home(t),
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
    return _flow(
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
    return _flow(
        "transcript",
        "store",
        EU_CLOUD,
        EU_CLOUD,
        "eu-cloud",
        "transcriber",
        encryption=STORED,
        system="eu-cloud-objects",
        retention_days=_within(rng, t),
    )


# --- phone number only ---------------------------------------------------------------------
def number_for_invoicing(rng: random.Random, t: Tenant) -> Event:
    return _stored_at_scannet(
        "phone_number", SCANNET, rng.choice(INVOICE_DAYS), purpose="invoicing", service="invoicing"
    )


def invoice_run(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        "phone_number",
        "access",
        SCANNET,
        "country:DK",
        "clevercall",
        "invoicing",
        purpose="invoicing",
    )


def number_deleted(rng: random.Random, t: Tenant) -> Event:
    return _flow(
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
    return _flow(
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
    return _flow("static_answer", "process", SCANNET, SCANNET, "clevercall", "answer-engine")


def dynamic_answer_generated(rng: random.Random, t: Tenant) -> Event:
    return _flow("dynamic_answer", "process", SCANNET, SCANNET, "clevercall", "answer-engine")


# --- access -------------------------------------------------------------------------------
def caseworker_reads(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        rng.choice(("transcript", "transcript", "contact_details", "dynamic_answer")),
        "access",
        SCANNET,
        _home(t),
        "clevercall",
        "portal",
    )


def support_reads(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        "transcript",
        "access",
        SCANNET,
        "country:DK",
        "clevercall",
        "support-console",
        purpose="support",
    )


def anonymised_analytics(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        "transcript",
        "process",
        SCANNET,
        EU_CLOUD,
        "eu-cloud",
        "analytics",
        purpose="analytics",
        anonymized=True,
    )


# --- violations ----------------------------------------------------------------------------
def stored_in_aws_eu(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        "transcript",
        "store",
        SCANNET,
        rng.choice(AWS_EU),
        "aws",
        "storage",
        encryption=STORED,
        system="s3",
        retention_days=_within(rng, t),
    )


def transcribed_in_azure(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        "call_audio",
        "process",
        SCANNET,
        rng.choice(("azure:westeurope", "azure:northeurope", "azure:swedencentral")),
        "azure",
        "transcriber",
    )


def copied_to_us(rng: random.Random, t: Tenant) -> Event:
    return _flow("transcript", "transfer", SCANNET, "aws:us-east-1", "aws", "analytics")


def sensitive_stored_plain(rng: random.Random, t: Tenant) -> Event:
    return _stored_at_scannet(
        "transcript", SCANNET, _within(rng, t), special_categories=[rng.choice(SPECIAL)]
    )


def phone_only_contacts_stored(rng: random.Random, t: Tenant) -> Event:
    return _stored_at_scannet("contact_details", SCANNET, rng.choice((1, 30, 90)))


def phone_only_number_analytics(rng: random.Random, t: Tenant) -> Event:
    return _stored_at_scannet(
        "phone_number", SCANNET, rng.choice(INVOICE_DAYS), purpose="analytics", service="analytics"
    )


def sensitive_stored_unfiltered(rng: random.Random, t: Tenant) -> Event:
    """A customer without filters: special categories are stored like any personal data."""
    return sensitive_stored_plain(rng, t)


def kept_without_interval(rng: random.Random, t: Tenant) -> Event:
    """A customer that set no interval: no limit, even indefinitely."""
    return _stored_at_scannet("transcript", SCANNET, rng.choice((None, 730, 3650)))


def kept_past_interval(rng: random.Random, t: Tenant) -> Event:
    retention: int | None = _limit(t) + rng.choice((1, 7, 30))
    if rng.random() < 0.2:
        retention = None  # never anonymised
    return _stored_at_scannet("transcript", SCANNET, retention)


def sent_over_tls11(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        "transcript",
        "transfer",
        EU_CLOUD,
        SCANNET,
        "scannet",
        "transcriber",
        encryption={"in_transit": "tls1.1"},
    )


def audio_plain_rtp(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        "call_audio",
        "transfer",
        _home(t),
        SCANNET,
        "clevercall",
        "call-gateway",
        encryption={"in_transit": "none"},
    )


def support_from_india(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        "transcript",
        "access",
        SCANNET,
        "country:IN",
        "clevercall",
        "support-console",
        purpose="support",
    )


def backup_in_norway(rng: random.Random, t: Tenant) -> Event:
    return _flow(
        "transcript",
        "store",
        SCANNET,
        "country:NO",
        "scannet",
        "backup",
        encryption=STORED,
        system="backup",
        retention_days=_within(rng, t),
    )


def unknown_region(rng: random.Random, t: Tenant) -> Event:
    event = stored_in_aws_eu(rng, t)
    event["destination"] = {"location": "aws:eu-west-10", "system": "s3"}
    return event


# --- bad input -----------------------------------------------------------------------------
def retention_as_text(rng: random.Random, t: Tenant) -> Event:
    event = transcript_stored(rng, t)
    event["retention_days"] = f"{_limit(t)} days"
    return event


def misspelt_tls(rng: random.Random, t: Tenant) -> Event:
    event = transcript_returned(rng, t)
    event["encryption"] = {"in_transit": "TLSv1.3"}
    return event


TEMPLATES = (
    # the call
    Template("call audio streamed to CleverCall at ScanNet", 14, audio_streamed),
    Template("call audio transcribed at eu-cloud in Germany", 9, audio_transcribed_eu_cloud),
    Template("call audio transcribed at ScanNet", 5, audio_transcribed_scannet),
    Template("call audio buffered while transcribed (retention 0)", 4, audio_buffered),
    Template("transcript returned from eu-cloud to ScanNet", 6, transcript_returned),
    # stored, anonymised on schedule (anonymize_after customers)
    Template("transcript stored at ScanNet", 10, transcript_stored, tenants=_keeps_data),
    Template(
        "special-category transcript stored anonymised",
        3,
        sensitive_transcript_anonymised,
        tenants=_keeps_data,
    ),
    Template("contact details stored at ScanNet", 5, contact_details_stored, tenants=_keeps_data),
    Template(
        "special-category transcript stored as it is (no filters set up)",
        1.5,
        sensitive_stored_unfiltered,
        tenants=_no_filters,
    ),
    Template(
        "transcript kept with no limit (no interval set)",
        1.5,
        kept_without_interval,
        tenants=_no_interval,
    ),
    Template(
        "phone number stored (anonymise-after customer)", 3, number_stored, tenants=_keeps_data
    ),
    Template(
        "personal data anonymised on schedule", 4, anonymised_on_schedule, tenants=_keeps_data
    ),
    Template("anonymised transcript kept for statistics", 2, anonymised_kept),
    Template('"Forget me" request', 1, forget_me, tenants=_keeps_data),
    Template('"Forget me" deletion', 1, forget_me_deleted, tenants=_keeps_data),
    Template(
        "transcript stored at eu-cloud (other EU hosting, warning)",
        1,
        stored_at_eu_cloud,
        tenants=_keeps_data,
    ),
    # phone number only
    Template(
        "phone number stored for invoicing (phone-only)",
        5,
        number_for_invoicing,
        tenants=_phone_only,
    ),
    Template("phone number read for the invoice run", 2, invoice_run, tenants=_phone_only),
    Template("phone number deleted after invoicing", 2, number_deleted, tenants=_phone_only),
    Template(
        "personal data passes through, not stored (phone-only)",
        3,
        transcript_passes_through,
        tenants=_phone_only,
    ),
    # answers and access
    Template("static answer played", 6, static_answer_played),
    Template("dynamic answer generated at ScanNet", 6, dynamic_answer_generated),
    Template("caseworker reads via the portal", 5, caseworker_reads, tenants=_keeps_data),
    Template("support in Denmark reads a transcript", 1.5, support_reads, tenants=_keeps_data),
    Template("anonymised statistics analysed at eu-cloud", 1.5, anonymised_analytics),
    # violations
    Template(
        "transcript stored in an AWS EU region",
        1.2,
        stored_in_aws_eu,
        "violation",
        ("sovereignty",),
        _keeps_data,
    ),
    Template(
        "call audio transcribed in Azure (EU region)",
        0.8,
        transcribed_in_azure,
        "violation",
        ("sovereignty",),
    ),
    Template(
        "transcript copied to AWS us-east-1",
        0.4,
        copied_to_us,
        "violation",
        ("residency", "sovereignty", "transfer"),
    ),
    Template(
        "special-category transcript stored without anonymisation",
        1.0,
        sensitive_stored_plain,
        "violation",
        ("special_category",),
        _filters,
    ),
    Template(
        "phone-only customer stores contact details",
        0.8,
        phone_only_contacts_stored,
        "violation",
        ("retention",),
        _phone_only,
    ),
    Template(
        "phone-only customer's number kept for analytics",
        0.6,
        phone_only_number_analytics,
        "violation",
        ("purpose",),
        _phone_only,
    ),
    Template(
        "transcript kept past the customer's interval",
        0.8,
        kept_past_interval,
        "violation",
        ("retention",),
        _has_interval,
    ),
    Template("transcript sent over TLS 1.1", 0.6, sent_over_tls11, "violation", ("encryption",)),
    Template("call audio in plain RTP", 0.4, audio_plain_rtp, "violation", ("encryption",)),
    Template(
        # CleverCall's own staff: no importer, so no Chapter V transfer (EDPB 05/2021),
        # but the data is read outside the EU.
        "support access from India",
        0.3,
        support_from_india,
        "violation",
        ("residency",),
    ),
    Template(
        "backup replicated to Norway",
        0.3,
        backup_in_norway,
        "violation",
        ("residency",),
        _keeps_data,
    ),
    Template(
        "unknown region aws:eu-west-10",
        0.3,
        unknown_region,
        "violation",
        ("unknown_reference",),
        _keeps_data,
    ),
    # bad input
    Template("retention_days as text", 0.2, retention_as_text, "invalid", ("schema",), _keeps_data),
    Template("TLS version misspelt", 0.15, misspelt_tls, "invalid", ("schema",)),
)

PACK = Pack(
    name="clevercall",
    tenants=TENANTS,
    templates=TEMPLATES,
    services=(
        "call-gateway",
        "transcriber",
        "answer-engine",
        "storage",
        "anonymizer",
        "invoicing",
        "portal",
        "support-console",
        "analytics",
        "backup",
    ),
)
