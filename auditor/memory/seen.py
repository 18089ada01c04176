"""What the memory is told of one event, and what it hands back when a deadline passes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Protocol

from auditor.memory.store import Store

DAY = 86_400.0


class Seen(NamedTuple):
    """The per-event facts rules that remember need beyond the flow's cached outcome.

    A NamedTuple: one is made for every event a rule remembers, and building a frozen
    dataclass of 13 fields costs several times more.
    """

    event_id: str
    at: float
    tenant: str | None
    home_region: str | None
    subject: str | None
    system: str | None
    operation: str
    data_class: str
    destination: str
    destination_country: str | None
    processor: str
    derogation: str | None
    retention_days: int | None


@dataclass(frozen=True, slots=True)
class Overdue:
    """A deadline that passed unmet: what the deadline decision says."""

    message: str
    due: float
    opened_by: str
    subject: str


class Memo(Protocol):
    """What a rule kind's memory hook may do while it judges one event."""

    @property
    def store(self) -> Store: ...

    @property
    def ttl(self) -> float:
        """How long an untouched entry is kept, in seconds."""

    @property
    def tracing(self) -> bool:
        """True when ``note`` is read (explain): build notes only then, off the hot path."""

    def schedule(self, key: str, due: float) -> None:
        """Look at ``key`` (a MemoryKey's text) again when event time passes ``due``."""

    def note(self, text: str) -> None:
        """Say what the hook did (shown by ``auditor explain``)."""


