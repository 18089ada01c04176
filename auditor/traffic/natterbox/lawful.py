"""The flows the Natterbox notices describe, each lawful for the tenants that can make it."""

from __future__ import annotations

import random

from auditor.traffic import TLS13, Event, Tenant, at
from auditor.traffic.natterbox.tenants import (
    CARRIER_LEGS,
    EU_DUBLIN,
    ROUTING,
    UK_DC,
    home_aws,
    lawful_recording_days,
    store_home_or_uk,
    uk_site,
)

IPSEC = {"in_transit": "ipsec"}
MEDIA = ("srtp", "tls1.3")


def route_call(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "call-router",
        "data_class": "routing_identity",
        "operation": "process",
        "origin": at(rng.choice(ROUTING)),
        "destination": at(rng.choice(ROUTING)),
        "processor": "aws",
        "purpose": "call_routing",
        "encryption": {"in_transit": rng.choice(MEDIA)},
    }


def carrier_leg(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "call-router",
        "data_class": rng.choice(("routing_identity", "call_log")),
        "operation": "transfer",
        "origin": at(rng.choice(ROUTING + UK_DC)),
        "destination": at(f"country:{rng.choice(CARRIER_LEGS)}"),
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
        "origin": at(where),
        "destination": at(where),
        "processor": "natterbox" if where.startswith("site:") else "aws",
        "purpose": "call_routing",
        "encryption": {"at_rest": "aes-256"},
    }


def end_of_call_logs(rng: random.Random, t: Tenant) -> Event:
    dest, processor = store_home_or_uk(rng, t)
    return {
        "service": "log-shipper",
        "data_class": rng.choice(("call_log", "call_log", "billing_record", "operational_log")),
        "operation": "transfer",
        "origin": at(rng.choice(ROUTING)),
        "destination": at(dest),
        "processor": processor,
        "encryption": IPSEC,
    }


def archive_call_log(rng: random.Random, t: Tenant) -> Event:
    dest, processor = store_home_or_uk(rng, t)
    data_class, purpose = rng.choice(
        (("call_log", "regulatory_archive"), ("billing_record", "billing"), ("call_log", "billing"))
    )
    return {
        "service": "billing",
        "data_class": data_class,
        "operation": "store",
        "origin": at(dest),
        "destination": at(dest),
        "processor": processor,
        "purpose": purpose,
        "encryption": {"at_rest": "aes-256"},
        "retention_days": rng.choice((730, 2190, 2555)),
    }


def bill_calls(rng: random.Random, t: Tenant) -> Event:
    site = uk_site(rng)
    return {
        "service": "billing",
        "data_class": rng.choice(("call_log", "billing_record")),
        "operation": "process",
        "origin": at(site),
        "destination": at(site),
        "purpose": "billing",
    }


def crm_sync(rng: random.Random, t: Tenant) -> Event:
    origin, _ = store_home_or_uk(rng, t)
    return {
        "service": "crm-connector",
        "data_class": "call_log",
        "operation": "transfer",
        "origin": at(origin),
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
        "origin": at(uk_site(rng)),
        "destination": at(EU_DUBLIN),
        "processor": "aws",
        "encryption": {"in_transit": "ipsec", "at_rest": "aes-256"},
        "retention_days": lawful_recording_days(rng, t),
    }


def record_home(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "recording-store",
        "data_class": "call_recording",
        "operation": "store",
        "origin": at(uk_site(rng)),
        "destination": at(home_aws(rng, t)),
        "processor": "aws",
        "encryption": {"in_transit": "ipsec", "at_rest": "aes-256"},
        "retention_days": lawful_recording_days(rng, t),
    }


def record_customer_aws(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "recording-store",
        "data_class": "call_recording",
        "operation": "store",
        "origin": at(uk_site(rng)),
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
        "origin": at(uk_site(rng)),
        "destination": at(rng.choice(("aws:eu-west-1", "aws:eu-central-1", home_aws(rng, t)))),
        "processor": "aws",
        "encryption": {"in_transit": "ipsec", "at_rest": rng.choice(("aes-128", "aes-256"))},
        "retention_days": rng.choice((14, 30, 90, 180, 365)),
    }


def process_recording_uk(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "recording-store",
        "data_class": "call_recording",
        "operation": "process",
        "origin": at(rng.choice(ROUTING)),
        "destination": at(uk_site(rng)),
        "encryption": IPSEC,
        "retention_days": 0,
    }


def to_transcription(rng: random.Random, t: Tenant) -> Event:
    origin, _ = store_home_or_uk(rng, t)
    return {
        "service": "ai-pipeline",
        "data_class": "call_recording",
        "operation": "transfer",
        "origin": at(origin),
        "destination": at("country:US"),
        "processor": "ai-transcription-supplier",
        "purpose": "transcription",
        "encryption": TLS13,
    }


def supplier_keeps(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "ai-pipeline",
        "data_class": rng.choice(("transcript", "call_recording")),
        "operation": "store",
        "origin": at("country:US"),
        "destination": at("country:US"),
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
        "origin": at("country:US"),
        "destination": at(home_aws(rng, t)),
        "processor": "aws",
        "purpose": "transcription",
        "encryption": {"in_transit": "tls1.3", "at_rest": "aes-256"},
        "retention_days": lawful_recording_days(rng, t),
    }


def bedrock_analysis(rng: random.Random, t: Tenant) -> Event:
    where = home_aws(rng, t)
    return {
        "service": "ai-pipeline",
        "data_class": "transcript",
        "operation": "process",
        "origin": at(where),
        "destination": at(where),
        "processor": "aws",
        "purpose": "ai_analysis",
    }


def store_ai_result(rng: random.Random, t: Tenant) -> Event:
    where = home_aws(rng, t)
    return {
        "service": "ai-pipeline",
        "data_class": "ai_result",
        "operation": "store",
        "origin": at(where),
        "destination": at(where),
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
        "origin": at(home_aws(rng, t)),
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
        "origin": at("country:US"),
        "destination": at("country:US"),
        "processor": "ai-transcription-supplier",
        "purpose": "model_training",
        "anonymized": True,
    }


def support_partner_access(rng: random.Random, t: Tenant) -> Event:
    origin, _ = store_home_or_uk(rng, t)
    return {
        "service": "support-portal",
        "data_class": rng.choice(("call_log", "call_log", "call_recording")),
        "operation": "access",
        "origin": at(origin),
        "destination": at("country:IN"),
        "processor": "support-partner",
        "purpose": "support",
        "encryption": TLS13,
    }


def staff_access(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "support-portal",
        "data_class": "call_log",
        "operation": "access",
        "origin": at(uk_site(rng)),
        # A third country with whole-country UK adequacy (Canada's covers PIPEDA bodies only).
        "destination": at(rng.choice(("country:GB", "country:GB", "country:CH", "country:IE"))),
        "purpose": "support",
    }


def operational_logs(rng: random.Random, t: Tenant) -> Event:
    dest, processor = store_home_or_uk(rng, t)
    return {
        "service": rng.choice(("call-router", "log-shipper")),
        "data_class": "operational_log",
        "operation": "store",
        "origin": at(dest),
        "destination": at(dest),
        "processor": processor,
        "retention_days": rng.choice((1, 7, 14, 30)),
    }
