"""IAM Identity Center (rules/identity_center.py): ADMIN-006 (full-admin permission sets assigned to production
accounts) and CRED-008 (IAM users beside central sign-in) on organisations built in code, each risky case beside
its benign twin."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from auditor.findings import Finding
from auditor.model import (
    AccountAssignment,
    AccountSnapshot,
    CredentialReportRow,
    CustomerManagedPolicyReference,
    IamData,
    IdentityCenter,
    IdentityStoreGroup,
    IdentityStoreUser,
    ManagedPolicy,
    Manifest,
    OrgAccount,
    Organization,
    PermissionSet,
    Snapshot,
)
from tests.rules.helpers import NOW, run_rule

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

MGMT, PROD, DEV, SHARED = "100000000000", "200000000000", "300000000000", "400000000000"
INSTANCE = "arn:aws:sso:::instance/ssoins-1"
PS_ADMIN = f"{INSTANCE}/ps-admin"
PS_INLINE_ADMIN = f"{INSTANCE}/ps-inline-admin"
PS_CUSTOM = f"{INSTANCE}/ps-custom"
PS_READER = f"{INSTANCE}/ps-reader"
PS_BOUNDED = f"{INSTANCE}/ps-bounded"
PS_CONDITIONAL_NOT_ACTION = f"{INSTANCE}/ps-notaction"
PS_IAM_FULL = f"{INSTANCE}/ps-iam-full"
PS_OPEN_BOUNDARY = f"{INSTANCE}/ps-open-boundary"
PS_CREATES_ADMIN = f"{INSTANCE}/ps-creates-admin"
PERMISSION_SETS = (
    PermissionSet(arn=PS_ADMIN, name="AdministratorAccess", session_duration="PT12H", managed_policy_arns=(ADMIN_ARN,)),
    PermissionSet(arn=PS_INLINE_ADMIN, name="InlineAdmin", session_duration="PT1H", inline_policy=ALLOW_ALL),
    PermissionSet(arn=PS_CUSTOM, name="CustomAdmin", session_duration="PT1H",
                  customer_managed_policy_refs=(CustomerManagedPolicyReference(name="platform-admin", path="/sso/"),)),
    PermissionSet(arn=PS_READER, name="ReadOnly", session_duration="PT4H", inline_policy=READ_ONLY,
                  managed_policy_arns=("arn:aws:iam::aws:policy/ReadOnlyAccess",)),
    PermissionSet(arn=PS_BOUNDED, name="BoundedAdmin", session_duration="PT1H", managed_policy_arns=(ADMIN_ARN,),
                  permissions_boundary={"ManagedPolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"}),
    # NotAction "iam:*" on "*" is broad but not "every action": not this rule's finding
    PermissionSet(arn=PS_CONDITIONAL_NOT_ACTION, name="PowerUser", session_duration="PT1H", inline_policy={
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]}),
    # iam:* is administrator: it can grant itself anything
    PermissionSet(arn=PS_IAM_FULL, name="IAMFull", session_duration="PT1H",
                  managed_policy_arns=("arn:aws:iam::aws:policy/IAMFullAccess",)),
    # a boundary that allows everything caps nothing
    PermissionSet(arn=PS_OPEN_BOUNDARY, name="OpenBoundaryAdmin", session_duration="PT1H",
                  managed_policy_arns=(ADMIN_ARN,), permissions_boundary={"ManagedPolicyArn": ADMIN_ARN}),
    # no iam:*, yet it may create a user, attach AdministratorAccess to it and create its key
    PermissionSet(arn=PS_CREATES_ADMIN, name="UserFactory", session_duration="PT1H", inline_policy={
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*", "Action": [
            "iam:CreateUser", "iam:AttachUserPolicy", "iam:CreateAccessKey"]}]}),
)
USERS = (IdentityStoreUser(user_id="u-alex", user_name="alex"), IdentityStoreUser(user_id="u-dana", user_name="dana"))
GROUPS = (IdentityStoreGroup(group_id="g-admins", display_name="platform-admins", member_user_ids=("u-alex", "u-dana")),
          IdentityStoreGroup(group_id="g-devs", display_name="developers", member_user_ids=("u-dana",)))


def _assign(account: str, permission_set: str, principal: str) -> AccountAssignment:
    kind: Literal["USER", "GROUP"] = "GROUP" if principal.startswith("g-") else "USER"
    return AccountAssignment(account_id=account, permission_set_arn=permission_set, principal_type=kind,
                             principal_id=principal)


def _center(*assignments: AccountAssignment) -> IdentityCenter:
    return IdentityCenter(instance_arn=INSTANCE, identity_store_id="d-1", permission_sets=PERMISSION_SETS,
                          assignments=assignments, users=USERS, groups=GROUPS)


def _row(account: str, user: str, **fields: Any) -> CredentialReportRow:
    return CredentialReportRow(user=user, arn=f"arn:aws:iam::{account}:user/{user}", **fields)


ROWS = {
    DEV: (
        CredentialReportRow(user="<root_account>", arn=f"arn:aws:iam::{DEV}:root", password_enabled=True),
        _row(DEV, "dave", password_enabled=True),
        _row(DEV, "frank", access_key_1_active=True, access_key_2_active=True),
        _row(DEV, "idle"),  # no password, no active key: nothing to sign in with
        _row(DEV, "retired", access_key_1_active=False),
    ),
    PROD: (_row(PROD, "ci", access_key_2_active=True, mfa_active=True),),
}


def _snapshot(center: IdentityCenter | None, custom_admin_document: dict[str, Any] = ALLOW_ALL) -> Snapshot:
    def member(account_id: str, name: str, tags: dict[str, str]) -> OrgAccount:
        return OrgAccount(id=account_id, arn=f"arn:aws:organizations::{MGMT}:account/o-1/{account_id}", name=name,
                          parent_id="r-1", tags=tags)

    accounts = (member(MGMT, "management", {}), member(PROD, "payments", {"Environment": "prod"}),
                member(DEV, "payments-dev", {"Environment": "dev"}),
                member(SHARED, "shared", {"Environment": "shared"}))
    org = Organization(id="o-1", arn=f"arn:aws:organizations::{MGMT}:organization/o-1", management_account_id=MGMT,
                       root_id="r-1", accounts=accounts, identity_center=center)
    custom = ManagedPolicy(arn=f"arn:aws:iam::{PROD}:policy/sso/platform-admin", name="platform-admin",
                           document=custom_admin_document, attachment_count=0)
    snapshots = tuple(
        AccountSnapshot(account_id=a.id, name=a.name, iam=IamData(
            credential_report=ROWS.get(a.id, ()), policies=(custom,) if a.id == PROD else ()))
        for a in accounts)
    manifest = Manifest(tool_version="0", created_at=NOW.isoformat(), mode="organization",
                        account_ids=tuple(a.id for a in accounts))
    return Snapshot(manifest=manifest, organization=org, accounts=snapshots)


def _findings(snapshot: Snapshot, rule_id: str) -> list[Finding]:
    return run_rule(rule_id, snapshot)


def _admin_006(snapshot: Snapshot) -> set[tuple[str, str, str, str]]:
    """(account, permission set, principal id, severity) of every ADMIN-006 finding."""
    return {(f.account_id, f.resource_arn, f.evidence["principal"]["id"], f.severity)
            for f in _findings(snapshot, "ADMIN-006")}


@pytest.mark.parametrize(
    ("case", "assignments", "expected"),
    [
        ("AWS managed AdministratorAccess on prod", [_assign(PROD, PS_ADMIN, "g-admins")],
         {(PROD, PS_ADMIN, "g-admins", "high")}),
        ("twin: same set on dev only", [_assign(DEV, PS_ADMIN, "g-admins")], set()),
        ("twin: same set on a shared-services account", [_assign(SHARED, PS_ADMIN, "g-admins")], set()),
        ("inline * on * to a user on prod", [_assign(PROD, PS_INLINE_ADMIN, "u-alex")],
         {(PROD, PS_INLINE_ADMIN, "u-alex", "high")}),
        ("customer managed admin policy resolved in the prod account", [_assign(PROD, PS_CUSTOM, "g-devs")],
         {(PROD, PS_CUSTOM, "g-devs", "high")}),
        ("twin: read-only set on prod", [_assign(PROD, PS_READER, "g-devs")], set()),
        ("twin: NotAction is not every action", [_assign(PROD, PS_CONDITIONAL_NOT_ACTION, "g-devs")], set()),
        ("twin: a PowerUserAccess boundary caps AdministratorAccess", [_assign(PROD, PS_BOUNDED, "g-admins")],
         set()),
        ("a boundary that allows everything caps nothing", [_assign(PROD, PS_OPEN_BOUNDARY, "g-admins")],
         {(PROD, PS_OPEN_BOUNDARY, "g-admins", "high")}),
        ("IAMFullAccess is administrator", [_assign(PROD, PS_IAM_FULL, "g-admins")],
         {(PROD, PS_IAM_FULL, "g-admins", "high")}),
        ("creating an admin user is administrator", [_assign(PROD, PS_CREATES_ADMIN, "g-admins")],
         {(PROD, PS_CREATES_ADMIN, "g-admins", "high")}),
        ("two principals on prod: two findings",
         [_assign(PROD, PS_ADMIN, "g-admins"), _assign(PROD, PS_ADMIN, "u-dana"), _assign(DEV, PS_READER, "g-devs")],
         {(PROD, PS_ADMIN, "g-admins", "high"), (PROD, PS_ADMIN, "u-dana", "high")}),
    ],
)
def test_admin_permission_set_on_prod(
    case: str, assignments: list[AccountAssignment], expected: set[tuple[str, str, str, str]]
) -> None:
    assert _admin_006(_snapshot(_center(*assignments))) == expected, case


def test_customer_managed_reference_that_is_not_admin_in_prod_is_no_finding() -> None:
    assert _admin_006(_snapshot(_center(_assign(PROD, PS_CUSTOM, "g-devs")), custom_admin_document=READ_ONLY)) == set()


def test_no_identity_center_no_admin_006() -> None:
    assert _admin_006(_snapshot(None)) == set()


def test_admin_006_message_and_evidence_name_the_group_and_the_non_prod_twin() -> None:
    snapshot = _snapshot(_center(_assign(PROD, PS_ADMIN, "g-admins"), _assign(DEV, PS_ADMIN, "g-admins"),
                                 _assign(SHARED, PS_ADMIN, "g-admins"), _assign(DEV, PS_ADMIN, "u-alex")))
    (finding,) = _findings(snapshot, "ADMIN-006")
    assert (finding.rule_id, finding.account_id, finding.resource_arn, finding.severity, finding.environment,
            finding.category) == ("ADMIN-006", PROD, PS_ADMIN, "high", "prod", "admin-overgrant")
    assert finding.message == (
        f"Permission set AdministratorAccess (full admin: AWS managed policy {ADMIN_ARN}) is assigned to group "
        f"platform-admins (2 members) on production account payments ({PROD}); the same principal holds it on "
        f"non-production account(s) payments-dev ({DEV})")
    assert finding.evidence == {
        "source_environment": "identity-center",
        "permission_set": {"arn": PS_ADMIN, "name": "AdministratorAccess"},
        "admin_through": [f"AWS managed policy {ADMIN_ARN}"],
        "principal": {"type": "GROUP", "id": "g-admins", "name": "platform-admins", "member_count": 2},
        "session_duration": "PT12H",
        "permissions_boundary": None,
        "also_assigned_non_prod_accounts": [DEV],
    }


def test_admin_006_names_a_user_principal() -> None:
    (finding,) = _findings(_snapshot(_center(_assign(PROD, PS_INLINE_ADMIN, "u-alex"))), "ADMIN-006")
    assert finding.message == (
        f"Permission set InlineAdmin (full admin: inline policy allows * on *) is assigned to user alex on "
        f"production account payments ({PROD})")
    assert finding.evidence["principal"] == {"type": "USER", "id": "u-alex", "name": "alex"}


def _cred_008(snapshot: Snapshot) -> dict[str, str]:
    return {f.resource_arn: f.message for f in _findings(snapshot, "CRED-008")}


def test_iam_users_beside_identity_center() -> None:
    found = _cred_008(_snapshot(_center(_assign(DEV, PS_READER, "g-devs"))))
    assert found == {
        f"arn:aws:iam::{DEV}:user/dave": f"IAM user dave in payments-dev ({DEV}) has a console password although "
        "the organisation signs people in through IAM Identity Center",
        f"arn:aws:iam::{DEV}:user/frank": f"IAM user frank in payments-dev ({DEV}) has 2 active access key(s) "
        "although the organisation signs people in through IAM Identity Center",
        f"arn:aws:iam::{PROD}:user/ci": f"IAM user ci in payments ({PROD}) has 1 active access key(s) although "
        "the organisation signs people in through IAM Identity Center",
    }
    (dave,) = [f for f in _findings(_snapshot(_center(_assign(DEV, PS_READER, "g-devs"))), "CRED-008")
               if f.resource_arn.endswith("/dave")]
    assert (dave.severity, dave.compliance) == ("medium", {"CIS-AWS-3.0.0": ("1.21",), "CIS-AWS-7.0.0": ("2.19",)})
    assert dave.evidence == {"user": "dave", "console_password": True, "mfa_active": False, "active_access_keys": 0,
                             "identity_center_instance": INSTANCE, "identity_center_assignments": 1}


@pytest.mark.parametrize(
    ("case", "center"),
    [
        ("no Identity Center", None),
        ("Identity Center enabled but nobody assigned: IAM users are still the only way in", _center()),
    ],
)
def test_no_cred_008_without_identity_center_in_use(case: str, center: IdentityCenter | None) -> None:
    assert _cred_008(_snapshot(center)) == {}, case
