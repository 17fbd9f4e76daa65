"""An organisation built in code for rule tests: management, prod and dev accounts in environment OUs, a mixed
OU (prod and qa), an account at the root whose environment its name may tell; SCPs, roles and budgets to add."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from auditor.model import (
    AccountSnapshot,
    Budget,
    CredentialReportRow,
    IamData,
    IamRole,
    IamUser,
    Manifest,
    OrgAccount,
    Organization,
    OrganizationalUnit,
    OrgPolicy,
    Resource,
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


def trust(principal: str) -> dict[str, Any]:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]}


def org_snapshot(scps: tuple[OrgPolicy, ...] = (), roles: dict[str, tuple[IamRole, ...]] | None = None,
                 budgets: dict[str, tuple[Budget, ...]] | None = None, organization: bool = True,
                 misc_name: str = "misc", users: dict[str, tuple[IamUser, ...]] | None = None,
                 resources: dict[str, tuple[Resource, ...]] | None = None,
                 credential_report: dict[str, tuple[CredentialReportRow, ...]] | None = None) -> Snapshot:
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
    roles, budgets, users, resources = roles or {}, budgets or {}, users or {}, resources or {}
    reports = credential_report or {}
    accounts = tuple(
        AccountSnapshot(account_id=m.id, name=m.name,
                        iam=IamData(roles=roles.get(m.id, ()), users=users.get(m.id, ()),
                                    credential_report=reports.get(m.id)),
                        resources=resources.get(m.id, ()),
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


def scp(name: str, document: dict[str, Any], *targets: str) -> OrgPolicy:
    return OrgPolicy(id=f"p-{name}", arn=f"arn:aws:organizations::{MGMT}:policy/o-1/service_control_policy/p-{name}",
                     name=name, type="SERVICE_CONTROL_POLICY", document=document, target_ids=targets)


