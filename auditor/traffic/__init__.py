"""Synthetic lineage traffic for the seed packs: the demo, the examples and the benchmark.

Each pack (the package ``auditor.traffic.<pack>``) lists the flows its notice describes as
weighted templates, each stating the decision it must get, so a generated sample comes
with its own expected counts, independent of the engine. Its modules: ``tenants`` (the
tenants, their settings, where they and their data are), ``lawful`` (the flows the notice
describes), ``breaches`` (flows that break a promise of it, unknown references and invalid
input), and the package itself: the templates, which tenants can make each, and the ``Pack``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import import_module
from typing import Any

PACKS = ("natterbox", "24calldesk", "clevercall", "nubitalk")
Event = dict[str, Any]
# The encryption of a flow in transit, and of a copy sent and kept.
TLS13 = {"in_transit": "tls1.3"}
STORED = {"in_transit": "tls1.3", "at_rest": "aes-256"}


def at(location: str) -> dict[str, str]:
    """An origin or destination with only its location."""
    return {"location": location}


@dataclass(frozen=True)
class Tenant:
    id: str
    home_region: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)

    def as_event_field(self) -> Event:
        out: Event = {"id": self.id}
        if self.home_region is not None:
            out["home_region"] = self.home_region
        if self.settings:
            out["settings"] = dict(self.settings)
        return out


@dataclass(frozen=True)
class Template:
    """One kind of flow: ``make`` builds the event's flow fields for a tenant.

    ``verdict`` and ``kinds`` (the deny finding kinds) are what the pack must decide.
    ``tenants`` (optional) restricts which tenants can produce this flow.
    """

    label: str
    weight: float
    make: Callable[[random.Random, Tenant], Event]
    verdict: str = "allow"
    kinds: tuple[str, ...] = ()
    tenants: Callable[[Tenant], bool] | None = None


@dataclass(frozen=True)
class Pack:
    name: str
    tenants: tuple[Tenant, ...]
    templates: tuple[Template, ...]
    services: tuple[str, ...] = ("platform",)


def load_pack(name: str) -> Pack:
    """The traffic definition of a seed pack (raises KeyError for an unknown pack)."""
    if name not in PACKS:
        raise KeyError(f"unknown pack {name!r}; known: {', '.join(PACKS)}")
    # A module name cannot start with a digit.
    module = import_module(f"auditor.traffic.{'calldesk24' if name == '24calldesk' else name}")
    pack: Pack = module.PACK
    return pack


@dataclass
class Expected:
    verdicts: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdicts": dict(sorted(self.verdicts.items())),
            "violations_by_kind": dict(sorted(self.kinds.items())),
            "flows": dict(sorted(self.labels.items())),
        }


def generate(pack: Pack, count: int, *, seed: int = 7,
             start: datetime = datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
             rate_per_second: float = 50.0, expected: Expected | None = None,
             ) -> Iterator[Event]:
    """``count`` events of ``pack``, deterministic for a seed; fills ``expected`` as it goes."""
    rng = random.Random(seed)
    weights = [t.weight for t in pack.templates]
    subjects = [f"subj-{rng.getrandbits(48):012x}" for _ in range(max(16, count // 20))]
    moment = start
    for i in range(count):
        template = rng.choices(pack.templates, weights)[0]
        candidates = [t for t in pack.tenants if template.tenants is None or template.tenants(t)]
        tenant = rng.choice(candidates or list(pack.tenants))
        moment += timedelta(microseconds=int(rng.expovariate(rate_per_second) * 1e6))
        event: Event = {
            "event_id": f"{pack.name}-{i:07d}",
            "event_time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "tenant": tenant.as_event_field(),
            "service": rng.choice(pack.services),
            "subject": {"key": rng.choice(subjects)},
        }
        event.update(template.make(rng, tenant))
        if expected is not None:
            expected.verdicts[template.verdict] += 1
            expected.labels[template.label] += 1
            for kind in template.kinds:
                expected.kinds[kind] += 1
        yield event
