"""Guardrails (rules/guardrails.py): GUARD-001..005 on organisations built in code, each risky case beside its
benign twin. GUARD-005's full table (trail status unknown, single-region, not collected) is with the trail
collector in tests/test_org_breadth.py."""

from __future__ import annotations

import pytest

from auditor.model import OrgTrail, Snapshot
from tests.rules.helpers import run_rule
from tests.rules.org_snapshot import DENY_LEAVE, MGMT, PROTECT_ROLE, REGION_LOCK, org_snapshot, scp

GOOD_SCPS = (scp("DenyLeave", DENY_LEAVE, "r-root"), scp("Regions", REGION_LOCK, "r-root"),
             scp("ProtectAudit", PROTECT_ROLE, "r-root"), scp("ProdOnly", DENY_LEAVE, "ou-prod"))
ORG_ARN = f"arn:aws:organizations::{MGMT}:organization/o-1"


def _found(snapshot: Snapshot, rule_id: str) -> set[str]:
    return {f.resource_arn.split("/")[-1] for f in run_rule(rule_id, snapshot)}


@pytest.mark.parametrize(
    ("rule_id", "risky", "benign", "expected"),
    [
        ("GUARD-001", org_snapshot(), org_snapshot(GOOD_SCPS), {"ou-prod"}),
        ("GUARD-002", org_snapshot(), org_snapshot(GOOD_SCPS), {"o-1"}),
        ("GUARD-003", org_snapshot((scp("DenyLeave", DENY_LEAVE, "r-root"),)), org_snapshot(GOOD_SCPS), {"o-1"}),
        ("GUARD-004", org_snapshot((scp("DenyLeave", DENY_LEAVE, "r-root"),)), org_snapshot(GOOD_SCPS), {"o-1"}),
    ],
)
def test_rule_fires_on_risk_and_not_on_twin(rule_id: str, risky: Snapshot, benign: Snapshot,
                                            expected: set[str]) -> None:
    assert _found(risky, rule_id) == expected
    assert _found(benign, rule_id) == set()


def test_guardrail_rules_are_informational_without_any_custom_scp() -> None:
    for rule_id in ("GUARD-003", "GUARD-004"):
        assert {f.severity for f in run_rule(rule_id, org_snapshot())} == {"info"}


def _with_trails(*trails: OrgTrail) -> Snapshot:
    base = org_snapshot()
    assert base.organization is not None
    return base.model_copy(update={"organization": base.organization.model_copy(update={"trails": trails})})


def _trail(logging: bool) -> OrgTrail:
    return OrgTrail(name="org", arn=f"arn:aws:cloudtrail:us-east-1:{MGMT}:trail/org", home_region="us-east-1",
                    is_multi_region=True, is_organization_trail=True, is_logging=logging)


def test_guard_005_no_logging_organization_trail() -> None:
    (finding,) = run_rule("GUARD-005", _with_trails(_trail(logging=False)))
    assert (finding.resource_arn, finding.account_id, finding.severity) == (ORG_ARN, MGMT, "high")
    assert run_rule("GUARD-005", _with_trails(_trail(logging=True))) == []  # benign twin
    assert run_rule("GUARD-005", org_snapshot()) == []  # trails not collected: the coverage gap speaks
