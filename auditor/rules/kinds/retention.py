"""Retention: how long a stored copy may be kept, and (tracked) that it is deleted in time."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from auditor.memory import DAY, Memo, MemoryKey, Overdue, Seen, key_text
from auditor.policy.model import Rule
from auditor.rules.base import Check, ParamContext, RuleKind
from auditor.rules.facts import Facts, Places

CLEAR_OPERATIONS = frozenset({"delete", "anonymize"})


def check(rule: Rule, facts: Facts, places: Places) -> Check:
    if facts.operation != "store" and not facts.retention_stated:
        return Check(False, "not a stored copy and no retention stated")
    limit = rule.params.get("max_days")
    setting = rule.params.get("tenant_setting")
    source = ""
    if setting is not None and type(facts.settings.get(setting)) is int:
        limit = facts.settings[setting]
        source = f" ({setting})"
    if limit is None:
        # Only a tenant_setting and no max_days: a tenant that set nothing has no limit.
        return Check(False, f"no limit: tenant setting {setting} not set")
    if not facts.retention_stated:
        if rule.params.get("unstated", "violation") == "allow":
            return Check(False, "retention not stated (allowed by this rule)")
        return Check(True, f"{facts.done} with no retention stated; max {limit} days{source}")
    if facts.retention_days is None:
        return Check(True, f"{facts.done} indefinitely; max {limit} days{source}")
    if facts.retention_days > limit:
        return Check(True, f"{facts.done} for {facts.retention_days} days; max {limit} "
                     f"days{source}")
    return Check(False, f"kept {facts.retention_days} days, within {limit}{source}")


def check_params(ctx: ParamContext, params: Mapping[str, Any]) -> None:
    if "tenant_setting" not in params:
        return
    name = params["tenant_setting"]
    if ctx.known("tenant setting", name, "params.tenant_setting") \
            and ctx.setting_type(name) != "int":
        ctx.error(f"tenant setting '{name}' must have type int to override max_days",
                  "params.tenant_setting")


def _day(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


class TrackDeletion:
    """``track_deletion``: each stored copy must be deleted or anonymised by its deadline."""

    deadline_tags = frozenset({"rt"})

    def wants(self, rule: Rule) -> bool:
        return bool(rule.params.get("track_deletion"))

    def judge(self, rule: Rule, seen: Seen, memo: Memo) -> Iterator[Check]:
        owner = seen.subject or seen.system
        if owner is None:
            if memo.tracing:
                memo.note("no subject key or destination.system: no copy to track")
            return
        key = key_text("rt", rule.id, owner, seen.destination)
        if seen.operation in CLEAR_OPERATIONS:
            memo.store.delete(key)
            if memo.tracing:
                memo.note(f"closes the deletion deadline of {owner} in {seen.destination}")
            return
        days = seen.retention_days
        # 0 days means not kept at all (runtime handling): there is no copy to delete later.
        if seen.operation == "store" and days:
            due = seen.at + days * DAY
            memo.store.put(key, {
                "due": due,
                "event": seen.event_id,
                "subject": owner,
                "class": seen.data_class,
                "place": seen.destination,
            })
            memo.schedule(key, due)
            if memo.tracing:
                memo.note(f"opens a deletion deadline for {owner} in {seen.destination}, due "
                          f"{_day(due)} ({days} days)")
        yield from ()

    def fire(self, rule: Rule, key: MemoryKey, entry: Any) -> Overdue:
        owner = key.parts[1]
        return Overdue(
            f"{entry['class']} of {owner} stored in {entry['place']} (event "
            f"{entry['event']}) not deleted or anonymised by its retention deadline",
            entry["due"], entry["event"], owner,
        )

    def describe(self, rule: Rule) -> str:
        return ("remembers each stored copy (by subject key, else destination.system) and "
                "reports it if no delete or anonymize arrives by its retention deadline")


KIND = RuleKind(
    name="retention",
    rank=60,
    summary="a stored copy is kept longer, indefinitely (`null`), or for an unstated time; "
    "applies to `store` events and to any event that states `retention_days` (`max_days: 0` = "
    "\"never stored\")",
    params_doc="`max_days`, `tenant_setting` (an int setting that replaces max_days; without "
    "max_days a tenant that has not set it has no limit), `unstated: violation/allow`",
    params_schema={
        "type": "object", "additionalProperties": False,
        "anyOf": [{"required": ["max_days"]}, {"required": ["tenant_setting"]}],
        "properties": {
            "max_days": {"type": "integer", "minimum": 0},
            "tenant_setting": {"$ref": "#/$defs/id", "description": "An int tenant setting "
                               "that, when set, replaces max_days for that tenant; without "
                               "max_days, a tenant that has not set it has no limit."},
            "unstated": {"enum": ["violation", "allow"], "description": "What a store with no "
                         "retention_days means. Default violation."},
            "track_deletion": {"type": "boolean", "description": "Remember each stored copy (by "
                               "subject key, else destination.system) and report it overdue if "
                               "no delete or anonymize of it arrives by its retention deadline."},
        },
    },
    params_required=True,
    check=check,
    check_params=check_params,
    memory=TrackDeletion(),
    memory_doc="`track_deletion: true` (each stored copy must be deleted or anonymised by its "
    "deadline)",
)
