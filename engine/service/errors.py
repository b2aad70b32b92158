"""Errors the service answers with: JSON `{"error": {"code", "message", "findings"}}` on the
API, a FHIR OperationOutcome on the FHIR endpoints; never a traceback."""
from __future__ import annotations

import json
from typing import Any

from engine.errors import Finding, WarrantError

FHIR_JSON = "application/fhir+json"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, findings: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.findings = findings or []
        self.headers = headers or {}


def finding_dict(finding: Finding) -> dict[str, Any]:
    """A finding as `{path, message, line, column}`: the field path split off the message."""
    message = finding.message
    path = ""
    head, sep, rest = message.partition(": ")
    if sep and " " not in head:
        path, message = head, rest
    out: dict[str, Any] = {"path": path, "message": message}
    if finding.location is not None and finding.location.line:
        out["line"], out["column"] = finding.location.line, finding.location.column or 1
    if finding.severity != "error":
        out["severity"] = finding.severity
    return out


def from_warrant(exc: WarrantError, status: int = 422) -> ApiError:
    findings = [finding_dict(f) for f in exc.findings]
    message = (f"{len(findings)} problem{'s' if len(findings) != 1 else ''} in the request"
               if status == 422 else str(exc.findings[0].message if exc.findings else exc))
    return ApiError(status, exc.code, message, findings)


def error_body(error: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.findings:
        body["findings"] = error.findings
    return {"error": body}


_ISSUE_CODES = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 409: "conflict",
                413: "too-long", 415: "not-supported", 422: "invalid", 501: "not-supported",
                503: "transient", 500: "exception"}


def operation_outcome(error: ApiError) -> dict[str, Any]:
    """The error as a FHIR OperationOutcome; each finding is one issue with its element path."""
    issue_code = _ISSUE_CODES.get(error.status, "processing")
    severity = "error" if error.status < 500 else "fatal"
    issues = []
    for f in error.findings or [{"path": "", "message": error.message}]:
        issue: dict[str, Any] = {"severity": severity, "code": issue_code,
                                 "details": {"text": error.code},
                                 "diagnostics": f["message"] if error.findings else error.message}
        if f.get("path"):
            issue["expression"] = [f["path"]]
        issues.append(issue)
    return {"resourceType": "OperationOutcome", "issue": issues}


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
