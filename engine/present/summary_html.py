"""`warrant summarize --format html`: a static, offline page with the workbench dashboard's
charts. Every bar links to the list of cases behind it further down the page (the first
`keep` of them, and how many there are in all); styles are inlined, nothing is fetched."""
from __future__ import annotations

from typing import Any

from engine.present.population_view import headline, sections
from engine.present.templates import environment


class AnchorLinks:
    """Bars lead to anchors of the page; each anchor lists the cases behind one bar."""

    def __init__(self, result: dict[str, Any], words) -> None:
        self.result = result
        self.words = words
        self.targets: list[dict[str, Any]] = []

    def _target(self, title: str, refs: list[str], total: int) -> str:
        anchor = f"cases-{len(self.targets) + 1}"
        self.targets.append({"id": anchor, "title": title, "refs": refs, "total": total})
        return f"#{anchor}"

    def lines(self, dimension: str, key: str, role: str) -> str | None:
        row = next(r for r in self.result[f"by_{dimension}"] if r["key"] == key)
        verdict = self.words.verdict(self.result["verdicts"][role])
        name = f"{key} {row['label']}".strip() if row["label"] != key else key
        return self._target(f"{name}: {verdict}", row["refs"][role], row["counts"][role])

    def criterion(self, state: str, key: str) -> str | None:
        row = next(r for r in self.result[state] if r["key"] == key)
        return self._target(f"{row['label']}: {self.words.state(state)}", row["refs"], row["lines"])

    def missing(self, field: str) -> str | None:
        row = next(r for r in self.result["missing"] if r["key"] == field)
        return self._target(f"{row['label']}: not documented", row["refs"], row["lines"])

    def period(self, key: str, outcome: str) -> str | None:
        row = next(r for r in self.result["over_time"] if r["key"] == key)
        return self._target(f"{key}: {outcome}", row["refs"][outcome], row["counts"][outcome])


def summary_html(result: dict[str, Any], kb, title: str = "Summary of decisions") -> str:
    links = AnchorLinks(result, kb.words)
    drawn = sections(result, kb.words, links)
    return environment().get_template("population.html.j2").render(
        title=title, result=result, sections=drawn, headline=headline(result), targets=links.targets,
        kb={"name": kb.meta.get("name", ""), "version": kb.version, "digest": kb.digest})
