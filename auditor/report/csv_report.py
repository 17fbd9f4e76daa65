"""findings.csv: one row per finding for spreadsheets, safe to open in Excel / LibreOffice / Sheets."""

from __future__ import annotations

import json

import pandas as pd

from auditor.findings import sort_findings
from auditor.result import AuditResult

CSV_COLUMNS: tuple[str, ...] = (
    "id", "rule_id", "severity", "category", "account_id", "account_name", "environment", "region",
    "resource_arn", "title", "message", "remediation", "compliance", "path", "evidence",
)
# A spreadsheet evaluates a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PATTERN = r"^([=+\-@\t\r])"


def neutralise_formula(value: str) -> str:
    """Prefix ``'`` so a spreadsheet shows the text instead of evaluating it."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def findings_frame(result: AuditResult) -> pd.DataFrame:
    """The findings as a table (most severe first), every cell a neutralised string."""
    names = {a.id: a.name for a in result.accounts}
    rows = [
        (
            f.id, f.rule_id, f.severity, f.category, f.account_id, names.get(f.account_id, ""),
            f.environment, f.region, f.resource_arn, f.title, f.message, f.remediation,
            ";".join(f"{framework}:{control}" for framework, controls in f.compliance.items()
                     for control in controls),
            " -> ".join(f.path),
            json.dumps(f.evidence, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str),
        )
        for f in sort_findings(list(result.findings))
    ]
    frame = pd.DataFrame.from_records(rows, columns=list(CSV_COLUMNS))
    for column in CSV_COLUMNS:
        frame[column] = frame[column].astype(str).str.replace(_FORMULA_PATTERN, r"'\1", regex=True)
    return frame


def render_csv(result: AuditResult) -> str:
    text: str = findings_frame(result).to_csv(index=False, lineterminator="\n")
    return text
