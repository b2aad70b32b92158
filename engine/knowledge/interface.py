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

INTERFACE_QUERIES = [key[0] for key in (LINE_VERDICT, STAGE_VERDICT, ADMISSION_VERDICT,
                                        ADMISSION_SUPPORTED_DAYS, DOC_REQUEST)]
