"""The engine: a policy compiled once; ``decide`` turns one input into its decisions."""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, datetime
from typing import Any

from auditor.engine.decision import AppliedException, Decision, Finding, Outcome, Step
from auditor.engine.memory import Due, Memory
from auditor.engine.trace import Trace
from auditor.events.flow import Event, Flow
from auditor.events.invalid import Invalid
from auditor.events.validate import show
from auditor.legal.chapter_v import home_region_regime, judge_transfer
from auditor.legal.tables import LegalTables, canonical_digest, load_tables
from auditor.locations import CloudCatalogue, load_catalogue
from auditor.memory import Seen, Store, domain_of
from auditor.policy.model import Party, Policy, Rule
from auditor.rules import rule_kinds
from auditor.rules.facts import Facts, Places
from auditor.rules.selectors import applies, selector_miss

ENGINE_RULE = "auditor.unknown-reference"
IMPLICIT_UNDECLARED_RULE = "auditor.undeclared-flow"
SCHEMA_RULE = "auditor.schema"
IMPLICIT_TRANSFER_RULE = "auditor.chapter-v"
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

# Stands in for a pack that declares flows but writes no rule of kind undeclared_flow.
_IMPLICIT_UNDECLARED = Rule(
    id=IMPLICIT_UNDECLARED_RULE,
    kind="undeclared_flow",
    description="A pack that declares its flows is told of every flow of personal data that "
    "no declaration covers (warn); write a rule of kind undeclared_flow to make it deny or "
    "to scope it.",
    severity="medium",
    effect="warn",
    citation="GDPR Art. 30(1)(d)-(e) (recipients and transfers in the record of processing) "
    "and Art. 13(1)(e)-(f) (recipients and transfers in the notice)",
)


class Engine:
    """Decides lineage events against one policy.

    Deterministic and clock-free: a decision depends only on the event (its ``event_time``
    selects the law in force), on the memory ``Store`` it is given (rules that remember)
    and on the policy, legal tables and catalogue it was built with. Decisions of equal
    flows in the same legal epoch are computed once and shared.
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
        self.kinds = rule_kinds()
        self.rules: tuple[Rule, ...] = policy.rules
        if not any(r.kind == "transfer" for r in policy.rules):
            self.rules = (*policy.rules, _IMPLICIT_TRANSFER)
        self.declarations = self.places.declarations
        if self.declarations and not any(r.kind == "undeclared_flow" for r in policy.rules):
            self.rules = (*self.rules, _IMPLICIT_UNDECLARED)
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
            edges.update(party.edges())
        for exc in policy.exceptions:
            edges.update(exc.span.edges())
        edges.update(self.declarations.edges())
        # Within one epoch nothing dated changes, so a flow's decision is the same.
        self._edges = tuple(sorted(edges))
        selectors = [s for r in policy.rules for s in (r.when, r.unless)]
        selectors += [e.when for e in policy.exceptions]
        # Tenant ids join the cache key only when some selector names tenants.
        self._by_tenant = any(s is not None and s.tenants is not None for s in selectors)
        self._stateful_ids = {r.id for r in self.rules if self.kinds[r.kind].needs_memory(r)}
        self.memory = (
            Memory(self.kinds, {r.id: r for r in self.rules}) if self._stateful_ids else None
        )
        # The rules that can apply to a (data class, operation), in policy order: most rules
        # name a few of either, so a new flow is judged against only its candidates.
        self._candidates: dict[tuple[str, str], tuple[Rule, ...]] = {}
        self._cache: dict[Any, Outcome] = {}
        self._cache_max = policy.max_decision_cache
        self._invalid: dict[str, Outcome] = {}

    # -- the hot path ----------------------------------------------------------
    def decide(self, item: Event | Invalid, store: Store, trace: Trace | None = None) -> Step:
        """The decisions of one input: deadlines its event time passed, then its own.

        ``store`` holds the memory of rules that remember (events must come in order);
        ``trace``, when given, is filled in by this same evaluation (the decision cache is
        bypassed, never the logic). Never raises.
        """
        if type(item) is Invalid:
            return Step(self.invalid(item), (), item)
        assert type(item) is Event
        at = item.at
        epoch = bisect_right(self._edges, at)
        key = (item.flow, epoch, item.tenant) if self._by_tenant else (item.flow, epoch)
        outcome = self._cache.get(key) if trace is None else None
        if outcome is None:
            outcome = self._evaluate(item, trace)
            if len(self._cache) >= self._cache_max:
                self._cache.clear()  # bounded memory under hostile, ever-new flows
            if self._cache_max:
                self._cache[key] = outcome
        if self.memory is None:
            return Step(Decision(item.event_id, outcome, item.value, at, item.json))
        due = self.memory.advance(store, at, domain_of(item.tenant, item.subject))
        deadlines = tuple(self._deadline(d) for d in due) if due else ()
        if outcome.stateful:
            flow = item.flow
            seen = Seen(item.event_id, at, item.tenant, flow.home_region, item.subject,
                        item.system, flow.operation, flow.data_class, flow.destination,
                        outcome.destination_country, outcome.processor, flow.derogation,
                        flow.retention_days)
            found = self.memory.judge(outcome.stateful, seen, store, trace)
            if found:
                outcome = Outcome.of((*outcome.findings, *found), outcome.transfer,
                                     outcome.exceptions, self.policy_ref,
                                     declared=outcome.declared)
        return Step(Decision(item.event_id, outcome, item.value, at, item.json), deadlines)

    def close(self, now: float, store: Store) -> list[Decision]:
        """Deadline decisions of everything still open at ``now`` (``auditor check --now``)."""
        if self.memory is None:
            return []
        return [self._deadline(d) for d in self.memory.close(store, now)]

    def _deadline(self, due: Due) -> Decision:
        rule, overdue = due.rule, due.overdue
        when = datetime.fromtimestamp(overdue.due, UTC).isoformat().replace("+00:00", "Z")
        finding = Finding(rule.id, rule.kind, rule.severity, rule.effect, overdue.message)
        outcome = Outcome.of(
            (finding,),
            None,
            (),
            self.policy_ref,
            deadline={
                "rule": rule.id,
                "due": when,
                "opened_by": overdue.opened_by,
                "subject": overdue.subject,
            },
        )
        event_id = f"deadline:{rule.id}:{overdue.opened_by}:{overdue.subject}"
        return Decision(event_id, outcome, None, overdue.due)

    def invalid(self, reason: Invalid) -> Decision:
        """An ``invalid`` decision whose schema finding says what is wrong."""
        outcome = self._invalid.get(reason.message)
        if outcome is None:
            finding = Finding(SCHEMA_RULE, "schema", "medium", "deny", reason.message)
            outcome = Outcome.of((finding,), None, (), self.policy_ref, invalid=True)
            if len(self._invalid) < 4096:
                self._invalid[reason.message] = outcome
        return Decision(reason.event_id, outcome)

    # -- a new flow ------------------------------------------------------------
    def facts(self, flow: Flow, at: float, tenant: str | None) -> tuple[Facts, list[Finding]]:
        """Resolve a flow's names; unknown ones become fail-closed findings."""
        p = self.policy
        unknown: list[str] = []
        klass = p.data_classes.get(flow.data_class)
        if klass is None:
            unknown.append(f"data class {show(flow.data_class)} is not defined by policy {p.id}")
        processor_id = flow.processor if flow.processor is not None else p.company.id
        party = p.processors.get(processor_id)
        if party is None:
            unknown.append(f"processor {show(processor_id)} is not in the processor registry")
        purpose_id = flow.purpose if flow.purpose is not None else "service_delivery"
        if purpose_id not in p.purposes:
            unknown.append(f"purpose {show(purpose_id)} is not defined by policy {p.id}")
        origin_cc = self.places.country(flow.origin)
        if origin_cc is None:
            unknown.append(f"origin location {show(flow.origin)} is unknown")
        dest_cc = self.places.country(flow.destination)
        if dest_cc is None:
            unknown.append(f"destination location {show(flow.destination)} is unknown")
        home = None
        if flow.home_region is not None:
            home = p.home_regions.get(flow.home_region)
            if home is None:
                unknown.append(
                    f"home region {show(flow.home_region)} is not defined by policy {p.id}"
                )
        values: dict[str, Any] = {
            name: s.default for name, s in p.settings.items() if s.default is not None
        }
        for name, kind, value in flow.settings:
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
            flow.data_class,
            klass,
            flow.operation,
            flow.origin,
            origin_cc,
            flow.destination,
            dest_cc,
            processor_id,
            party,
            purpose_id,
            flow.in_transit,
            flow.at_rest,
            flow.retention_days,
            flow.retention_stated,
            flow.special_categories,
            flow.anonymized,
            flow.home_region,
            home,
            values,
            flow.derogation,
        )
        if origin_cc is not None and dest_cc is not None:
            regime = flow.origin_regime
            if regime is None and p.onward_regime == "home_region" and home is not None:
                regime = home_region_regime(self.tables, home, at)
            facts.transfer = judge_transfer(
                self.tables,
                origin_cc,
                dest_cc,
                at,
                party=party,
                hr=klass.hr if klass is not None else False,
                personal=(klass.personal if klass is not None else True) and not flow.anonymized,
                derogation=flow.derogation,
                regime=regime,
                own_staff=self._own_staff(flow.operation, party, at),
            )
        findings = [Finding(ENGINE_RULE, "unknown_reference", "high", "deny", m) for m in unknown]
        return facts, findings

    def _own_staff(self, operation: str, party: Party | None, at: float) -> bool:
        """The company's own staff reach the data, and the company is an exporter under
        GDPR or UK GDPR: its employees are not an importer (EDPB Guidelines 05/2021)."""
        company = self.policy.company
        return (operation == "access" and party is company
                and self.tables.regime(company.country, at) != "none")

    def _evaluate(self, event: Event, trace: Trace | None) -> Outcome:
        facts, findings = self.facts(event.flow, event.at, event.tenant)
        if trace is not None:
            trace.flow(
                event.event_id,
                f"{facts.done}, {facts.place('origin')} -> {facts.place('destination')}, "
                f"processor {facts.processor_id}, purpose {facts.purpose}",
                facts.transfer,
            )
            trace.unknown = [f.message for f in findings]
        applied: list[AppliedException] = []
        remembering: list[Rule] = []
        if not findings:  # rules cannot be judged on names the policy does not know
            if self.declarations and self.declarations.in_scope(facts):
                facts.declared = self.declarations.match(facts, self.places)
            self._judge_rules(facts, findings, applied, remembering, trace)
            self._no_basis_is_never_allowed(facts, findings, applied, trace)
        return Outcome.of(
            tuple(findings),
            facts.transfer,
            tuple(applied),
            self.policy_ref,
            stateful=tuple(remembering),
            processor=facts.processor_id,
            destination_country=facts.destination_country,
            declared=facts.declared,
        )

    def _judge_rules(
        self,
        facts: Facts,
        findings: list[Finding],
        applied: list[AppliedException],
        remembering: list[Rule],
        trace: Trace | None,
    ) -> None:
        explain = trace is not None
        # explain lists every rule, the ones that cannot apply too.
        rules = self.rules if explain else self._rules_for(facts.data_class, facts.operation)
        for rule in rules:
            kind = self.kinds[rule.kind]
            stateful = rule.id in self._stateful_ids
            # Requests, deletions and anonymisations update memory whatever the rule's
            # selectors: they close what the stores the rule did select opened.
            bookkeeping = stateful and facts.operation in BOOKKEEPING_OPS
            if bookkeeping:
                remembering.append(rule)
            why_not = applies(rule, facts, self.places, explain)
            if why_not is not None:
                if trace is not None:
                    trace.rule("skip", rule, why_not)
                continue
            if stateful and not bookkeeping and self._waiver(rule, facts) is None:
                remembering.append(rule)
            if kind.check is None:
                if trace is not None and kind.memory is not None:
                    trace.rule("memo", rule, kind.memory.describe(rule))
                continue
            result = kind.check(rule, facts, self.places)
            if trace is not None and stateful and kind.memory is not None:
                trace.rule("memo", rule, kind.memory.describe(rule))
            if not result.violated:
                if trace is not None:
                    trace.rule("pass", rule, result.message)
                continue
            waiver = self._waiver(rule, facts)
            if waiver is not None:
                applied.append(waiver)
                if trace is not None:
                    trace.rule("waive", rule, f"{result.message} - exception {waiver.id}")
                continue
            effect = result.effect or rule.effect
            findings.append(Finding(rule.id, rule.kind, rule.severity, effect, result.message))
            if trace is not None:
                trace.rule(effect, rule, result.message)

    def _rules_for(self, data_class: str, operation: str) -> tuple[Rule, ...]:
        """The rules whose ``when`` can match this data class and operation, and the rules
        that remember when the operation is one they keep their books on."""
        key = (data_class, operation)
        rules = self._candidates.get(key)
        if rules is None:
            rules = tuple(
                r for r in self.rules
                if (r.id in self._stateful_ids and operation in BOOKKEEPING_OPS)
                or r.when is None
                or ((r.when.data_classes is None or data_class in r.when.data_classes)
                    and (r.when.operations is None or operation in r.when.operations))
            )
            if len(self._candidates) < 65536:  # data classes × operations: bounded by policy
                self._candidates[key] = rules
        return rules

    def _no_basis_is_never_allowed(
        self,
        facts: Facts,
        findings: list[Finding],
        applied: list[AppliedException],
        trace: Trace | None,
    ) -> None:
        """A transfer with no lawful basis (mechanism ``none``) is a deny ``transfer``
        finding unless a named exception of a transfer rule waived it (spec §2): whatever
        the pack's own transfer rules say (a ``warn`` or ``dryrun`` effect, a selector that
        leaves this processor out), Chapter V still applies."""
        t = facts.transfer
        if t is None or t.mechanism != "none":
            return
        if any(f.kind == "transfer" and f.effect == "deny" for f in findings):
            return
        transfer_rules = {r.id for r in self.rules if r.kind == "transfer"}
        if any(a.rule in transfer_rules for a in applied):
            return
        rule = _IMPLICIT_TRANSFER
        check = self.kinds["transfer"].check
        assert check is not None
        message = check(rule, facts, self.places).message
        findings.append(Finding(rule.id, rule.kind, rule.severity, rule.effect, message))
        if trace is not None:
            trace.rule(rule.effect, rule, message)

    def _waiver(self, rule: Rule, facts: Facts) -> AppliedException | None:
        for exc in self.policy.exceptions:
            if exc.rule != rule.id or not exc.span.covers(facts.at):
                continue
            if exc.when is None or selector_miss(exc.when, facts, self.places) is None:
                return AppliedException(exc.id, exc.rule)
        return None
