"""What a report says of its policy beyond its hash: whose promises, what each rule cites."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from auditor.engine import Engine
from auditor.engine.engine import ENGINE_RULE, IMPLICIT_TRANSFER_RULE

# Rules the engine adds itself: the sentence each stands for. (auditor.chapter-v also
# judges packs that have transfer rules of their own: a decision with no basis is never
# allowed, spec §2.)
BUILT_IN_CITATIONS: dict[str, dict[str, str]] = {
    IMPLICIT_TRANSFER_RULE: {
        "text": "Any transfer of personal data which are undergoing processing or are intended "
        "for processing after transfer to a third country or to an international "
        "organisation shall take place only if, subject to the other provisions of this "
        "Regulation, the conditions laid down in this Chapter are complied with by the "
        "controller and processor",
        "source": "GDPR Art. 44 / UK GDPR Art. 44",
    },
    ENGINE_RULE: {
        "text": "An event that names a location, data class, processor, purpose or home region "
        "the policy does not know is denied: the auditor fails closed.",
        "source": "auditor, lineage event v1 §2 (unknown_reference)",
    },
}


@dataclass(frozen=True)
class PolicyAbout:
    """The controller whose promises the policy encodes, and each rule's citation."""

    controller: Mapping[str, str] = field(default_factory=dict)  # id, name, country
    title: str = ""
    label: str = ""  # the pack's own version label (decisions carry the content hash)
    citations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def citation(self, rule: str) -> dict[str, str] | None:
        """{text, source} of the sentence ``rule`` encodes, or None if it is not known."""
        found = self.citations.get(rule) or BUILT_IN_CITATIONS.get(rule)
        return dict(found) if found is not None else None


def about(engine: Engine) -> PolicyAbout:
    """What the engine's policy says of itself: company, title, label, citations."""
    policy = engine.policy
    company = policy.company
    return PolicyAbout(
        controller={"id": company.id, "name": company.name, "country": company.country},
        title=policy.title,
        label=policy.version,
        citations={
            rule.id: {"text": rule.citation, "source": rule.citation_source}
            for rule in engine.rules
            if rule.id not in BUILT_IN_CITATIONS
        },
    )
