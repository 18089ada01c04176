"""Synthetic traffic of the Natterbox notices (seeds 000 and 001) for policies/natterbox.yaml."""

from __future__ import annotations

import random
from typing import Any

from auditor.traffic import Event, Pack, Template, Tenant

HOME: dict[str, tuple[str, ...]] = {
    "AUS1": ("aws:ap-southeast-2", "aws:ap-southeast-4"),
    "EUR1": ("aws:eu-central-1", "aws:eu-north-1"),
    "UKI1": ("aws:eu-west-2", "aws:eu-west-1"),
    "USA1": ("aws:us-east-2", "aws:us-west-2"),
}
ROUTING = (
    "aws:eu-west-2",
    "aws:eu-central-1",
    "aws:us-east-2",
    "aws:us-west-2",
    "aws:ap-southeast-1",
    "aws:ap-southeast-2",
)
UK_DC = ("site:telehouse-london", "site:equinix-london")
EU_DUBLIN = "aws:eu-west-1"
CARRIER_LEGS = ("GB", "GB", "US", "FR", "DE", "IE", "AU", "IN", "SG")
IPSEC = {"in_transit": "ipsec"}
TLS13 = {"in_transit": "tls1.3"}
MEDIA = ("srtp", "tls1.3")


def _tenant(tid: str, home: str, **settings: Any) -> Tenant:
    return Tenant(tid, home_region=home, settings=settings)


TENANTS = (
    _tenant("acme-bank-uk", "UKI1"),
    _tenant("harbour-insurance", "UKI1", extended_retention=True),
    _tenant("brightline-energy-ie", "UKI1", training_opt_out=True),
    _tenant("thames-estates", "UKI1", recording_retention_days=30),
    _tenant("nordwind-logistik", "EUR1"),
    _tenant("solvik-telecom-se", "EUR1", training_opt_out=True),
    _tenant("rhein-versicherung", "EUR1", recording_retention_days=90),
    _tenant("paris-conseil", "EUR1", extended_retention=True),
    _tenant("cascade-realty", "USA1"),
    _tenant("ohio-health-partners", "USA1", training_opt_out=True),
    _tenant("lakeshore-legal", "USA1", extended_retention=True, training_opt_out=True),
    _tenant("harbourview-au", "AUS1"),
    _tenant("koala-energy", "AUS1", recording_retention_days=180),
    _tenant("wattle-finance", "AUS1", training_opt_out=True),
)


# --- helpers ------------------------------------------------------------------------------
def _loc(location: str) -> dict[str, str]:
    return {"location": location}


def _home(rng: random.Random, t: Tenant) -> str:
    return rng.choice(HOME[t.home_region or "UKI1"])


def _site(rng: random.Random) -> str:
    return rng.choice(UK_DC)


def _recording_limit(t: Tenant) -> int | None:
    """Days a stored recording / transcript may be kept (None: additional storage bought)."""
    if t.settings.get("extended_retention") is True:
        return None
    days = t.settings.get("recording_retention_days")
    return days if isinstance(days, int) else 365


def _lawful_recording_days(rng: random.Random, t: Tenant) -> int:
    limit = _recording_limit(t)
    # Services state the retention they are configured with: a few typical values.
    if limit is None:
        return rng.choice((30, 90, 180, 365, 730, 1095))
    return rng.choice([d for d in (7, 30, 90, 180, 365) if d <= limit] or [limit])


def _limited(t: Tenant) -> bool:
    return _recording_limit(t) is not None


def _not_opted_out(t: Tenant) -> bool:
    return t.settings.get("training_opt_out") is not True


def _opted_out(t: Tenant) -> bool:
    return t.settings.get("training_opt_out") is True


def _store_home_or_uk(rng: random.Random, t: Tenant) -> tuple[str, str]:
    """A Natterbox-held copy: a UK data centre (natterbox) or the Home Region (aws)."""
    if rng.random() < 0.5:
        return _site(rng), "natterbox"
    return _home(rng, t), "aws"


# --- lawful flows -----------------------------------------------------------------------------
def route_call(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "call-router",
        "data_class": "routing_identity",
        "operation": "process",
        "origin": _loc(rng.choice(ROUTING)),
        "destination": _loc(rng.choice(ROUTING)),
        "processor": "aws",
        "purpose": "call_routing",
        "encryption": {"in_transit": rng.choice(MEDIA)},
    }


def carrier_leg(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "call-router",
        "data_class": rng.choice(("routing_identity", "call_log")),
        "operation": "transfer",
        "origin": _loc(rng.choice(ROUTING + UK_DC)),
        "destination": _loc(f"country:{rng.choice(CARRIER_LEGS)}"),
        "processor": "carrier",
        "purpose": "call_routing",
        "encryption": {"in_transit": rng.choice(MEDIA)},
    }


def routing_cache(rng: random.Random, t: Tenant) -> Event:
    where = rng.choice(ROUTING + UK_DC)
    return {
        "service": "call-router",
        "data_class": "routing_identity",
        "operation": "store",
        "origin": _loc(where),
        "destination": _loc(where),
        "processor": "natterbox" if where.startswith("site:") else "aws",
        "purpose": "call_routing",
        "encryption": {"at_rest": "aes-256"},
    }


def end_of_call_logs(rng: random.Random, t: Tenant) -> Event:
    dest, processor = _store_home_or_uk(rng, t)
    return {
        "service": "log-shipper",
        "data_class": rng.choice(("call_log", "call_log", "billing_record", "operational_log")),
        "operation": "transfer",
        "origin": _loc(rng.choice(ROUTING)),
        "destination": _loc(dest),
        "processor": processor,
        "encryption": IPSEC,
    }


def archive_call_log(rng: random.Random, t: Tenant) -> Event:
    dest, processor = _store_home_or_uk(rng, t)
    data_class, purpose = rng.choice(
        (("call_log", "regulatory_archive"), ("billing_record", "billing"), ("call_log", "billing"))
    )
    return {
        "service": "billing",
        "data_class": data_class,
        "operation": "store",
        "origin": _loc(dest),
        "destination": _loc(dest),
        "processor": processor,
        "purpose": purpose,
        "encryption": {"at_rest": "aes-256"},
        "retention_days": rng.choice((730, 2190, 2555)),
    }


def bill_calls(rng: random.Random, t: Tenant) -> Event:
    site = _site(rng)
    return {
        "service": "billing",
        "data_class": rng.choice(("call_log", "billing_record")),
        "operation": "process",
        "origin": _loc(site),
        "destination": _loc(site),
        "purpose": "billing",
    }


def crm_sync(rng: random.Random, t: Tenant) -> Event:
    origin, _ = _store_home_or_uk(rng, t)
    return {
        "service": "crm-connector",
        "data_class": "call_log",
        "operation": "transfer",
        "origin": _loc(origin),
        "destination": {"location": "country:US", "system": "salesforce"},
        "processor": "salesforce",
        "purpose": "crm_sync",
        "encryption": TLS13,
    }


def record_eu(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "recording-store",
        "data_class": "call_recording",
        "operation": "store",
        "origin": _loc(_site(rng)),
        "destination": _loc(EU_DUBLIN),
        "processor": "aws",
        "encryption": {"in_transit": "ipsec", "at_rest": "aes-256"},
        "retention_days": _lawful_recording_days(rng, t),
    }


def record_home(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "recording-store",
        "data_class": "call_recording",
        "operation": "store",
        "origin": _loc(_site(rng)),
        "destination": _loc(_home(rng, t)),
        "processor": "aws",
        "encryption": {"in_transit": "ipsec", "at_rest": "aes-256"},
        "retention_days": _lawful_recording_days(rng, t),
    }


def record_customer_aws(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "recording-store",
        "data_class": "call_recording",
        "operation": "store",
        "origin": _loc(_site(rng)),
        "destination": {
            "location": rng.choice(("aws:us-east-1", "aws:eu-west-1", "aws:ap-south-1")),
            "system": "customer-s3-bucket",
        },
        "processor": "customer-aws",
        "encryption": TLS13,
        "retention_days": rng.choice((365, 1825, 3650)),
    }


def store_voicemail(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "recording-store",
        "data_class": "voicemail",
        "operation": "store",
        "origin": _loc(_site(rng)),
        "destination": _loc(rng.choice(("aws:eu-west-1", "aws:eu-central-1", _home(rng, t)))),
        "processor": "aws",
        "encryption": {"in_transit": "ipsec", "at_rest": rng.choice(("aes-128", "aes-256"))},
        "retention_days": rng.choice((14, 30, 90, 180, 365)),
    }


def process_recording_uk(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "recording-store",
        "data_class": "call_recording",
        "operation": "process",
        "origin": _loc(rng.choice(ROUTING)),
        "destination": _loc(_site(rng)),
        "encryption": IPSEC,
        "retention_days": 0,
    }


def to_transcription(rng: random.Random, t: Tenant) -> Event:
    origin, _ = _store_home_or_uk(rng, t)
    return {
        "service": "ai-pipeline",
        "data_class": "call_recording",
        "operation": "transfer",
        "origin": _loc(origin),
        "destination": _loc("country:US"),
        "processor": "ai-transcription-supplier",
        "purpose": "transcription",
        "encryption": TLS13,
    }


def supplier_keeps(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "ai-pipeline",
        "data_class": rng.choice(("transcript", "call_recording")),
        "operation": "store",
        "origin": _loc("country:US"),
        "destination": _loc("country:US"),
        "processor": "ai-transcription-supplier",
        "purpose": "transcription",
        "encryption": {"at_rest": "aes-256"},
        "retention_days": rng.choice((30, 90, 365, 730, 1096)),
    }


def transcript_home(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "ai-pipeline",
        "data_class": "transcript",
        "operation": "store",
        "origin": _loc("country:US"),
        "destination": _loc(_home(rng, t)),
        "processor": "aws",
        "purpose": "transcription",
        "encryption": {"in_transit": "tls1.3", "at_rest": "aes-256"},
        "retention_days": _lawful_recording_days(rng, t),
    }


def bedrock_analysis(rng: random.Random, t: Tenant) -> Event:
    where = _home(rng, t)
    return {
        "service": "ai-pipeline",
        "data_class": "transcript",
        "operation": "process",
        "origin": _loc(where),
        "destination": _loc(where),
        "processor": "aws",
        "purpose": "ai_analysis",
    }


def store_ai_result(rng: random.Random, t: Tenant) -> Event:
    where = _home(rng, t)
    return {
        "service": "ai-pipeline",
        "data_class": "ai_result",
        "operation": "store",
        "origin": _loc(where),
        "destination": _loc(where),
        "processor": "aws",
        "purpose": "ai_analysis",
        "encryption": {"at_rest": "aes-256"},
        "retention_days": 365,
    }


def ai_result_to_crm(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "crm-connector",
        "data_class": "ai_result",
        "operation": "transfer",
        "origin": _loc(_home(rng, t)),
        "destination": {"location": "country:US", "system": "salesforce"},
        "processor": "salesforce",
        "purpose": "crm_sync",
        "encryption": TLS13,
    }


def partner_training(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "ai-pipeline",
        "data_class": "transcript",
        "operation": "process",
        "origin": _loc("country:US"),
        "destination": _loc("country:US"),
        "processor": "ai-transcription-supplier",
        "purpose": "model_training",
        "anonymized": True,
    }


def support_partner_access(rng: random.Random, t: Tenant) -> Event:
    origin, _ = _store_home_or_uk(rng, t)
    return {
        "service": "support-portal",
        "data_class": rng.choice(("call_log", "call_log", "call_recording")),
        "operation": "access",
        "origin": _loc(origin),
        "destination": _loc("country:IN"),
        "processor": "support-partner",
        "purpose": "support",
        "encryption": TLS13,
    }


def staff_access(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "support-portal",
        "data_class": "call_log",
        "operation": "access",
        "origin": _loc(_site(rng)),
        # A third country with whole-country UK adequacy (Canada's covers PIPEDA bodies only).
        "destination": _loc(rng.choice(("country:GB", "country:GB", "country:CH", "country:IE"))),
        "purpose": "support",
    }


def operational_logs(rng: random.Random, t: Tenant) -> Event:
    dest, processor = _store_home_or_uk(rng, t)
    return {
        "service": rng.choice(("call-router", "log-shipper")),
        "data_class": "operational_log",
        "operation": "store",
        "origin": _loc(dest),
        "destination": _loc(dest),
        "processor": processor,
        "retention_days": rng.choice((1, 7, 14, 30)),
    }


# --- violations -------------------------------------------------------------------------------
def recording_in_singapore(rng: random.Random, t: Tenant) -> Event:
    return {
        **record_eu(rng, t),
        "destination": _loc("aws:ap-southeast-1"),
        "encryption": {"in_transit": "tls1.3", "at_rest": "aes-256"},
    }


def logs_over_tls(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "log-shipper",
        "data_class": "call_log",
        "operation": "transfer",
        "origin": _loc(rng.choice(ROUTING)),
        "destination": _loc(_site(rng)),
        "processor": "natterbox",
        "encryption": TLS13,
    }


def operational_logs_45_days(rng: random.Random, t: Tenant) -> Event:
    return {**operational_logs(rng, t), "retention_days": 45}


def recording_over_retention(rng: random.Random, t: Tenant) -> Event:
    limit = _recording_limit(t) or 365
    return {**record_eu(rng, t), "retention_days": limit + rng.choice((1, 30, 180))}


def training_after_opt_out(rng: random.Random, t: Tenant) -> Event:
    return partner_training(rng, t)


def bedrock_output_training(rng: random.Random, t: Tenant) -> Event:
    where = _home(rng, t)
    return {
        "service": "ai-pipeline",
        "data_class": "ai_result",
        "operation": "process",
        "origin": _loc(where),
        "destination": _loc(where),
        "processor": "aws",
        "purpose": "model_training",
    }


def support_partner_copy(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "support-portal",
        "data_class": "call_recording",
        "operation": "store",
        "origin": _loc(_site(rng)),
        "destination": _loc("country:IN"),
        "processor": "support-partner",
        "purpose": "support",
        "encryption": {"in_transit": "tls1.3", "at_rest": "aes-256"},
        "retention_days": 30,
    }


def staff_billing_from_us(rng: random.Random, t: Tenant) -> Event:
    # Natterbox's own staff are no importer (EDPB 05/2021), but they may reach data from
    # a third country only for support.
    return {**staff_access(rng, t), "destination": _loc("country:US"), "purpose": "billing"}


def carrier_gets_recording(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "call-router",
        "data_class": "call_recording",
        "operation": "transfer",
        "origin": _loc(_site(rng)),
        "destination": _loc("country:US"),
        "processor": "carrier",
        "purpose": "call_routing",
        "encryption": {"in_transit": "srtp"},
    }


def training_with_health_data(rng: random.Random, t: Tenant) -> Event:
    return {
        **partner_training(rng, t),
        "anonymized": False,
        "special_categories": ["health"],
    }


def supplier_in_mumbai(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "ai-pipeline",
        "data_class": "call_recording",
        "operation": "process",
        "origin": _loc(_site(rng)),
        "destination": _loc("aws:ap-south-1"),
        "processor": "ai-transcription-supplier",
        "purpose": "transcription",
        "encryption": TLS13,
    }


def supplier_processes_unencrypted(rng: random.Random, t: Tenant) -> Event:
    """The recording moves to the US supplier as it is processed: it must be encrypted."""
    event = to_transcription(rng, t)
    return {**event, "operation": "process", "encryption": {"in_transit": "none"}}


# --- unknown references and invalid input ------------------------------------------------------
def unknown_region(rng: random.Random, t: Tenant) -> Event:
    return {**record_eu(rng, t), "destination": _loc("aws:eu-west-10")}


def retention_as_text(rng: random.Random, t: Tenant) -> Event:
    return {**operational_logs(rng, t), "retention_days": "30 days"}


def unknown_cipher(rng: random.Random, t: Tenant) -> Event:
    return {**end_of_call_logs(rng, t), "encryption": {"in_transit": "tls1.4"}}


TEMPLATES = (
    Template("route call in an AWS routing region", 16, route_call),
    Template("carrier transit leg (Art. 95)", 6, carrier_leg),
    Template("routing identity cached regionally", 5, routing_cache),
    Template("end-of-call logs to Home Region / UK over IPsec", 12, end_of_call_logs),
    Template("call log archived for billing / regulation", 6, archive_call_log),
    Template("call logs billed in the UK data centre", 4, bill_calls),
    Template("call information pushed to Salesforce", 7, crm_sync),
    Template("recording stored in EU Dublin", 7, record_eu),
    Template("recording stored in the Home Region", 5, record_home),
    Template("recording stored in the customer's own AWS", 2, record_customer_aws),
    Template("voicemail stored in AWS", 3, store_voicemail),
    Template("recording processed in the UK data centre, not kept", 3, process_recording_uk),
    Template("recording sent to the US transcription supplier", 5, to_transcription),
    Template("legacy AI data kept by the supplier", 3, supplier_keeps),
    Template("transcript stored in the Home Region", 3, transcript_home),
    Template("transcript analysed on Bedrock", 4, bedrock_analysis),
    Template("AI result stored in the Home Region", 3, store_ai_result),
    Template("AI result shown in Salesforce", 2, ai_result_to_crm),
    Template(
        "transcription partner trains on anonymised data",
        2,
        partner_training,
        tenants=_not_opted_out,
    ),
    Template("support partner in India accesses data", 3, support_partner_access),
    Template("Natterbox staff access data for support", 2, staff_access),
    Template("operational logs kept up to 30 days", 5, operational_logs),
    # violations
    Template(
        "recording stored in Singapore",
        1.0,
        recording_in_singapore,
        verdict="violation",
        kinds=("residency",),
    ),
    Template(
        "end-of-call logs over TLS, not IPsec",
        0.8,
        logs_over_tls,
        verdict="violation",
        kinds=("encryption",),
    ),
    Template(
        "operational logs kept 45 days",
        0.8,
        operational_logs_45_days,
        verdict="violation",
        kinds=("retention",),
    ),
    Template(
        "recording kept past the tenant's limit",
        0.8,
        recording_over_retention,
        verdict="violation",
        kinds=("retention",),
        tenants=_limited,
    ),
    Template(
        "partner training after the tenant opted out",
        0.5,
        training_after_opt_out,
        verdict="violation",
        kinds=("purpose",),
        tenants=_opted_out,
    ),
    Template(
        "Bedrock output used for training",
        0.4,
        bedrock_output_training,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "support partner copies a recording to India",
        0.4,
        support_partner_copy,
        verdict="violation",
        kinds=("purpose", "residency"),
    ),
    Template(
        "Natterbox staff reach data from the US for billing, not support",
        0.3,
        staff_billing_from_us,
        verdict="violation",
        kinds=("purpose",),
    ),
    Template(
        "carrier receives a recording in the US",
        0.3,
        carrier_gets_recording,
        verdict="violation",
        kinds=("transfer",),
    ),
    Template(
        "partner trains on health data not anonymised",
        0.2,
        training_with_health_data,
        verdict="violation",
        kinds=("purpose", "special_category"),
        tenants=_not_opted_out,
    ),
    Template(
        "transcription supplier processes in Mumbai",
        0.3,
        supplier_in_mumbai,
        verdict="violation",
        kinds=("residency",),
    ),
    Template(
        "recording processed by the US supplier unencrypted in transit",
        0.3,
        supplier_processes_unencrypted,
        verdict="violation",
        kinds=("encryption",),
    ),
    # fail closed and dead letters
    Template(
        "recording sent to an unknown region",
        0.3,
        unknown_region,
        verdict="violation",
        kinds=("unknown_reference",),
    ),
    Template(
        "retention_days written as text",
        0.3,
        retention_as_text,
        verdict="invalid",
        kinds=("schema",),
    ),
    Template(
        "unknown cipher name",
        0.2,
        unknown_cipher,
        verdict="invalid",
        kinds=("schema",),
    ),
)

PACK = Pack(
    name="natterbox",
    tenants=TENANTS,
    templates=TEMPLATES,
    services=("call-router", "log-shipper", "recording-store", "ai-pipeline", "crm-connector"),
)
