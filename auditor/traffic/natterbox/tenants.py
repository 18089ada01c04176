"""The Natterbox tenants, their Home Regions and retention, and the places their data goes."""

from __future__ import annotations

import random
from typing import Any

from auditor.traffic import Tenant

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


def home_aws(rng: random.Random, t: Tenant) -> str:
    """An AWS region of the tenant's Home Region."""
    return rng.choice(HOME[t.home_region or "UKI1"])


def uk_site(rng: random.Random) -> str:
    """One of the UK data centres."""
    return rng.choice(UK_DC)


def recording_limit(t: Tenant) -> int | None:
    """Days a stored recording / transcript may be kept (None: additional storage bought)."""
    if t.settings.get("extended_retention") is True:
        return None
    days = t.settings.get("recording_retention_days")
    return days if isinstance(days, int) else 365


def lawful_recording_days(rng: random.Random, t: Tenant) -> int:
    limit = recording_limit(t)
    # Services state the retention they are configured with: a few typical values.
    if limit is None:
        return rng.choice((30, 90, 180, 365, 730, 1095))
    return rng.choice([d for d in (7, 30, 90, 180, 365) if d <= limit] or [limit])


def store_home_or_uk(rng: random.Random, t: Tenant) -> tuple[str, str]:
    """A Natterbox-held copy: a UK data centre (natterbox) or the Home Region (aws)."""
    if rng.random() < 0.5:
        return uk_site(rng), "natterbox"
    return home_aws(rng, t), "aws"
