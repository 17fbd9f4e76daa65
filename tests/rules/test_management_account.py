"""The management account (rules/management_account.py): MGMT-001..003, each risky case beside its benign twin."""

from __future__ import annotations

import pytest

from auditor.model import CredentialReportRow, IamRole, IamUser, Resource, Snapshot
from tests.rules.helpers import arns, run_rule
from tests.rules.org_snapshot import DEV, MGMT, PROD, org_snapshot, trust

FUNCTION = f"arn:aws:lambda:us-east-1:{MGMT}:function:billing-export"
ALICE = f"arn:aws:iam::{MGMT}:user/alice"


def _function(account_id: str) -> Resource:
    return Resource(arn=FUNCTION.replace(MGMT, account_id), type="lambda:function", region="us-east-1",
                    name="billing-export")


def _ops_role(trusted_account: str) -> dict[str, tuple[IamRole, ...]]:
    return {MGMT: (IamRole(arn=f"arn:aws:iam::{MGMT}:role/ops", name="ops",
                           trust_policy=trust(f"arn:aws:iam::{trusted_account}:root")),)}


def _alice(account_id: str, active_key: bool = False) -> Snapshot:
    arn = ALICE.replace(MGMT, account_id)
    return org_snapshot(users={account_id: (IamUser(arn=arn, name="alice"),)},
                        credential_report={account_id: (CredentialReportRow(
                            user="alice", arn=arn, password_enabled=True, access_key_1_active=active_key),)})


@pytest.mark.parametrize(
    ("rule_id", "risky", "benign", "expected"),
    [
        # a function in the management account; its twin runs in a member account
        ("MGMT-001", org_snapshot(resources={MGMT: (_function(MGMT),)}),
         org_snapshot(resources={PROD: (_function(PROD),)}), {FUNCTION}),
        # an IAM user in the management account; its twin lives in a member account
        ("MGMT-002", _alice(MGMT), _alice(DEV), {ALICE}),
        # a management-account role trusting a member account; its twin trusts the management account only
        ("MGMT-003", org_snapshot(roles=_ops_role(DEV)), org_snapshot(roles=_ops_role(MGMT)),
         {f"arn:aws:iam::{MGMT}:role/ops"}),
    ],
)
def test_rule_fires_on_risk_and_not_on_twin(rule_id: str, risky: Snapshot, benign: Snapshot,
                                            expected: set[str]) -> None:
    assert arns(run_rule(rule_id, risky)) == expected
    assert run_rule(rule_id, benign) == []


def test_mgmt_001_only_workload_types() -> None:
    role_like = Resource(arn=f"arn:aws:iam::{MGMT}:role/x", type="iam:role", region="global", name="x")
    assert run_rule("MGMT-001", org_snapshot(resources={MGMT: (role_like,)})) == []


def test_mgmt_002_an_active_access_key_makes_it_critical() -> None:
    assert [f.severity for f in run_rule("MGMT-002", _alice(MGMT))] == ["high"]
    (finding,) = run_rule("MGMT-002", _alice(MGMT, active_key=True))
    assert (finding.severity, finding.evidence["active_access_keys"]) == ("critical", 1)


def test_mgmt_003_path_and_the_member_named() -> None:
    (finding,) = run_rule("MGMT-003", org_snapshot(roles=_ops_role(DEV)))
    assert finding.path == (f"arn:aws:iam::{DEV}:root", f"arn:aws:iam::{MGMT}:role/ops")
