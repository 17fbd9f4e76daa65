"""The output formats: one row each. The CLI's ``--format`` choices, its ``--help``, the README's table and
report writing all read ``OUTPUT_FORMATS``; adding a format is one row here plus its renderer module.

A row's ``stage`` function imports its renderer when called, so reading this table (every ``auditor``
invocation does, to build ``--help``) loads no renderer (pandas, Jinja2, the JSON Schema)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditor.errors import UserError
from auditor.outputs import OutputSet

if TYPE_CHECKING:
    from auditor.result import AuditResult


@dataclass(frozen=True)
class Staging:
    """What a format's ``stage`` function is given: the result, its findings document (already validated
    against the schema) and where to stage files (they appear in ``out_dir`` only when ``outputs`` commits)."""

    result: AuditResult
    document: dict[str, Any]
    out_dir: Path
    outputs: OutputSet

    def text(self, file_name: str, text: str) -> Path:
        """Stage ``text`` as ``out_dir/file_name``; returns the final path."""
        path = self.out_dir / file_name
        self.outputs.stage_text(path, text)
        return path


@dataclass(frozen=True)
class OutputFormat:
    """One ``--format`` value: what it writes and how."""

    name: str  # the --format value
    files: str  # the file(s) it writes, as the README and --help name them
    description: str  # one sentence for the README's table
    stage: Callable[[Staging], Path]  # stages the file(s); returns the main file's final path
    default: bool = False  # written when --format is not given


def _html(staging: Staging) -> Path:
    from auditor.report.html_report import render_html

    return staging.text("report.html", render_html(staging.result, staging.document))


def _json(staging: Staging) -> Path:
    from auditor.report.json_report import render_json

    return staging.text("findings.json", render_json(staging.result, staging.document))


def _csv(staging: Staging) -> Path:
    from auditor.report.csv_report import render_csv

    return staging.text("findings.csv", render_csv(staging.result))


def _markdown(staging: Staging) -> Path:
    from auditor.report.markdown import render_markdown

    return staging.text("summary.md", render_markdown(staging.result))


def _ocsf(staging: Staging) -> Path:
    from auditor.report.ocsf import OCSF_FILE, ocsf_json

    return staging.text(OCSF_FILE, ocsf_json(staging.result))


def _compliance(staging: Staging) -> Path:
    from auditor.report.compliance_report import stage_compliance

    return stage_compliance(staging.result, staging.out_dir, staging.outputs)[0]


OUTPUT_FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat(
        "html", "report.html",
        "One self-contained page (no network at view time): summary, environment isolation matrix, filterable "
        "findings, accounts, coverage, and a compliance view (framework -> control -> account matrix with pass "
        "rates, each cell opening its evidence and findings; filters kept in the URL).",
        _html, default=True),
    OutputFormat(
        "json", "findings.json",
        "The stable, versioned contract (JSON Schema in `auditor/report/schema/`): organisation, accounts, "
        "findings with stable ids, evidence and paths, coverage and the guardrails that hold (controls).",
        _json, default=True),
    OutputFormat(
        "csv", "findings.csv",
        "One row per finding for spreadsheets; every cell quoted and neutralised against formulas.",
        _csv, default=True),
    OutputFormat(
        "md", "summary.md",
        "A Markdown summary for a ticket or a CI job summary.",
        _markdown),
    OutputFormat(
        "ocsf", "findings.ocsf.json",
        "OCSF 1.3 Detection Findings (class 2004) for Security Hub or a SIEM.",
        _ocsf),
    OutputFormat(
        "compliance", "compliance.csv, compliance-<framework>.json",
        "Each compliance control x account: pass, fail, incomplete, manual or not collected; one evidence "
        "document per "
        "framework for a reviewer to keep.",
        _compliance, default=True),
)

FORMATS: dict[str, OutputFormat] = {f.name: f for f in OUTPUT_FORMATS}
DEFAULT_FORMATS: tuple[str, ...] = tuple(f.name for f in OUTPUT_FORMATS if f.default)


def choose_formats(names: Sequence[str]) -> tuple[str, ...]:
    """The formats to write, in the order given and once each (the defaults when ``names`` is empty);
    an unknown name is a one-line user error."""
    chosen = tuple(dict.fromkeys(names)) or DEFAULT_FORMATS
    unknown = [name for name in chosen if name not in FORMATS]
    if unknown:
        raise UserError(f"unknown report format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    return chosen


def format_help() -> str:
    """The ``--format`` option's help: every format with its file(s), and the defaults."""
    listed = ", ".join(f"{f.name} ({f.files})" for f in OUTPUT_FORMATS)
    return f"Report formats: {listed}. Repeat or comma-separate. Default: {','.join(DEFAULT_FORMATS)}."


def markdown_table() -> str:
    """The README's table of output formats."""
    lines = ["| `--format` | Writes | What it is |", "|---|---|---|"]
    for f in OUTPUT_FORMATS:
        files = ", ".join(f"`{name.strip()}`" for name in f.files.split(","))
        default = " (default)" if f.default else ""
        lines.append(f"| `{f.name}`{default} | {files} | {f.description} |")
    return "\n".join(lines) + "\n"


def stage_reports(
    result: AuditResult, out_dir: Path, formats: Sequence[str], outputs: OutputSet
) -> dict[str, Path]:
    """Render the requested formats into ``outputs`` (they appear in ``out_dir`` when it commits); returns
    format -> final path. The findings document is validated against the schema first, whatever the formats."""
    from auditor.report.json_report import validate_findings_document

    chosen = choose_formats(formats)
    document = result.findings_document()
    validate_findings_document(document)
    staging = Staging(result, document, out_dir, outputs)
    return {name: FORMATS[name].stage(staging) for name in chosen}


def write_reports(
    result: AuditResult, out_dir: Path, formats: Sequence[str] = ("html", "json", "csv")
) -> dict[str, Path]:
    """Write the requested reports into ``out_dir``, all of them or (on any failure) none; returns
    format -> path written."""
    with OutputSet() as outputs:
        written = stage_reports(result, out_dir, formats, outputs)
        outputs.commit()
    return written
