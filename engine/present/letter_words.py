"""The letter's words: report.yaml texts filled in, how lines, lists and levels read, and the
citation numbers. Every text comes from the kb; a placeholder the kb writes that the letter
does not fill is an error, not a blank."""
from __future__ import annotations

import re
from typing import Any, Iterable

from engine.decide.determination import Determination
from engine.errors import Finding, Location, RuleError
from engine.present.groups import Member
from engine.present.reportwords import report_words

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class Refs:
    """Citation numbers in order of first use, and the reference list they point to."""

    def __init__(self, kb) -> None:
        self.kb = kb
        self.numbers: dict[str, int] = {}

    def __call__(self, cites: Iterable[str]) -> list[int]:
        out = set()
        for cite in cites:
            out.add(self.numbers.setdefault(cite, len(self.numbers) + 1))
        return sorted(out)

    def references(self) -> list[dict[str, Any]]:
        return [{"number": n, "id": c, "title": self.kb.citations.get(c, {}).get("title", c),
                 "short": self.kb.citations.get(c, {}).get("short") or self.kb.citations.get(c, {}).get("title", c),
                 "source": self.kb.citations.get(c, {}).get("source", "")}
                for c, n in sorted(self.numbers.items(), key=lambda kv: kv[1])]


class Phrases:
    """report.yaml texts filled in, and the ways the letter names lines, lists and criteria."""

    def __init__(self, kb, text: dict[str, Any]) -> None:
        self.kb = kb
        self.words = kb.words
        self.text = text
        self.source = str(kb.root / "report.yaml")

    def get(self, *path: str) -> str:
        """A text of report.yaml with its white space folded (as YAML folds a paragraph)."""
        return " ".join(self.raw(*path).split())

    def folded(self, *path: str) -> str:
        """Like `get`, keeping a leading or trailing space (`" at {levels}"`)."""
        return re.sub(r"\s+", " ", self.raw(*path))

    def raw(self, *path: str) -> str:
        node: Any = self.text
        for step in path:
            node = node.get(step) if isinstance(node, dict) else None
        if not isinstance(node, str):
            raise RuleError([Finding("kb_report", f"report.yaml has no text {'.'.join(path)}", Location(self.source))])
        return node

    def fill(self, *path: str, **values: Any) -> str:
        template = self.folded(*path)

        def one(match: re.Match) -> str:
            name = match.group(1)
            if name not in values:
                raise RuleError([Finding("kb_report", f"report.yaml {'.'.join(path)}: unknown placeholder "
                                         f"{{{name}}} (known: {', '.join(sorted(values))})", Location(self.source))])
            return str(values[name])
        return self.words.articles(_PLACEHOLDER.sub(one, template))

    def join(self, items: Iterable[str]) -> str:
        items = [i for i in items if i]
        if len(items) < 2:
            return "".join(items)
        return self.raw("join", "comma").join(items[:-1]) + self.raw("join", "last") + items[-1]

    def lines(self, members: Iterable[Member]) -> str:
        """Members merged by code: `22853 at L2-3 and L3-4`, `63052 and 63053`."""
        by_code: dict[str, list[Member]] = {}
        for m in members:
            by_code.setdefault(m.code, []).append(m)
        out = []
        for code, ms in by_code.items():
            levels = [m.level for m in ms if m.level]
            sides = [self.words.term(m.side) for m in ms if m.side and not m.level]
            out.append(self.words.line(code, self.join(levels) or None, self.join(sides) or None))
        return self.join(out)

    def codes(self, members: Iterable[Member]) -> str:
        """The distinct codes of the members, without levels: `22633 and 22634`."""
        return self.join(unique(m.code for m in members))

    def family(self, family: str) -> str:
        return self.words.family(family)

    def topic(self, criterion: str) -> str:
        """A criterion's name without its place (words.yaml `topic`), for texts that add levels."""
        entry = self.words.data["criteria"].get(criterion)
        topic = entry.get("topic") if isinstance(entry, dict) else None
        return str(topic) if topic else self.words.criterion(criterion)

    def at(self, levels: list[str]) -> str:
        return self.fill("at_levels", levels=self.join(levels)) if levels else ""



def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text




def loci_of(kb) -> list[str]:
    """The request's own loci (`unit_locus/2`: levels, side), which documentation can name."""
    out: list[str] = []
    for clause in kb.program.clauses:
        if clause.is_fact and clause.head.key == ("unit_locus", 2):
            value = str(clause.head.args[1].value)
            if value not in out:
                out.append(value)
    return out




def number_form(members: list[Any]) -> str:
    """`one` or `many`: the form of a report.yaml text whose verb agrees with its subject."""
    return "one" if len(members) == 1 else "many"


def levels_of(members: Iterable[Member]) -> list[str]:
    return unique(m.level for m in members if m.level)


def levels_needing(members: Iterable[Member], criterion: str, by_key: dict[str, Determination]) -> list[str]:
    """The levels of the members whose own missing fields for the criterion name them."""
    levels: list[str] = []
    for m in members:
        fields = [i["field"] for i in by_key[m.key].missing if i.get("criterion") == criterion and not i.get("via")]
        if m.level and any(m.level in f for f in fields) and m.level not in levels:
            levels.append(m.level)
    return levels


def merge_levels(texts: list[tuple[str, str | None]], say: Phrases) -> list[str]:
    """Findings that differ only by their level read as one: `... at L2-3 and L3-4`."""
    shapes: dict[str, list[str]] = {}
    for text, level in texts:
        if level and level in text:
            shapes.setdefault(text.replace(level, "\x00"), []).append(level)
        else:
            shapes.setdefault(text, [])
    return [shape.replace("\x00", say.join(levels)) if levels else shape for shape, levels in shapes.items()]


def merge_same(bullets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for b in bullets:
        if all(o["text"] != b["text"] for o in out):
            out.append(b)
    return out


def capped(bullets: list[dict[str, Any]], say: Phrases, most: int = 5) -> list[dict[str, Any]]:
    bullets = merge_same(bullets)
    if len(bullets) <= most:
        return bullets
    kept = bullets[:most - 1]
    rest = len(bullets) - len(kept)
    return kept + [{"text": sentence(say.fill("bullets", "more", count=rest)), "refs": [], "cites": [],
                    "criterion": None}]


def unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out



def group_title(say: Phrases, group: Any, short: bool = False) -> str:
    """`Lumbar fusion (22633 at L4-5 and 22634 at L5-S1) with instrumentation (22843)`; the
    short form names the codes without their levels."""
    name = say.codes if short else say.lines
    title = say.fill("group_title", family=sentence(say.family(group.family)), codes=name(group.heads))
    for family, members in group.addons:
        title = say.fill("group_addon", title=title, family=say.family(family), codes=name(members))
    return title


def report_phrases(kb) -> Phrases:
    """The kb's report wording, read once per loaded kb."""
    found = kb.__dict__.get("_report_phrases")
    if found is None:
        found = Phrases(kb, report_words(kb))
        kb.__dict__["_report_phrases"] = found
    return found
