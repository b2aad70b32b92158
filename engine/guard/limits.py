"""Resource limits: how much of each thing Warrant accepts before it refuses, with a message.

One table for every entry point (the command line, batch workers, the HTTP service), so a
hostile input meets the same bounds wherever it arrives. The numbers are far above anything a
real case, bundle or knowledge base needs (the bundled kb and corpus use a small fraction of
each) and far below what exhausts a machine.
"""
from __future__ import annotations


class Limits:
    """The numbers, as class attributes (a plain class: importing it costs next to nothing on
    the decide path). Every check reads the one instance `LIMITS`."""

    case_bytes: int = 5 * 1024 * 1024
    """A case file, a FHIR bundle, or one line of a JSON Lines stream."""
    case_nesting: int = 32
    """Mappings and lists inside one another in a case file."""
    bundle_nesting: int = 64
    """JSON objects and arrays inside one another in a FHIR bundle (extensions nest)."""
    stages: int = 20
    """Distinct stages (requests) in one case."""
    lines: int = 200
    """Determination lines of one case, after levels, ranges and sides are expanded."""
    levels: int = 30
    """Levels one procedure names, after ranges are expanded."""
    kb_file_bytes: int = 4 * 1024 * 1024
    """One file of a knowledge base."""
    kb_files: int = 2000
    """Files a knowledge base directory holds (rules, data, templates)."""
    body_literals: int = 200
    """Literals in the body of one rule (inside aggregates too)."""
    rule_chain: int = 400
    """Predicates one above the other in the dependency graph (rule chains feed recursion in the
    evaluator and in explanations; the bundled kb's longest chain is far shorter)."""
    number_digits: int = 100
    """Digits in a number written in rule text or a query."""
    template_steps: int = 1_000_000
    """Loop iterations and calls one report rendering may make."""
    template_output: int = 8 * 1024 * 1024
    """Characters one report rendering may write."""
    template_seconds: float = 20.0
    """Wall time one report rendering may take."""
    evaluation_steps: int = 2_000_000
    """Steps one evaluation of the rules (one case's facts, one query) may take
    (engine/guard/budget.py). A case of the bundled corpus takes at most about 10,000; a step
    holds about 500 bytes while the evaluation runs, so the default bounds one evaluation near
    1 GB. A kb may lower it in kb.yaml (`evaluation: {steps: N}`)."""
    evaluation_seconds: float = 60.0
    """Wall time one evaluation of the rules may take; kb.yaml `evaluation: {seconds: S}` may lower it."""

LIMITS = Limits()
"""The limits in force. The HTTP service and batch workers read the same object."""
