"""Warrant's domain-agnostic logic engine: rule language, checks, evaluation, explanation."""
from engine.errors import CaseError, RuleError, UsageError, WarrantError
from engine.evaluate.program import Program

__all__ = ["Program", "WarrantError", "RuleError", "CaseError", "UsageError"]
