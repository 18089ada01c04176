"""Natterbox flows that break a promise of the notices, and flows the auditor cannot decide."""

from __future__ import annotations

import random

from auditor.traffic import TLS13, Event, Tenant, at
from auditor.traffic.natterbox.lawful import (
    end_of_call_logs,
    operational_logs,
    partner_training,
    record_eu,
    staff_access,
    to_transcription,
)
from auditor.traffic.natterbox.tenants import ROUTING, home_aws, recording_limit, uk_site


# --- violations -------------------------------------------------------------------------------
def recording_in_singapore(rng: random.Random, t: Tenant) -> Event:
    return {
        **record_eu(rng, t),
        "destination": at("aws:ap-southeast-1"),
        "encryption": {"in_transit": "tls1.3", "at_rest": "aes-256"},
    }


def logs_over_tls(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "log-shipper",
        "data_class": "call_log",
        "operation": "transfer",
        "origin": at(rng.choice(ROUTING)),
        "destination": at(uk_site(rng)),
        "processor": "natterbox",
        "encryption": TLS13,
    }


def operational_logs_45_days(rng: random.Random, t: Tenant) -> Event:
    return {**operational_logs(rng, t), "retention_days": 45}


def recording_over_retention(rng: random.Random, t: Tenant) -> Event:
    limit = recording_limit(t) or 365
    return {**record_eu(rng, t), "retention_days": limit + rng.choice((1, 30, 180))}


def training_after_opt_out(rng: random.Random, t: Tenant) -> Event:
    return partner_training(rng, t)


def bedrock_output_training(rng: random.Random, t: Tenant) -> Event:
    where = home_aws(rng, t)
    return {
        "service": "ai-pipeline",
        "data_class": "ai_result",
        "operation": "process",
        "origin": at(where),
        "destination": at(where),
        "processor": "aws",
        "purpose": "model_training",
    }


def support_partner_copy(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "support-portal",
        "data_class": "call_recording",
        "operation": "store",
        "origin": at(uk_site(rng)),
        "destination": at("country:IN"),
        "processor": "support-partner",
        "purpose": "support",
        "encryption": {"in_transit": "tls1.3", "at_rest": "aes-256"},
        "retention_days": 30,
    }


def staff_billing_from_us(rng: random.Random, t: Tenant) -> Event:
    # Natterbox's own staff are no importer (EDPB 05/2021), but they may reach data from
    # a third country only for support.
    return {**staff_access(rng, t), "destination": at("country:US"), "purpose": "billing"}


def carrier_gets_recording(rng: random.Random, t: Tenant) -> Event:
    return {
        "service": "call-router",
        "data_class": "call_recording",
        "operation": "transfer",
        "origin": at(uk_site(rng)),
        "destination": at("country:US"),
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
        "origin": at(uk_site(rng)),
        "destination": at("aws:ap-south-1"),
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
    return {**record_eu(rng, t), "destination": at("aws:eu-west-10")}


def retention_as_text(rng: random.Random, t: Tenant) -> Event:
    return {**operational_logs(rng, t), "retention_days": "30 days"}


def unknown_cipher(rng: random.Random, t: Tenant) -> Event:
    return {**end_of_call_logs(rng, t), "encryption": {"in_transit": "tls1.4"}}
