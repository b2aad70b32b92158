"""How much one case may ask for: stages, determination lines and levels per procedure
(`engine.guard.limits.LIMITS`), checked once its lines are expanded, so a small file cannot
ask for thousands of determinations (an 800-stage case once took over a minute)."""
from __future__ import annotations

from collections import Counter
from typing import Any, Sequence

from engine.errors import CaseError
from engine.guard.limits import LIMITS


def check_bounds(case: Any, lines: Sequence[Any]) -> None:
    """Raise CaseError (exit 3) when the case asks for more than the limits allow."""
    findings = []
    stages = {line.stage for line in lines}
    if len(stages) > LIMITS.stages:
        findings.append(case.finding(("requests",), f"the case asks for {len(stages)} stages; a case may "
                                     f"have at most {LIMITS.stages}"))
    if len(lines) > LIMITS.lines:
        findings.append(case.finding(("requests",), f"the requests expand to {len(lines)} determination "
                                     f"lines; a case may have at most {LIMITS.lines}"))
    per_procedure = Counter((line.request, line.procedure) for line in lines if line.level)
    for (r, p), count in sorted(per_procedure.items()):
        if count > LIMITS.levels:
            findings.append(case.finding(("requests", r, "procedures", p, "levels"),
                                         f"names {count} levels; a procedure may name at most {LIMITS.levels}"))
            break
    if findings:
        raise CaseError(str(findings[0]), findings=findings)
