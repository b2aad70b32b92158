"""Clinical words for the kb's identifiers (`kb/words.yaml`, described in docs/wording.md).

Everything a person reads goes through here: verdicts, bases, families, criteria (with the
policy's own thresholds read from the kb's facts, so a threshold change changes the words),
case fields, enumeration values, units, places (segments, sides, studies by name), lines, and
"a" / "an". JSON keeps the identifiers; text, Markdown and HTML use these words.
"""
from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from engine.errors import Finding, Location, RuleError
from engine.guard.record import record

WORDS_FILE = "words.yaml"
FORMAT = "warrant-words/1"
SECTIONS = ("verdicts", "bases", "states", "families", "criteria", "fields", "places", "entries", "lines",
            "units", "comparisons", "terms", "articles")

_KB_REF = re.compile(r"\{(#?)([a-z_][A-Za-z0-9_]*)(?:\(([^)]*)\))?\}")
_FIELD = re.compile(r"\{(=?[a-z_]+)\}")
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")
_ARTICLE = re.compile(r"\b([Aa])(n?) (?=([\w“\"'][\w-]*))")
_STEP = re.compile(r"([^.\[\]]+)|\[(\d*|\+)\]")

Step = Any  # str (a key), int (a list position), "[]" (some entry) or "*" (any key)


@record(frozen=True)
class FieldWords:
    """How one case field reads: its noun, the unit of its numbers, its flag values."""

    noun: str
    unit: str | None = None
    true: str | None = None
    false: str | None = None


def path_steps(path: str) -> tuple[Step, ...]:
    """`imaging[0].segments.L4-5.x` → ('imaging', 0, 'segments', 'L4-5', 'x'); `[]` stays '[]'."""
    out: list[Step] = []
    for part in path.split("."):
        for key, index in _STEP.findall(part):
            if key:
                out.append(key)
            elif index in ("", "+"):
                out.append("[]")
            else:
                out.append(int(index))
    return tuple(out)


def _pattern_steps(pattern: str) -> tuple[Step, ...]:
    return path_steps(pattern)


def _matches(pattern: Sequence[Step], steps: Sequence[Step]) -> int | None:
    """How specifically `pattern` (a words key) matches `steps`: literal steps count, or None."""
    if len(pattern) != len(steps):
        return None
    score = 0
    for want, got in zip(pattern, steps):
        if want == "[]":
            if not (isinstance(got, int) or got == "[]"):
                return None
        elif want == "*":
            if isinstance(got, int) or got == "[]":
                return None
        elif want == got:
            score += 1
        else:
            return None
    return score


def humanise(value: Any) -> str:
    """The fallback reading of an identifier no words are given for."""
    return str(value).replace("_", " ")


def number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Words:
    """The words of one knowledge base. `Words.load(kb_root, clauses)`; `Words.empty()` when a kb
    has no words.yaml (every identifier then reads humanised)."""

    def __init__(self, data: Mapping[str, Any], facts: Mapping[tuple[str, int], list[tuple]] | None = None,
                 source: str = WORDS_FILE) -> None:
        self.data = {name: data.get(name) or {} for name in SECTIONS}
        self.facts = facts or {}
        self.source = source

    @classmethod
    def load(cls, root: str | Path, facts: Mapping[tuple[str, int], list[tuple]] | None = None,
             overlays: Sequence[Path] = ()) -> "Words":
        """words.yaml; a policy's overlay words.yaml files replace the entries they name."""
        from engine.knowledge.yamlio import read_yaml

        path = Path(root) / WORDS_FILE
        if not path.is_file():
            return cls({}, facts, str(path))
        data = read_yaml(path) or {}
        for extra in [path, *overlays]:
            more = data if extra == path else read_yaml(extra) or {}
            if not isinstance(more, dict) or more.get("format") != FORMAT:
                raise RuleError([Finding("kb_words", f"{WORDS_FILE} must be a mapping with format: {FORMAT}",
                                         Location(str(extra)))])
            if more is not data:
                for section, entries in more.items():
                    if isinstance(entries, dict) and isinstance(data.get(section), dict):
                        data[section] = {**data[section], **entries}
        return cls(data, facts, str(path))

    @classmethod
    def empty(cls) -> "Words":
        return cls({})

    # -- identifiers -------------------------------------------------------------------------
    def verdict(self, verdict: Any) -> str:
        return str(self.data["verdicts"].get(verdict) or humanise(verdict))

    def basis(self, basis: Any) -> str:
        entry = self.data["bases"].get(basis)
        return str(entry.get("name") if isinstance(entry, dict) else entry or humanise(basis))

    def basis_means(self, basis: Any) -> str:
        entry = self.data["bases"].get(basis)
        return str(entry.get("means") if isinstance(entry, dict) else self.basis(basis))

    def state(self, state: str) -> str:
        return str(self.data["states"].get(state) or humanise(state))

    def family(self, family: Any) -> str:
        return str(self.data["families"].get(family) or humanise(family))

    def criterion(self, criterion: Any) -> str:
        entry = self.data["criteria"].get(criterion)
        return str(entry.get("name")) if isinstance(entry, dict) and entry.get("name") else humanise(criterion)

    def requirement(self, criterion: Any) -> str:
        """What the policy asks for the criterion, with its thresholds read from the kb."""
        entry = self.data["criteria"].get(criterion)
        text = entry.get("requirement") if isinstance(entry, dict) else None
        return self.kb_text(" ".join(str(text).split())) if text else ""

    def term(self, value: Any) -> str:
        """Any identifier a sentence may show: a verdict, criterion, family, term, or a number."""
        memo = self.__dict__.setdefault("_terms", {})
        try:
            return memo[(type(value), value)]
        except (KeyError, TypeError):
            pass
        text = self._term(value)
        try:
            memo[(type(value), value)] = text
        except TypeError:
            pass
        return text

    def _term(self, value: Any) -> str:
        if isinstance(value, bool):
            value = "true" if value else "false"
        if isinstance(value, (int, float)):
            return number_text(value)
        for section, reader in (("verdicts", self.verdict), ("criteria", self.criterion),
                                ("families", self.family), ("bases", self.basis)):
            if value in self.data[section]:
                return reader(value)
        found = self.data["terms"].get(value)
        return str(found) if found is not None else humanise(value)

    def has_term(self, value: Any) -> bool:
        return any(value in self.data[s] for s in ("verdicts", "criteria", "families", "bases", "terms"))

    # -- kb references in texts -----------------------------------------------------------------
    def kb_text(self, text: str) -> str:
        """Fill `{pred(args)}` (the last argument of the matching fact) and `{#pred}` (a count)."""
        def one(match: re.Match) -> str:
            count, pred, args = match.group(1), match.group(2), match.group(3)
            given = [a.strip().strip("'\"") for a in args.split(",")] if args and args.strip() else []
            rows = [row for (name, _arity), rows in self.facts.items() if name == pred for row in rows]
            if count:
                return str(len(rows))
            hits = [row for row in rows if len(row) == len(given) + 1
                    and all(str(v) == g for v, g in zip(row, given))]
            if len(hits) != 1:
                raise RuleError([Finding("kb_words", f"{self.source}: {match.group(0)} names "
                                         f"{len(hits)} facts of {pred}/{len(given) + 1}; it must name exactly one",
                                         Location(self.source))])
            return self.term(hits[0][-1])

        return _KB_REF.sub(one, text)

    # -- case fields ----------------------------------------------------------------------------
    @cached_property
    def _patterns(self) -> dict[str, list[tuple[tuple, Any]]]:
        return {section: [(_pattern_steps(str(p)), entry) for p, entry in self.data[section].items()]
                for section in ("fields", "places", "entries")}

    @cached_property
    def _patterns_by_length(self) -> dict[str, dict[int, list[tuple[tuple, Any]]]]:
        """The patterns of each section grouped by their number of steps, in file order (a
        pattern matches only paths of its own length)."""
        out: dict[str, dict[int, list[tuple[tuple, Any]]]] = {}
        for section, patterns in self._patterns.items():
            groups = out[section] = {}
            for pattern, entry in patterns:
                groups.setdefault(len(pattern), []).append((pattern, entry))
        return out

    def _lookup(self, section: str, steps: Sequence[Step]) -> Any:
        memo = self.__dict__.setdefault("_lookups", {})
        key = (section, tuple(steps))
        if key in memo:
            return memo[key]
        best, best_score = None, -1
        for pattern, entry in self._patterns_by_length[section].get(len(key[1]), ()):
            score = _matches(pattern, steps)
            if score is not None and score > best_score:
                best, best_score = entry, score
        memo[key] = best
        return best

    def field(self, path: str | Sequence[Step]) -> FieldWords:
        """The words of a case field, given as a path (`imaging[0].segments.L4-5.translation_mm`)."""
        steps = path_steps(path) if isinstance(path, str) else tuple(path)
        entry = self._lookup("fields", steps)
        if isinstance(entry, dict):
            return FieldWords(str(entry.get("noun") or humanise(steps[-1])), entry.get("unit"),
                              _opt(_flag(entry, True)), _opt(_flag(entry, False)))
        last = next((s for s in reversed(steps) if isinstance(s, str) and s not in ("[]", "*")), "field")
        return FieldWords(humanise(last))

    def has_field(self, steps: Sequence[Step]) -> bool:
        return self._lookup("fields", steps) is not None

    def is_place(self, steps: Sequence[Step]) -> bool:
        """Whether words.yaml names this container a place (a segment, a side, a study)."""
        return any(_matches(pattern, steps) is not None and pattern[-1] in ("*", "[]")
                   for pattern, _entry in self._patterns["places"])

    def value(self, field: FieldWords, value: Any) -> str:
        """A documented value of a field, in words: `6 weeks`, `present`, `moderate`."""
        if value is True or value == "true":
            return field.true or self.term("true")
        if value is False or value == "false":
            return field.false or self.term("false")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.quantity(value, field.unit)
        if isinstance(value, (list, tuple)):
            return ", ".join(self.term(v) for v in value) if value else self.term("none")
        return self.term(value)

    def quantity(self, value: Any, unit: str | None) -> str:
        text = number_text(value)
        spec = self.data["units"].get(unit) if unit else None
        if not isinstance(spec, dict):
            return f"{text} {unit}" if unit else text
        if spec.get("suffix") is not None:
            return f"{text}{spec['suffix']}"
        form = spec.get("one") if value == 1 else spec.get("many")
        return f"{text} {form or unit}"

    def comparison(self, op: str, value_text: str, ordinal: bool = False) -> str:
        table = self.data["comparisons"]
        ordinal_table = table.get("ordinal") if isinstance(table.get("ordinal"), dict) else {}
        template = (ordinal_table.get(op) if ordinal else None) or table.get(op) or f"{op} {{value}}"
        return str(template).replace("{value}", value_text)

    # -- places and entries ---------------------------------------------------------------------
    def place(self, steps: Sequence[Step], document: Mapping[str, Any] | None) -> str:
        """Where a field sits (`at L4-5 on the MRI “lumbar”`), innermost first."""
        parts = []
        for n in range(len(steps) - 1, 0, -1):
            prefix = steps[:n]
            template = self._lookup("places", prefix)
            if not template:
                continue
            last = prefix[-1]
            if isinstance(last, int) or last == "[]":
                if last == "[]":
                    continue  # some entry or other: nothing to name
                text = str(template).replace("{entry}", self.entry(prefix, document))
            elif last == "*":
                continue
            else:
                text = str(template).replace("{key}", self.term(last))
            parts.append(text)
        return " ".join(parts)

    def entry(self, prefix: Sequence[Step], document: Mapping[str, Any] | None) -> str:
        """The name of the list entry `prefix` ends at (`imaging[0]` → `the MRI “lumbar”`)."""
        spec = self._lookup("entries", prefix) or {}
        index = prefix[-1]
        items = _follow(document, prefix[:-1]) if document is not None else None
        number = str(index + 1) if isinstance(index, int) else "?"
        if not isinstance(items, list) or not isinstance(index, int) or index >= len(items):
            return str(spec.get("new") or f"a new {humanise(prefix[-2])} entry")
        item = items[index] if isinstance(items[index], dict) else {}
        name = _entry_template(str(spec.get("name") or "entry {number}"), item, number, self.term)
        if name is None:
            name = _entry_template(str(spec.get("unnamed") or "entry {number}"), item, number, self.term)
        return name or f"entry {number}"

    def field_phrase(self, path: str | Sequence[Step], document: Mapping[str, Any] | None = None) -> str:
        """A field with its place: `translation on flexion-extension films at L4-5 on the MRI`."""
        steps = path_steps(path) if isinstance(path, str) else tuple(path)
        noun = self.field(steps).noun
        where = self.place(steps, document)
        return f"{noun} {where}".strip()

    # -- lines ------------------------------------------------------------------------------------
    def line(self, code: str, level: str | None = None, side: str | None = None, stage: Any = None,
             with_stage: bool = False) -> str:
        """How a requested line reads: words.yaml `lines` templates with {code}, {where} (its level,
        or its side in words) and, for the stage form, {line} and {stage}."""
        lines = self.data["lines"]
        where = level or (self.term(side) if side else "")
        kind = "level" if level else "side" if side else "none"
        template = lines.get(kind)
        text = str(template) if template else " ".join(x for x in (str(code), where) if x)
        text = text.replace("{code}", str(code)).replace("{where}", where)
        if with_stage:
            template = lines.get("stage")
            text = str(template).replace("{line}", text).replace("{stage}", str(stage)) if template \
                else f"{text} ({stage})"
        return text

    # -- articles --------------------------------------------------------------------------------
    @cached_property
    def _article_exceptions(self) -> tuple[set[str], set[str]]:
        table = self.data["articles"]
        return ({str(w).lower() for w in table.get("an") or ()}, {str(w).lower() for w in table.get("a") or ()})

    def articles(self, text: str) -> str:
        """Make every "a"/"an" agree with the word after it (`a osteotomy` → `an osteotomy`).
        Memoised per text: the same sentences come back case after case."""
        memo = self.__dict__.setdefault("_articled", {})
        known = memo.get(text)
        if known is None:
            known = self._articles(text)
            if len(memo) < 20_000:
                memo[text] = known
        return known

    def _articles(self, text: str) -> str:
        force_an, force_a = self._article_exceptions

        def one(match: re.Match) -> str:
            a, word = match.group(1), match.group(3).lstrip("“\"'")
            lower = word.lower()
            if lower in force_an:
                an = True
            elif lower in force_a:
                an = False
            elif len(word) > 1 and word.isupper():
                an = word[0] in "AEFHILMNORSX"
            else:
                an = lower[:1] in ("a", "e", "i", "o", "u")
            return f"{a}{'n' if an else ''} "

        return _ARTICLE.sub(one, text)


def _flag(entry: Mapping[Any, Any], value: bool) -> Any:
    """A flag's words: YAML reads the keys `true` / `false` as booleans, quoted ones as text."""
    found = entry.get(value)
    return found if found is not None else entry.get("true" if value else "false")


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def _follow(document: Any, steps: Sequence[Step]) -> Any:
    node = document
    for step in steps:
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return None
            node = node[step]
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return None
    return node


def _entry_template(template: str, item: Mapping[str, Any], number: str, term) -> str | None:
    """Fill an entry template; an optional [part] whose field is missing is dropped, a required
    field that is missing makes the whole template unusable (None)."""
    def value(name: str) -> str | None:
        if name == "number":
            return number
        if name.startswith("="):
            raw = item.get(name[1:])
            return None if raw is None else str(raw)
        raw = item.get(name)
        if isinstance(raw, list):
            return ", ".join(term(v) for v in raw) if raw else None
        return None if raw is None else (term(raw) if isinstance(raw, str) else str(raw))

    def optional(match: re.Match) -> str:
        part = match.group(1)
        names = _FIELD.findall(part)
        if any(value(n) is None for n in names):
            return ""
        return _FIELD.sub(lambda m: value(m.group(1)) or "", part)

    text = _OPTIONAL.sub(optional, template)
    if any(value(n) is None for n in _FIELD.findall(text)):
        return None
    return _FIELD.sub(lambda m: value(m.group(1)) or "", text)


def static_facts(clauses: Iterable[Any]) -> dict[tuple[str, int], list[tuple]]:
    """The kb's fact rows by predicate (what `{pred(args)}` references read)."""
    from engine.language.tables import tables

    return {key: list(rows) for key, rows in tables(clauses).rows.items()}
