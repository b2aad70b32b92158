"""Bar charts as inline SVG, drawn on the server: the workbench's dashboard and the static
report of `warrant summarize --format html` draw the same charts from the same figures.

Why SVG written here rather than a JavaScript chart library: the charts are part of the HTML
(they show without JavaScript, print, and need nothing from the network), every bar is a
keyboard-focusable link to the cases behind it with an accessible name, the output is
deterministic (same figures, same bytes), and three chart shapes (stacked rate bars, single
bars, stacked columns over time) are a page of code, where a vendored Vega build is a
megabyte of script for the same picture.
"""
from __future__ import annotations

from html import escape
from typing import Any, Callable, Sequence

Segment = tuple[str, str, str]          # key, words, CSS class (colour)
Href = Callable[[str, str], "str | None"]

WIDTH = 1000
LABEL_W = 500        # room for a code and its label, or a criterion's name, at 13 px
BAR_W = 400
ROW_H = 28
BAR_H = 18
TOP = 34
CHAR_W = 7.0         # an average character at 13 px, for placing legend entries
INSIDE_MIN = 34      # a stacked part this wide (px) shows its share inside it


def _a(text: Any) -> str:
    return escape(str(text), quote=True)


def _pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "0%"


def _short(text: str, limit: int = 66) -> str:
    """Short enough for the label column (about 7.3 px a character at 13 px; the whole text
    stays in the bar's title and accessible name)."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _legend(segments: Sequence[Segment]) -> list[str]:
    width = sum(36 + CHAR_W * len(words) for _key, words, _css in segments)
    out, x = [], max(10.0, min(float(LABEL_W), WIDTH - width))
    for _key, words, css in segments:
        out.append(f'<rect class="{css}" x="{x:.1f}" y="8" width="12" height="12"/>'
                   f'<text x="{x + 17:.1f}" y="18" class="legend">{_a(words)}</text>')
        x += 36 + CHAR_W * len(words)
    return out


def _frame(chart_id: str, title: str, height: int, body: list[str]) -> str:
    return (f'<svg class="chart" id="{_a(chart_id)}" role="group" aria-labelledby="{_a(chart_id)}-title" '
            f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
            f'xmlns="http://www.w3.org/2000/svg"><title id="{_a(chart_id)}-title">{_a(title)}</title>'
            + "".join(body) + "</svg>")


def _bar(x: float, y: float, w: float, css: str, name: str, href: str | None, key: str, inside: str = "") -> str:
    """A bar (a link to the cases behind it when there is `href`), with `inside` written on it
    where it is wide enough."""
    rect = (f'<rect class="{css}" x="{x:.1f}" y="{y}" width="{max(w, 0.8):.1f}" height="{BAR_H}">'
            f'<title>{_a(name)}</title></rect>')
    if inside and w >= INSIDE_MIN:
        rect += (f'<text x="{x + w / 2:.1f}" y="{y + 13}" class="inside" text-anchor="middle" '
                 f'aria-hidden="true">{_a(inside)}</text>')
    if not href:
        return rect
    return f'<a href="{_a(href)}" aria-label="{_a(name)}" data-key="{_a(key)}">{rect}</a>'


def stacked(chart_id: str, title: str, rows: Sequence[dict[str, Any]], segments: Sequence[Segment],
            href: Href, unit: str = "lines", with_key: bool = True) -> str:
    """One 100% bar per row, split by segment (`row["counts"][segment]`), each part a link;
    `with_key` puts the row's key before its label (codes: "22633 posterolateral ...")."""
    body = _legend(segments)
    for i, row in enumerate(rows):
        y = TOP + i * ROW_H
        label = f"{row['key']} {row['label']}".strip() if with_key and row.get("label") != row["key"] \
            else (row.get("label") or row["key"])
        body.append(f'<text x="{LABEL_W - 8}" y="{y + 13}" class="label" text-anchor="end">'
                    f'<title>{_a(label)}</title>{_a(_short(label))}</text>')
        x, total = float(LABEL_W), row["total"] or 1
        for key, words, css in segments:
            n = row["counts"].get(key, 0)
            if not n:
                continue
            w = BAR_W * n / total
            name = f"{label}: {words}, {n} of {row['total']} {unit} ({_pct(n, row['total'])})"
            body.append(_bar(x, y, w, css, name, href(row["key"], key), f"{row['key']}|{key}", _pct(n, row["total"])))
            x += w
        body.append(f'<text x="{LABEL_W + BAR_W + 8}" y="{y + 13}" class="value">{row["total"]} '
                    f'{unit if row["total"] != 1 else unit.rstrip("s")}</text>')
    return _frame(chart_id, title, TOP + len(rows) * ROW_H + 6, body)


def single(chart_id: str, title: str, rows: Sequence[dict[str, Any]], href: Callable[[str], "str | None"],
           css: str = "bar", of: str = "lines not approved") -> str:
    """One bar per row, its length the row's `rate` (0..1) and its text `lines` and the rate."""
    body = []
    for i, row in enumerate(rows):
        y = 10 + i * ROW_H
        body.append(f'<text x="{LABEL_W - 8}" y="{y + 13}" class="label" text-anchor="end">'
                    f'<title>{_a(row["label"])}</title>{_a(_short(row["label"]))}</text>')
        name = f"{row['label']}: {row['lines']} {of} ({row['rate'] * 100:.0f}%)"
        body.append(_bar(LABEL_W, y, BAR_W * row["rate"], css, name, href(row["key"]), row["key"]))
        body.append(f'<text x="{LABEL_W + BAR_W * row["rate"] + 8:.1f}" y="{y + 13}" class="value">'
                    f'{row["rate"] * 100:.0f}% ({row["lines"]})</text>')
    return _frame(chart_id, title, 16 + len(rows) * ROW_H, body)


def columns(chart_id: str, title: str, rows: Sequence[dict[str, Any]], segments: Sequence[Segment],
            href: Href, unit: str = "decisions") -> str:
    """One stacked column per period (`row["counts"][segment]`), heights on a common scale."""
    height, base = 230, 200
    body = _legend(segments)
    biggest = max([r["total"] for r in rows] + [1])
    step = min(60.0, (WIDTH - 80) / max(len(rows), 1))
    for i, row in enumerate(rows):
        x = 60 + i * step
        y = float(base)
        for key, words, css in segments:
            n = row["counts"].get(key, 0)
            if not n:
                continue
            h = (base - TOP) * n / biggest
            y -= h
            name = f"{row['label']}: {words}, {n} of {row['total']} {unit}"
            rect = (f'<rect class="{css}" x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{max(h, 0.8):.1f}">'
                    f'<title>{_a(name)}</title></rect>')
            link = href(row["key"], key)
            body.append(f'<a href="{_a(link)}" aria-label="{_a(name)}" data-key="{_a(row["key"])}|{_a(key)}">{rect}</a>'
                        if link else rect)
        body.append(f'<text x="{x + step * 0.35:.1f}" y="{base + 16}" class="tick" text-anchor="middle">'
                    f'{_a(row["label"])}</text>')
        body.append(f'<text x="{x + step * 0.35:.1f}" y="{y - 4:.1f}" class="value" text-anchor="middle">{row["total"]}</text>')
    body.append(f'<line x1="55" y1="{base}" x2="{WIDTH - 10}" y2="{base}" class="axis"/>')
    return _frame(chart_id, title, height, body)
