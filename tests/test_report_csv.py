"""findings.csv: one row per finding, flattened columns, no formula a spreadsheet would evaluate."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import pytest

from auditor.report import render_csv
from auditor.report.csv_report import CSV_COLUMNS, neutralise_formula
from tests.report_helpers import PROD_APP, PROD_DATA, SANDBOX, sample_result


def read_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_one_row_per_finding_with_the_columns() -> None:
    result = sample_result()
    text = render_csv(result)
    assert text.splitlines()[0] == ",".join(f'"{column}"' for column in CSV_COLUMNS)
    rows = read_rows(text)
    assert sorted(row["id"] for row in rows) == sorted(f.id for f in result.findings)
    assert [row["severity"] for row in rows] == ["critical", "high", "high", "high", "high", "high",
                                                 "medium", "medium", "low", "info"]  # most severe first


def test_flattened_columns() -> None:
    rows = {row["resource_arn"]: row for row in read_rows(render_csv(sample_result()))}
    two_hops = rows[f"arn:aws:iam::{PROD_DATA}:role/data-writer"]
    assert two_hops["account_name"] == "prod-data"
    assert two_hops["environment"] == "prod"
    assert two_hops["compliance"] == "SOC 2:CC6.1;SOC 2:CC6.3"
    assert two_hops["path"] == (f"arn:aws:iam::{SANDBOX}:user/dev -> arn:aws:iam::{SANDBOX}:role/hop -> "
                                f"arn:aws:iam::{PROD_DATA}:role/data-writer")
    evidence = json.loads(two_hops["evidence"])
    assert evidence["access"] == "write" and len(evidence["hops"]) == 2
    assert two_hops["evidence"] == json.dumps(evidence, separators=(",", ":"), sort_keys=True)  # compact
    admin = rows[f"arn:aws:iam::{PROD_APP}:role/OrganizationAccountAccessRole"]
    assert admin["severity"] == "critical"
    assert admin["remediation"] == "How to fix ENV-001."


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", " / =1"),  # the line break goes, so the formula no longer leads a row
        ("ok\r=HYPERLINK(1)", "ok / =HYPERLINK(1)"),
        ("a\r\nb\nc\u2028d", "a / b / c / d"),
        ("arn:aws:iam::1:role/x", "arn:aws:iam::1:role/x"),  # benign twin
        ("a=b", "a=b"),  # only a leading character is dangerous
        ("", ""),
    ],
)
def test_neutralise_formula(value: str, expected: str) -> None:
    assert neutralise_formula(value) == expected


def test_formula_injection_neutralised_in_every_column() -> None:
    result = sample_result()
    first = replace(result.findings[0], message="=cmd|' /C calc'!A0", title="+SUM(1,2)", region="@A1",
                    resource_arn="-1+2", remediation="=1", path=("=start", "end"),
                    compliance={"=FW": ("x",)})
    names = {a.id: ("=HYPERLINK(\"x\")" if a.id == first.account_id else a.name) for a in result.accounts}
    accounts = tuple(replace(a, name=names[a.id]) for a in result.accounts)
    rows = read_rows(render_csv(replace(result, findings=(first, *result.findings[1:]), accounts=accounts)))
    row = next(r for r in rows if r["id"] == first.id)
    assert row["message"] == "'=cmd|' /C calc'!A0"
    assert row["title"] == "'+SUM(1,2)"
    assert row["region"] == "'@A1"
    assert row["resource_arn"] == "'-1+2"
    assert row["remediation"] == "'=1"
    assert row["path"] == "'=start -> end"
    assert row["compliance"] == "'=FW:x"
    assert row["account_name"] == "'=HYPERLINK(\"x\")"
    for r in rows:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in r.values())


def test_no_findings_gives_a_header_only() -> None:
    assert render_csv(replace(sample_result(), findings=())) == ",".join(f'"{c}"' for c in CSV_COLUMNS) + "\n"


def test_a_bare_cr_in_a_name_cannot_start_a_row_and_every_cell_is_quoted() -> None:
    """The file the writer really produces: a hostile account name with bare CRs and LFs stays inside its
    cell whatever the reader (even one that splits lines on CR before parsing quotes)."""
    result = sample_result()
    hostile = 'Budget\r=HYPERLINK("http://evil","x")\n@SUM(A1)\r\n+1'
    accounts = tuple(replace(a, name=hostile) for a in result.accounts)
    text = render_csv(replace(result, accounts=accounts))
    lines = text.splitlines()  # splits on \r, \n, \u2028 and the rest, as a naive reader would
    assert len(lines) == len(result.findings) + 1
    for line in lines:
        assert line.startswith('"') and line.endswith('"')
        cells = next(csv.reader([line]))
        assert len(cells) == len(CSV_COLUMNS)
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    names = {row["account_name"] for row in read_rows(text)}
    assert names == {'Budget / =HYPERLINK(""http://evil"",""x"") / @SUM(A1) / +1'.replace('""', '"')}


def test_compliance_csv_is_quoted_and_neutralised_the_same_way() -> None:
    from auditor.assessment import ControlResult
    from auditor.report.compliance_report import render_compliance_csv

    row = ControlResult(framework="cis-3.0", control_id="1.1", title="=1+1\rx", account_id="111111111111",
                        status="fail", evidence={"name": "a\r@b"})
    lines = render_compliance_csv([row]).splitlines()
    assert len(lines) == 2 and all(line.startswith('"') and line.endswith('"') for line in lines)
    cells = next(csv.reader([lines[1]]))
    assert cells[2] == "'=1+1 / x" and "\\r" in cells[-1]  # JSON evidence keeps the CR escaped
