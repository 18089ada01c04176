"""The watch of a pack's files: a change loads once, after the files settle; errors name files."""

from __future__ import annotations

import os
from pathlib import Path

from auditor.engine import Engine
from auditor.stream.policy_watch import PolicyWatch, fingerprint, pack_loader
from tests.unit.helpers import EXAMPLE_POLICY


class Seen:
    def __init__(self) -> None:
        self.engines: list[Engine] = []
        self.errors: list[str] = []


def watch(path: Path, seen: Seen) -> PolicyWatch:
    return PolicyWatch(path, pack_loader(), on_engine=seen.engines.append,
                       on_error=seen.errors.append, interval_s=1.0)


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    # A distinct mtime even on file systems with coarse timestamps.
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_the_first_settled_look_loads_and_a_change_loads_once_after_it_settles(
    tmp_path: Path,
) -> None:
    pack = tmp_path / "pack.yaml"
    text = EXAMPLE_POLICY.read_text()
    write(pack, text)
    seen = Seen()
    w = watch(pack, seen)
    assert w.check() is False  # first look: wait for the files to settle
    assert w.check() is True  # the version on disk at start, for the owner to compare
    assert [e.policy.id for e in seen.engines] == ["gdpr-transfers"]
    assert w.check() is False  # nothing changed: nothing loaded
    first = seen.engines[0].version

    write(pack, text.replace("    effect: deny", "    effect: warn", 1))
    assert w.check() is False  # changed: one more look first
    assert w.check() is True
    assert w.check() is False
    assert len(seen.engines) == 2
    assert seen.engines[1].version != first
    assert seen.errors == []


def test_a_file_still_being_written_is_loaded_once_it_stops_changing(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    text = EXAMPLE_POLICY.read_text()
    write(pack, text)
    seen = Seen()
    w = watch(pack, seen)
    w.check()
    w.check()
    write(pack, text[: len(text) // 2])  # half written
    assert w.check() is False
    write(pack, text.replace("    effect: deny", "    effect: warn", 1))  # done
    assert w.check() is False  # it changed again since the last look
    assert w.check() is True
    assert seen.errors == []
    assert len(seen.engines) == 2


def test_a_broken_version_reports_every_error_and_a_fix_in_a_new_include_is_seen(
    tmp_path: Path,
) -> None:
    pack = tmp_path / "pack.yaml"
    text = EXAMPLE_POLICY.read_text()
    write(pack, text)
    seen = Seen()
    w = watch(pack, seen)
    w.check()
    w.check()
    extra = tmp_path / "extra.yaml"
    write(extra, "apiVersion: auditor/v1\nrules:\n  - id: extra.bad\n    kind: nonsense\n")
    write(pack, text.replace("rules:\n", "include: [extra.yaml]\nrules:\n", 1))
    w.check()
    assert w.check() is True
    (errors,) = seen.errors
    assert "extra.yaml" in errors
    assert "nonsense" in errors
    assert w.check() is False  # nothing changed since: not loaded again

    write(extra, "apiVersion: auditor/v1\n")  # the fix is in the include only
    w.check()
    assert w.check() is True
    assert len(seen.engines) == 2
    assert len(seen.errors) == 1
    assert str(extra) in {str(Path(f)) for f in seen.engines[1].policy.files}


def test_fingerprint_sees_a_replaced_file_and_a_missing_one(tmp_path: Path) -> None:
    a = tmp_path / "a.yaml"
    write(a, "x")
    before = fingerprint([a])
    replacement = tmp_path / "b.yaml"
    write(replacement, "x")
    os.replace(replacement, a)  # as a ConfigMap update or an atomic save does
    assert fingerprint([a]) != before
    a.unlink()
    assert fingerprint([a]) == ((str(a), None),)


def test_a_loader_that_raises_anything_is_reported_not_raised(tmp_path: Path) -> None:
    pack = tmp_path / "pack.yaml"
    write(pack, "x")
    seen = Seen()

    def broken(path: Path) -> Engine:
        raise RuntimeError("a bug")

    w = PolicyWatch(pack, broken, on_engine=seen.engines.append, on_error=seen.errors.append,
                    interval_s=1.0)
    w.check()
    assert w.check() is True
    assert seen.errors == [f"{pack}: policy failed to load: RuntimeError('a bug')"]
