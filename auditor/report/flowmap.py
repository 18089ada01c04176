"""The flow map of a report: origin country → destination country as inline SVG (no scripts),
coloured by transfer basis or, with a CSS-only switch, by verdict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

MECHANISM_COLOURS = {
    "intra_eea": "#4c9a2a", "adequacy": "#1b8a8f", "dpf": "#3b6ea8", "scc": "#7b5ea7",
    "idta": "#5c6bc0", "bcr": "#a0527d", "derogation": "#ef8f00", "unrestricted": "#8a94a6",
    "none": "#c62828",
}  # fmt: skip
VERDICT_COLOURS = {"allow": "#2e7d32", "violation": "#c62828"}
REGIME_NAMES = {"eu_gdpr": "EEA · GDPR", "uk_gdpr": "UK · UK GDPR", "none": "outside EEA/UK"}
MAX_SMALL_MAPS = 12
# The switch between the two colourings: radio buttons and sibling selectors, no script.
CSS = """
.fm>input{margin:0 4px 0 12px}.fm label{font-size:13px}
.fm-maps{display:flex;flex-wrap:wrap;gap:8px 18px;margin-top:8px}
.fm path{fill:none;stroke-opacity:.6}.fm path:hover{stroke-opacity:.95}
.fm path.v{display:none}#fm-verdict:checked~.fm-maps path.v{display:inline}
#fm-verdict:checked~.fm-maps path.b{display:none}
.fm .lg-v{display:none}#fm-verdict:checked~.fm-maps .lg-v{display:inline}
#fm-verdict:checked~.fm-maps .lg-b{display:none}
.fm text.x{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px}
.fm text.bad{fill:#c62828}.fm h3{width:100%;margin:10px 0 0}
@media print{.fm>input,.fm>label{display:none}}
"""


@dataclass
class Link:
    """Cross-border events of one origin, destination and basis (and label, e.g. processor)."""

    origin: str
    destination: str
    mechanism: str
    label: str = ""
    events: int = 0
    violations: int = 0
    data_classes: Counter[str] = field(default_factory=Counter)
    processors: Counter[str] = field(default_factory=Counter)
    regimes: Counter[str] = field(default_factory=Counter)


def links(rows: Iterable[Mapping[str, Any]], label: Callable[[Mapping[str, Any]], str]
          ) -> list[Link]:
    """The register rows folded by origin, destination, mechanism and ``label``."""
    out: dict[tuple[str, str, str, str], Link] = {}
    for row in rows:
        key = (row["origin_country"], row["destination_country"], row["mechanism"], label(row))
        link = out.get(key)
        if link is None:
            link = out[key] = Link(*key)
        link.events += row["events"]
        link.violations += row["violations"]
        link.data_classes[row["data_class"]] += row["events"]
        link.processors[row["processor"]] += row["events"]
        link.regimes[row["regime"]] += row["events"]
    return sorted(out.values(), key=lambda k: (-k.events, k.origin, k.destination, k.mechanism,
                                               k.label))


@dataclass
class _Node:
    code: str
    events: int = 0
    violations: int = 0
    regimes: Counter[str] = field(default_factory=Counter)
    y: float = 0.0
    h: float = 0.0
    used: int = 0  # events of its links already placed


def _column(nodes: dict[str, _Node], top: float, height: float) -> float:
    """Stack nodes (most events first) in ``height``; the bottom of the last one."""
    ordered = sorted(nodes.values(), key=lambda n: (-n.events, n.code))
    gap = 10.0
    total = sum(n.events for n in ordered) or 1
    usable = max(height - gap * (len(ordered) - 1), 10.0)
    y = top
    for node in ordered:
        node.y, node.h = y, max(8.0, usable * node.events / total)
        y += node.h + gap
    return y - gap


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _tooltip(link: Link) -> str:
    def top(counter: Counter[str]) -> str:
        return ", ".join(f"{k} ({v:,})" for k, v in sorted(counter.items(),
                                                           key=lambda kv: (-kv[1], kv[0])))
    return (f"{link.origin} → {link.destination} · {link.mechanism} · {link.events:,} events"
            f" ({link.violations:,} violations)\ndata classes: {top(link.data_classes)}\n"
            f"processors: {top(link.processors)}")


def sankey(items: Sequence[Link], title: str, width: int, per_row: int,
           labelled: bool = False) -> str:
    """One map: origins on the left, destinations on the right, one band per link."""
    left: dict[str, _Node] = {}
    right: dict[str, _Node] = {}
    for link in items:
        for table, code in ((left, link.origin), (right, link.destination)):
            node = table.setdefault(code, _Node(code))
            node.events += link.events
            node.violations += link.violations
        left[link.origin].regimes.update(link.regimes)
    rows = max(len(left), len(right))
    height = float(min(max(per_row * rows, 3 * per_row), 24 * per_row))
    x1, x2 = 150.0, width - 170.0
    bottom = max(_column(left, 30.0, height), _column(right, 30.0, height))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{_fmt(bottom + 12)}" viewBox="0 0 {width} {_fmt(bottom + 12)}">'
        f"<title>{escape(title)}</title>"
        f'<text x="{_fmt(x1 + 7)}" y="16" text-anchor="middle">from</text>'
        f'<text x="{_fmt(x2 + 7)}" y="16" text-anchor="middle">to</text>'
    ]
    # Bands in the order of their ends, so they leave and reach each node without crossing.
    ordered = sorted(items, key=lambda k: (left[k.origin].y, right[k.destination].y,
                                           k.mechanism, k.label))
    placed: list[float] = []
    for link in ordered:
        src, dst = left[link.origin], right[link.destination]
        w_src = src.h * link.events / (src.events or 1)
        w_dst = dst.h * link.events / (dst.events or 1)
        ya = src.y + src.h * (src.used + link.events / 2) / (src.events or 1)
        yb = dst.y + dst.h * (dst.used + link.events / 2) / (dst.events or 1)
        src.used += link.events
        dst.used += link.events
        mid = (x1 + 14 + x2) / 2
        width_ = max(1.5, min(w_src, w_dst))
        tip = f"<title>{escape(_tooltip(link))}</title>"
        parts.append(_band("b", x1 + 14, ya, x2, yb, width_,
                           MECHANISM_COLOURS.get(link.mechanism, "#555"), tip))
        # By verdict: the band split in two, its allowed events and its violations.
        share = link.violations / (link.events or 1)
        for verdict, part, offset in (("allow", 1 - share, -share / 2),
                                      ("violation", share, (1 - share) / 2)):
            if part > 0:
                parts.append(_band("v", x1 + 14, ya + offset * width_, x2,
                                   yb + offset * width_, width_ * part,
                                   VERDICT_COLOURS[verdict], tip))
        label_y = (ya + yb) / 2 + 4
        # Labels on the wider bands only, none over another; the tooltip names them all.
        if labelled and link.label and max(w_src, w_dst) >= 6 and all(
                abs(label_y - y) >= 13 for y in placed):
            placed.append(label_y)
            parts.append(f'<text class="x" x="{_fmt(mid)}" y="{_fmt(label_y)}" '
                         f'text-anchor="middle">{escape(link.label)}</text>')
    for node in left.values():
        regime = REGIME_NAMES.get(node.regimes.most_common(1)[0][0], "")
        parts.append(_node(x1, node) + (
            f'<text x="{_fmt(x1 - 6)}" y="{_fmt(node.y + node.h / 2 + 4)}" text-anchor="end">'
            f'<tspan font-weight="600">{escape(node.code)}</tspan> {node.events:,}</text>'))
        if node.h >= 28:  # room for a second line: the regime most of its data left under
            parts.append(f'<text class="x" x="{_fmt(x1 - 6)}" y="{_fmt(node.y + node.h / 2 + 17)}"'
                         f' text-anchor="end">{escape(regime)}</text>')
    for node in right.values():
        bad = (f' <tspan class="bad">· {node.violations:,} violations</tspan>'
               if node.violations else "")
        parts.append(_node(x2, node) + (
            f'<text x="{_fmt(x2 + 20)}" y="{_fmt(node.y + node.h / 2 + 4)}">'
            f'<tspan font-weight="600">{escape(node.code)}</tspan> {node.events:,}{bad}</text>'))
    parts.append("</svg>")
    return "".join(parts)


def _band(cls: str, xa: float, ya: float, xb: float, yb: float, width: float, colour: str,
          tip: str) -> str:
    mid = (xa + xb) / 2
    return (f'<path class="{cls}" d="M{_fmt(xa)} {_fmt(ya)}C{_fmt(mid)} {_fmt(ya)} {_fmt(mid)} '
            f'{_fmt(yb)} {_fmt(xb)} {_fmt(yb)}" stroke="{colour}" stroke-width="{_fmt(width)}">'
            f"{tip}</path>")


def _node(x: float, node: _Node) -> str:
    return (f'<g><title>{escape(node.code)}: {node.events:,} events</title>'
            f'<rect x="{_fmt(x)}" y="{_fmt(node.y)}" width="14" height="{_fmt(node.h)}" '
            f'fill="#4a5568"/></g>')


def _legend(used: Iterable[str]) -> str:
    def swatch(colour: str, name: str) -> str:
        return (f'<span style="display:inline-block;width:22px;height:8px;margin:0 4px 0 12px;'
                f'background:{colour}"></span>{escape(name)}')
    basis = "".join(swatch(MECHANISM_COLOURS[m], m) for m in MECHANISM_COLOURS if m in used)
    verdict = "".join(swatch(c, v) for v, c in VERDICT_COLOURS.items())
    return (f'<p class="note" style="width:100%"><span class="lg-b">basis: {basis}</span>'
            f'<span class="lg-v">verdict of the events: {verdict}</span></p>')


def section(report: Mapping[str, Any]) -> str:
    """The flow map section of the HTML page: every cross-border flow, then one map per data
    class (the largest first) with each band labelled by its processor."""
    rows = report["transfers"]
    if not rows:
        return '<p class="note">No cross-border flow in the period.</p>'
    everything = links(rows, lambda row: "")
    by_class: Counter[str] = Counter()
    for row in rows:
        by_class[row["data_class"]] += row["events"]
    classes = sorted(by_class, key=lambda c: (-by_class[c], c))
    small = []
    for data_class in classes[:MAX_SMALL_MAPS]:
        own = links((r for r in rows if r["data_class"] == data_class),
                    lambda row: str(row["processor"]))
        small.append(f"<div>{sankey(own, f'flow map: {data_class}', 560, 28, labelled=True)}"
                     f'<p class="note">{escape(data_class)}: {by_class[data_class]:,} '
                     "events</p></div>")
    more = (f'<p class="note">{len(classes) - MAX_SMALL_MAPS} more data classes in '
            "transfers.csv.</p>" if len(classes) > MAX_SMALL_MAPS else "")
    return "".join([
        '<p class="note">Where personal data crossed a border in the period: origin country '
        "(left, with the regime it left under) to destination country (right); band width is "
        "the number of events. Hover a band for its data classes and processors. Flows that "
        "stay in one country are not drawn.</p>",
        '<div class="fm"><input type="radio" name="fm-colour" id="fm-basis" checked>'
        '<label for="fm-basis">colour by transfer basis</label>'
        '<input type="radio" name="fm-colour" id="fm-verdict">'
        '<label for="fm-verdict">colour by verdict</label><div class="fm-maps">',
        _legend({link.mechanism for link in everything}),
        sankey(everything, "flow map: every cross-border flow", 1100, 40),
        "<h3>By data class and processor</h3>",
        *small,
        "</div></div>",
        more,
    ])
