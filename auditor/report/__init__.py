"""Report renderers: findings.json (the contract), findings.csv, report.html, summary.md, OCSF, compliance
and the terminal summary. All of them read an ``AuditResult``; none of them talks to AWS. The formats users
choose from are the rows of ``auditor.report.formats.OUTPUT_FORMATS``.

Importing this package is cheap (the CLI does it to build ``--help``): the renderers below load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from auditor.report.formats import (
    DEFAULT_FORMATS,
    FORMATS,
    OUTPUT_FORMATS,
    OutputFormat,
    choose_formats,
    stage_reports,
    write_reports,
)

if TYPE_CHECKING:
    from auditor.report.csv_report import findings_frame as findings_frame
    from auditor.report.csv_report import render_csv as render_csv
    from auditor.report.html_report import render_html as render_html
    from auditor.report.json_report import findings_schema as findings_schema
    from auditor.report.json_report import render_json as render_json
    from auditor.report.json_report import validate_findings_document as validate_findings_document
    from auditor.report.markdown import render_markdown as render_markdown
    from auditor.report.summary import posture_score as posture_score
    from auditor.report.summary import render_summary as render_summary

_LAZY: dict[str, str] = {
    "findings_frame": "auditor.report.csv_report",
    "render_csv": "auditor.report.csv_report",
    "render_html": "auditor.report.html_report",
    "findings_schema": "auditor.report.json_report",
    "render_json": "auditor.report.json_report",
    "validate_findings_document": "auditor.report.json_report",
    "render_markdown": "auditor.report.markdown",
    "posture_score": "auditor.report.summary",
    "render_summary": "auditor.report.summary",
}

__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "OUTPUT_FORMATS",
    "OutputFormat",
    "choose_formats",
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


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
