"""The replay's progress bar: every record passes through and the task ends complete."""

from __future__ import annotations

from auditor.replay.progress import PROGRESS_STEP, RateColumn, progress_bar, tracked
from auditor.replay.records import Record


def test_tracked_passes_every_record_and_completes_the_task() -> None:
    records = [Record(b"{}", 0, i, (), 3) for i in range(PROGRESS_STEP * 2 + 5)]
    with progress_bar(quiet=True) as progress:
        assert progress.disable
        assert list(tracked(records, progress, "events", len(records), "records")) == records
        assert list(tracked(records[:7], progress, "file", None, "bytes")) == records[:7]
        counted, sized = progress.tasks
    assert counted.finished
    assert counted.completed == len(records)
    assert sized.total == sized.completed == 21  # unknown total (gzip): what was read


def test_rate_column_names_its_unit() -> None:
    with progress_bar(quiet=True) as progress:
        task_id = progress.add_task("x", total=10, unit="records")
        task = progress.tasks[task_id]
        assert RateColumn().render(task).plain == ""  # no speed yet
