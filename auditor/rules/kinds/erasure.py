"""Erasure: no use of a subject's data after its erasure request; every copy gone in time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.memory import DAY, Memo, MemoryKey, Overdue, Seen, key_text
from auditor.policy.model import Rule
from auditor.rules.base import Check, RuleKind
from auditor.rules.facts import PAST

USE_OPERATIONS = frozenset({"store", "process", "transfer", "access"})
CLEAR_OPERATIONS = frozenset({"delete", "anonymize"})


class ErasureMemory:
    """Where each subject's data is stored (shared by every erasure rule), each request,
    and the deadline by which every such place must be cleared."""

    deadline_tags = frozenset({"ed"})

    def wants(self, rule: Rule) -> bool:
        return True

    def judge(self, rule: Rule, seen: Seen, memo: Memo) -> Iterator[Check]:
        if seen.subject is None:
            if memo.tracing:
                memo.note("no subject key on this event")
            return
        store = memo.store
        # Each key's text made once: this runs for every event of a remembered subject.
        places_key = key_text("st", "-", seen.subject)
        request_key = key_text("er", rule.id, seen.subject)
        deadline_key = key_text("ed", rule.id, seen.subject)
        place = seen.system or seen.destination
        places = store.get(places_key)
        if seen.operation == "erasure_request":
            if store.get(request_key) is None:
                store.put(request_key,
                          {"at": seen.at, "event": seen.event_id, "until": seen.at + memo.ttl})
                memo.schedule(request_key, seen.at + memo.ttl)
                pending = sorted(places["places"]) if places else []
                if pending:
                    due = seen.at + rule.params["deadline_days"] * DAY
                    store.put(deadline_key,
                              {"due": due, "event": seen.event_id, "pending": pending})
                    memo.schedule(deadline_key, due)
                    if memo.tracing:
                        memo.note(f"erasure of subject {seen.subject} due within "
                                  f"{rule.params['deadline_days']} days in: {', '.join(pending)}")
                elif memo.tracing:
                    memo.note(f"erasure request for subject {seen.subject}: no stored copy "
                              "known")
            return
        if seen.operation in CLEAR_OPERATIONS:
            deadline = store.get(deadline_key)
            if deadline is not None and place in deadline["pending"]:
                deadline["pending"].remove(place)
                store.put(deadline_key, deadline)
                if memo.tracing:
                    memo.note(f"{place} cleared for the erasure of subject {seen.subject}")
            if places is not None and place in places["places"]:
                places["places"].remove(place)
                store.put(places_key, places)
            return
        if seen.operation == "store":
            # Every store of a subject the auditor has seen: what an erasure must delete.
            if places is None:
                places = {"places": [], "until": 0.0}
                memo.schedule(places_key, seen.at + memo.ttl)
            if place not in places["places"]:
                places["places"].append(place)
            places["until"] = seen.at + memo.ttl
            store.put(places_key, places)
            if memo.tracing:
                memo.note(f"subject {seen.subject} is stored in {place}")
        request = store.get(request_key)
        if request is not None and seen.operation in USE_OPERATIONS:
            yield Check(
                True,
                f"{seen.data_class} of subject {seen.subject} "
                f"{PAST[seen.operation]} after its erasure request (event "
                f"{request['event']})",
            )

    def fire(self, rule: Rule, key: MemoryKey, entry: Any) -> Overdue | None:
        subject = key.parts[1]
        if not entry["pending"]:
            return None
        return Overdue(
            f"erasure request for subject {subject} (event {entry['event']}) not "
            f"completed within {rule.params['deadline_days']} days: not deleted or "
            f"anonymised in {', '.join(entry['pending'])}",
            entry["due"], entry["event"], subject,
        )

    def describe(self, rule: Rule) -> str:
        return ("judged against earlier events: use after the subject's erasure request, and "
                "stores not cleared within the deadline")


KIND = RuleKind(
    name="erasure",
    rank=80,
    summary="use of a subject's data after its `erasure_request`; stores not deleted within "
    "the deadline",
    params_doc="`deadline_days`",
    params_schema={
        "type": "object", "additionalProperties": False, "required": ["deadline_days"],
        "properties": {"deadline_days": {
            "type": "integer", "minimum": 0,
            "description": "Days after an erasure_request by which every store of the subject "
            "the auditor has seen must be deleted or anonymised.",
        }},
    },
    params_required=True,
    memory=ErasureMemory(),
)
