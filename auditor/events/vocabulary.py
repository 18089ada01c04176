"""Closed value sets of lineage event v1 (spec/lineage-event-v1.md §1)."""

from __future__ import annotations

OPERATIONS: tuple[str, ...] = (
    "store",
    "process",
    "transfer",
    "access",
    "delete",
    "anonymize",
    "erasure_request",
)
IN_TRANSIT: tuple[str, ...] = ("none", "tls1.0", "tls1.1", "tls1.2", "tls1.3", "ipsec", "srtp")
AT_REST: tuple[str, ...] = ("none", "aes-128", "aes-256")
SPECIAL_CATEGORIES: tuple[str, ...] = (
    "racial_or_ethnic_origin",
    "political_opinions",
    "religious_or_philosophical_beliefs",
    "trade_union_membership",
    "genetic",
    "biometric",
    "health",
    "sex_life_or_sexual_orientation",
)
DEROGATIONS: tuple[str, ...] = (
    "explicit_consent",
    "contract_with_subject",
    "contract_in_subject_interest",
    "public_interest",
    "legal_claims",
    "vital_interests",
    "public_register",
)
# Regimes an onward transfer can stay under (origin.regime, spec §1).
ORIGIN_REGIMES: tuple[str, ...] = ("eu_gdpr", "uk_gdpr")
