"""findings.json: the document AuditResult produces satisfies the packaged schema, and breaks are caught."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from jsonschema import ValidationError

from auditor.errors import UserError
from auditor.findings import CATEGORIES, SEVERITIES
from auditor.report import findings_schema, render_summary, validate_findings_document, write_reports
from auditor.report.markdown import escape_cell, render_markdown
from tests.report_helpers import MANAGEMENT, ORG_ID, PROD_APP, SECURITY, SUSPENDED, sample_result


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return sample_result().findings_document()


def test_realistic_document_is_valid(document: dict[str, Any]) -> None:
    validate_findings_document(document)
    assert document["organization"] == {"id": ORG_ID, "management_account_id": MANAGEMENT}
    assert len(document["findings"]) == 10


def test_schema_enums_match_the_code() -> None:
    defs = findings_schema()["$defs"]
    assert tuple(defs["severity"]["enum"]) == SEVERITIES
    assert tuple(defs["category"]["enum"]) == CATEGORIES


def test_single_account_document_without_organisation_is_valid(document: dict[str, Any]) -> None:
    doc = copy.deepcopy(document)
    doc["organization"] = {"id": None, "management_account_id": None}
    validate_findings_document(doc)


def test_future_fields_on_a_finding_are_allowed(document: dict[str, Any]) -> None:
    doc = copy.deepcopy(document)
    doc["findings"][0]["first_seen"] = "2026-01-01T00:00:00Z"
    validate_findings_document(doc)


def _drop(key: str) -> Any:
    def mutate(doc: dict[str, Any]) -> None:
        del doc["findings"][0][key]
    return mutate


def _set(*path: str | int, value: object) -> Any:
    def mutate(doc: dict[str, Any]) -> None:
        target: Any = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
    return mutate


BROKEN: list[tuple[str, Any, str]] = [
    ("finding without id", _drop("id"), "'id' is a required property"),
    ("finding without evidence", _drop("evidence"), "'evidence' is a required property"),
    ("finding without path", _drop("path"), "'path' is a required property"),
    ("finding without compliance", _drop("compliance"), "'compliance' is a required property"),
    ("bad severity", _set("findings", 0, "severity", value="urgent"), "'urgent' is not one of"),
    ("bad category", _set("findings", 0, "category", value="misc"), "'misc' is not one of"),
    ("evidence not an object", _set("findings", 0, "evidence", value="text"),
     "'text' is not of type 'object'"),
    ("path hop not a string", _set("findings", 0, "path", value=[1]), "1 is not of type 'string'"),
    ("compliance control not a string", _set("findings", 0, "compliance", value={"CIS": [1]}),
     "1 is not of type 'string'"),
    ("bad account environment", _set("accounts", 0, "environment", value="production"),
     "'production' is not one of"),
    ("account audited not boolean", _set("accounts", 0, "audited", value="yes"),
     "'yes' is not of type 'boolean'"),
    ("summary without a severity", _set("summary", "by_severity", value={"critical": 1}),
     "'high' is a required property"),
    ("missing coverage", lambda doc: doc.pop("coverage"), "'coverage' is a required property"),
    ("organisation not an object", _set("organization", value=None), "None is not of type 'object'"),
]


@pytest.mark.parametrize(("mutate", "message"), [(m, msg) for _, m, msg in BROKEN],
                         ids=[case for case, _, _ in BROKEN])
def test_broken_document_fails_validation(document: dict[str, Any], mutate: Any, message: str) -> None:
    doc = copy.deepcopy(document)
    mutate(doc)
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_findings_document(doc)


def test_write_reports_writes_every_format(tmp_path: Path) -> None:
    written = write_reports(sample_result(), tmp_path / "out", ("html", "json", "csv", "md"))
    assert written == {
        "html": tmp_path / "out" / "report.html",
        "json": tmp_path / "out" / "findings.json",
        "csv": tmp_path / "out" / "findings.csv",
        "md": tmp_path / "out" / "summary.md",
    }
    assert json.loads(written["json"].read_text(encoding="utf-8")) == sample_result().findings_document()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "findings.csv", "findings.json", "report.html", "summary.md"]  # no staging files left


def test_write_reports_validates_before_writing(tmp_path: Path) -> None:
    result = sample_result()
    broken = replace(result.findings[0], severity="urgent")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        write_reports(replace(result, findings=(broken,)), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_write_reports_rejects_an_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown report format"):
        write_reports(sample_result(), tmp_path, ("html", "pdf"))


# --- terminal summary and Markdown ------------------------------------------------------------


def test_summary_has_exact_counts() -> None:
    text = render_summary(sample_result())
    lines = text.splitlines()
    assert lines[0] == "Findings: 10 (critical 1, high 5, medium 2, low 1, info 1)"
    assert "  environment-isolation  2" in lines
    assert "  admin-overgrant        2" in lines
    assert not any(line.startswith("  coverage ") for line in lines)  # a category without findings
    assert any(line.split() == [PROD_APP, "prod-app", "prod", "critical", "1", "high", "1", "medium", "0",
                                "low", "0", "info", "0"] for line in lines)
    assert any(line.split() == [SECURITY, "security-audit", "security", "critical", "0", "high", "0",
                                "medium", "0", "low", "0", "info", "0"] for line in lines)
    assert lines[-1] == "Coverage gaps: 2"
    assert "score" not in text.lower()  # the summary says counts and nothing else


def test_markdown_summary() -> None:
    text = render_markdown(sample_result())
    assert f"## AWS organisation audit: {ORG_ID}" in text
    assert "| critical | 1 |" in text
    assert "| high | 5 |" in text
    assert "### Top findings (10 of 10)" in text
    assert "### Coverage gaps (2)" in text
    gap = (f"| {SUSPENDED} | sts | global | AssumeRole | "
           "AccessDenied: not authorized to perform sts:AssumeRole |")
    assert gap in text


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain text", "plain text"),
        ("a|b", "a\\|b"),
        ("line one\nline two", "line one line two"),
        ("<img src=x onerror=alert(1)>", "\\<img src=x onerror=alert(1)\\>"),
        ("*bold* _it_ `code` [link](x)", "\\*bold\\* \\_it\\_ \\`code\\` \\[link\\](x)"),
    ],
)
def test_markdown_cell_escaping(raw: str, escaped: str) -> None:
    assert escape_cell(raw) == escaped


def test_markdown_top_findings_capped_at_20() -> None:
    result = sample_result()
    many = tuple(replace(f, id=f"{f.id}-{n}") for n in range(3) for f in result.findings)
    text = render_markdown(replace(result, findings=many))
    assert "### Top findings (20 of 30)" in text
    top = text.split("### Top findings")[1].split("###")[0]
    assert sum(1 for line in top.splitlines() if line.startswith("| ") and "Severity" not in line) == 20
