"""Report renderers: findings.json (the contract), findings.csv, report.html, summary.md and the
terminal summary. All of them read an ``AuditResult``; none of them talks to AWS."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from auditor.errors import UserError
from auditor.report.compliance_report import COMPLIANCE_CSV, write_compliance
from auditor.report.csv_report import findings_frame, render_csv
from auditor.report.files import write_text_atomically
from auditor.report.html_report import render_html
from auditor.report.json_report import findings_schema, render_json, validate_findings_document
from auditor.report.markdown import render_markdown
from auditor.report.ocsf import OCSF_FILE, ocsf_json
from auditor.report.summary import posture_score, render_summary
from auditor.result import AuditResult

REPORT_FILES: dict[str, str] = {
    "html": "report.html",
    "json": "findings.json",
    "csv": "findings.csv",
    "md": "summary.md",
    "ocsf": OCSF_FILE,
    "compliance": COMPLIANCE_CSV,  # plus one evidence JSON per framework (compliance-<framework>.json)
}

__all__ = [
    "REPORT_FILES",
    "findings_frame",
    "findings_schema",
    "posture_score",
    "render_csv",
    "render_html",
    "render_json",
    "render_markdown",
    "render_summary",
    "validate_findings_document",
    "write_reports",
]


def write_reports(
    result: AuditResult, out_dir: Path, formats: Sequence[str] = ("html", "json", "csv")
) -> dict[str, Path]:
    """Write the requested reports into ``out_dir``; returns format -> path written.

    The findings document is validated against the schema before anything is written.
    """
    unknown = [f for f in formats if f not in REPORT_FILES]
    if unknown:
        raise UserError(
            f"unknown report format(s) {', '.join(unknown)}; choose from {', '.join(REPORT_FILES)}"
        )
    document = result.findings_document()
    validate_findings_document(document)
    out_dir.mkdir(parents=True, exist_ok=True)
    renderers = {
        "html": lambda: render_html(result, document),
        "json": lambda: render_json(result, document),
        "csv": lambda: render_csv(result),
        "md": lambda: render_markdown(result),
        "ocsf": lambda: ocsf_json(result),
    }
    written: dict[str, Path] = {}
    for name in dict.fromkeys(formats):
        if name == "compliance":
            written[name] = write_compliance(result, out_dir)[0]
            continue
        path = out_dir / REPORT_FILES[name]
        write_text_atomically(path, renderers[name]())
        written[name] = path
    return written
