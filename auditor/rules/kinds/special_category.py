"""Special categories (GDPR Art. 9): such data must be anonymised."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.events.vocabulary import SPECIAL_CATEGORIES
from auditor.policy.model import Rule
from auditor.policy.values import suggest
from auditor.rules.base import Check, ParamContext, RuleKind
from auditor.rules.facts import Facts, Places


def check(rule: Rule, facts: Facts, places: Places) -> Check:
    wanted = rule.params.get("categories")
    present = [c for c in facts.special if wanted is None or c in wanted]
    if not present:
        return Check(False, "no special-category data")
    if facts.anonymized:
        return Check(False, f"special-category data ({', '.join(present)}) is anonymised")
    return Check(
        True, f"{facts.done} with special-category data ({', '.join(present)}) that is not "
        "anonymised"
    )


def check_params(ctx: ParamContext, params: Mapping[str, Any]) -> None:
    for i, name in enumerate(params.get("categories", ())):
        if name not in SPECIAL_CATEGORIES:
            ctx.error(
                f"'{name}' is not a GDPR Art. 9 category{suggest(name, SPECIAL_CATEGORIES)}",
                f"params.categories[{i}]",
            )


KIND = RuleKind(
    name="special_category",
    rank=70,
    summary="Art. 9 data that is not anonymised",
    params_doc="`categories` (default: all)",
    params_schema={
        "type": "object", "additionalProperties": False,
        "properties": {"categories": {"type": "array", "minItems": 1, "items": {"type": "string"}}},
    },
    params_required=False,
    check=check,
    check_params=check_params,
)
