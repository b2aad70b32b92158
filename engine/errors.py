"""Errors Warrant reports to users: each carries a stable code and, where known, a location."""
from __future__ import annotations

from typing import Any


class _Frozen:
    """Immutable value objects written out by hand: `engine.errors` lies below every other
    module, so it cannot use `engine.guard.record`, and a dataclass compiles its methods at
    import. Equality, hashing, ordering and repr are those `@dataclass(frozen=True)` gave."""

    __fields__: tuple[str, ...] = ()

    def _key(self) -> tuple:
        return tuple(self.__dict__[name] for name in self.__fields__)

    def __eq__(self, other: Any) -> Any:
        return self._key() == other._key() if other.__class__ is self.__class__ else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={self.__dict__[name]!r}" for name in self.__fields__)
        return f"{self.__class__.__qualname__}({inner})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")


class Location(_Frozen):
    """A position in a source file (1-based line and column)."""

    __fields__ = __record_fields__ = ("file", "line", "column")
    file: str
    line: int
    column: int

    def __init__(self, file: str, line: int = 0, column: int = 0) -> None:
        self.__dict__.update(file=file, line=line, column=column)

    def __lt__(self, other: Any) -> Any:
        return self._key() < other._key() if other.__class__ is self.__class__ else NotImplemented

    def __le__(self, other: Any) -> Any:
        return self._key() <= other._key() if other.__class__ is self.__class__ else NotImplemented

    def __gt__(self, other: Any) -> Any:
        return self._key() > other._key() if other.__class__ is self.__class__ else NotImplemented

    def __ge__(self, other: Any) -> Any:
        return self._key() >= other._key() if other.__class__ is self.__class__ else NotImplemented

    def __str__(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column or 1}"
        return self.file


class Finding(_Frozen):
    """One checker or validator message, formatted `file:line:col: message`."""

    __fields__ = __record_fields__ = ("code", "message", "location", "severity")
    code: str
    message: str
    location: Location | None
    severity: str

    def __init__(self, code: str, message: str, location: Location | None = None,
                 severity: str = "error") -> None:
        self.__dict__.update(code=code, message=message, location=location, severity=severity)

    def __str__(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        tag = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{tag}{self.message}"


class WarrantError(Exception):
    """Base class of every error Warrant reports; `code` names the kind, `findings` list them all."""

    code = "error"
    exit_code = 1

    def __init__(self, message: str, *, location: Location | None = None,
                 findings: list[Finding] | None = None, code: str | None = None) -> None:
        if code:
            self.code = code
        self.location = location
        self.findings = findings or [Finding(self.code, message, location)]
        super().__init__(message)

    @property
    def messages(self) -> list[str]:
        return [str(f) for f in self.findings]

    def __str__(self) -> str:
        return "\n".join(self.messages)


class RuleError(WarrantError):
    """A knowledge-base or program error found while parsing or checking rules (exit code 4).

    `code` is the first finding's code: syntax, arity_mismatch, undefined_predicate,
    unsafe_variable, unstratifiable, duplicate_rule_id, unknown_citation.
    """

    code = "rule_error"
    exit_code = 4

    def __init__(self, findings: list[Finding]) -> None:
        errors = [f for f in findings if f.severity == "error"] or findings
        super().__init__(str(errors[0].message), location=errors[0].location,
                         findings=findings, code=errors[0].code)


class CaseError(WarrantError):
    """An invalid case file or bundle (exit code 3); every problem is one finding."""

    code = "invalid_case"
    exit_code = 3


class UsageError(WarrantError):
    """A request the command line cannot serve, such as an unknown line (exit code 2)."""

    code = "usage"
    exit_code = 2


class EvaluationError(WarrantError):
    """A checked program that could not be evaluated for these facts (exit code 4, like a kb
    error: the rules, not the case, decide what evaluation costs and which values meet).

    `code` is `budget_exceeded` (the evaluation budget of steps or seconds ran out) or
    `aggregate_types` (max, min or sum met both atoms and numbers in one column)."""

    code = "evaluation"
    exit_code = 4


class RendererMissing(WarrantError):
    """A graph format needs Graphviz and neither pygraphviz nor `dot` is available (exit code 6)."""

    code = "renderer_missing"
    exit_code = 6
