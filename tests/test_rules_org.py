"""Organisation-level rules on snapshots built in code: each risky case beside its benign twin."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from auditor.analyze import RuleSelection, analyze
from auditor.config import AuditorConfig
from auditor.model import (
    AccountSnapshot,
    Budget,
    IamData,
    IamRole,
    InlinePolicy,
    Manifest,
    OrgAccount,
    Organization,
    OrganizationalUnit,
    OrgPolicy,
    Snapshot,
)

NOW = datetime(2026, 11, 26, tzinfo=UTC)
MGMT, PROD, DEV, MIXED_PROD, MIXED_DEV, MISC = (
    "100000000000", "200000000000", "300000000000", "400000000000", "500000000000", "600000000000")
ADMIN_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
DENY_LEAVE = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}
REGION_LOCK = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "NotAction": ["iam:*", "organizations:*", "sts:*"], "Resource": "*",
    "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}}]}
PROTECT_ROLE = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Action": ["iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy"],
    "Resource": "arn:aws:iam::*:role/SecurityAuditRole"}]}
FULL_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _trust(principal: str) -> dict[str, Any]:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]}


def _snapshot(scps: tuple[OrgPolicy, ...] = (), roles: dict[str, tuple[IamRole, ...]] | None = None,
              budgets: dict[str, tuple[Budget, ...]] | None = None, organization: bool = True,
              misc_name: str = "misc") -> Snapshot:
    root = "r-root"
    ous = (
        OrganizationalUnit(id="ou-prod", arn="arn:aws:organizations::1:ou/o-1/ou-prod", name="Prod", parent_id=root),
        OrganizationalUnit(id="ou-dev", arn="arn:aws:organizations::1:ou/o-1/ou-dev", name="Dev", parent_id=root),
        OrganizationalUnit(id="ou-mix", arn="arn:aws:organizations::1:ou/o-1/ou-mix", name="Apps", parent_id=root),
    )
    members = (
        OrgAccount(id=MGMT, arn=f"arn:aws:organizations::{MGMT}:account/o-1/{MGMT}", name="management",
                   parent_id=root),
        OrgAccount(id=PROD, arn=f"arn:aws:organizations::{MGMT}:account/o-1/{PROD}", name="payments",
                   parent_id="ou-prod", tags={"Environment": "prod"}),
        OrgAccount(id=DEV, arn=f"arn:aws:organizations::{MGMT}:account/o-1/{DEV}", name="payments-dev",
                   parent_id="ou-dev", tags={"Environment": "dev"}),
        OrgAccount(id=MIXED_PROD, arn=f"arn:aws:organizations::{MGMT}:account/o-1/{MIXED_PROD}", name="web",
                   parent_id="ou-mix", tags={"Environment": "production"}),
        OrgAccount(id=MIXED_DEV, arn=f"arn:aws:organizations::{MGMT}:account/o-1/{MIXED_DEV}", name="web-2",
                   parent_id="ou-mix", tags={"Environment": "qa"}),
        OrgAccount(id=MISC, arn=f"arn:aws:organizations::{MGMT}:account/o-1/{MISC}", name=misc_name, parent_id=root),
    )
    org = Organization(id="o-1", arn=f"arn:aws:organizations::{MGMT}:organization/o-1", management_account_id=MGMT,
                       root_id=root, organizational_units=ous, accounts=members,
                       policies=(OrgPolicy(id="p-FullAWSAccess", arn="arn:full", name="FullAWSAccess",
                                           type="SERVICE_CONTROL_POLICY", aws_managed=True, document=FULL_ACCESS,
                                           target_ids=(root,)), *scps))
    roles = roles or {}
    budgets = budgets or {}
    accounts = tuple(
        AccountSnapshot(account_id=m.id, name=m.name, iam=IamData(roles=roles.get(m.id, ())),
                        budgets=budgets.get(m.id, (Budget(name="b", notification_count=1),)))
        for m in members
    )
    manifest = Manifest(tool_version="0", created_at=NOW.isoformat(), mode="organization",
                        role_name="SecurityAuditRole", account_ids=tuple(m.id for m in members))
    if not organization:
        manifest = manifest.model_copy(update={"mode": "single-account", "account_ids": (PROD,)})
        return Snapshot(manifest=manifest, organization=None,
                        accounts=(AccountSnapshot(account_id=PROD, budgets=()),))
    return Snapshot(manifest=manifest, organization=org, accounts=accounts)


def _scp(name: str, document: dict[str, Any], *targets: str) -> OrgPolicy:
    return OrgPolicy(id=f"p-{name}", arn=f"arn:aws:organizations::{MGMT}:policy/o-1/service_control_policy/p-{name}",
                     name=name, type="SERVICE_CONTROL_POLICY", document=document, target_ids=targets)


def _found(snapshot: Snapshot, rule_id: str) -> set[str]:
    result = analyze(snapshot, AuditorConfig(), RuleSelection(only=(rule_id,)), now=NOW)
    assert not [gap for gap in result.coverage if gap.service == "auditor"], result.coverage
    return {f.resource_arn.split("/")[-1] for f in result.findings}


GOOD_SCPS = (_scp("DenyLeave", DENY_LEAVE, "r-root"), _scp("Regions", REGION_LOCK, "r-root"),
             _scp("ProtectAudit", PROTECT_ROLE, "r-root"), _scp("ProdOnly", DENY_LEAVE, "ou-prod"))


@pytest.mark.parametrize(
    ("rule_id", "risky", "benign", "expected"),
    [
        ("GUARD-001", _snapshot(), _snapshot(GOOD_SCPS), {"ou-prod"}),
        ("GUARD-002", _snapshot(), _snapshot(GOOD_SCPS), {"o-1"}),
        ("GUARD-003", _snapshot((_scp("DenyLeave", DENY_LEAVE, "r-root"),)), _snapshot(GOOD_SCPS), {"o-1"}),
        ("GUARD-004", _snapshot((_scp("DenyLeave", DENY_LEAVE, "r-root"),)), _snapshot(GOOD_SCPS), {"o-1"}),
        ("ENV-003", _snapshot(), _snapshot(misc_name="team-sandbox"), {MISC}),
        ("ENV-004", _snapshot(), _snapshot(organization=False), {"ou-mix"}),
        ("ENV-005", _snapshot(), _snapshot(organization=False), {MIXED_PROD}),
        ("ORG-001", _snapshot(organization=False), _snapshot(), {f"arn:aws:iam::{PROD}:root"}),
        ("COST-002", _snapshot(budgets={DEV: ()}), _snapshot(), {DEV}),
        ("COST-003", _snapshot(budgets={DEV: (Budget(name="quiet", notification_count=0),)}), _snapshot(),
         {"quiet"}),
        ("MGMT-003",
         _snapshot(roles={MGMT: (IamRole(arn=f"arn:aws:iam::{MGMT}:role/ops", name="ops",
                                          trust_policy=_trust(f"arn:aws:iam::{DEV}:root")),)}),
         _snapshot(roles={MGMT: (IamRole(arn=f"arn:aws:iam::{MGMT}:role/ops", name="ops",
                                          trust_policy=_trust(f"arn:aws:iam::{MGMT}:root")),)}),
         {"ops"}),
    ],
)
def test_rule_fires_on_risk_and_not_on_twin(rule_id: str, risky: Snapshot, benign: Snapshot,
                                            expected: set[str]) -> None:
    assert _found(risky, rule_id) == expected
    assert _found(benign, rule_id) == set()


def test_guardrail_rules_are_informational_without_any_custom_scp() -> None:
    result = analyze(_snapshot(), AuditorConfig(), RuleSelection(only=("GUARD-003", "GUARD-004")), now=NOW)
    assert {f.severity for f in result.findings} == {"info"}


def test_unused_admin_role() -> None:
    def role(name: str, last_used: str | None, created: str) -> IamRole:
        return IamRole(arn=f"arn:aws:iam::{PROD}:role/{name}", name=name, create_date=created, last_used=last_used,
                       trust_policy=_trust(f"arn:aws:iam::{PROD}:root"),
                       inline_policies=(InlinePolicy(name="admin", document=ADMIN_DOC),))

    roles = (role("stale", "2026-01-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00"),
             role("fresh", "2026-11-20T00:00:00+00:00", "2025-01-01T00:00:00+00:00"),
             role("never-old", None, "2026-01-01T00:00:00+00:00"),
             role("never-new", None, "2026-11-01T00:00:00+00:00"))
    assert _found(_snapshot(roles={PROD: roles}), "ADMIN-005") == {"stale", "never-old"}


def test_unknown_action_is_coverage_and_changes_no_conclusion() -> None:
    def role(statements: list[dict[str, Any]]) -> IamRole:
        return IamRole(arn=f"arn:aws:iam::{PROD}:role/ops", name="ops", create_date="2026-11-01T00:00:00+00:00",
                       trust_policy=_trust(f"arn:aws:iam::{PROD}:root"),
                       inline_policies=(InlinePolicy(name="p", document={"Version": "2012-10-17",
                                                                          "Statement": statements}),))

    admin = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    unknown = {"Effect": "Allow", "Action": ["madeup:DoThing", "codestar:CreateProject"], "Resource": "*"}
    plain = analyze(_snapshot(roles={PROD: (role([admin]),)}), AuditorConfig(), now=NOW)
    noisy = analyze(_snapshot(roles={PROD: (role([unknown, admin]),)}), AuditorConfig(), now=NOW)
    assert [f.id for f in noisy.findings if f.category != "coverage"] == [
        f.id for f in plain.findings if f.category != "coverage"]
    [gap] = [g for g in noisy.coverage if g.error_code == "unknown-action"]  # codestar: known (second source)
    assert gap.account_id == PROD and gap.message.startswith("service 'madeup' not in the action catalogue")
    assert "1 pattern (madeup:DoThing)" in gap.message
    assert not [g for g in plain.coverage if g.service == "auditor"]


def _with_resource_policy(statement: dict[str, Any]) -> Snapshot:
    from auditor.model import Resource

    base = _snapshot()
    resource = Resource(arn="arn:aws:s3:::data-bucket", type="s3:bucket", region="us-east-1", name="data-bucket",
                        policy={"Version": "2012-10-17", "Statement": [statement]})
    accounts = tuple(a.model_copy(update={"resources": (resource,)}) if a.account_id == PROD else a
                     for a in base.accounts)
    return base.model_copy(update={"accounts": accounts})


def _grant(principal: Any, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                                 "Resource": "arn:aws:s3:::data-bucket/*"}
    if condition:
        statement["Condition"] = condition
    return statement


@pytest.mark.parametrize(
    ("statement", "severity"),
    [
        (_grant("*"), "critical"),
        (_grant({"AWS": "999988887777"}), "high"),
        (_grant({"AWS": "arn:aws:iam::999988887777:role/partner"}), "high"),
        (_grant({"AWS": "999988887777"}, {"StringEquals": {"aws:SourceAccount": "999988887777"}}), "medium"),
        # benign twins: an organisation member, "*" confined to the organisation, a service principal, a Deny
        (_grant({"AWS": f"arn:aws:iam::{DEV}:role/reader"}), None),
        (_grant("*", {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}), None),
        (_grant({"Service": "cloudtrail.amazonaws.com"}), None),
        ({**_grant("*"), "Effect": "Deny"}, None),
    ],
)
def test_resource_policy_open_outside_the_organisation(statement: dict[str, Any], severity: str | None) -> None:
    result = analyze(_with_resource_policy(statement), AuditorConfig(), RuleSelection(only=("EXT-002",)), now=NOW)
    assert [f.severity for f in result.findings] == ([severity] if severity else [])
    assert all(f.resource_arn == "arn:aws:s3:::data-bucket" for f in result.findings)
