"""The Nubitalk (Collab) customers: their countries, Azure regions, e-mail providers, CRMs and
enabled integrations."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.traffic import Tenant, at


@dataclass(frozen=True)
class Customer:
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
) -> Customer:
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
    return Customer(tenant, country, f"azure:{region}", mailbox, crm)


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


def customer_of(t: Tenant) -> Customer:
    """The tenant's customer record."""
    return _BY_ID[t.id]


def home(t: Tenant) -> dict[str, str]:
    """The tenant's country, as an origin or destination."""
    return at(f"country:{customer_of(t).country}")


def hosted(t: Tenant) -> dict[str, str]:
    """The tenant's Azure region, as an origin or destination."""
    return at(customer_of(t).region)
