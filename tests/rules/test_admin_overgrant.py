"""Admin over-grants (rules/admin_overgrant.py): ADMIN-001..005, each risky case beside its benign twin."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.model import AccountSnapshot, CredentialReportRow, IamRole, Snapshot
from tests.iam_helpers import (
    ADMIN,
    MGMT,
    PROD,
    account,
    allow,
    doc,
    group,
    organization,
    role,
    role_arn,
    root,
    snapshot,
    trust,
    user,
    user_arn,
)
from tests.rules.helpers import arns, assert_risky_and_benign, run_rule

READ_ONLY = doc(allow(["s3:GetObject", "ec2:Describe*"]))


def _prod(**iam: Any) -> Snapshot:
    return snapshot(account(MGMT), account(PROD, **iam), org=organization(placement={MGMT: "r-ab12",
                                                                                    PROD: "ou-ab12-prod"}))


@pytest.mark.parametrize(
    ("rule_id", "risky", "benign", "expected"),
    [
        ("ADMIN-001",
         _prod(users=[user(PROD, "alice", inline={"admin": ADMIN})]),
         _prod(users=[user(PROD, "alice", inline={"read": READ_ONLY})]),
         {user_arn(PROD, "alice")}),
        # an admin group with a member; its twin has the same policy and no member
        ("ADMIN-002",
         _prod(groups=[group(PROD, "admins", inline={"admin": ADMIN})], users=[user(PROD, "bob", groups=["admins"])]),
         _prod(groups=[group(PROD, "admins", inline={"admin": ADMIN})], users=[user(PROD, "bob")]),
         {f"arn:aws:iam::{PROD}:group/admins"}),
        # an admin role that EC2 assumes; its twin is assumed by people of the account only
        ("ADMIN-003",
         _prod(roles=[role(PROD, "app", trust({"Service": "ec2.amazonaws.com"}), inline={"admin": ADMIN})]),
         _prod(roles=[role(PROD, "app", trust(root(PROD)), inline={"admin": ADMIN})]),
         {role_arn(PROD, "app")}),
        # iam:* on everything is admin in all but name; its twin reads IAM only
        ("ADMIN-004",
         _prod(roles=[role(PROD, "iam-ops", trust(root(PROD)), inline={"iam": doc(allow("iam:*"))})]),
         _prod(roles=[role(PROD, "iam-ops", trust(root(PROD)), inline={"iam": doc(allow(["iam:Get*", "iam:List*"]))})]),
         {role_arn(PROD, "iam-ops")}),
    ],
)
def test_rule_fires_on_risk_and_not_on_twin(rule_id: str, risky: Snapshot, benign: Snapshot,
                                            expected: set[str]) -> None:
    assert_risky_and_benign(rule_id, risky, benign, expected)


def test_admin_001_evidence_names_the_granting_statement() -> None:
    (finding,) = run_rule("ADMIN-001", _prod(users=[user(PROD, "alice", inline={"admin": ADMIN})]))
    assert finding.evidence["level"] == "full-admin"
    assert [g["policy_kind"] for g in finding.evidence["granted_by"]] == ["inline"]


def test_admin_003_names_the_workload_service() -> None:
    (finding,) = run_rule("ADMIN-003", _prod(roles=[
        role(PROD, "fn", trust({"Service": "lambda.amazonaws.com"}), inline={"admin": ADMIN})]))
    assert finding.evidence["trusted_services"] == ["lambda.amazonaws.com"]
    assert finding.severity == "critical"


def _admin_role(name: str, last_used: str | None, created: str, path: str = "/") -> IamRole:
    return IamRole(arn=f"arn:aws:iam::{PROD}:role{path}{name}", name=name, path=path, create_date=created,
                   last_used=last_used, trust_policy=trust(root(PROD)),
                   inline_policies=role(PROD, name, inline={"admin": ADMIN}).inline_policies)


def test_admin_005_unused_admin_roles() -> None:
    roles = [_admin_role("stale", "2026-01-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00"),
             _admin_role("fresh", "2026-11-20T00:00:00+00:00", "2025-01-01T00:00:00+00:00"),  # twin: used lately
             _admin_role("never-old", None, "2026-01-01T00:00:00+00:00"),
             _admin_role("never-new", None, "2026-11-01T00:00:00+00:00"),  # twin: created lately
             _admin_role("AWSReservedSSO_x", None, "2025-01-01T00:00:00+00:00", path="/aws-reserved/sso/")]
    assert arns(run_rule("ADMIN-005", _prod(roles=roles))) == {role_arn(PROD, "stale"), role_arn(PROD, "never-old")}


def _with_report(base: Snapshot, rows: list[CredentialReportRow]) -> Snapshot:
    accounts = tuple(
        a.model_copy(update={"iam": a.iam.model_copy(update={"credential_report": tuple(rows)})})
        if a.account_id == PROD and a.iam else a for a in base.accounts)
    return base.model_copy(update={"accounts": accounts})


def test_admin_005_unused_admin_users_directly_or_through_a_group() -> None:
    base = _prod(users=[user(PROD, "idle", inline={"admin": ADMIN}), user(PROD, "busy", inline={"admin": ADMIN}),
                        user(PROD, "member", groups=["admins"]), user(PROD, "reader", inline={"r": READ_ONLY})],
                 groups=[group(PROD, "admins", inline={"admin": ADMIN})])
    old, recent = "2026-01-01T00:00:00+00:00", "2026-11-20T00:00:00+00:00"
    rows = [CredentialReportRow(user="idle", arn=user_arn(PROD, "idle"), password_last_used=old,
                                user_creation_time=old),
            CredentialReportRow(user="busy", arn=user_arn(PROD, "busy"), password_last_used=old,
                                access_key_1_last_used_date=recent, user_creation_time=old),  # twin: a key in use
            CredentialReportRow(user="member", arn=user_arn(PROD, "member"), user_creation_time=old),
            CredentialReportRow(user="reader", arn=user_arn(PROD, "reader"), user_creation_time=old)]  # not admin
    assert arns(run_rule("ADMIN-005", _with_report(base, rows))) == {user_arn(PROD, "idle"), user_arn(PROD, "member")}


def test_accounts_without_iam_data_give_no_admin_finding() -> None:
    bare = snapshot(AccountSnapshot(account_id=PROD), org=organization(placement={MGMT: "r-ab12",
                                                                                 PROD: "ou-ab12-prod"}))
    for rule_id in ("ADMIN-001", "ADMIN-002", "ADMIN-003", "ADMIN-004", "ADMIN-005"):
        assert run_rule(rule_id, bare) == []
