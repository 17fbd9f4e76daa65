"""Compliance catalogue (CIS crosswalk) and assessment: the status of each control in each account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditor.assessment import ControlResult, assess, framework_id, score
from auditor.cli import main
from auditor.compliance import CIS_CONTROLS, CIS_V3, CIS_V7, FRAMEWORKS, automated_controls, expand_mapping
from auditor.engine import load_rules
from auditor.findings import Finding
from auditor.model import AccountSnapshot, CoverageGap, Manifest, Snapshot
from auditor.report.compliance_report import COMPLIANCE_COLUMNS, render_compliance_csv
from auditor.result import AccountView, AuditResult, RuleInfo, SuppressedFinding
from auditor.snapshot import write_snapshot


def test_cis_catalogue_counts_match_the_benchmarks() -> None:
    # CIS v3.0.0 has 62 recommendations, 54 automated; v7.0.0 has 70, 34 automated.
    assert len(FRAMEWORKS[CIS_V3]) == 62 and len(automated_controls(CIS_V3)) == 54
    assert len(FRAMEWORKS[CIS_V7]) == 70 and len(automated_controls(CIS_V7)) == 34
    v3_ids = [c.v3 for c in CIS_CONTROLS if c.v3]
    v7_ids = [c.v7 for c in CIS_CONTROLS if c.v7]
    assert len(v3_ids) == len(set(v3_ids)) and len(v7_ids) == len(set(v7_ids))


@pytest.mark.parametrize(("v3", "v7"), [
    ("1.4", "2.4"), ("1.16", "2.14"), ("1.20", "2.18"), ("2.2.1", "6.1.1"), ("3.1", "4.1"),
    ("4.16", "5.16"), ("5.2", "6.3"), ("5.6", "6.7"), ("1.13", None), ("1.11", None),
])
def test_crosswalk_completes_a_rule_mapping_with_the_other_version(v3: str, v7: str | None) -> None:
    expanded = expand_mapping({CIS_V3: (v3,)})
    assert expanded.get(CIS_V7, ()) == ((v7,) if v7 else ())
    if v7:
        assert expand_mapping({CIS_V7: (v7,)})[CIS_V3] == (v3,)


def test_every_automated_cis_control_is_checked_by_a_rule() -> None:
    mapped = {(framework, control) for rule in load_rules() for framework, ids in rule.compliance.items()
              for control in ids}
    for framework in (CIS_V3, CIS_V7):
        missing = [c for c in automated_controls(framework) if (framework, c) not in mapped]
        assert missing == [], f"{framework}: automated controls no rule checks: {missing}"


def test_every_non_coverage_rule_maps_to_a_framework() -> None:
    unmapped = [r.id for r in load_rules() if r.category != "coverage" and not r.compliance]
    assert unmapped == []


def test_framework_aliases() -> None:
    assert framework_id("cis-3.0") == CIS_V3
    assert framework_id("CIS-AWS-7.0.0") == CIS_V7
    assert framework_id("cis-aws-7.0.0") == CIS_V7
    assert framework_id("pci") is None


# --- assessment on a hand-built result ----------------------------------------------------------

ROOT_KEYS = RuleInfo(id="CRED-001", title="Root keys", category="credential-hygiene", severity="critical",
                     rationale="r", remediation="m", compliance=expand_mapping({CIS_V3: ("1.4",)}), inputs=("iam",))
TRAIL = RuleInfo(id="LOG-001", title="Trail", category="guardrails", severity="high", rationale="r",
                 remediation="m", compliance={CIS_V3: ("3.1",)}, inputs=("cloudtrail",))
GUESS = RuleInfo(id="ENV-003", title="Env", category="environment-isolation", severity="low", rationale="r",
                 remediation="m", compliance={CIS_V3: ("1.21",)})  # no inputs: every gap counts


def _finding(rule: RuleInfo, account: str, resource: str = "arn:aws:iam::{a}:root") -> Finding:
    return Finding(id=f"{rule.id}-{account}", rule_id=rule.id, title=rule.title, severity="high",  # type: ignore[arg-type]
                   category=rule.category, account_id=account, region="global",  # type: ignore[arg-type]
                   resource_arn=resource.format(a=account), environment="prod", message="m", evidence={},
                   path=(), remediation="m", compliance=rule.compliance)


def _result(findings: list[Finding], gaps: list[CoverageGap], suppressed: list[Finding] = ()) -> AuditResult:  # type: ignore[assignment]
    accounts = (("111111111111", True), ("222222222222", True), ("333333333333", False))
    snapshot = Snapshot(
        manifest=Manifest(tool_version="t", created_at="2026-01-01T00:00:00+00:00", mode="organization",
                          caller_account_id="111111111111", account_ids=tuple(a for a, _ in accounts)),
        organization=None,
        accounts=tuple(AccountSnapshot(account_id=a, audited=ok) for a, ok in accounts),
        coverage=tuple(gaps),
    )
    return AuditResult(
        generated_at="2026-01-01T00:00:00+00:00", snapshot=snapshot,
        accounts=tuple(AccountView(id=a, name=f"n{a[0]}", ou_path="", environment="prod", environment_source="",
                                   audited=ok) for a, ok in accounts),
        findings=tuple(findings), coverage=tuple(gaps), rules=(ROOT_KEYS, TRAIL, GUESS),
        suppressed=tuple(SuppressedFinding(f, {"reason": "accepted"}) for f in suppressed),
    )


def _status(rows: list[ControlResult], framework: str, control: str, account: str) -> ControlResult:
    return next(r for r in rows if (r.framework, r.control_id, r.account_id) == (framework, control, account))


def test_statuses_pass_fail_incomplete_not_collected_manual() -> None:
    denied = CoverageGap(account_id="222222222222", service="cloudtrail", region="eu-west-1",
                         operation="DescribeTrails", error_code="AccessDenied", message="no")
    assume = CoverageGap(account_id="333333333333", service="sts", operation="AssumeRole",
                         error_code="AccessDenied", message="denied")
    result = _result([_finding(ROOT_KEYS, "111111111111")], [denied, assume])
    rows = assess(result)

    failed = _status(rows, CIS_V3, "1.4", "111111111111")
    assert failed.status == "fail" and failed.finding_ids == ("CRED-001-111111111111",)
    assert failed.evidence["findings"][0]["resource_arn"] == "arn:aws:iam::111111111111:root"
    assert _status(rows, CIS_V7, "2.4", "111111111111").status == "fail"  # through the crosswalk
    assert _status(rows, CIS_V3, "1.4", "222222222222").status == "pass"  # the IAM input is complete there
    # a CloudTrail gap in one region: the trail control is not passed, the IAM control is unaffected
    incomplete = _status(rows, CIS_V3, "3.1", "222222222222")
    assert incomplete.status == "incomplete" and incomplete.evidence["gaps"][0]["region"] == "eu-west-1"
    assert _status(rows, CIS_V3, "3.1", "111111111111").status == "pass"
    # a rule without declared inputs is blocked by any gap of the account
    assert _status(rows, CIS_V3, "1.21", "222222222222").status == "incomplete"
    # the account that refused the audit role passes nothing
    refused = [r for r in rows if r.account_id == "333333333333"]
    assert {r.status for r in refused} == {"not collected", "manual"}
    assert "AccessDenied" in _status(rows, CIS_V3, "1.4", "333333333333").evidence["reason"]
    assert _status(rows, CIS_V3, "1.1", "111111111111").status == "manual"


def test_suppressed_finding_still_fails_its_control_and_says_so() -> None:
    rows = assess(_result([], [], suppressed=[_finding(ROOT_KEYS, "222222222222")]))
    row = _status(rows, CIS_V3, "1.4", "222222222222")
    assert row.status == "fail" and row.evidence["findings"][0]["suppressed"] is True


def test_undecidable_rule_blocks_only_its_own_control() -> None:
    undecided = CoverageGap(account_id="111111111111", service="auditor", operation="rule LOG-001",
                            error_code="Undetermined", message="trail bucket in another account")
    rows = assess(_result([], [undecided]))
    assert _status(rows, CIS_V3, "3.1", "111111111111").status == "incomplete"
    assert _status(rows, CIS_V3, "1.4", "111111111111").status == "pass"


def test_scores_exclude_manual_controls() -> None:
    rows = [r for r in assess(_result([_finding(ROOT_KEYS, "111111111111")], [])) if r.framework == CIS_V3]
    mine = score(r for r in rows if r.account_id == "111111111111")
    assert (mine.passed, mine.failed, mine.manual) == (2, 1, 59)
    assert mine.percent == round(100 * 2 / 3, 1)


def test_compliance_csv_columns_and_no_cell_starts_with_a_formula() -> None:
    finding = _finding(ROOT_KEYS, "111111111111", resource="=cmd|' /C calc'!A0")
    text = render_compliance_csv(assess(_result([finding], []), [CIS_V3]))
    header, *lines = text.splitlines()
    assert tuple(header.replace("\"", "").split(",")) == COMPLIANCE_COLUMNS  # every cell quoted
    assert len(lines) == 62 * 3
    # attacker-controlled text only ever sits inside the JSON evidence cell, never at the start of a cell
    assert '""resource_arn"":""=cmd' in text and ",=cmd" not in text


def test_compliance_command_prints_the_table_and_writes_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = _result([], [])
    write_snapshot(result.snapshot, tmp_path / "snap")
    with pytest.raises(SystemExit) as exit_info:
        main(["compliance", str(tmp_path / "snap"), "--framework", "cis-3.0", "--out", str(tmp_path / "out")])
    assert exit_info.value.code in (0, None)
    out = capsys.readouterr().out
    assert "CIS-AWS-3.0.0" in out and "not collected" in out
    evidence: dict[str, Any] = json.loads((tmp_path / "out" / "compliance-CIS-AWS-3.0.0.json").read_text())
    refused = next(a for a in evidence["accounts"] if a["account_id"] == "333333333333")
    assert refused["passed"] == 0 and refused["not_collected"] > 0
    assert (tmp_path / "out" / "compliance.csv").read_text().startswith("\"framework\",\"control_id\",")


def test_compliance_command_rejects_unknown_framework(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_snapshot(_result([], []).snapshot, tmp_path / "snap")
    with pytest.raises(SystemExit) as exit_info:
        main(["compliance", str(tmp_path / "snap"), "--framework", "pci"])
    assert exit_info.value.code == 2
    assert "unknown framework 'pci'" in capsys.readouterr().err
