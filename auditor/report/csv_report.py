"""findings.csv: one row per finding for spreadsheets, safe to open in Excel / LibreOffice / Sheets."""

from __future__ import annotations

import csv
import json
import re

import pandas as pd

from auditor.findings import sort_findings
from auditor.result import AuditResult

CSV_COLUMNS: tuple[str, ...] = (
    "id", "rule_id", "severity", "category", "account_id", "account_name", "environment", "region",
    "resource_arn", "title", "message", "remediation", "compliance", "path", "evidence",
)
# A spreadsheet evaluates a cell starting with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def neutralise_formula(value: str) -> str:
    """A cell a spreadsheet shows as text: line breaks (which some readers take for a new row even
    inside quotes, so that the next line can start a formula) become " / ", and a leading formula
    character gets a ``'`` prefix."""
    value = _LINE_BREAKS.sub(" / ", value)
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def spreadsheet_csv(frame: pd.DataFrame) -> str:
    """The CSV text of ``frame`` with every cell neutralised and quoted."""
    safe = frame.astype(str).map(neutralise_formula)
    text: str = safe.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_ALL)
    return text


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
    return frame.astype(str).map(neutralise_formula)


def render_csv(result: AuditResult) -> str:
    return spreadsheet_csv(findings_frame(result))
