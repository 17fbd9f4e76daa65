"""Builders of Snapshot objects in code, for the IAM evaluation, escalation and graph tests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from auditor.model import (
    AccountSnapshot,
    CredentialReportRow,
    IamData,
    IamGroup,
    IamRole,
    IamUser,
    InlinePolicy,
    ManagedPolicy,
    Manifest,
    OrgAccount,
    Organization,
    OrganizationalUnit,
    OrgPolicy,
    Resource,
    Snapshot,
)

MGMT = "111111111111"
SHARED = "222222222222"
PROD = "333333333333"
DEV = "444444444444"
SECURITY = "555555555555"
EXTERNAL = "999999999999"
ORG_ID = "o-abcdefghij"
ROOT_ID = "r-ab12"

ENVIRONMENTS = {MGMT: "security", SHARED: "non-prod", PROD: "prod", DEV: "non-prod", SECURITY: "security"}

ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
FULL_AWS_ACCESS = ADMIN


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def trust(
    principal: str | Mapping[str, Any],
    action: str = "sts:AssumeRole",
    condition: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A trust policy with one statement; a bare string principal is an AWS principal."""
    principal_element: Any = {"AWS": principal} if isinstance(principal, str) and principal != "*" else principal
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal_element, "Action": action}
    if condition:
        statement["Condition"] = dict(condition)
    return doc(statement)


def root(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:root"


def user_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:user/{name}"


def role_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{name}"


def policy_arn(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:policy/{name}"


def _inline(policies: Mapping[str, dict[str, Any]] | None) -> tuple[InlinePolicy, ...]:
    return tuple(InlinePolicy(name=n, document=d) for n, d in (policies or {}).items())


def user(
    account_id: str,
    name: str,
    *,
    inline: Mapping[str, dict[str, Any]] | None = None,
    attached: Iterable[str] = (),
    groups: Iterable[str] = (),
    boundary: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> IamUser:
    return IamUser(
        arn=user_arn(account_id, name),
        name=name,
        group_names=tuple(groups),
        inline_policies=_inline(inline),
        attached_policy_arns=tuple(attached),
        permission_boundary_arn=boundary,
        tags=dict(tags or {}),
    )


def role(
    account_id: str,
    name: str,
    trust_policy: dict[str, Any] | None = None,
    *,
    inline: Mapping[str, dict[str, Any]] | None = None,
    attached: Iterable[str] = (),
    boundary: str | None = None,
    path: str = "/",
    tags: Mapping[str, str] | None = None,
) -> IamRole:
    return IamRole(
        arn=role_arn(account_id, name),
        name=name,
        path=path,
        trust_policy=trust_policy or doc(),
        inline_policies=_inline(inline),
        attached_policy_arns=tuple(attached),
        permission_boundary_arn=boundary,
        tags=dict(tags or {}),
    )


def group(
    account_id: str,
    name: str,
    *,
    inline: Mapping[str, dict[str, Any]] | None = None,
    attached: Iterable[str] = (),
) -> IamGroup:
    return IamGroup(
        arn=f"arn:aws:iam::{account_id}:group/{name}",
        name=name,
        inline_policies=_inline(inline),
        attached_policy_arns=tuple(attached),
    )


def managed(account_id: str, name: str, document: dict[str, Any]) -> ManagedPolicy:
    return ManagedPolicy(arn=policy_arn(account_id, name), name=name, document=document, attachment_count=1)


def aws_managed(name: str, document: dict[str, Any]) -> ManagedPolicy:
    return ManagedPolicy(arn=f"arn:aws:iam::aws:policy/{name}", name=name, document=document, aws_managed=True)


def resource(
    arn: str, type_: str, *, policy: dict[str, Any] | None = None, role: str | None = None, name: str = ""
) -> Resource:
    return Resource(
        arn=arn,
        type=type_,
        region="us-east-1",
        name=name or arn.rsplit(":", 1)[-1],
        policy=policy,
        role_arn=role,
    )


def mfa_row(account_id: str, name: str, mfa_active: bool) -> CredentialReportRow:
    return CredentialReportRow(user=name, arn=user_arn(account_id, name), mfa_active=mfa_active)


def account(
    account_id: str,
    *,
    users: Iterable[IamUser] = (),
    roles: Iterable[IamRole] = (),
    groups: Iterable[IamGroup] = (),
    policies: Iterable[ManagedPolicy] = (),
    resources: Iterable[Resource] = (),
    credential_report: Iterable[CredentialReportRow] | None = None,
) -> AccountSnapshot:
    return AccountSnapshot(
        account_id=account_id,
        name=f"acct-{account_id[-4:]}",
        iam=IamData(
            users=tuple(users),
            roles=tuple(roles),
            groups=tuple(groups),
            policies=tuple(policies),
            credential_report=tuple(credential_report) if credential_report is not None else None,
        ),
        resources=tuple(resources),
    )


# OU layout used by default: Root -> Workloads -> {Prod, NonProd}; Root -> Security.
DEFAULT_OUS = (
    ("ou-ab12-work", "Workloads", ROOT_ID),
    ("ou-ab12-prod", "Prod", "ou-ab12-work"),
    ("ou-ab12-nonp", "NonProd", "ou-ab12-work"),
    ("ou-ab12-secu", "Security", ROOT_ID),
)
DEFAULT_PLACEMENT = {
    MGMT: ROOT_ID,
    SHARED: "ou-ab12-nonp",
    DEV: "ou-ab12-nonp",
    PROD: "ou-ab12-prod",
    SECURITY: "ou-ab12-secu",
}


def organization(
    *,
    scps: Iterable[tuple[str, dict[str, Any], Iterable[str]]] = (),
    rcps: Iterable[tuple[str, dict[str, Any], Iterable[str]]] = (),
    placement: Mapping[str, str] | None = None,
    full_aws_access: bool = True,
) -> Organization:
    """An organisation with FullAWSAccess on every target (unless disabled) plus the given SCPs/RCPs."""
    placement = dict(placement or DEFAULT_PLACEMENT)
    ous = tuple(
        OrganizationalUnit(id=i, arn=f"arn:aws:organizations::{MGMT}:ou/{ORG_ID}/{i}", name=n, parent_id=p)
        for i, n, p in DEFAULT_OUS
    )
    accounts = tuple(
        OrgAccount(
            id=a,
            arn=f"arn:aws:organizations::{MGMT}:account/{ORG_ID}/{a}",
            name=f"acct-{a[-4:]}",
            parent_id=parent,
        )
        for a, parent in placement.items()
    )
    all_targets = (ROOT_ID, *(ou.id for ou in ous), *placement)
    policies: list[OrgPolicy] = []
    if full_aws_access:
        policies.append(
            OrgPolicy(
                id="p-FullAWSAccess",
                arn="arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
                name="FullAWSAccess",
                type="SERVICE_CONTROL_POLICY",
                aws_managed=True,
                document=FULL_AWS_ACCESS,
                target_ids=all_targets,
            )
        )
    for n, (name, document, targets) in enumerate(scps):
        policies.append(
            OrgPolicy(
                id=f"p-scp{n}",
                arn=f"arn:aws:organizations::{MGMT}:policy/{ORG_ID}/scp/p-scp{n}",
                name=name,
                type="SERVICE_CONTROL_POLICY",
                document=document,
                target_ids=tuple(targets),
            )
        )
    for n, (name, document, targets) in enumerate(rcps):
        policies.append(
            OrgPolicy(
                id=f"p-rcp{n}",
                arn=f"arn:aws:organizations::{MGMT}:policy/{ORG_ID}/rcp/p-rcp{n}",
                name=name,
                type="RESOURCE_CONTROL_POLICY",
                document=document,
                target_ids=tuple(targets),
            )
        )
    return Organization(
        id=ORG_ID,
        arn=f"arn:aws:organizations::{MGMT}:organization/{ORG_ID}",
        management_account_id=MGMT,
        root_id=ROOT_ID,
        organizational_units=ous,
        accounts=accounts,
        policies=tuple(policies),
    )


def snapshot(*accounts: AccountSnapshot, org: Organization | None = None) -> Snapshot:
    return Snapshot(
        manifest=Manifest(
            tool_version="test",
            created_at="2026-01-01T00:00:00Z",
            mode="organization" if org else "single-account",
            account_ids=tuple(a.account_id for a in accounts),
        ),
        organization=org,
        accounts=tuple(accounts),
    )
