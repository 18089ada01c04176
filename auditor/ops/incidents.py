"""Violation incidents: deterministic alert labels, and when each one is due to be posted.

An alert leaves the worker for Alertmanager, chat and pagers, so it carries only what the
policy and the worker name: the rule and its description from the policy, bounded labels,
counts, times, and where example records are (topic, partition, offset). Never text an
event brought (ids, subjects, processor names, finding messages built from them): a
processor name shaped like an e-mail address once reached Alertmanager that way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from auditor.engine import Decision, Engine
from auditor.engine.decision import Outcome
from auditor.engine.engine import ENGINE_RULE, SCHEMA_RULE
from auditor.ops.labels import DEFAULT_TEAM, NONE, OTHER, LabelBounds
from auditor.ops.links import Links
from auditor.stream.pipeline import Source

ALERTNAME = "AuditorPolicyViolation"
INCIDENT = "policy-violation"
RUNBOOK = "policy-violation"  # docs/runbooks/policy-violation.md
# The command that decides an incident's window again: (first, last violation) -> command.
Replay = Callable[[float, float], str]
EXAMPLES_KEPT = 10
MAX_TEXT = 1024  # annotation values: a policy's description could be long
# What the engine's own rules mean, in words of no event.
ENGINE_DESCRIPTIONS = {
    ENGINE_RULE: "The events name a data class, processor, purpose, location, home region "
    "or tenant setting the policy does not define (decided fail-closed).",
    SCHEMA_RULE: "The input is not a valid lineage event.",
}
LABEL_NAMES = (
    "alertname", "rule", "kind", "severity", "data_class", "regime", "destination_country",
    "team", "incident", "policy",
)
Labels = tuple[str, ...]


@dataclass(slots=True)
class ViolationGroup:
    """The violations of one batch that share an outcome (so a flow, data class included);
    ``examples``: where the latest were read, as ``topic[partition]@offset``."""

    outcome: Outcome
    event: Any
    count: int = 0
    examples: deque[str] = field(default_factory=lambda: deque(maxlen=EXAMPLES_KEPT))
    last_event_time: float | None = None


def position(source: Source) -> str:
    """Where a record was read: the worker's names and numbers, nothing of the event."""
    return f"{source.topic}[{source.partition}]@{source.offset}"


def group_violations(decisions: Iterable[tuple[Decision, Source]]) -> list[ViolationGroup]:
    """Violations grouped by their shared outcome: one entry per flow of the batch."""
    groups: dict[int, ViolationGroup] = {}
    for d, source in decisions:
        g = groups.get(id(d.outcome))
        if g is None:
            g = groups[id(d.outcome)] = ViolationGroup(d.outcome, d.event)
        g.count += 1
        g.examples.append(position(source))
        if d.event_time is not None:
            g.last_event_time = d.event_time
    return list(groups.values())


@dataclass(slots=True)
class Incident:
    """One alert: a deny finding of one rule for one data class and transfer route."""

    labels: Labels
    message: str
    first_seen: float
    last_seen: float
    events: int = 0
    examples: deque[str] = field(default_factory=lambda: deque(maxlen=EXAMPLES_KEPT))
    last_event_time: float | None = None
    pending: bool = True  # events arrived since the last successful post
    last_attempt: float | None = None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


def _first_sentence(text: str) -> str:
    head, dot, _ = " ".join(text.split()).partition(". ")
    return head + "." if dot else head


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


class Incidents:
    """Open violation incidents, keyed by their labels; says which are due to be posted.

    An incident is posted when new violations arrived and it was not attempted within
    ``interval_s``: at high rates one post per incident per interval, not one per event.
    Incidents quiet for ``ttl_s`` are forgotten (Alertmanager resolves them at ``endsAt``).
    At most ``max_open`` are kept; beyond that new incidents are refused (counted).
    Alerts link to the runbook and (with a Grafana URL) the violations panel, and carry
    the ``replay`` command of the incident's window when one is given.
    """

    def __init__(
        self,
        bounds: LabelBounds,
        *,
        policy: str,
        interval_s: float,
        ttl_s: float,
        links: Links,
        replay: Replay | None = None,
        default_team: str = DEFAULT_TEAM,
        max_open: int = 10_000,
        descriptions: dict[str, str] | None = None,
    ) -> None:
        self.bounds = bounds
        # Rule id -> the rule's description in the policy (what an alert says it broke).
        self.descriptions = {**ENGINE_DESCRIPTIONS, **(descriptions or {})}
        self.policy = policy
        self.interval_s = interval_s
        self.ttl_s = ttl_s
        self.links = links
        self.replay = replay
        self.default_team = default_team
        self.max_open = max_open
        self.open: dict[Labels, Incident] = {}
        self.refused = 0

    @staticmethod
    def rule_descriptions(engine: Engine) -> dict[str, str]:
        """What each rule of ``engine``'s policy says: the first sentence of its
        description, in the policy's words (the rest says how to tune it)."""
        return {r.id: _first_sentence(r.description) for r in engine.rules if r.description}

    def labels(self, group: ViolationGroup) -> Iterator[tuple[Labels, str]]:
        """The labels (in LABEL_NAMES order) and message of each deny finding of a group:
        the rule's description from the policy, never the finding's text."""
        transfer = group.outcome.transfer
        regime, _, country = self.bounds.transfer(transfer) if transfer else (NONE, NONE, NONE)
        data_class = self.bounds.data_class(group.event)
        for finding in group.outcome.findings:
            if finding.effect != "deny":
                continue
            rule, kind, severity, _ = self.bounds.finding(finding)
            team = self.bounds.team(rule, self.default_team)
            message = self.descriptions.get(rule) if rule != OTHER else None
            yield (
                (ALERTNAME, rule, kind, severity, data_class, regime, country, team, INCIDENT,
                 self.policy),
                message or f"A {kind} finding of rule {rule}.",
            )

    def add(self, groups: Iterable[ViolationGroup], now: float) -> None:
        """Record a delivered batch's violations."""
        for group in groups:
            for labels, message in self.labels(group):
                incident = self.open.get(labels)
                if incident is None:
                    if len(self.open) >= self.max_open:
                        self.refused += group.count
                        continue
                    incident = self.open[labels] = Incident(labels, message, now, now)
                incident.message = message
                incident.last_seen = now
                incident.events += group.count
                incident.examples.extend(group.examples)
                if group.last_event_time is not None:
                    incident.last_event_time = group.last_event_time
                incident.pending = True

    def due(self, now: float) -> list[Incident]:
        """Incidents to post now; forgets the ones quiet for longer than the TTL."""
        for labels in [k for k, i in self.open.items() if now - i.last_seen > self.ttl_s]:
            del self.open[labels]
        return [
            i
            for i in self.open.values()
            if i.pending and (i.last_attempt is None or now - i.last_attempt >= self.interval_s)
        ]

    def attempted(self, incidents: Iterable[Incident], now: float, *, sent: bool) -> None:
        """Mark a post of ``incidents``; a failed one is tried again after the interval."""
        for i in incidents:
            i.last_attempt = now
            if sent:
                i.pending = False

    def alert(self, incident: Incident) -> dict[str, Any]:
        """The Alertmanager API v2 alert of an incident."""
        labels = dict(zip(LABEL_NAMES, incident.labels, strict=True))
        rule = labels["rule"]
        runbook = self.links.runbook(RUNBOOK)
        examples = ", ".join(incident.examples)
        route = f"data class {labels['data_class']}"
        if labels["destination_country"] != NONE:
            route += f", {labels['regime']} transfer to {labels['destination_country']}"
        annotations = {
            "summary": f"{labels['severity']} {labels['kind']} violation of {rule} "
            f"({labels['policy']})",
            # What the rule says first, then how many and where: what a page shows when it
            # shows one annotation.
            "description": _short(f"{incident.message} ({incident.events} events since "
                                  f"{_iso(incident.first_seen)}; {route}; e.g. records "
                                  f"{examples})"),
            "examples": _short(examples),
            "events": str(incident.events),
            "runbook_url": runbook,
        }
        if incident.last_event_time is not None:
            annotations["last_event_time"] = _iso(incident.last_event_time)
        if self.replay is not None:
            annotations["replay"] = self.replay(incident.first_seen, incident.last_seen)
        panel = self.links.violations_panel(labels["policy"], incident.first_seen)
        return {
            "labels": labels,
            "annotations": annotations,
            "startsAt": _iso(incident.first_seen),
            # Resolves by itself once violations stop (re-sent while they go on).
            "endsAt": _iso(incident.last_seen + self.ttl_s),
            "generatorURL": panel or runbook,
        }
