"""IAM Identity Center: the collector against moto in-process (exact contents, call economy, errors as
coverage gaps), CRED-008 and ADMIN-006 on snapshots built in code, and the demo end to end."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.ssoadmin.models import ssoadmin_backends

from auditor.analyze import RuleSelection, analyze
from auditor.collect import CollectOptions, collect
from auditor.collect.identity_center import collect_identity_center
from auditor.collect.session import ApiCallCounter, ClientFactory, Gaps
from auditor.config import AuditorConfig
from auditor.findings import Finding
from auditor.model import (
    AccountAssignment,
    AccountSnapshot,
    CoverageGap,
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
from auditor.snapshot import read_snapshot, write_snapshot
from tests.collect_helpers import MANAGEMENT, REGION, seed_org

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


# --- the collector on moto ----------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    prod: str
    dev: str
    instance_arn: str
    store_id: str
    admin_ps: str
    reader_ps: str
    alex: str
    dana: str
    admins: str
    empty: str


def _seed_identity_center(prod: str, dev: str) -> Seeded:
    sso: Any = boto3.client("sso-admin", region_name=REGION)
    store: Any = boto3.client("identitystore", region_name=REGION)
    instance = sso.list_instances()["Instances"][0]  # moto's default instance: there is no CreateInstance
    arn, store_id = instance["InstanceArn"], instance["IdentityStoreId"]
    admin = sso.create_permission_set(InstanceArn=arn, Name="Admin", SessionDuration="PT8H")[
        "PermissionSet"]["PermissionSetArn"]
    sso.attach_managed_policy_to_permission_set(InstanceArn=arn, PermissionSetArn=admin, ManagedPolicyArn=ADMIN_ARN)
    reader = sso.create_permission_set(InstanceArn=arn, Name="Reader", SessionDuration="PT1H")[
        "PermissionSet"]["PermissionSetArn"]
    sso.put_inline_policy_to_permission_set(InstanceArn=arn, PermissionSetArn=reader,
                                            InlinePolicy=json.dumps(READ_ONLY))
    sso.attach_customer_managed_policy_reference_to_permission_set(
        InstanceArn=arn, PermissionSetArn=reader,
        CustomerManagedPolicyReference={"Name": "read-buckets", "Path": "/team/"})
    alex = store.create_user(IdentityStoreId=store_id, UserName="alex", DisplayName="Alex",
                             Name={"GivenName": "Alex", "FamilyName": "A"})["UserId"]
    dana = store.create_user(IdentityStoreId=store_id, UserName="dana", DisplayName="Dana",
                             Name={"GivenName": "Dana", "FamilyName": "D"})["UserId"]
    admins = store.create_group(IdentityStoreId=store_id, DisplayName="admins")["GroupId"]
    empty = store.create_group(IdentityStoreId=store_id, DisplayName="nobody")["GroupId"]
    store.create_group_membership(IdentityStoreId=store_id, GroupId=admins, MemberId={"UserId": alex})
    for ps, account, kind, principal in ((admin, prod, "GROUP", admins), (admin, dev, "USER", dana),
                                         (reader, dev, "GROUP", admins)):
        sso.create_account_assignment(InstanceArn=arn, TargetId=account, TargetType="AWS_ACCOUNT",
                                      PermissionSetArn=ps, PrincipalType=kind, PrincipalId=principal)
        # AWS provisions on assignment; moto needs it said.
        sso.provision_permission_set(InstanceArn=arn, PermissionSetArn=ps, TargetType="AWS_ACCOUNT", TargetId=account)
    return Seeded(prod, dev, arn, store_id, admin, reader, alex, dana, admins, empty)


@pytest.fixture
def seeded() -> Iterator[Seeded]:
    with mock_aws():
        org = seed_org()
        yield _seed_identity_center(org.prod, org.dev)


def _collect(session: boto3.Session, seeded: Seeded, concurrency: int = 4) -> tuple[
        IdentityCenter | None, list[CoverageGap], dict[str, int]]:
    counter = ApiCallCounter()
    gaps = Gaps(MANAGEMENT)
    center = collect_identity_center(ClientFactory(session, MANAGEMENT, counter), (REGION,),
                                     (MANAGEMENT, seeded.prod, seeded.dev), gaps, concurrency)
    return center, gaps.items, counter.snapshot().get(MANAGEMENT, {})


def _expected(seeded: Seeded) -> IdentityCenter:
    return IdentityCenter(
        instance_arn=seeded.instance_arn,
        identity_store_id=seeded.store_id,
        permission_sets=(
            PermissionSet(arn=seeded.admin_ps, name="Admin", session_duration="PT8H", managed_policy_arns=(ADMIN_ARN,)),
            PermissionSet(arn=seeded.reader_ps, name="Reader", session_duration="PT1H", inline_policy=READ_ONLY,
                          customer_managed_policy_refs=(
                              CustomerManagedPolicyReference(name="read-buckets", path="/team/"),)),
        ),
        assignments=(
            AccountAssignment(account_id=seeded.prod, permission_set_arn=seeded.admin_ps, principal_type="GROUP",
                              principal_id=seeded.admins),
            AccountAssignment(account_id=seeded.dev, permission_set_arn=seeded.admin_ps, principal_type="USER",
                              principal_id=seeded.dana),
            AccountAssignment(account_id=seeded.dev, permission_set_arn=seeded.reader_ps, principal_type="GROUP",
                              principal_id=seeded.admins),
        ),
        users=(IdentityStoreUser(user_id=seeded.alex, user_name="alex"),
               IdentityStoreUser(user_id=seeded.dana, user_name="dana")),
        groups=(IdentityStoreGroup(group_id=seeded.admins, display_name="admins", member_user_ids=(seeded.alex,)),
                IdentityStoreGroup(group_id=seeded.empty, display_name="nobody")),
    )


BOUNDARY_GAP = "GetPermissionsBoundaryForPermissionSet"


@pytest.mark.parametrize("concurrency", [1, 4])
def test_collector_exact_contents_and_calls(seeded: Seeded, concurrency: int) -> None:
    center, gaps, calls = _collect(boto3.Session(), seeded, concurrency)
    assert center == _expected(seeded)
    # moto does not implement GetPermissionsBoundaryForPermissionSet: asked once, one gap, boundaries None.
    assert [(g.service, g.operation, g.error_code, g.region) for g in gaps] == [
        ("sso-admin", BOUNDARY_GAP, "NotImplemented", REGION)]
    assert "not asked again" in gaps[0].message
    assert calls == {
        "identitystore:ListGroupMemberships": 2,  # one per group
        "identitystore:ListGroups": 1,
        "identitystore:ListUsers": 1,
        "sso-admin:DescribePermissionSet": 2,  # one per permission set, as are the next three
        "sso-admin:GetInlinePolicyForPermissionSet": 2,
        "sso-admin:GetPermissionsBoundaryForPermissionSet": 1,
        "sso-admin:ListCustomerManagedPolicyReferencesInPermissionSet": 2,
        "sso-admin:ListInstances": 1,
        "sso-admin:ListManagedPoliciesInPermissionSet": 2,
        # one per account, then one per permission set provisioned to it (moto ignores AccountId here
        # and answers every provisioned set for every account: AWS answers only the account's own)
        "sso-admin:ListAccountAssignments": 6,
        "sso-admin:ListPermissionSetsProvisionedToAccount": 3,
        "sso-admin:ListPermissionSets": 1,
    }


def test_full_collection_puts_identity_center_on_the_organization(seeded: Seeded, tmp_path: Path) -> None:
    snapshot = collect(boto3.Session(), CollectOptions(regions=(REGION,)))
    assert snapshot.organization is not None
    center = snapshot.organization.identity_center
    assert center is not None
    expected = _expected(seeded)
    # accounts are visited in account-id order here, and moto's ids are random
    assert set(center.assignments) == set(expected.assignments)
    assert center.model_copy(update={"assignments": expected.assignments}) == expected
    assert [(g.service, g.operation) for g in snapshot.coverage if g.service == "sso-admin"] == [
        ("sso-admin", BOUNDARY_GAP)]
    assert snapshot.manifest.api_calls[MANAGEMENT]["sso-admin:ListPermissionSetsProvisionedToAccount"] == 3
    write_snapshot(snapshot, tmp_path / "snap")
    reread = read_snapshot(tmp_path / "snap").organization
    assert reread is not None and reread.identity_center == center


def _denied(operation: str, code: str = "AccessDeniedException") -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": f"not allowed: {operation}"},
                     "ResponseMetadata": {"HTTPStatusCode": 403}}
    return ClientError(response, operation)


def _refuse(session: boto3.Session, service: str, operation: str, code: str = "AccessDeniedException") -> None:
    def refuse(**_: Any) -> None:
        raise _denied(operation, code)

    session.events.register(f"before-call.{service}.{operation}", refuse)


@pytest.mark.parametrize(
    ("service", "operation", "expected_gaps", "check"),
    [
        # no instance readable: no Identity Center in the snapshot, one gap
        ("sso-admin", "ListInstances", [("sso-admin", "ListInstances")],
         lambda center, seeded: center is None),
        # assignments refused: asked once, not once per account, the rest is collected
        ("sso-admin", "ListAccountAssignments", [("sso-admin", BOUNDARY_GAP), ("sso-admin", "ListAccountAssignments")],
         lambda center, seeded: center.assignments == () and len(center.permission_sets) == 2
         and len(center.groups) == 2),
        ("sso-admin", "DescribePermissionSet", [("sso-admin", "DescribePermissionSet"), ("sso-admin", BOUNDARY_GAP)],
         lambda center, seeded: [p.name for p in center.permission_sets] == [
             seeded.admin_ps.rsplit("/", 1)[-1], seeded.reader_ps.rsplit("/", 1)[-1]]
         and center.permission_sets[0].managed_policy_arns == (ADMIN_ARN,)),
        ("identitystore", "ListUsers", [("sso-admin", BOUNDARY_GAP), ("identitystore", "ListUsers")],
         lambda center, seeded: center.users == () and len(center.groups) == 2 and len(center.assignments) == 3),
        ("identitystore", "ListGroupMemberships",
         [("sso-admin", BOUNDARY_GAP), ("identitystore", "ListGroupMemberships")],
         lambda center, seeded: [g.member_user_ids for g in center.groups] == [(), ()]),
    ],
)
def test_an_identity_center_error_is_a_coverage_gap(
    seeded: Seeded, service: str, operation: str, expected_gaps: list[tuple[str, str]],
    check: Callable[[Any, Seeded], bool],
) -> None:
    session = boto3.Session()
    _refuse(session, service, operation)
    center, gaps, _ = _collect(session, seeded)
    assert [(g.service, g.operation) for g in gaps] == expected_gaps
    refused = next(g for g in gaps if g.operation == operation)
    assert (refused.account_id, refused.error_code, refused.region) == (MANAGEMENT, "AccessDeniedException", REGION)
    assert check(center, seeded)


def test_a_throttled_call_is_one_gap_per_item_and_not_a_reason_to_stop(seeded: Seeded) -> None:
    session = boto3.Session()
    _refuse(session, "sso-admin", "GetInlinePolicyForPermissionSet", code="ThrottlingException")
    center, gaps, calls = _collect(session, seeded)
    inline_gaps = [g for g in gaps if g.operation == "GetInlinePolicyForPermissionSet"]
    assert [g.message for g in inline_gaps] == [
        f"{seeded.admin_ps}: not allowed: GetInlinePolicyForPermissionSet",
        f"{seeded.reader_ps}: not allowed: GetInlinePolicyForPermissionSet",
    ]
    assert calls["sso-admin:GetInlinePolicyForPermissionSet"] == 2
    assert center is not None and [p.inline_policy for p in center.permission_sets] == [None, None]


def test_an_endpoint_lacking_an_operation_is_asked_once(seeded: Seeded) -> None:
    session = boto3.Session()
    # moto's server answers an operation it lacks with a bare HTTP 500, which has no AWS error code
    _refuse(session, "sso-admin", BOUNDARY_GAP, code="500")
    center, gaps, calls = _collect(session, seeded)
    assert [(g.operation, g.error_code) for g in gaps] == [(BOUNDARY_GAP, "500")]
    assert calls[f"sso-admin:{BOUNDARY_GAP}"] == 1
    assert center is not None and [p.permissions_boundary for p in center.permission_sets] == [None, None]


def test_no_instance_means_no_identity_center_and_no_gap(seeded: Seeded) -> None:
    ssoadmin_backends[MANAGEMENT][REGION].instances.clear()  # moto always has one; AWS may have none
    center, gaps, calls = _collect(boto3.Session(), seeded)
    assert (center, gaps, calls) == (None, [], {"sso-admin:ListInstances": 1})


def test_single_account_mode_does_not_look_for_identity_center() -> None:
    with mock_aws():
        snapshot = collect(boto3.Session(), CollectOptions(regions=(REGION,)))
    assert snapshot.organization is None
    assert not any(op.startswith(("sso-admin:", "identitystore:"))
                   for ops in snapshot.manifest.api_calls.values() for op in ops)


# --- the rules on snapshots built in code ------------------------------------------------------------

NOW = datetime(2026, 11, 26, tzinfo=UTC)
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
    result = analyze(snapshot, AuditorConfig(), RuleSelection(only=(rule_id,)), now=NOW)
    assert not [gap for gap in result.coverage if gap.service == "auditor"], result.coverage
    return list(result.findings)


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


# --- the demo, end to end -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_snapshot() -> Snapshot:
    from auditor.demo_run import collect_demo

    with pytest.MonkeyPatch.context() as env:
        env.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
        env.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        return collect_demo()


def test_demo_identity_center_is_collected(demo_snapshot: Snapshot) -> None:
    org = demo_snapshot.organization
    assert org is not None and org.identity_center is not None
    center = org.identity_center
    names = {a.id: a.name for a in org.accounts}
    by_arn = {p.arn: p for p in center.permission_sets}
    assert {(p.name, p.session_duration, p.managed_policy_arns, p.inline_policy is not None)
            for p in center.permission_sets} == {
        ("AdministratorAccess", "PT8H", (ADMIN_ARN,), False), ("ReadOnly", "PT4H", (), True)}
    groups = {g.group_id: g for g in center.groups}
    users = {u.user_id: u.user_name for u in center.users}
    assert {g.display_name: [users[m] for m in g.member_user_ids] for g in center.groups} == {
        "platform-admins": ["alex.admin"], "developers": ["dana.dev"]}
    assert sorted((names[a.account_id], by_arn[a.permission_set_arn].name, a.principal_type,
                   groups[a.principal_id].display_name) for a in center.assignments) == [
        ("dev-app", "AdministratorAccess", "GROUP", "platform-admins"),
        ("dev-app", "ReadOnly", "GROUP", "developers"),
        ("prod-app", "AdministratorAccess", "GROUP", "platform-admins"),
    ]
    # the only Identity Center gap is the operation moto lacks
    assert [(g.service, g.operation, g.error_code) for g in demo_snapshot.coverage
            if g.service in ("sso-admin", "identitystore")] == [("sso-admin", BOUNDARY_GAP, "NotImplemented")]


def test_demo_findings(demo_snapshot: Snapshot) -> None:
    result = analyze(demo_snapshot, AuditorConfig(), RuleSelection(only=("ADMIN-006", "CRED-008")))
    org = demo_snapshot.organization
    assert org is not None
    names = {a.id: a.name for a in org.accounts}
    admin = [f for f in result.findings if f.rule_id == "ADMIN-006"]
    assert [(names[f.account_id], f.evidence["permission_set"]["name"], f.evidence["principal"]["name"],
             [names[a] for a in f.evidence["also_assigned_non_prod_accounts"]]) for f in admin] == [
        ("prod-app", "AdministratorAccess", "platform-admins", ["dev-app"])]
    credentials = {(names.get(f.account_id, f.account_id), f.resource_arn.split("/")[-1])
                   for f in result.findings if f.rule_id == "CRED-008"}
    # moto names the management account "master"
    assert credentials == {("master", "mgmt-admin"), ("dev-app", "dave"), ("dev-app", "erin"),
                           ("dev-app", "frank"), ("dev-app", "grace")}
