"""``run_rule``: one rule run the way ``auditor analyze`` runs it (environments, access graph, engine), so a rule
test exercises what runs. A rule that raises fails the test instead of becoming a quiet coverage gap."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from auditor.analyze import RuleSelection, analyze
from auditor.config import AuditorConfig
from auditor.findings import Finding
from auditor.model import Snapshot

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def run_rule(
    rule_id: str, snapshot: Snapshot, *, config: AuditorConfig | None = None, now: datetime = NOW
) -> list[Finding]:
    """The findings of rule ``rule_id`` alone on ``snapshot``, most severe first."""
    result = analyze(snapshot, config or AuditorConfig(), RuleSelection(only=(rule_id,)), now=now)
    crashed = [gap for gap in result.coverage
               if gap.service == "auditor" and gap.operation == f"rule {rule_id}" and gap.error_code != "Undetermined"]
    assert not crashed, f"{rule_id} raised: {crashed}"
    assert {f.rule_id for f in result.findings} <= {rule_id}
    return list(result.findings)


def arns(findings: Iterable[Finding]) -> set[str]:
    """The resource ARNs of ``findings``."""
    return {f.resource_arn for f in findings}


def assert_risky_and_benign(rule_id: str, risky: Snapshot, benign: Snapshot, expected: set[str],
                            *, config: AuditorConfig | None = None) -> list[Finding]:
    """``rule_id`` reports exactly ``expected`` (resource ARNs) on ``risky`` and nothing on its ``benign`` twin;
    returns the risky findings for further assertions."""
    findings = run_rule(rule_id, risky, config=config)
    assert arns(findings) == expected
    assert run_rule(rule_id, benign, config=config) == []
    return findings


def undetermined(rule_id: str, snapshot: Snapshot, *, config: AuditorConfig | None = None,
                 now: datetime = NOW) -> list[str]:
    """The messages of the accounts ``rule_id`` could not decide on ``snapshot`` (its Undetermined answers)."""
    result = analyze(snapshot, config or AuditorConfig(), RuleSelection(only=(rule_id,)), now=now)
    return [gap.message for gap in result.coverage
            if gap.operation == f"rule {rule_id}" and gap.error_code == "Undetermined"]
