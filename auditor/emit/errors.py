"""The emitter's errors: what was not sent or not delivered, naming the events."""

from __future__ import annotations

_MAX_SHOWN_IDS = 20


class EmitError(Exception):
    """Base class of the emitter's errors."""


class InvalidEventError(EmitError, ValueError):
    """The event is not a valid lineage event v1; nothing was sent."""

    def __init__(
        self, message: str, *, event_id: str | None = None, index: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.event_id = event_id
        self.index = index


class QueueFullError(EmitError, BufferError):
    """The producer's local queue stayed full for longer than the emitter waits.

    ``event_ids`` names the events not queued (several when a batch could not go out).
    """

    def __init__(self, message: str, event_ids: list[str | None] | None = None) -> None:
        super().__init__(message)
        self.event_ids = event_ids or []


class DeliveryError(EmitError):
    """Some events were not delivered: the broker rejected them or they timed out."""

    def __init__(
        self,
        failed: list[tuple[str | None, str]],
        undelivered: list[str | None] | None = None,
        *,
        detail: str | None = None,
    ) -> None:
        self.failed = failed
        self.undelivered = undelivered or []
        parts = []
        if failed:
            ids = [str(event_id) for event_id, _ in failed]
            reasons = sorted({reason for _, reason in failed})
            parts.append(
                f"{len(failed)} event(s) failed delivery ({'; '.join(reasons[:3])}): "
                + _show_ids(ids)
            )
        if self.undelivered:
            parts.append(
                f"{len(self.undelivered)} event(s) still undelivered: "
                + _show_ids([str(i) for i in self.undelivered])
            )
        if detail:
            parts.append(detail)
        super().__init__("; ".join(parts) or "delivery failed")

    @property
    def event_ids(self) -> list[str | None]:
        """Ids of every event that failed or is still undelivered."""
        return [event_id for event_id, _ in self.failed] + list(self.undelivered)


def _show_ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:_MAX_SHOWN_IDS])
    return shown + (
        f", ... ({len(ids) - _MAX_SHOWN_IDS} more)" if len(ids) > _MAX_SHOWN_IDS else ""
    )
