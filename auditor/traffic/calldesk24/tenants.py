"""The 24CallDesk tenants: their settings and integrations, where their callers are and
where their data is hosted."""

from __future__ import annotations

import random

from auditor.traffic import Tenant

CALENDARS = ("google-calendar", "microsoft-calendar")


def _tenant(tid: str, **settings: object) -> Tenant:
    return Tenant(tid, settings=settings)


TENANTS = (
    _tenant("bobs-plumbing", enabled_integrations="google-calendar"),
    _tenant(
        "sunrise-dental",
        recording_retention_days=30,
        support_access_granted=True,
        enabled_integrations="google-calendar,customer-crm",
    ),
    _tenant(
        "lexington-law",
        recording_retention_days=365,
        transcript_retention_days=730,
        enabled_integrations="microsoft-calendar,customer-crm",
    ),
    _tenant("quickfix-hvac"),
    _tenant("green-leaf-landscaping", support_access_granted=True, enabled_integrations="zapier"),
    _tenant(
        "metro-realty",
        recording_retention_days=180,
        enabled_integrations="google-calendar, zapier",
    ),
    _tenant("pawsome-vet", transcript_retention_days=90, enabled_integrations="microsoft-calendar"),
    _tenant("cityline-auto", recording_retention_days=60, support_access_granted=False),
    _tenant(
        "harbor-insurance",
        recording_retention_days=3650,
        transcript_retention_days=3650,
        support_access_granted=True,
        enabled_integrations="customer-crm,zapier",
    ),
    _tenant("toronto-movers", enabled_integrations="google-calendar"),
    _tenant("thames-lettings", enabled_integrations="microsoft-calendar"),
    _tenant("praxis-weber", eu_residency=True, enabled_integrations="microsoft-calendar"),
    _tenant(
        "cabinet-durand",
        eu_residency=True,
        recording_retention_days=60,
        support_access_granted=True,
    ),
    _tenant("dublin-physio", eu_residency=True, enabled_integrations="google-calendar"),
)

# Where each tenant's callers are, and (for EU residency) where its data is hosted.
_CALLERS = {
    "toronto-movers": "CA",
    "thames-lettings": "GB",
    "praxis-weber": "DE",
    "cabinet-durand": "FR",
    "dublin-physio": "IE",
}
_EU_HOSTING = {
    "praxis-weber": "aws:eu-central-1",
    "cabinet-durand": "aws:eu-west-3",
    "dublin-physio": "aws:eu-west-1",
}


def caller(t: Tenant) -> dict[str, str]:
    """Where the tenant's callers are."""
    return {"location": f"country:{_CALLERS.get(t.id, 'US')}"}


def hosting(rng: random.Random, t: Tenant) -> str:
    """The AWS region hosting the tenant's data."""
    return _EU_HOSTING.get(t.id) or rng.choice(("aws:us-east-1", "aws:us-east-1", "aws:us-west-2"))


def setting(t: Tenant, name: str, default: int) -> int:
    """An integer setting of the tenant, or its default."""
    value = t.settings.get(name, default)
    return value if isinstance(value, int) else default


def enabled(t: Tenant) -> list[str]:
    """The integrations the tenant enabled."""
    text = str(t.settings.get("enabled_integrations", ""))
    return [p.strip() for p in text.split(",") if p.strip()]
