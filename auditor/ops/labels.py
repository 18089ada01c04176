"""Bounded label values: anything outside the policy's known names becomes ``other``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from auditor.engine import Engine, Finding
from auditor.engine.decision import KINDS, VERDICTS
from auditor.engine.engine import ENGINE_RULE, IMPLICIT_TRANSFER_RULE, SCHEMA_RULE
from auditor.legal.chapter_v import MECHANISMS, Transfer
from auditor.legal.countries import iso_countries
from auditor.legal.tables import REGIMES
from auditor.policy.model import EFFECTS, SEVERITIES
from auditor.stream.pipeline import REASONS

OTHER = "other"
# "No regime": what decisions say for a transfer outside the EEA and the UK (and what
# alerts say without a transfer), so metrics and alerts use that name too.
NONE = "none"
TRANSFER_REGIMES = (*REGIMES, NONE)
ENGINE_RULES = (SCHEMA_RULE, ENGINE_RULE, IMPLICIT_TRANSFER_RULE)
# Who a finding of a rule without a `team` in its policy goes to. Invalid input
# (auditor.schema) is a data-quality problem of the emitters: the platform team's.
DEFAULT_TEAM = "privacy"
ENGINE_TEAMS = {SCHEMA_RULE: "platform"}


def _bound(value: object, allowed: frozenset[str]) -> str:
    return value if isinstance(value, str) and value in allowed else OTHER


@dataclass(frozen=True, slots=True)
class LabelBounds:
    """The only values each label may take; ``from_engine`` reads them off one policy.

    Every method returns a member of its set or ``other``, whatever the input, so the
    number of series is bounded by the policy, never by the traffic.
    """

    rules: frozenset[str]
    data_classes: frozenset[str]
    teams: dict[str, str]
    kinds: frozenset[str] = frozenset(KINDS)
    severities: frozenset[str] = frozenset(SEVERITIES)
    effects: frozenset[str] = frozenset(EFFECTS)
    verdicts: frozenset[str] = frozenset(VERDICTS)
    regimes: frozenset[str] = frozenset(TRANSFER_REGIMES)
    mechanisms: frozenset[str] = frozenset(MECHANISMS)
    reasons: frozenset[str] = frozenset(REASONS)
    countries: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        rules: Iterable[str] = (),
        data_classes: Iterable[str] = (),
        teams: dict[str, str] | None = None,
    ) -> LabelBounds:
        return cls(
            rules=frozenset((*rules, *ENGINE_RULES)),
            data_classes=frozenset(data_classes),
            teams=dict(teams or {}),
            countries=iso_countries(),
        )

    @classmethod
    def from_engine(cls, engine: Engine) -> LabelBounds:
        """The bounds of ``engine``'s policy: its rules (+ the engine's own) and data classes."""
        return cls.of(
            (r.id for r in engine.rules),
            engine.policy.data_classes,
            {r.id: r.team for r in engine.rules if r.team},
        )

    def merged(self, other: LabelBounds) -> LabelBounds:
        """The names of both (two versions of a policy); ``other``'s teams win."""
        return replace(
            self,
            rules=self.rules | other.rules,
            data_classes=self.data_classes | other.data_classes,
            teams={**self.teams, **other.teams},
        )

    def finding(self, f: Finding) -> tuple[str, str, str, str]:
        """(rule, kind, severity, effect) of a finding."""
        return self.finding_labels(f.rule, f.kind, f.severity, f.effect)

    def finding_labels(
        self, rule: str, kind: str, severity: str, effect: str
    ) -> tuple[str, str, str, str]:
        return (
            _bound(rule, self.rules),
            _bound(kind, self.kinds),
            _bound(severity, self.severities),
            _bound(effect, self.effects),
        )

    def transfer(self, t: Transfer) -> tuple[str, str, str]:
        """(regime, mechanism, destination_country) of a transfer."""
        return self.route(t.regime, t.mechanism, t.to_country)

    def route(self, regime: str, mechanism: str, country: str) -> tuple[str, str, str]:
        return (
            _bound(regime, self.regimes),
            _bound(mechanism, self.mechanisms),
            _bound(country, self.countries),
        )

    def verdict(self, verdict: str) -> str:
        return _bound(verdict, self.verdicts)

    def reason(self, reason: str) -> str:
        return _bound(reason, self.reasons)

    def data_class(self, event: Any) -> str:
        """The event's data class if the policy defines it (fields of a raw event)."""
        value = event.get("data_class") if isinstance(event, dict) else None
        return _bound(value, self.data_classes)

    def team(self, rule: str, default: str = DEFAULT_TEAM) -> str:
        """The routing team of a (bounded) rule: its policy ``team``, the engine's own for
        its rules, else ``default``. Prometheus rule alerts and pushed alerts both use it,
        so one rule's alerts reach one team."""
        return self.teams.get(rule) or ENGINE_TEAMS.get(rule) or default
