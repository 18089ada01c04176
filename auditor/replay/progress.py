"""The replay's progress bar on stderr: rate and ETA, records or bytes, quiet when not a tty."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from auditor.replay.records import Record

# Progress is redrawn at most this often (in records): advancing per record costs more
# than deciding one.
PROGRESS_STEP = 256


class DoneColumn(ProgressColumn):
    """How much is done: records of a total, or bytes of plain files."""

    def __init__(self) -> None:
        super().__init__()
        self._bytes = DownloadColumn()
        self._count = MofNCompleteColumn()

    def render(self, task: Task) -> Text:
        if task.fields.get("unit") == "bytes":
            return self._bytes.render(task)
        return self._count.render(task)


class RateColumn(ProgressColumn):
    """Records (or MB) per second."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text("", style="progress.data.speed")
        unit = task.fields.get("unit", "records")
        if unit == "bytes":
            return Text(f"{speed / 1e6:,.1f} MB/s", style="progress.data.speed")
        return Text(f"{speed:,.0f} {unit}/s", style="progress.data.speed")


def progress_bar(quiet: bool) -> Progress:
    """A progress bar on stderr, drawn only when stderr is a terminal and not ``quiet``."""
    console = Console(stderr=True)
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        DoneColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=quiet or not console.is_terminal,
    )


def tracked(
    records: Iterable[Record], progress: Progress, label: str, total: int | None, unit: str
) -> Iterator[Record]:
    """``records``, advancing a progress bar (records, or bytes of plain files) as they pass."""
    task = progress.add_task(label, total=total, unit=unit)
    pending = done = 0
    for count, record in enumerate(records, start=1):
        yield record
        pending += record.size if unit == "bytes" else 1
        if count % PROGRESS_STEP == 0:
            progress.update(task, advance=pending)
            done += pending
            pending = 0
    # Sizes of stripped lines only approximate a file's bytes: end exactly at the total.
    final = total if total is not None else done + pending
    progress.update(task, total=final, completed=final)
