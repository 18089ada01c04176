"""Write grafana/dashboards/*.json from grafana/dashboards_src, or --check they are current."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # run as a script: dashboards_src sits beside this file

from dashboards_src.metrics import MetricListError  # noqa: E402
from dashboards_src.promql import UnknownVariable  # noqa: E402
from dashboards_src.render import UnknownMetric, render_all  # noqa: E402

OUTPUT = HERE / "dashboards"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a committed dashboard differs")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="folder of the JSON files")
    args = parser.parse_args(argv)
    try:
        rendered = render_all()
    except (MetricListError, UnknownMetric, UnknownVariable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    stale = []
    for name, text in rendered.items():
        path = args.output / name
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current == text:
            continue
        if args.check:
            stale.append(name)
            sys.stderr.writelines(difflib.unified_diff(
                current.splitlines(keepends=True), text.splitlines(keepends=True),
                f"committed/{name}", f"generated/{name}", n=1))
        else:
            args.output.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    extra = sorted(p.name for p in args.output.glob("*.json") if p.name not in rendered)
    if extra:
        print(f"note: not generated (delete them?): {', '.join(extra)}", file=sys.stderr)
    if stale:
        print(f"error: {', '.join(stale)} out of date: run .venv/bin/python grafana/generate.py",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
