"""Report renderers: findings.json (the contract), findings.csv, report.html, summary.md and the
terminal summary. All of them read an ``AuditResult``; none of them talks to AWS."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from auditor.errors import UserError
from auditor.outputs import OutputSet
from auditor.report.compliance_report import COMPLIANCE_CSV, stage_compliance
from auditor.report.csv_report import findings_frame, render_csv
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
    "stage_reports",
    "validate_findings_document",
    "write_reports",
]


def stage_reports(
    result: AuditResult, out_dir: Path, formats: Sequence[str], outputs: OutputSet
) -> dict[str, Path]:
    """Render the requested reports into ``outputs`` (they appear in ``out_dir`` when it commits);
    returns format -> final path. The findings document is validated against the schema first."""
    unknown = [f for f in formats if f not in REPORT_FILES]
    if unknown:
        raise UserError(
            f"unknown report format(s) {', '.join(unknown)}; choose from {', '.join(REPORT_FILES)}"
        )
    document = result.findings_document()
    validate_findings_document(document)
    renderers = {
        "html": lambda: render_html(result, document),
        "json": lambda: render_json(result, document),
        "csv": lambda: render_csv(result),
        "md": lambda: render_markdown(result),
        "ocsf": lambda: ocsf_json(result),
    }
    staged: dict[str, Path] = {}
    for name in dict.fromkeys(formats):
        if name == "compliance":
            staged[name] = stage_compliance(result, out_dir, outputs)[0]
            continue
        path = out_dir / REPORT_FILES[name]
        outputs.stage_text(path, renderers[name]())
        staged[name] = path
    return staged


def write_reports(
    result: AuditResult, out_dir: Path, formats: Sequence[str] = ("html", "json", "csv")
) -> dict[str, Path]:
    """Write the requested reports into ``out_dir``, all of them or (on any failure) none; returns
    format -> path written."""
    with OutputSet() as outputs:
        written = stage_reports(result, out_dir, formats, outputs)
        outputs.commit()
    return written
