"""IAM Identity Center: the collector against moto in-process (exact contents, call economy, errors as
coverage gaps) and the demo end to end. The rules on snapshots built in code: tests/rules/test_identity_center.py."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from auditor.model import (
    AccountAssignment,
    CoverageGap,
    CustomerManagedPolicyReference,
    IdentityCenter,
    IdentityStoreGroup,
    IdentityStoreUser,
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
