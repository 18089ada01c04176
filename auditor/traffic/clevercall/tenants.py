"""The CleverCall.ai customers: where their callers are and how they store data (anonymised
after an interval, or the phone number only)."""

from __future__ import annotations

import random
from dataclasses import dataclass

from auditor.traffic import Tenant

# What a customer that set no interval keeps a copy for: no limit applies to it, since "as a
# starting point, all personal data is stored".
NO_INTERVAL_DAYS = 365


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
ABROAD = ("country:DE", "country:NO", "country:GB", "country:US", "country:PL", "country:ES")


def home_country(t: Tenant) -> str:
    """Where the customer's callers and caseworkers are."""
    return f"country:{_BY_ID[t.id].country}"


def keep_days(t: Tenant) -> int:
    """Days the customer keeps personal data before anonymisation (its interval, if set)."""
    days = t.settings.get("anonymize_after_days")
    return days if isinstance(days, int) else NO_INTERVAL_DAYS


def within_interval(rng: random.Random, t: Tenant) -> int:
    """A retention the customer's interval allows (sometimes exactly the interval)."""
    limit = keep_days(t)
    return rng.choice((limit, max(1, limit // 2), max(1, limit // 3), 1, limit))
