"""Rules against the case schema: `%@ field` paths that the schema does not have, and constants a
field can never hold (`care(outcome, faild)`, `seg_finding(_, S, grade, moderat)`,
`care(outcome, O), O \\= faild`). Each finding is `file:line:col` of the path or the literal.

A path under `lines.{Line}` walks the line entries of the normalised case document (the kb
contract, docs/kb-contract.md): their keys are fixed, plus every non-contract procedure field.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Sequence

from engine.errors import Finding
from engine.knowledge.caseschema import PROCEDURE_PATH, CaseSchema, Type, path_text
from engine.language import ast
from engine.language.fieldpath import Each, FieldPath, FieldPathError, Key, Keys, parse_field

LINES = "lines"

# Where a walk is: the type reached and the readable path that led there.
_At = tuple[Type, str]


def check_case_fields(modules: Sequence[ast.Module], schema: CaseSchema) -> list[Finding]:
    """Every `%@ field` path outside the schema, and every constant no such field can hold."""
    checker = _Checker(schema)
    findings: list[Finding] = []
    paths: dict[tuple[str, int], list[tuple[ast.PredDecl, FieldPath]]] = {}
    for module in modules:
        for decl in module.decls:
            locs = decl.field_locs or (decl.loc,) * len(decl.fields)
            for text, loc in zip(decl.fields, locs):
                try:
                    path = parse_field(text)
                except FieldPathError:
                    continue  # the annotation check reports it
                problem = checker.problem(path)
                if problem:
                    findings.append(Finding("unknown_field", f"field {text!r} of {decl.name}: {problem}", loc))
                else:
                    paths.setdefault(decl.key, []).append((decl, path))
    for module in modules:
        for clause in module.clauses:
            findings += checker.clause(clause, paths)
    return findings


class _Checker:
    def __init__(self, schema: CaseSchema) -> None:
        self.schema = schema
        self._ends: dict[tuple, tuple[list[_At], str | None]] = {}
        procedure = schema.at(PROCEDURE_PATH)
        side = schema.at(PROCEDURE_PATH + ("side",))
        entry = [("stage", Type("integer")), ("request", Type("integer")),
                 ("procedure", Type("integer")), ("code", Type("code")),
                 ("level", Type("level", level_kind="level")), ("side", side or Type("text")),
                 ("span_vertebrae", Type("integer"))]
        entry += [(f.name, f.type) for f in (procedure.fields if procedure else ()) if not f.contract]
        from engine.knowledge.caseschema import Field

        self.line_entry = Type("object", name="line entry", fields=tuple(Field(n, t) for n, t in entry))
        self.lines = Type("map", keys=Type("text"), entries=self.line_entry)

    # -- paths ------------------------------------------------------------------------------
    def _start(self, path: FieldPath) -> tuple[list[_At], int]:
        if path.steps and path.steps[0] == Key(LINES):
            return [(self.lines, LINES)], 1
        return [(self.schema.root, "")], 0

    def problem(self, path: FieldPath) -> str | None:
        """Why the path leaves the schema (None when it stays inside)."""
        nodes, first = self._start(path)
        for step in path.steps[first:]:
            following, why = _step(nodes, step, None)
            if not following:
                return why
            nodes = following
        return None

    def ends(self, path: FieldPath, constants: dict[str, ast.Value]) -> tuple[list[_At], str | None]:
        """The types a path reaches when the variables in `constants` are fixed, or why none."""
        key = (path.text, tuple(sorted((k, repr(v)) for k, v in constants.items() if k in path.variables)))
        if key not in self._ends:
            self._ends[key] = self._walk_fixed(path, constants)
        return self._ends[key]

    def _walk_fixed(self, path: FieldPath, constants: dict[str, ast.Value]) -> tuple[list[_At], str | None]:
        nodes, first = self._start(path)
        for step in path.steps[first:]:
            var = step.var if isinstance(step, Keys) else None
            following, why = _step(nodes, step, constants.get(var) if var else None, self.schema)
            if not following:
                return [], why
            nodes = following
        return nodes, None

    # -- clauses ----------------------------------------------------------------------------
    def clause(self, clause: ast.Clause, paths) -> Iterator[Finding]:
        bound: dict[str, list[_At]] = {}
        for literal in clause.body:
            for atom in _atoms(literal):
                if atom.key in paths:
                    yield from self._atom(atom, paths[atom.key], bound)
            if isinstance(literal, ast.Comparison) and literal.op in ("=", "\\="):
                yield from self._comparison(literal, bound)

    def _atom(self, atom: ast.Atom, decl_paths, bound: dict[str, list[_At]]) -> Iterator[Finding]:
        problems: list[str] = []
        reached: dict[str, list[_At]] = {}
        fits_any = False
        for decl, path in decl_paths:
            given = {p: a.value for p, a in zip(decl.params, atom.args) if isinstance(a, ast.Const)}
            nodes, why = self.ends(path, given)
            if why:
                problems.append(why)
                continue
            value_arg = dict(zip(decl.params, atom.args)).get(path.value_var) if path.value_var else None
            if isinstance(value_arg, ast.Const):
                misfits = [(where, _misfit(value_arg.value, t, self.schema)) for t, where in nodes]
                if all(why for _, why in misfits):
                    problems.append(f"{misfits[0][0]} is {misfits[0][1]}")
                    continue
            elif isinstance(value_arg, ast.Var):
                reached.setdefault(value_arg.name, []).extend(nodes)
            fits_any = True
        if not fits_any and problems:
            yield Finding("unknown_value", f"{atom}: {problems[0]}", atom.loc)
        for name, nodes in reached.items():
            bound.setdefault(name, []).extend(nodes)

    def _comparison(self, literal: ast.Comparison, bound: dict[str, list[_At]]) -> Iterator[Finding]:
        for var, const in ((literal.left, literal.right), (literal.right, literal.left)):
            if isinstance(var, ast.Var) and isinstance(const, ast.Const) and var.name in bound:
                misfits = [(where, _misfit(const.value, t, self.schema)) for t, where in bound[var.name]]
                if misfits and all(why for _, why in misfits):
                    where, why = misfits[0]
                    yield Finding("unknown_value", f"{literal}: {var} is {where}, which is {why}",
                                  literal.loc)


def _atoms(literal: ast.Literal) -> Iterable[ast.Atom]:
    return [atom for atom, _ in ast.body_atoms(literal)]


def _step(nodes: list[_At], step, constant, schema: CaseSchema | None = None) -> tuple[list[_At], str]:
    """The nodes one path step leads to from `nodes` (a `{Var}`/`[Var]` step may be fixed to a
    constant), with the reason when it leads nowhere."""
    out: list[_At] = []
    why = ""
    for node, where in nodes:
        if isinstance(step, Keys) and node.kind == "map":
            if constant is not None and schema is not None and node.keys is not None:
                problem = _misfit(constant, node.keys, schema)
                if problem:
                    why = f"a key of {where} is {problem}"
                    continue
            out.append((node.entries, f"{where}.{{{step.var}}}"))
        elif isinstance(step, Keys) and node.kind == "object":
            fields = [f for f in node.fields if constant is None or f.name == constant]
            if not fields:
                why = f"{where or 'a case'} has no field {constant}{_suggest(str(constant), node)}"
            out += [(f.type, _join(where, f.name)) for f in fields]
        elif isinstance(step, (Key, Each)) and node.kind == "object":
            found = node.field(step.name)
            if found is None:
                why = f"{where or 'a case'} has no field {step.name}{_suggest(step.name, node)}"
            elif isinstance(step, Each) and found.type.kind != "list":
                why = f"{_join(where, step.name)} is a {found.type.kind}, not a list ([] steps into lists)"
            elif isinstance(step, Each):
                out.append((found.type.items, _join(where, step.name) + "[]"))
            else:
                out.append((found.type, _join(where, step.name)))
        else:
            shown = f"{{{step.var}}}" if isinstance(step, Keys) else step.name
            why = f"{where or 'a case'} is a {node.kind}; it has no step {shown}"
    return out, why


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _suggest(name: str, node: Type) -> str:
    import difflib

    close = difflib.get_close_matches(name, [f.name for f in node.fields], n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


def _misfit(value: ast.Value, node: Type, schema: CaseSchema) -> str | None:
    """What a field of type `node` holds, worded to follow "is", when it can never hold the
    constant `value` (None when it can)."""
    if node.kind == "list" and node.items is not None:
        node = node.items
    shown = ast.format_value(value)
    if node.kind == "enum" and value not in node.values:
        return f"one of {', '.join(node.values)}, not {shown}{_close(str(value), node.values)}"
    if node.kind == "flag" and value not in ("true", "false"):
        return f"true or false, not {shown}"
    if node.kind in ("number", "integer") and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return f"a number, not {shown}"
    if node.kind == "level":
        try:
            normal = schema.levels.reader(node.level_kind or "level")(value)
        except (ValueError, TypeError) as exc:
            return f"a spinal level, and {exc}"
        if normal != value and not isinstance(normal, tuple):
            return f"a level written {normal}, so {shown} never matches"
    return None


def _close(word: str, options: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


__all__ = ["check_case_fields", "path_text"]
