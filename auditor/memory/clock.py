"""The event time of one stream, per domain: no single tenant's clock is everyone's.

Each event belongs to a time *domain*: its tenant, else its subject, else the shared
anonymous domain (``domain_of``). A domain's time is the latest ``event_time`` it sent.
The stream keeps the two most advanced domains (``Clock.top``): the **leader** (the most
advanced) and the **consensus** — the second most advanced domain's time, i.e. a time at
least two domains have reached. A deadline passes when the consensus goes beyond it, or
when its own domain leads and goes beyond it; so one domain's clock, however far ahead,
closes only its own deadlines. With a single domain there is no consensus: its own time
decides. Domains move forward only (late events never move a time back), so the top two
kept incrementally are exact.
"""

from __future__ import annotations

from typing import Any

from auditor.memory.keys import MemoryKey

CLOCK = "clock"
HOUR = 3_600.0
# The anonymous domain: events with neither a tenant nor a subject.
ANONYMOUS = "-"
# The time of memory written before domains existed (a changelog of an older worker).
LEGACY = "*"


def domain_of(tenant: str | None, subject: str | None) -> str:
    """The time domain of an event: its tenant, else its subject (never confused)."""
    if tenant is not None:
        # Per event: the plain join unless the id needs MemoryKey's escaping.
        if "|" in tenant or "%" in tenant:
            return MemoryKey.of("t", tenant).text()
        return "t|" + tenant
    if subject is not None:
        return MemoryKey.of("s", subject).text()
    return ANONYMOUS


def hour_of(at: float) -> int:
    return int(at // HOUR)


class Clock:
    """The stream's clocks and where the deadline index must look next, kept in the store
    as ``{"top": [[domain, time], ...], "nc": …, "nl": …}`` (``data``, used in place).

    ``top``: up to two ``[domain, time]``, most advanced first. ``next_c`` / ``next_l``:
    the earliest time an entry of the index left in the consensus's / leader's hour
    falls due (None: nothing there), so an event within the same hour costs nothing.
    """

    __slots__ = ("data", "top")

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self.data: dict[str, Any] = {"top": [], "nc": None, "nl": None} if data is None \
            else data
        self.top: list[list[Any]] = self.data["top"]

    @classmethod
    def of(cls, *top: tuple[str, float]) -> Clock:
        return cls({"top": [list(t) for t in top], "nc": None, "nl": None})

    @property
    def next_c(self) -> float | None:
        return self.data["nc"]  # type: ignore[no-any-return]

    @next_c.setter
    def next_c(self, value: float | None) -> None:
        self.data["nc"] = value

    @property
    def next_l(self) -> float | None:
        return self.data["nl"]  # type: ignore[no-any-return]

    @next_l.setter
    def next_l(self, value: float | None) -> None:
        self.data["nl"] = value

    @property
    def leader(self) -> str | None:
        return self.top[0][0] if self.top else None

    @property
    def lead(self) -> float | None:
        """The most advanced domain's time (what the single watermark used to be)."""
        return float(self.top[0][1]) if self.top else None

    @property
    def consensus(self) -> float | None:
        """The second most advanced domain's time; None while there is one domain."""
        return float(self.top[1][1]) if len(self.top) > 1 else None

    def see(self, domain: str, at: float) -> bool:
        """``domain`` reached ``at``; True if the leader or the consensus moved."""
        top = self.top
        for entry in top:
            if entry[0] == domain:
                if at <= entry[1]:
                    return False  # late or repeated: time never moves back
                entry[1] = at
                break
        else:
            if len(top) < 2:
                top.append([domain, at])
            elif at > top[1][1]:
                top[1] = [domain, at]
            else:
                return False
        if len(top) == 2 and top[1][1] > top[0][1]:
            top.reverse()
        return True

    def passes(self, due: float, domain: str | None) -> bool:
        """Has time gone beyond ``due`` for an entry of ``domain``? (None: memory from
        before domains, which the leader's time closes, as the one watermark did.)"""
        consensus = self.consensus
        if consensus is not None and due < consensus:
            return True
        lead = self.lead
        return lead is not None and due < lead and (domain is None or domain == self.leader)

    def floor(self, domain: str | None) -> int | None:
        """The earliest hour an entry of ``domain`` may be filed under: what is already
        behind its clock is looked at with the next event that moves that clock."""
        lead, consensus = self.lead, self.consensus
        if lead is None:
            return None
        if domain is None or domain == self.leader or consensus is None:
            return hour_of(lead)
        return hour_of(consensus)
