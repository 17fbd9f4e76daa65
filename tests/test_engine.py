"""Rule engine: discovery, metadata validation at load time, selection, and failure isolation."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.compliance import FRAMEWORKS
from auditor.config import AuditorConfig
from auditor.engine import Rule, RuleContext, RuleDefinitionError, load_rules, rule, run_rules
from auditor.errors import UserError
from auditor.findings import CATEGORIES, Issue, finding_id
from auditor.model import AccountSnapshot, Manifest, Snapshot

GOOD: dict[str, Any] = {
    "id": "TEST-001",
    "title": "t",
    "category": "guardrails",
    "severity": "low",
    "rationale": "r",
    "remediation": "m",
    "compliance": {"SOC2": ["CC6.1"]},
}


def test_builtin_catalogue_loads_and_is_complete() -> None:
    rules = load_rules()
    ids = {r.id for r in rules}
    assert len(ids) == len(rules) >= 25
    # every category of the findings.json vocabulary has at least one rule
    assert {r.category for r in rules} == set(CATEGORIES)
    for current in rules:
        for framework, controls in current.compliance.items():
            assert set(controls) <= set(FRAMEWORKS[framework])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "bad id"}, "must look like ENV-001"),
        ({"category": "misc"}, "category 'misc' is not one of"),
        ({"severity": "urgent"}, "severity 'urgent' is not one of"),
        ({"rationale": "  "}, "rationale must not be empty"),
        ({"compliance": {"CIS-AWS-3.0.0": ["99.9"]}}, "unknown control '99.9'"),
        ({"compliance": {"PCI": ["1"]}}, "unknown compliance framework 'PCI'"),
    ],
)
def test_invalid_metadata_fails_at_load_with_location(change: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleDefinitionError) as error:
        rule(**{**GOOD, **change})(lambda ctx: [])
    assert message in str(error.value)
    assert "test_engine" in str(error.value)


def _context() -> RuleContext:
    manifest = Manifest(
        tool_version="0",
        created_at="2026-01-01T00:00:00+00:00",
        mode="single-account",
        account_ids=("111111111111",),
    )
    snapshot = Snapshot(
        manifest=manifest, organization=None, accounts=(AccountSnapshot(account_id="111111111111"),)
    )
    return RuleContext(
        snapshot=snapshot,
        config=AuditorConfig(),
        environments={},
        graph=None,  # type: ignore[arg-type]
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )


def _rule(rule_id: str, check: Any) -> Rule:
    return Rule(
        id=rule_id,
        title="t",
        category="guardrails",
        severity="low",
        rationale="r",
        remediation="m",
        compliance={},
        check=check,
        module="tests",
    )


def test_a_failing_rule_is_a_coverage_gap_and_others_still_run() -> None:
    def broken(ctx: RuleContext) -> list[Issue]:
        raise KeyError("unknown action pattern")

    def working(ctx: RuleContext) -> list[Issue]:
        return [Issue(account_id="111111111111", resource_arn="arn:x", message="m")]

    findings, gaps = run_rules([_rule("TEST-001", broken), _rule("TEST-002", working)], _context())
    assert [f.rule_id for f in findings] == ["TEST-002"]
    assert findings[0].id == finding_id("TEST-002", "111111111111", "arn:x")
    assert [(g.service, g.operation, g.error_code) for g in gaps] == [
        ("auditor", "rule TEST-001", "KeyError")
    ]


def test_finding_ids_are_stable_and_distinct() -> None:
    assert finding_id("A-001", "1", "arn:x") == finding_id("A-001", "1", "arn:x")
    assert finding_id("A-001", "1", "arn:x") != finding_id("A-001", "1", "arn:x", "key2")
    assert finding_id("A-001", "1", "arn:x") != finding_id("A-002", "1", "arn:x")


def test_rules_dir_adds_user_rules(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text(
        textwrap.dedent("""
        from auditor.engine import rule
        from auditor.findings import Issue

        @rule(id="CUSTOM-001", title="Custom", category="guardrails", severity="info",
              rationale="why", remediation="what")
        def custom(ctx):
            yield Issue(account_id="111111111111", resource_arn="arn:custom", message="custom")
    """)
    )
    rules = load_rules([tmp_path], only=["CUSTOM-001"])
    findings, gaps = run_rules(rules, _context())
    assert [(f.rule_id, f.resource_arn) for f in findings] == [("CUSTOM-001", "arn:custom")]
    assert gaps == []


def test_rules_dir_with_syntax_error_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("def oops(:\n")
    with pytest.raises(UserError, match=r"broken\.py failed to load: SyntaxError"):
        load_rules([tmp_path])


def test_unknown_rule_selection_is_an_error() -> None:
    with pytest.raises(UserError, match="unknown rule id"):
        load_rules(only=["NOPE-001"])


def test_skip_rules() -> None:
    ids = {r.id for r in load_rules(skip=["ENV-001"])}
    assert "ENV-001" not in ids and "ENV-002" in ids
