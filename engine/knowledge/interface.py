"""The kb's interface predicates (docs/kb-contract.md): the names application code may read.

One place for them, so decisions, explanations and the authoring tools agree; what the
predicates mean is up to the kb's clauses.
"""
LINE_VERDICT = ("line_verdict", 3)
STAGE_VERDICT = ("stage_verdict", 2)
ADMISSION_VERDICT = ("admission_verdict", 3)
ADMISSION_SUPPORTED_DAYS = ("admission_supported_days", 2)
DOC_REQUEST = ("doc_request", 2)
CRITERION = ("criterion", 3)
CRITERION_MET = ("criterion_met", 2)
CRITERION_UNMET = ("criterion_unmet", 2)
UNDOCUMENTED = ("undocumented", 2)
PARENT_LINE = ("parent_line", 3)
"""The line a dependent line follows (read by the written determination to group add-ons)."""

KB_VERSION = ("kb_version", 1)
CODE_UNIT = ("code_unit", 2)
CODE_LABEL = ("code_label", 2)

APPLICATION_READS = tuple(key[0] for key in (KB_VERSION, CODE_UNIT, CODE_LABEL, LINE_VERDICT, STAGE_VERDICT,
                                             ADMISSION_VERDICT, ADMISSION_SUPPORTED_DAYS, DOC_REQUEST,
                                             CRITERION_MET))
"""Predicates the application reads, so `warrant check` does not call them unused."""

INTERFACE_QUERIES = [key[0] for key in (LINE_VERDICT, STAGE_VERDICT, ADMISSION_VERDICT,
                                        ADMISSION_SUPPORTED_DAYS, DOC_REQUEST)]
DECISION_DEMAND = (LINE_VERDICT, STAGE_VERDICT, ADMISSION_VERDICT, ADMISSION_SUPPORTED_DAYS, DOC_REQUEST,
                   CRITERION, CRITERION_MET, CRITERION_UNMET, UNDOCUMENTED)
"""What a decision reads: a case's evaluation covers the strata these need (others on demand)."""

# Tables the authoring checks read (engine/knowledge/lint.py).
CODE_FAMILY = ("code_family", 2)
CRITERION_LISTS = {("family_criterion", 3), ("code_criterion", 3)}
CODE_ARGUMENT = "Code"
"""The argument name that marks a code column in a kb table's `%@ pred` declaration."""
