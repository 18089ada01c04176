"""The engine: a policy compiled once; ``classify`` turns any decoded value into a decision."""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime
from typing import Any

from auditor.engine.checks import CHECKS, applies, selector_miss
from auditor.engine.decision import AppliedException, Decision, Finding, Outcome
from auditor.engine.facts import Facts, Places
from auditor.engine.memory import DictStore, Due, Memory, Store, seen_of
from auditor.events.validate import Flow, parse_event, readable_event_id, show
from auditor.legal.chapter_v import judge_transfer
from auditor.legal.tables import LegalTables, canonical_digest, load_tables
from auditor.locations import CloudCatalogue, load_catalogue
from auditor.policy.model import Policy, Rule

ENGINE_RULE = "auditor.unknown-reference"
SCHEMA_RULE = "auditor.schema"
IMPLICIT_TRANSFER_RULE = "auditor.chapter-v"
# Kinds judged only from memory (no stateless check).
MEMORY_KINDS = frozenset({"home_region", "erasure"})
BOOKKEEPING_OPS = frozenset({"delete", "anonymize", "erasure_request"})
_SETTING_PY = {"bool": bool, "int": int, "string": str, "enum": str, "list": str}

_IMPLICIT_TRANSFER = Rule(
    id=IMPLICIT_TRANSFER_RULE,
    kind="transfer",
    description="Chapter V applies to every policy; this rule stands in when a policy has no "
    "transfer rule of its own.",
    severity="high",
    effect="deny",
    citation="GDPR Art. 44 / UK GDPR Art. 44",
)


class Engine:
    """Classifies lineage events against one policy.

    Deterministic and clock-free: a decision depends only on the event (its ``event_time``
    selects the law in force) and on the policy, legal tables and catalogue it was built
    with. Decisions of equal flows in the same legal epoch are computed once and shared.
    """

    def __init__(
        self,
        policy: Policy,
        tables: LegalTables | None = None,
        catalogue: CloudCatalogue | None = None,
    ) -> None:
        self.policy = policy
        self.tables = tables or load_tables()
        self.catalogue = catalogue or load_catalogue()
        self.places = Places(policy, self.tables, self.catalogue)
        self.rules: tuple[Rule, ...] = policy.rules
        if not any(r.kind == "transfer" for r in policy.rules):
            self.rules = (*policy.rules, _IMPLICIT_TRANSFER)
        self.version = canonical_digest(
            [policy.document, self.tables.digest, self.catalogue.digest, "engine/1"]
        )
        self.policy_ref = {
            "id": policy.id,
            "version": self.version,
            "legal_tables": self.tables.version,
        }
        edges = set(self.tables.boundaries)
        for party in policy.processors.values():
            for span in (
                party.privacy_shield,
                party.scc,
                party.idta,
                party.bcr,
                party.dpf.span if party.dpf else None,
            ):
                if span is not None:
                    edges.update(span.edges())
        for exc in policy.exceptions:
            edges.update(exc.span.edges())
        # Within one epoch nothing dated changes, so a flow's decision is the same.
        self._edges = tuple(sorted(edges))
        selectors = [s for r in policy.rules for s in (r.when, r.unless)]
        selectors += [e.when for e in policy.exceptions]
        # Tenant ids join the cache key only when some selector names tenants.
        self._by_tenant = any(s is not None and s.tenants is not None for s in selectors)
        self._stateful_ids = {r.id for r in self.rules if needs_memory(r)}
        self._rules_by_id = {r.id: r for r in self.rules}
        # Rules that remember: a store (one per worker partition, else this one) holds
        # what they need; deadline decisions wait in ``due`` until ``decide`` returns them.
        self.memory = Memory() if self._stateful_ids else None
        self.store: Store = DictStore()
        self.due: list[Decision] = []
        self._cache: dict[Any, Outcome] = {}
        self._cache_max = policy.max_decision_cache
        self._invalid: dict[str, Outcome] = {}

    # -- the hot path ----------------------------------------------------------
    def classify(self, obj: object, store: Store | None = None) -> Decision:
        """The decision for one decoded JSON value. Never raises.

        With rules that remember, events must come in order; ``store`` is where the
        memory lives (default: this engine's), and deadlines that the event's time passed
        are queued in ``self.due`` (``decide`` returns them with the decision).
        """
        parsed = parse_event(obj)
        if isinstance(parsed, str):
            return self.invalid(parsed, readable_event_id(obj))
        event_id, at, flow, tenant = parsed
        epoch = bisect_right(self._edges, at)
        key = (flow, epoch, tenant) if self._by_tenant else (flow, epoch)
        outcome = self._cache.get(key)
        if outcome is None:
            outcome = self._evaluate(flow, at, tenant)
            if len(self._cache) >= self._cache_max:
                self._cache.clear()  # bounded memory under hostile, ever-new flows
            if self._cache_max:
                self._cache[key] = outcome
        if self.memory is not None:
            return self._remember(obj, event_id, at, flow, tenant, outcome, store or self.store)
        return Decision(event_id, outcome, obj, at)

    def decide(self, obj: object, store: Store | None = None) -> list[Decision]:
        """The decisions one event leads to, in order: deadlines its time passed, then its own."""
        decision = self.classify(obj, store)
        if not self.due:
            return [decision]
        out = [*self.due, decision]
        self.due.clear()
        return out

    def close(self, now: float, store: Store | None = None) -> list[Decision]:
        """Deadline decisions of everything still open at ``now`` (``auditor check --now``)."""
        if self.memory is None:
            return []
        return self._deadlines(self.memory.advance(store or self.store, now, self._rules_by_id))

    def _remember(
        self,
        obj: Any,
        event_id: str,
        at: float,
        flow: Flow,
        tenant: str | None,
        outcome: Outcome,
        store: Store,
    ) -> Decision:
        assert self.memory is not None
        due = self.memory.advance(store, at, self._rules_by_id)
        if due:
            self.due.extend(self._deadlines(due))
        if outcome.stateful and outcome.verdict != "invalid":
            seen = seen_of(
                obj, event_id, at, flow, tenant, outcome.processor, outcome.destination_country
            )
            found = self.memory.judge(outcome.stateful, seen, store)
            if found:
                outcome = Outcome.of(
                    (*outcome.findings, *found),
                    outcome.transfer,
                    outcome.exceptions,
                    self.policy_ref,
                )
        return Decision(event_id, outcome, obj, at)

    def _deadlines(self, due: list[Due]) -> list[Decision]:
        out = []
        for d in due:
            assert d.finding is not None
            when = datetime.fromtimestamp(d.due, UTC).isoformat().replace("+00:00", "Z")
            outcome = Outcome.of(
                (d.finding,),
                None,
                (),
                self.policy_ref,
                deadline={
                    "rule": d.rule,
                    "due": when,
                    "opened_by": d.opened_by,
                    "subject": d.subject,
                },
            )
            out.append(
                Decision(f"deadline:{d.rule}:{d.opened_by}:{d.subject}", outcome, None, d.due)
            )
        return out

    def invalid(self, message: str, event_id: str | None = None) -> Decision:
        """An ``invalid`` decision whose schema finding says what is wrong."""
        outcome = self._invalid.get(message)
        if outcome is None:
            finding = Finding(SCHEMA_RULE, "schema", "medium", "deny", message)
            outcome = Outcome.of((finding,), None, (), self.policy_ref, invalid=True)
            if len(self._invalid) < 4096:
                self._invalid[message] = outcome
        return Decision(event_id, outcome)

    # -- a new flow ------------------------------------------------------------
    def facts(self, flow: Flow, at: float, tenant: str | None) -> tuple[Facts, list[Finding]]:
        """Resolve a flow's names; unknown ones become fail-closed findings."""
        (
            data_class,
            operation,
            origin,
            destination,
            processor,
            purpose,
            in_transit,
            at_rest,
            retention,
            stated,
            special,
            anonymized,
            home_region,
            settings,
            derogation,
        ) = flow
        p = self.policy
        unknown: list[str] = []
        klass = p.data_classes.get(data_class)
        if klass is None:
            unknown.append(f"data class {show(data_class)} is not defined by policy {p.id}")
        processor_id = processor if processor is not None else p.company.id
        party = p.processors.get(processor_id)
        if party is None:
            unknown.append(f"processor {show(processor_id)} is not in the processor registry")
        purpose_id = purpose if purpose is not None else "service_delivery"
        if purpose_id not in p.purposes:
            unknown.append(f"purpose {show(purpose_id)} is not defined by policy {p.id}")
        origin_cc = self.places.country(origin)
        if origin_cc is None:
            unknown.append(f"origin location {show(origin)} is unknown")
        dest_cc = self.places.country(destination)
        if dest_cc is None:
            unknown.append(f"destination location {show(destination)} is unknown")
        home = None
        if home_region is not None:
            home = p.home_regions.get(home_region)
            if home is None:
                unknown.append(f"home region {show(home_region)} is not defined by policy {p.id}")
        values: dict[str, Any] = {
            name: s.default for name, s in p.settings.items() if s.default is not None
        }
        for name, kind, value in settings:
            declared = p.settings.get(name)
            if declared is None:
                continue  # settings the policy does not use do not change its decisions
            if kind is not _SETTING_PY[declared.type] or (
                declared.type == "enum" and value not in declared.values
            ):
                unknown.append(
                    f"tenant setting {name}={show(value)} does not fit its type {declared.type}"
                )
                continue
            values[name] = value
        facts = Facts(
            at,
            tenant,
            data_class,
            klass,
            operation,
            origin,
            origin_cc,
            destination,
            dest_cc,
            processor_id,
            party,
            purpose_id,
            in_transit,
            at_rest,
            retention,
            stated,
            special,
            anonymized,
            home_region,
            home,
            values,
            derogation,
        )
        if origin_cc is not None and dest_cc is not None:
            facts.transfer = judge_transfer(
                self.tables,
                origin_cc,
                dest_cc,
                at,
                party=party,
                hr=klass.hr if klass is not None else False,
                personal=(klass.personal if klass is not None else True) and not anonymized,
                derogation=derogation,
            )
        findings = [Finding(ENGINE_RULE, "unknown_reference", "high", "deny", m) for m in unknown]
        return facts, findings

    def _evaluate(self, flow: Flow, at: float, tenant: str | None) -> Outcome:
        facts, findings = self.facts(flow, at, tenant)
        applied: list[AppliedException] = []
        remembering: list[Rule] = []
        if not findings:  # rules cannot be judged on names the policy does not know
            for rule in self.rules:
                stateful = rule.id in self._stateful_ids
                # Requests, deletions and anonymisations update memory whatever the rule's
                # selectors: they close what the stores the rule did select opened.
                bookkeeping = stateful and facts.operation in BOOKKEEPING_OPS
                if bookkeeping:
                    remembering.append(rule)
                if applies(rule, facts, self.places) is not None:
                    continue
                if stateful and not bookkeeping and self._waiver(rule, facts) is None:
                    remembering.append(rule)
                if rule.kind in MEMORY_KINDS:
                    continue
                violated, message, effect = CHECKS[rule.kind](rule, facts, self.places)
                if not violated:
                    continue
                waiver = self._waiver(rule, facts)
                if waiver is not None:
                    applied.append(waiver)
                    continue
                findings.append(
                    Finding(rule.id, rule.kind, rule.severity, effect or rule.effect, message)
                )
        return Outcome.of(
            tuple(findings),
            facts.transfer,
            tuple(applied),
            self.policy_ref,
            stateful=tuple(remembering),
            processor=facts.processor_id,
            destination_country=facts.destination_country,
        )

    def _waiver(self, rule: Rule, facts: Facts) -> AppliedException | None:
        for exc in self.policy.exceptions:
            if exc.rule != rule.id or not exc.span.covers(facts.at):
                continue
            if exc.when is None or selector_miss(exc.when, facts, self.places) is None:
                return AppliedException(exc.id, exc.rule)
        return None

    # -- explanations ----------------------------------------------------------
    def explain(self, obj: object) -> list[str]:
        """Why the decision for ``obj`` is what it is, rule by rule, as lines of text."""
        parsed = parse_event(obj)
        if isinstance(parsed, str):
            return [f"invalid event: {parsed}"]
        event_id, at, flow, tenant = parsed
        facts, unknown = self.facts(flow, at, tenant)
        lines = [
            f"event {event_id}: {facts.done}, {facts.place('origin')} -> "
            f"{facts.place('destination')}, processor {facts.processor_id}, "
            f"purpose {facts.purpose}",
        ]
        t = facts.transfer
        lines.append(
            "transfer: none (same country)"
            if t is None
            else f"transfer: {t.regime} {t.from_country}->{t.to_country}: {t.mechanism}"
            + (f" ({t.instrument})" if t.instrument else "")
        )
        for finding in unknown:
            lines.append(f"  FAIL-CLOSED {finding.message}")
        if unknown:
            lines.append("rules not evaluated: the event names things the policy does not know")
            return lines
        for rule in self.rules:
            why_not = applies(rule, facts, self.places, explain=True)
            if why_not is not None:
                lines.append(f"  skip  {rule.id} [{rule.kind}]: {why_not}")
                continue
            if rule.kind in MEMORY_KINDS:
                lines.append(f"  memo  {rule.id} [{rule.kind}]: judged against earlier events")
                continue
            violated, message, effect = CHECKS[rule.kind](rule, facts, self.places)
            if not violated:
                lines.append(f"  pass  {rule.id} [{rule.kind}]: {message}")
                continue
            waiver = self._waiver(rule, facts)
            if waiver is not None:
                lines.append(f"  waive {rule.id} [{rule.kind}]: {message} - exception {waiver.id}")
                continue
            lines.append(
                f"  {(effect or rule.effect).upper():5} {rule.id} [{rule.kind}]: {message}"
            )
            lines.append(f"        cites: {rule.citation}")
        return lines


def needs_memory(rule: Rule) -> bool:
    """True for rules judged (also) against earlier events."""
    return (
        rule.kind in MEMORY_KINDS
        or (rule.kind == "retention" and bool(rule.params.get("track_deletion")))
        or (rule.kind == "transfer" and "derogation_limit" in rule.params)
    )
