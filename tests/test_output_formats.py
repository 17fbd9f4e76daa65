"""The output-format registry is the one list: the CLI's choices, --help, shell completion, the README table
and what is written all come from ``OUTPUT_FORMATS``."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from auditor.cli import cli
from auditor.compliance import FRAMEWORKS
from auditor.errors import UserError
from auditor.report.compliance_report import evidence_file_name
from auditor.report.formats import (
    DEFAULT_FORMATS,
    FORMATS,
    OUTPUT_FORMATS,
    OutputFormat,
    choose_formats,
    format_help,
    markdown_table,
    write_reports,
)
from tests.report_helpers import sample_result

README = Path(__file__).resolve().parents[1] / "README.md"


def _declared_files(name: str) -> set[str]:
    """The file names a format says it writes, with ``<framework>`` expanded."""
    names: set[str] = set()
    for pattern in (part.strip() for part in FORMATS[name].files.split(",")):
        if "<framework>" in pattern:
            names |= {evidence_file_name(framework) for framework in FRAMEWORKS}
        else:
            names.add(pattern)
    return names


def test_readme_table_is_the_registry() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- output-formats:begin -->\n(.*?)<!-- output-formats:end -->", text, re.S)
    assert block, "README.md lost its output-formats markers"
    assert block.group(1) == markdown_table(), "regenerate with auditor.report.formats.markdown_table()"


@pytest.mark.parametrize("command", ["analyze", "audit", "demo"])
def test_help_names_every_format_with_its_files(command: str) -> None:
    out = CliRunner().invoke(cli, [command, "--help"], terminal_width=400).output
    assert " ".join(format_help().split()) in " ".join(out.split())
    for output_format in OUTPUT_FORMATS:
        assert f"{output_format.name} ({output_format.files})" in " ".join(out.split())


def test_shell_completion_offers_the_registered_formats() -> None:
    from auditor.cli import _complete_formats

    assert [item.value for item in _complete_formats(None, None, "")] == list(FORMATS)  # type: ignore[arg-type]
    assert [item.value for item in _complete_formats(None, None, "html,o")] == ["html,ocsf"]  # type: ignore[arg-type]


@pytest.mark.parametrize("output_format", OUTPUT_FORMATS, ids=lambda f: f.name)
def test_each_format_writes_exactly_the_files_it_declares(output_format: OutputFormat, tmp_path: Path) -> None:
    name = output_format.name
    written = write_reports(sample_result(), tmp_path, (name,))
    assert {p.name for p in tmp_path.iterdir()} == _declared_files(name)
    assert written == {name: tmp_path / FORMATS[name].files.split(",")[0].strip()}


def test_defaults_and_unknown_names() -> None:
    assert choose_formats(()) == DEFAULT_FORMATS == ("html", "json", "csv", "compliance")
    assert choose_formats(("ocsf", "md", "ocsf")) == ("ocsf", "md")
    with pytest.raises(UserError, match=r"^unknown report format\(s\) pdf; choose from html, json, csv, md, ocsf, "
                                        r"compliance$"):
        choose_formats(("html", "pdf"))


def test_the_cli_accepts_every_registered_format_and_names_them_when_one_is_unknown() -> None:
    from auditor.cli import _formats

    assert _formats([",".join(FORMATS)]) == tuple(FORMATS)
    assert _formats(["md", "ocsf"]) == ("md", "ocsf")
    with pytest.raises(UserError, match="choose from " + ", ".join(FORMATS)):
        _formats(["html,sarif"])


def test_the_csv_file_written_is_neutralised(tmp_path: Path) -> None:
    """What runs: the findings.csv the writer stages, not only ``neutralise_formula`` on its own."""
    result = sample_result()
    hostile = 'ops\r=HYPERLINK("http://evil","x")'
    first = replace(result.findings[0], message="=cmd|' /C calc'!A0", path=("@start", "end"))
    accounts = tuple(replace(a, name=hostile) for a in result.accounts)
    hostile_result = replace(result, findings=(first, *result.findings[1:]), accounts=accounts)
    text = write_reports(hostile_result, tmp_path, ("csv",))["csv"].read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) == len(result.findings) + 1
    rows = list(csv.DictReader(io.StringIO(text)))
    row = next(r for r in rows if r["id"] == first.id)
    assert (row["message"], row["path"]) == ("'=cmd|' /C calc'!A0", "'@start -> end")
    assert {r["account_name"] for r in rows} == {'ops / =HYPERLINK("http://evil","x")'}
    assert all(line.startswith('"') for line in lines)
