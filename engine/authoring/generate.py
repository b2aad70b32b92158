"""Synthetic case corpora: `warrant generate`.

Cases are assembled from a vocabulary file (the kb's `generator.yaml`) and from the kb itself:
which codes exist and how each is billed (`code_unit`), their labels (`code_label`) and every
threshold (any fact a `kb:` goal reads). This module knows the *shape* of a case (requests,
procedures, levels, sides, spans, named list entries) and the vocabulary's little language
(value specifications, aspects with documentation states, scenarios); it knows no clinical
vocabulary. The vocabulary file documents the language.

Generation is deterministic for a seed: one `random.Random(seed)` drives every choice, in file
order, so `--count 10` gives the first ten cases of `--count 300`. Case fields that a `%@ field`
path reads and the vocabulary never sets are filled from their case-schema type by
`casefill.Filler`, from a random stream of their own (so adding such a field leaves every other
draw, and a vocabulary that sets every field, as it was).
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from engine.authoring.casefill import ordered
from engine.authoring.valuespec import ABSENT as _ABSENT
from engine.authoring.valuespec import PLACEHOLDER as _PLACEHOLDER
from engine.authoring.valuespec import Context as _Context
from engine.authoring.valuespec import ValueSpecs
from engine.authoring.valuespec import problem as _problem
from engine.cases.shape import shape_of
from engine.errors import CaseError, Finding, Location, RuleError

VOCABULARY_FORMAT = "warrant-generator/1"
_NAMED = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[([A-Za-z_][A-Za-z0-9_-]*)\]$")


@dataclass
class GeneratedCase:
    number: int
    case_id: str
    scenario: str
    states: list[str]
    data: dict[str, Any]
    text: str = ""


class Generator(ValueSpecs):
    """Builds cases for one kb from its vocabulary file."""

    def __init__(self, kb, vocabulary: dict[str, Any], seed: int, *, source: Path | None = None,
                 prefix: str = "case-") -> None:
        self.kb = kb
        self.vocab = vocabulary
        self.source = source or Path("generator.yaml")
        self.seed = seed
        self.prefix = prefix
        self.rng = random.Random(seed)
        self.code_units = kb.code_units
        self.code_labels = kb.code_labels
        self.levels = kb.levels
        self._answers: dict[str, list[dict[str, Any]]] = {}
        self._check()
        from engine.authoring.casefill import Filler, unset_paths

        schema = kb.case_schema
        self.filler = Filler(schema, unset_paths(schema, kb.fields, vocabulary), seed,
                             vocabulary.get("unset_fields"))

    # -- vocabulary checks -------------------------------------------------------------------
    @classmethod
    def load(cls, kb, seed: int, path: str | Path | None = None, prefix: str = "case-") -> "Generator":
        from engine.knowledge.yamlio import read_yaml

        path = Path(path) if path else Path(kb.root) / "generator.yaml"
        if not path.is_file():
            raise _problem(path, f"no generator vocabulary at {path}; `warrant generate` reads the kb's "
                                 "generator.yaml (or --vocabulary FILE)")
        data = read_yaml(path)
        if not isinstance(data, dict) or data.get("format") != VOCABULARY_FORMAT:
            raise _problem(path, f"{path.name} must be a mapping with format: {VOCABULARY_FORMAT}")
        return cls(kb, data, seed, source=path, prefix=prefix)

    def _check(self) -> None:
        vocab = self.vocab
        for key in ("segments", "aspects", "scenarios"):
            if not vocab.get(key):
                raise _problem(self.source, f"{self.source.name}: `{key}` is required")
        unknown = {str(c) for c in vocab.get("unknown_codes") or []}
        known_anyway = sorted(c for c in unknown if c in self.code_units)
        if known_anyway:
            raise _problem(self.source, f"{self.source.name}: unknown_codes lists {', '.join(known_anyway)}, "
                                        "which the knowledge base now has a policy for; drop them from the list")
        for scenario in vocab["scenarios"]:
            name = scenario.get("name", "?")
            for aspect in (scenario.get("aspects") or {}):
                if aspect not in vocab["aspects"]:
                    raise _problem(self.source, f"{self.source.name}: scenario {name!r} uses the aspect "
                                                f"{aspect!r}, which `aspects` does not define")
            for code in self._literal_codes(scenario):
                if code not in self.code_units and code not in unknown:
                    raise _problem(self.source, f"{self.source.name}: scenario {name!r} requests code {code}, "
                                                "which the knowledge base has no policy for; add it to the kb "
                                                "or to unknown_codes")

    def _literal_codes(self, scenario: dict[str, Any]) -> Iterator[str]:
        sets = self.vocab.get("code_sets") or {}
        picks = scenario.get("pick") or {}
        for stage in scenario.get("stages") or []:
            for proc in stage.get("procedures") or []:
                spec = proc.get("code")
                options = spec.get("one_of", []) if isinstance(spec, dict) else [spec]
                for option in options:
                    text = str(option)
                    match = _PLACEHOLDER.fullmatch(text)
                    if not match:
                        yield text
                        continue
                    name, _, member = match.group(1).partition(".")
                    pick = picks.get(name)
                    choices = pick.get("one_of", []) if isinstance(pick, dict) else [pick]
                    for choice in choices:
                        if member:
                            value = (sets.get(str(choice)) or {}).get(member)
                            if value is not None:
                                yield str(value)
                        else:
                            yield str(choice)

    # -- writing into the case ---------------------------------------------------------------
    def put(self, data: dict[str, Any], path_text: str, value: Any, ctx: _Context) -> None:
        from engine.authoring.whatif import Edit, apply_edit, parse_path

        steps: list[Any] = []
        for part in path_text.split("."):
            match = _NAMED.match(part)
            if match:
                steps.extend([match.group(1), self._named_entry(data, match.group(1), match.group(2), ctx)])
            else:
                steps.extend(parse_path(part))
        apply_edit(data, Edit("set", path_text, tuple(steps), value), self.levels)

    def _named_entry(self, data: dict[str, Any], list_name: str, entry: str, ctx: _Context) -> int:
        key = (list_name, entry)
        if key not in ctx.named:
            template = ((self.vocab.get("named_entries") or {}).get(list_name) or {}).get(entry)
            if template is None:
                raise _problem(self.source, f"{self.source.name}: {list_name}[{entry}] is used but "
                                            f"named_entries.{list_name}.{entry} is not defined")
            items = data.setdefault(list_name, [])
            items.append(self.value(template, ctx))
            ctx.named[key] = len(items) - 1
        return ctx.named[key]

    def apply_aspect(self, data: dict[str, Any], name: str, weights: dict[str, Any] | None,
                     ctx: _Context) -> list[str]:
        aspect = self.vocab["aspects"][name]
        scope = aspect.get("scope", "case")
        states = aspect["states"]
        places: list[dict[str, str]]
        if scope == "segment":
            places = [{"S": s} for s in ctx.run]
        elif scope == "side":
            places = [{"SIDE": s} for s in ctx.sides]
        else:
            places = [{}]
        names = list(states)
        state_weights = [float((weights or {}).get(s, 0 if weights else states[s].get("weight", 1))) for s in names]
        record = []
        for place in places:
            ctx.local = place
            state = self.rng.choices(names, weights=state_weights)[0]
            alternatives = [a for a in states[state].get("one_of", [{}]) if self.available(a, ctx)]
            if not alternatives:
                alternatives = [{}]
            chosen = self.rng.choice(alternatives)
            for path_text, spec in chosen.items():
                value = self.value(spec, ctx)
                if value is not _ABSENT:
                    self.put(data, self.fill(str(path_text), ctx), value, ctx)
            where = f"@{next(iter(place.values()))}" if place else ""
            record.append(f"{name}{where}={state}")
        ctx.local = {}
        return record

    # -- procedures --------------------------------------------------------------------------
    def _spell(self, segment: str) -> str:
        spellings = self.vocab.get("level_spellings") or {"canonical": 1}
        style = self.rng.choices(list(spellings), weights=list(spellings.values()))[0]
        upper, lower = self.levels.ends(segment)
        if style == "long":
            return f"{upper}-{lower}"
        if style == "slash":
            return f"{upper}/{lower[1:] if lower[0] == upper[0] else lower}"
        return segment

    def _levels(self, segments: list[str], unit: str | None) -> list[str]:
        if unit == "vertebra":
            return [self.levels.ends(s)[0] for s in segments]
        if len(segments) >= 2 and self.rng.random() < float(self.vocab.get("level_ranges", 0)):
            return [f"{self.levels.ends(segments[0])[0]}-{self.levels.ends(segments[-1])[1]}"]
        return [self._spell(s) for s in segments]

    def procedure(self, spec: dict[str, Any], ctx: _Context) -> dict[str, Any] | None:
        rng = self.rng
        if "chance" in spec and rng.random() >= float(spec["chance"]):
            return None
        when = spec.get("when") or {}
        if "run_length" in when:
            low, high = when["run_length"]
            if not low <= len(ctx.run) <= high:
                return None
        if "run_includes" in when and when["run_includes"] not in ctx.run:
            return None
        if not self.available(spec.get("code"), ctx):
            return None
        code = str(self.value(spec["code"], ctx))
        unit = self.code_units.get(code)
        proc: dict[str, Any] = {"code": code}
        selector = spec.get("levels", "none")
        chosen = {"first": ctx.run[:1], "rest": ctx.run[1:], "all": list(ctx.run),
                  "any": [rng.choice(ctx.run)] if ctx.run else [], "none": []}.get(selector)
        if chosen is None:
            raise _problem(self.source, f"{self.source.name}: levels: {selector!r} is not one of "
                                        "first, rest, all, any, none")
        if selector != "none" and not chosen:
            return None  # an add-on for further segments when the run has only one
        missing = float(self.vocab.get("levels_missing", 0))
        if chosen and unit != "stage" and unit != "side":
            if unit is None or rng.random() >= missing:
                proc["levels"] = self._levels(chosen, unit)
        if spec.get("side") == "sides" and ctx.sides:
            if unit != "side" or rng.random() >= missing:
                proc["side"] = self._side_value(ctx.sides)
        span = self.value(spec["span"], ctx) if "span" in spec else None
        if span == "run" and ctx.run:
            proc["span"] = [self.levels.ends(ctx.run[0])[0], self.levels.ends(ctx.run[-1])[1]]
        elif isinstance(span, list):
            proc["span"] = [str(v) for v in span]
        for key, item in spec.items():
            if key in ("code", "levels", "side", "span", "chance", "when"):
                continue
            value = self.value(item, ctx)
            if value is not _ABSENT:
                proc[key] = value
        return proc

    def _side_value(self, sides: list[str]) -> str:
        """The side a procedure on `sides` names: the one side, or the value standing for them all."""
        if len(sides) == 1:
            return sides[0]
        for value, covers in self.kb.case_schema.side_expansion.items():
            if set(covers) == set(sides):
                return value
        raise _problem(self.source, f"{self.source.name}: no side value of the case schema covers "
                                    f"{', '.join(sides)}")

    # -- cases -------------------------------------------------------------------------------
    def case(self, number: int) -> GeneratedCase:
        rng = self.rng
        scenarios = self.vocab["scenarios"]
        scenario = rng.choices(scenarios, weights=[float(s.get("weight", 1)) for s in scenarios])[0]
        ctx = _Context()
        run_spec = scenario.get("run")
        if run_spec:
            low, high = run_spec["length"]
            within = list(run_spec["within"])
            length = rng.randint(int(low), int(min(high, len(within))))
            start = len(within) - length if run_spec.get("at_end") else rng.randint(0, len(within) - length)
            ctx.run = within[start:start + length]
        if scenario.get("sides"):
            ctx.sides = list(self.value(scenario["sides"], ctx))
        for name, spec in (scenario.get("pick") or {}).items():
            ctx.picks[name] = self.value(spec, ctx)
        case_id = f"{self.prefix}{number:04d}"
        data: dict[str, Any] = {"format": "warrant-case/1", "case_id": case_id}
        for path_text, spec in (self.vocab.get("fields") or {}).items():
            value = self.value(spec, ctx)
            if value is not _ABSENT:
                self.put(data, path_text, value, ctx)
        states: list[str] = []
        for aspect, weights in (scenario.get("aspects") or {}).items():
            states += self.apply_aspect(data, aspect, weights, ctx)
        requests = []
        for index, stage in enumerate(scenario.get("stages") or [], start=1):
            request: dict[str, Any] = {"stage": index}
            setting = self.value(stage.get("setting", self.vocab.get("default_setting")), ctx)
            if setting is not None:
                request["setting"] = setting
            if setting == self.vocab.get("stay_setting") and "length_of_stay_days" in stage:
                days = self.value(stage["length_of_stay_days"], ctx)
                if days is not _ABSENT:
                    request["length_of_stay_days"] = days
            for key, spec in stage.items():  # any other request field the vocabulary fills
                if key not in ("setting", "length_of_stay_days", "procedures"):
                    value = self.value(spec, ctx)
                    if value is not _ABSENT and value is not None:
                        request[key] = value
            procedures = []
            for proc in (self.procedure(s, ctx) for s in stage.get("procedures") or []):
                if proc and all(p["code"] != proc["code"] for p in procedures):  # one request per code
                    procedures.append(proc)
            if procedures:
                request["procedures"] = procedures
                requests.append(request)
        for i, request in enumerate(requests, start=1):
            request["stage"] = i
        data["requests"] = requests
        summary_path = self.kb.case_schema.role("summary")
        if summary_path and len(summary_path) == 1:
            data[summary_path[0]] = self.summary(scenario.get("name", "case"), requests)
        for list_name, templates in (self.vocab.get("named_entries") or {}).items():
            if isinstance(data.get(list_name), list):  # named entries in the order the vocabulary lists them
                order = {index: list(templates).index(entry) for (name, entry), index in ctx.named.items()
                         if name == list_name}
                data[list_name] = [item for _, item in sorted(enumerate(data[list_name]),
                                                              key=lambda p: (order.get(p[0], len(order)), p[0]))]
        states += self.filler.fill(data, ctx.run)
        data = ordered(data, shape_of(self.kb.case_schema))
        return GeneratedCase(number, case_id, str(scenario.get("name", "")), states, data)

    def summary(self, scenario: str, requests: list[dict[str, Any]]) -> str:
        parts = []
        for request in requests:
            items = []
            for proc in request["procedures"]:
                label = self.code_labels.get(proc["code"], "a code this knowledge base has no policy for")
                side = proc.get("side")
                where = ("at " + ", ".join(proc["levels"]) if proc.get("levels") else
                         "on both sides" if side == "bilateral" else f"on the {side} side" if side else "")
                items.append(f"{proc['code']} ({label}){' ' + where if where else ''}")
            parts.append(f"stage {request['stage']} ({request.get('setting', 'setting not given')}): "
                         + "; ".join(items))
        return f"Synthetic case, {scenario}. " + ". ".join(parts) + "."

    def generate(self, count: int) -> Iterator[GeneratedCase]:
        from engine.cases import load_case
        from engine.decide.session import CaseSession

        for number in range(1, count + 1):
            made = self.case(number)
            made.text = self.render(made)
            name = f"{made.case_id}.yaml"
            try:
                CaseSession.from_case(self.kb, load_case(name, self.kb, text=made.text), name)
            except CaseError as exc:
                raise RuleError([Finding("generator_vocabulary",
                                         f"{self.source.name} produced an invalid case {made.case_id} "
                                         f"(scenario {made.scenario!r}): {m}", Location(str(self.source)))
                                 for m in exc.messages]) from None
            yield made

    def render(self, made: GeneratedCase) -> str:
        from engine.knowledge.yamlio import dump_yaml

        header = (f"# Synthetic case generated by `warrant generate --seed {self.seed}` (case {made.number}).\n"
                  f"# scenario: {made.scenario}\n"
                  + "".join(f"# {line}\n" for line in _wrap("states: " + ", ".join(made.states), 96)))
        return dump_yaml(made.data, header)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, subsequent_indent="  ") or [text]


def write_cases(cases: Iterator[GeneratedCase], directory: Path) -> list[Path]:
    """Write each case as DIRECTORY/case-NNNN.yaml (all or nothing per file, through the same
    safe writer as every `-o`); OSError when the folder or a file cannot be written."""
    from engine.guard.files import write_atomic

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for made in cases:
        path = directory / f"case-{made.number:04d}.yaml"
        write_atomic(path, made.text)
        written.append(path)
    return written


__all__ = ["Generator", "GeneratedCase", "write_cases"]
