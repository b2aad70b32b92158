"""The charts of a population (engine.authoring.population's figures) as page sections: a title, the
SVG, and the same numbers as a table. The dashboard and the static summary report both use it;
they differ only in where a bar leads (`Links`): the workbench's filtered list of decisions, or
the list of cases further down the static report."""
from __future__ import annotations

from typing import Any, Protocol

from engine.present import charts

OUTCOME_WORDS = {"approved": "approved", "partial": "partly approved", "pended": "pended",
                 "denied": "denied"}


class Links(Protocol):
    def lines(self, dimension: str, key: str, role: str) -> str | None: ...
    def criterion(self, state: str, key: str) -> str | None: ...
    def missing(self, field: str) -> str | None: ...
    def period(self, key: str, outcome: str) -> str | None: ...


def role_segments(result: dict[str, Any], words) -> list[charts.Segment]:
    return [(role, words.verdict(result["verdicts"][role]), role) for role in result["roles"]]


def outcome_segments() -> list[charts.Segment]:
    return [(o, words, o) for o, words in OUTCOME_WORDS.items()]


def sections(result: dict[str, Any], words, links: Links) -> list[dict[str, Any]]:
    """Every chart of the population, in reading order."""
    roles = role_segments(result, words)
    out = []
    for dim, title in (("code", "Verdicts by code"), ("family", "Verdicts by family of procedures"),
                       ("policy", "Verdicts by policy")):
        rows = result[f"by_{dim}"]
        if not rows:
            continue
        svg = charts.stacked(f"chart-{dim}", title, rows, roles,
                             lambda key, role, dim=dim: links.lines(dim, key, role), with_key=dim == "code")
        out.append({"id": f"chart-{dim}", "title": title, "svg": svg, "kind": "rates", "rows": rows,
                    "segments": roles})
    blocked = result["blocked_lines"]
    for state, title, css in (("unmet", "Criteria the record contradicts", "bar"),
                              ("undocumented", "Criteria the record leaves undocumented", "bar-undoc")):
        rows = result[state]
        if rows:
            svg = charts.single(f"chart-{state}", f"{title} (share of the {blocked} lines not approved)", rows,
                                lambda key, state=state: links.criterion(state, key), css)
            out.append({"id": f"chart-{state}", "title": title, "svg": svg, "kind": "criteria", "rows": rows})
    if result["missing"]:
        title = "Documentation most often missing"
        svg = charts.single("chart-missing", f"{title} (share of the {blocked} lines not approved)",
                            result["missing"], links.missing, "bar-undoc")
        out.append({"id": "chart-missing", "title": title, "svg": svg, "kind": "missing", "rows": result["missing"]})
    if result["over_time"]:
        title = "Decisions over time"
        svg = charts.columns("chart-time", title, result["over_time"], outcome_segments(), links.period)
        out.append({"id": "chart-time", "title": title, "svg": svg, "kind": "time", "rows": result["over_time"],
                    "segments": outcome_segments()})
    return out


def headline(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The figures above the charts: decisions, lines, and the share of each outcome."""
    n = result["decisions"] or 1
    out = [("decisions", str(result["decisions"])), ("lines decided", str(result["lines"]))]
    out += [(OUTCOME_WORDS[o], f"{result['outcomes'][o]} ({100 * result['outcomes'][o] / n:.0f}%)")
            for o in OUTCOME_WORDS]
    out.append(("add-on lines held to their fusion (counted apart)", str(result["addon_lines"])))
    return out
