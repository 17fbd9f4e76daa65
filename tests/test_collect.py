"""Collectors against an in-process moto organisation: exact snapshot contents, single-account
mode, accounts whose role cannot be assumed, denied services, and missing credentials."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import botocore.handlers
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.exceptions import ClientError
from moto import mock_aws

from auditor.cli import main
from auditor.collect import CollectOptions, collect
from auditor.collect import iam as iam_collector
from auditor.collect import run as collector_run
from auditor.collect.iam import CredentialReport, parse_credential_report, policy_document
from auditor.collect.resources import resource_type_and_name
from auditor.collect.session import Gaps
from auditor.errors import UserError
from auditor.model import Budget, CoverageGap, InlinePolicy, Snapshot
from auditor.snapshot import read_snapshot
from tests.collect_helpers import (
    BOUNDARY,
    BUCKET_POLICY,
    DENY_LEAVE,
    KEY_POLICY,
    MANAGEMENT,
    QUEUE_POLICY,
    READ_BUCKETS,
    REGION,
    SECRET_POLICY,
    TOPIC_POLICY,
    TRUST_EC2,
    USER_INLINE,
    SeededOrg,
    SeededProd,
    hook_every_session,
    member_session,
    seed_org,
    seed_prod,
)

STANDALONE = "210987654321"  # an account outside the organisation
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"


@dataclass(frozen=True)
class World:
    org: SeededOrg
    prod: SeededProd
    snapshot: Snapshot


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One seeded moto organisation and one full collection of it, shared by this module's tests."""
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", REGION)
        env.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        with mock_aws():
            org = seed_org()
            prod = seed_prod(member_session(org.prod))
            yield World(org, prod, collect(boto3.Session(), CollectOptions(regions=(REGION,))))


def denied(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "AccessDenied", "Message": f"not allowed: {operation}"},
         "ResponseMetadata": {"HTTPStatusCode": 403}},
        operation,
    )


# --- the full organisation -------------------------------------------------------------------


def test_manifest(world: World) -> None:
    manifest = world.snapshot.manifest
    assert manifest.mode == "organization"
    assert manifest.caller_account_id == MANAGEMENT
    assert manifest.caller_arn.startswith(f"arn:aws:sts::{MANAGEMENT}:")
    assert manifest.role_name == "SecurityAuditRole"
    assert manifest.regions == (REGION,)
    members = sorted([world.org.prod, world.org.dev, world.org.suspended])
    assert manifest.account_ids == (MANAGEMENT, *members)
    assert [a.account_id for a in world.snapshot.accounts] == list(manifest.account_ids)
    assert set(manifest.api_calls) == {MANAGEMENT, world.org.prod, world.org.dev}
    # each AssumeRole is booked under the account it opens, not under the caller that sends it
    assert "sts:AssumeRole" not in manifest.api_calls[MANAGEMENT]
    assert [manifest.api_calls[a]["sts:AssumeRole"] for a in (world.org.prod, world.org.dev)] == [1, 1]
    assert manifest.api_calls[world.org.prod]["iam:GetAccountAuthorizationDetails"] == 1


@pytest.mark.parametrize(
    ("account", "path"),
    [("management", "/Root"), ("prod", "/Root/Workloads/Prod"), ("dev", "/Root/Workloads/Dev"),
     ("suspended", "/Root")],
)
def test_ou_paths(world: World, account: str, path: str) -> None:
    account_id = MANAGEMENT if account == "management" else getattr(world.org, account)
    organization = world.snapshot.organization
    assert organization is not None
    assert organization.ou_path_names(account_id) == path


def test_organization(world: World) -> None:
    organization = world.snapshot.organization
    assert organization is not None
    assert organization.management_account_id == MANAGEMENT
    assert organization.root_id == world.org.root_id
    assert organization.root_tags == {"owner": "platform"}
    assert {ou.name: (ou.parent_id, ou.tags) for ou in organization.organizational_units} == {
        "Workloads": (world.org.root_id, {"tier": "workloads"}),
        "Prod": (world.org.workloads_ou, {}),
        "Dev": (world.org.workloads_ou, {}),
    }
    assert {a.id: (a.name, a.status, a.parent_id, a.tags) for a in organization.accounts} == {
        MANAGEMENT: ("master", "ACTIVE", world.org.root_id, {}),
        world.org.prod: ("prod", "ACTIVE", world.org.prod_ou, {"env": "prod"}),
        world.org.dev: ("dev", "ACTIVE", world.org.dev_ou, {"env": "dev"}),
        world.org.suspended: ("old", "SUSPENDED", world.org.root_id, {"env": "sandbox"}),
    }
    by_name = {p.name: p for p in organization.policies}
    assert set(by_name) == {"FullAWSAccess", "DenyLeave", "RCPFullAWSAccess"}
    scp = by_name["DenyLeave"]
    assert (scp.id, scp.type, scp.aws_managed, scp.document, scp.target_ids) == (
        world.org.scp_id, "SERVICE_CONTROL_POLICY", False, DENY_LEAVE, (world.org.workloads_ou,)
    )
    assert by_name["RCPFullAWSAccess"].type == "RESOURCE_CONTROL_POLICY"
    assert world.org.root_id in by_name["FullAWSAccess"].target_ids
    assert organization.delegated_administrators == ()


def test_suspended_account_is_a_gap_not_an_audit(world: World) -> None:
    suspended = world.snapshot.account(world.org.suspended)
    assert suspended is not None
    assert (suspended.audited, suspended.name, suspended.iam, suspended.budgets) == (False, "old", None, None)
    assert world.snapshot.coverage == (
        CoverageGap(account_id=MANAGEMENT, service="organizations", operation="ListAccountsForParent",
                    error_code="AccountSuspended",
                    message=f"account {world.org.suspended} is SUSPENDED: not audited"),
    )


def test_iam_users_and_groups(world: World) -> None:
    prod = world.snapshot.account(world.org.prod)
    assert prod is not None and prod.iam is not None
    read_arn = f"arn:aws:iam::{world.org.prod}:policy/read-buckets"
    (alice,) = prod.iam.users
    assert (alice.arn, alice.name, alice.group_names, alice.inline_policies, alice.attached_policy_arns,
            alice.permission_boundary_arn, alice.tags) == (
        world.prod.user_arn, "alice", ("admins",), (InlinePolicy(name="ec2-read", document=USER_INLINE),),
        (read_arn,), None, {"team": "ops"},
    )
    (admins,) = prod.iam.groups
    assert (admins.name, admins.inline_policies, admins.attached_policy_arns) == (
        "admins", (InlinePolicy(name="describe", document=USER_INLINE),), (ADMIN_ARN,)
    )


def test_iam_roles(world: World) -> None:
    prod = world.snapshot.account(world.org.prod)
    assert prod is not None and prod.iam is not None
    roles = {role.name: role for role in prod.iam.roles}
    assert set(roles) == {"OrganizationAccountAccessRole", "app"}
    app = roles["app"]
    assert (app.arn, app.trust_policy, app.inline_policies, app.attached_policy_arns,
            app.permission_boundary_arn, app.instance_profile_arns, app.tags, app.last_used) == (
        world.prod.role_arn, TRUST_EC2, (InlinePolicy(name="inline", document=USER_INLINE),),
        (f"arn:aws:iam::{world.org.prod}:policy/read-buckets",),
        f"arn:aws:iam::{world.org.prod}:policy/boundary",
        (world.prod.instance_profile_arn,), {"env": "prod"}, None,
    )
    assert roles["OrganizationAccountAccessRole"].trust_policy["Statement"][0]["Principal"] == {
        "AWS": f"arn:aws:iam::{MANAGEMENT}:root"
    }


def test_managed_policies_keep_customer_ones_and_attached_aws_ones(world: World) -> None:
    prod = world.snapshot.account(world.org.prod)
    assert prod is not None and prod.iam is not None
    policies = {p.name: (p.arn, p.aws_managed, p.attachment_count) for p in prod.iam.policies}
    account = world.org.prod
    assert policies == {
        "AdministratorAccess": (ADMIN_ARN, True, 1),  # ReadOnlyAccess exists but is attached to nothing
        "read-buckets": (f"arn:aws:iam::{account}:policy/read-buckets", False, 2),
        "boundary": (f"arn:aws:iam::{account}:policy/boundary", False, 0),
        "unused": (f"arn:aws:iam::{account}:policy/team/unused", False, 0),
    }
    documents = {p.name: p.document for p in prod.iam.policies}
    assert (documents["read-buckets"], documents["boundary"]) == (READ_BUCKETS, BOUNDARY)
    assert documents["AdministratorAccess"]["Statement"][0]["Action"] == "*"


def test_credential_report_summary_and_password_policy(world: World) -> None:
    prod = world.snapshot.account(world.org.prod)
    assert prod is not None and prod.iam is not None and prod.iam.credential_report is not None
    (row,) = prod.iam.credential_report
    assert (row.user, row.arn, row.password_enabled, row.mfa_active, row.access_key_1_active,
            row.access_key_1_last_used_date, row.access_key_2_active, row.access_key_2_last_rotated) == (
        "alice", world.prod.user_arn, False, False, True, None, False, None,
    )
    assert row.access_key_1_last_rotated is not None
    assert (prod.iam.account_summary["Users"], prod.iam.account_summary["Roles"]) == (1, 2)
    assert prod.iam.password_policy is None
    # the report's own time is kept: IAM hands back a report up to four hours old instead of a new one
    assert prod.iam.credential_report_generated_at == "2015-02-02T20:02:02+00:00"  # moto's fixed GeneratedTime


def test_resources_include_untagged_ones_once(world: World) -> None:
    prod = world.snapshot.account(world.org.prod)
    assert prod is not None
    a, p = world.org.prod, world.prod
    got = [(r.arn, r.type, r.region, r.name, r.tags, r.role_arn, r.policy) for r in prod.resources]
    # Defect 8: an instance runs as the ROLE of its instance profile (resolved through the account's IAM
    # data); the profile ARN is kept beside it, and nothing else carries one.
    profiles = {r.arn: r.instance_profile_arn for r in prod.resources if r.instance_profile_arn}
    assert profiles == {f"arn:aws:ec2:{REGION}:{a}:instance/{p.instance_id}": p.instance_profile_arn}
    expected = [
        (f"arn:aws:dynamodb:{REGION}:{a}:table/orders", "dynamodb:table", REGION, "orders",
         {"team": "orders"}, None, None),
        (f"arn:aws:ec2:{REGION}:{a}:instance/{p.instance_id}", "ec2:instance", REGION, "web",
         {"Name": "web"}, p.role_arn, None),
        (f"arn:aws:ec2:{REGION}:{a}:volume/{p.root_volume_id}", "ec2:volume", REGION, p.root_volume_id,
         {}, None, None),
        (f"arn:aws:ec2:{REGION}:{a}:volume/{p.data_volume_id}", "ec2:volume", REGION, "data",
         {"Name": "data"}, None, None),
        (p.function_arn, "lambda:function", REGION, "worker", {"env": "prod"}, p.role_arn, None),
        ("arn:aws:s3:::prod-data", "s3:bucket", REGION, "prod-data", {"env": "prod"}, None, BUCKET_POLICY),
        ("arn:aws:s3:::prod-logs", "s3:bucket", REGION, "prod-logs", {}, None, None),
        (p.key_arn, "kms:key", REGION, "alias/app", {"env": "prod"}, None, KEY_POLICY),
        # A key always has a key policy: without one given, AWS (and moto) attach the default one.
        (p.bare_key_arn, "kms:key", REGION, p.bare_key_arn.rsplit("/", 1)[-1], {}, None, default_key_policy(a)),
        (f"arn:aws:sqs:{REGION}:{a}:jobs", "sqs:queue", REGION, "jobs", {"env": "prod"}, None, QUEUE_POLICY),
        (f"arn:aws:sqs:{REGION}:{a}:scratch", "sqs:queue", REGION, "scratch", {}, None, None),
        (f"arn:aws:sns:{REGION}:{a}:alerts", "sns:topic", REGION, "alerts", {"env": "prod"}, None, TOPIC_POLICY),
        # Likewise a topic always has a policy: the default one lets only the owner account in.
        (f"arn:aws:sns:{REGION}:{a}:bare", "sns:topic", REGION, "bare", {}, None, default_topic_policy(a, "bare")),
        (p.secret_arn, "secretsmanager:secret", REGION, "db-password", {"env": "prod"}, None, SECRET_POLICY),
        (p.bare_secret_arn, "secretsmanager:secret", REGION, "api-token", {}, None, None),
    ]
    assert got == sorted(expected, key=lambda resource: str(resource[0]))
    assert p.aws_managed_key_arn not in {r.arn for r in prod.resources}
    management = world.snapshot.account(MANAGEMENT)
    assert management is not None and management.resources == ()


def default_key_policy(account: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Id": "key-default-1", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*", "Resource": "*"}]}


def default_topic_policy(account: str, topic: str) -> dict[str, Any]:
    return {"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [{
        "Effect": "Allow", "Sid": "__default_statement_ID", "Principal": {"AWS": "*"},
        "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                   "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
        "Resource": f"arn:aws:sns:{REGION}:{account}:{topic}",
        "Condition": {"StringEquals": {"AWS:SourceOwner": account}}}]}


def test_resource_policy_reads_per_region(world: World) -> None:
    calls = world.snapshot.manifest.api_calls[world.org.prod]
    policy_reads = ("kms:ListKeys", "kms:ListAliases", "kms:GetKeyPolicy", "sqs:ListQueues",
                    "sqs:GetQueueAttributes", "sns:ListTopics", "sns:GetTopicAttributes",
                    "secretsmanager:ListSecrets", "secretsmanager:GetResourcePolicy")
    # one listing page each, then one policy read per resource; the AWS managed key's policy is never read
    assert {op: calls.get(op, 0) for op in policy_reads} == {
        "kms:ListKeys": 1, "kms:ListAliases": 1, "kms:GetKeyPolicy": 2, "sqs:ListQueues": 1,
        "sqs:GetQueueAttributes": 2, "sns:ListTopics": 1, "sns:GetTopicAttributes": 2,
        "secretsmanager:ListSecrets": 1, "secretsmanager:GetResourcePolicy": 2}
    assert "kms:DescribeKey" not in calls


# Per-resource reads that GetResources (tags) or the resource's name (DynamoDB ARN) make unneeded.
PER_RESOURCE_TAG_READS = ("s3:GetBucketTagging", "lambda:ListTags", "dynamodb:ListTagsOfResource",
                          "kms:ListResourceTags", "sqs:ListQueueTags", "sns:ListTagsForResource")


def test_tags_come_from_get_resources(world: World) -> None:
    calls = world.snapshot.manifest.api_calls[world.org.prod]
    assert [op for op in (*PER_RESOURCE_TAG_READS, "dynamodb:DescribeTable") if op in calls] == []
    assert calls["resourcegroupstaggingapi:GetResources"] == 1
    assert (calls["iam:GenerateCredentialReport"], calls["iam:GetCredentialReport"]) == (1, 1)
    prod = world.snapshot.account(world.org.prod)
    assert prod is not None
    tags = {r.name: r.tags for r in prod.resources if r.type in ("s3:bucket", "lambda:function", "dynamodb:table")}
    assert tags == {"prod-data": {"env": "prod"}, "prod-logs": {}, "worker": {"env": "prod"},
                    "orders": {"team": "orders"}}


def test_get_resources_denied_falls_back_to_per_resource_tag_reads(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def deny(**_: Any) -> None:
        raise denied("GetResources")

    hook_every_session(monkeypatch, "before-parameter-build.resource-groups-tagging-api.GetResources", deny)
    snapshot = collect(boto3.Session(), CollectOptions(regions=(REGION,), accounts=(world.org.prod,)))
    assert snapshot.coverage == (
        CoverageGap(account_id=world.org.prod, service="resourcegroupstaggingapi", region=REGION,
                    operation="GetResources", error_code="AccessDenied", message="not allowed: GetResources"),
    )
    prod, baseline = snapshot.account(world.org.prod), world.snapshot.account(world.org.prod)
    assert prod is not None and baseline is not None
    # Nothing is lost: every service is listed on its own, and tags are read per resource instead.
    assert prod.resources == baseline.resources
    calls = snapshot.manifest.api_calls[world.org.prod]
    assert {op: calls.get(op, 0) for op in PER_RESOURCE_TAG_READS} == {
        "s3:GetBucketTagging": 2, "lambda:ListTags": 1, "dynamodb:ListTagsOfResource": 1,
        "kms:ListResourceTags": 2, "sqs:ListQueueTags": 2, "sns:ListTagsForResource": 2}
    assert "dynamodb:DescribeTable" not in calls


def test_buckets_outside_the_audited_regions_read_their_own_tags(world: World) -> None:
    # GetResources is regional in AWS: an eu-west-1 audit cannot learn us-east-1 buckets' tags from it
    # (moto answers them everywhere; the collector must not rely on that).
    snapshot = collect(boto3.Session(), CollectOptions(accounts=(world.org.prod,), regions=("eu-west-1",)))
    assert snapshot.coverage == ()
    prod = snapshot.account(world.org.prod)
    assert prod is not None
    buckets = {r.name: (r.region, r.tags) for r in prod.resources if r.type == "s3:bucket"}
    assert buckets == {"prod-data": (REGION, {"env": "prod"}), "prod-logs": (REGION, {})}
    calls = snapshot.manifest.api_calls[world.org.prod]
    assert (calls["s3:GetBucketTagging"], calls["resourcegroupstaggingapi:GetResources"]) == (2, 1)


@pytest.mark.parametrize(
    ("event", "service", "operation", "lost"),
    [
        ("kms.ListKeys", "kms", "ListKeys", "kms:key"),
        ("kms.ListAliases", "kms", "ListAliases", "kms:key"),
        ("sqs.ListQueues", "sqs", "ListQueues", "sqs:queue"),
        ("sns.ListTopics", "sns", "ListTopics", "sns:topic"),
        ("secrets-manager.ListSecrets", "secretsmanager", "ListSecrets", "secretsmanager:secret"),
    ],
)
def test_one_denied_listing_is_one_gap_and_the_rest_is_collected(
    world: World, monkeypatch: pytest.MonkeyPatch, event: str, service: str, operation: str, lost: str
) -> None:
    def deny(**_: Any) -> None:
        raise denied(operation)

    hook_every_session(monkeypatch, f"before-parameter-build.{event}", deny)
    snapshot = collect(boto3.Session(), CollectOptions(regions=(REGION,), accounts=(world.org.prod,)))
    assert snapshot.coverage == (
        CoverageGap(account_id=world.org.prod, service=service, region=REGION, operation=operation,
                    error_code="AccessDenied", message=f"not allowed: {operation}"),
    )
    prod, baseline = snapshot.account(world.org.prod), world.snapshot.account(world.org.prod)
    assert prod is not None and baseline is not None
    assert [r for r in prod.resources if r.type != lost] == [r for r in baseline.resources if r.type != lost]
    # What GetResources knows of the lost kind stays, without its policy: only tagged resources.
    tagged_only = [(r.arn, r.tags, r.policy) for r in prod.resources if r.type == lost]
    assert tagged_only == [(r.arn, r.tags, None) for r in baseline.resources if r.type == lost and r.tags]
    assert len(tagged_only) == 1


@pytest.mark.parametrize("iam_denied", [True, False])
def test_instance_role_without_iam_data_is_unknown_and_a_gap(
    world: World, monkeypatch: pytest.MonkeyPatch, iam_denied: bool
) -> None:
    """Defect 8's twin: without GetAccountAuthorizationDetails the profile's role cannot be resolved; the
    instance keeps its profile, has no role, and the reader is told why (benign twin: IAM answered)."""
    def deny(**_: Any) -> None:
        if iam_denied:
            raise denied("GetAccountAuthorizationDetails")

    hook_every_session(monkeypatch, "before-parameter-build.iam.GetAccountAuthorizationDetails", deny)
    snapshot = collect(boto3.Session(), CollectOptions(regions=(REGION,), accounts=(world.org.prod,)))
    prod = snapshot.account(world.org.prod)
    assert prod is not None
    (instance,) = [r for r in prod.resources if r.type == "ec2:instance"]
    assert (instance.instance_profile_arn, instance.role_arn) == (
        world.prod.instance_profile_arn, None if iam_denied else world.prod.role_arn)
    assert [(g.operation, g.error_code, g.region) for g in snapshot.coverage] == (
        [("GetAccountAuthorizationDetails", "AccessDenied", "global"),
         ("GetAccountAuthorizationDetails", "RoleUnresolved", REGION)] if iam_denied else [])


@pytest.mark.parametrize(
    ("event", "service", "operation", "resource", "policy_kept"),
    [
        ("kms.GetKeyPolicy", "kms", "GetKeyPolicy", "alias/app", False),
        ("sqs.GetQueueAttributes", "sqs", "GetQueueAttributes", "jobs", False),
        ("sns.GetTopicAttributes", "sns", "GetTopicAttributes", "alerts", False),
        ("secrets-manager.GetResourcePolicy", "secretsmanager", "GetResourcePolicy", "db-password", False),
        ("sqs.GetQueueAttributes", "sqs", "GetQueueAttributes", "scratch", True),  # benign twin: other queue
    ],
)
def test_a_denied_policy_read_is_a_gap_naming_the_resource(
    world: World, monkeypatch: pytest.MonkeyPatch, event: str, service: str, operation: str, resource: str,
    policy_kept: bool,
) -> None:
    def deny_one(params: dict[str, Any], **_: Any) -> None:
        target = str(params.get("KeyId") or params.get("QueueUrl") or params.get("TopicArn")
                     or params.get("SecretId"))
        if target.endswith(("/jobs", ":alerts")) or target in (world.prod.key_arn.rsplit("/", 1)[-1],
                                                                 world.prod.secret_arn):
            raise denied(operation)

    hook_every_session(monkeypatch, f"before-parameter-build.{event}", deny_one)
    snapshot = collect(boto3.Session(), CollectOptions(regions=(REGION,), accounts=(world.org.prod,)))
    prod, baseline = snapshot.account(world.org.prod), world.snapshot.account(world.org.prod)
    assert prod is not None and baseline is not None
    denied_name = {"kms": "alias/app", "sqs": "jobs", "sns": "alerts", "secretsmanager": "db-password"}[service]
    assert snapshot.coverage == (
        CoverageGap(account_id=world.org.prod, service=service, region=REGION, operation=operation,
                    error_code="AccessDenied", message=f"{denied_name}: not allowed: {operation}"),
    )
    got = {r.name: r for r in prod.resources}
    want = {r.name: r for r in baseline.resources}
    assert set(got) == set(want)  # the resource itself is kept
    assert (got[resource] == want[resource]) is policy_kept
    if not policy_kept:
        assert got[resource] == want[resource].model_copy(update={"policy": None})


def test_budgets(world: World) -> None:
    budgets = {a.account_id: a.budgets for a in world.snapshot.accounts if a.audited}
    assert budgets == {
        MANAGEMENT: (),
        world.org.dev: (),
        world.org.prod: (Budget(name="monthly", budget_type="COST", limit_amount="100", limit_unit="USD",
                                notification_count=1),),
    }


# --- filters, modes and failures --------------------------------------------------------------


def test_account_filters(world: World) -> None:
    only_dev = collect(boto3.Session(), CollectOptions(regions=(REGION,), accounts=(world.org.dev, world.org.prod),
                                                      exclude_accounts=(world.org.prod,)))
    assert only_dev.manifest.account_ids == (world.org.dev,)
    assert set(only_dev.manifest.api_calls) == {MANAGEMENT, world.org.dev}
    with pytest.raises(UserError, match="account 999999999999 is not in the organisation"):
        collect(boto3.Session(), CollectOptions(regions=(REGION,), accounts=("999999999999",)))


def test_single_account_mode(world: World) -> None:
    session = member_session(STANDALONE)
    session.client("iam").create_user(UserName="solo")
    snapshot = collect(session, CollectOptions(regions=(REGION,)))
    assert snapshot.organization is None
    assert snapshot.manifest.mode == "single-account"
    assert snapshot.manifest.account_ids == (STANDALONE,)
    assert snapshot.coverage == ()
    (account,) = snapshot.accounts
    assert account.audited and account.iam is not None
    assert [u.name for u in account.iam.users] == ["solo"]
    assert "sts:AssumeRole" not in snapshot.manifest.api_calls[STANDALONE]


def test_organization_access_denied_falls_back_to_single_account(world: World) -> None:
    session = member_session(STANDALONE)

    def deny(**_: Any) -> None:
        raise denied("DescribeOrganization")

    session.events.register("before-call.organizations.DescribeOrganization", deny)
    snapshot = collect(session, CollectOptions(regions=(REGION,)))
    assert (snapshot.manifest.mode, snapshot.organization, snapshot.manifest.account_ids) == (
        "single-account", None, (STANDALONE,))
    (gap,) = snapshot.coverage
    assert (gap.account_id, gap.service, gap.operation, gap.error_code) == (
        STANDALONE, "organizations", "DescribeOrganization", "AccessDenied")


def test_role_that_cannot_be_assumed(world: World) -> None:
    session = boto3.Session()

    def deny_dev(params: dict[str, Any], **_: Any) -> None:
        if f":{world.org.dev}:" in params["RoleArn"]:
            raise denied("AssumeRole")

    session.events.register("before-parameter-build.sts.AssumeRole", deny_dev)
    snapshot = collect(session, CollectOptions(regions=(REGION,), accounts=(world.org.prod, world.org.dev)))
    dev, prod = snapshot.account(world.org.dev), snapshot.account(world.org.prod)
    assert dev is not None and prod is not None
    assert (dev.audited, dev.iam, dev.resources, dev.budgets) == (False, None, (), None)
    assert snapshot.coverage == (
        CoverageGap(account_id=world.org.dev, service="sts", operation="AssumeRole",
                    error_code="AccessDenied",
                    message=f"cannot assume SecurityAuditRole in {world.org.dev}; account not audited: "
                            "not allowed: AssumeRole"),
    )
    baseline = world.snapshot.account(world.org.prod)
    assert baseline is not None
    assert prod.audited and prod.resources == baseline.resources and prod.budgets == baseline.budgets


def test_one_denied_service_is_a_gap_and_the_rest_is_collected(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def deny_prod_budgets(params: dict[str, Any], **_: Any) -> None:
        if params.get("AccountId") == world.org.prod:
            raise denied("DescribeBudgets")

    # Member sessions are created inside the collector: add the hook to every new botocore session.
    hook_every_session(monkeypatch, "before-parameter-build.budgets.DescribeBudgets", deny_prod_budgets)
    snapshot = collect(boto3.Session(), CollectOptions(regions=(REGION,), accounts=(world.org.prod, world.org.dev)))
    assert snapshot.coverage == (
        CoverageGap(account_id=world.org.prod, service="budgets", operation="DescribeBudgets",
                    error_code="AccessDenied", message="not allowed: DescribeBudgets"),
    )
    prod, dev, baseline = (snapshot.account(world.org.prod), snapshot.account(world.org.dev),
                           world.snapshot.account(world.org.prod))
    assert prod is not None and dev is not None and baseline is not None
    assert (prod.audited, prod.budgets, dev.budgets) == (True, None, ())
    assert (prod.iam, prod.resources) == (baseline.iam, baseline.resources)


@pytest.mark.parametrize("failure", ["no credentials", "refused credentials"])
def test_missing_or_refused_credentials_are_a_user_error(
    world: World, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    if failure == "no credentials":
        monkeypatch.delenv("AWS_ACCESS_KEY_ID")
        monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    session = boto3.Session()

    def refuse(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "InvalidClientTokenId", "Message": "bad token"}},
                          "GetCallerIdentity")

    if failure == "refused credentials":
        session.events.register("before-call.sts.GetCallerIdentity", refuse)
    with pytest.raises(UserError, match=r"^no AWS credentials found: set AWS_PROFILE"):
        collect(session, CollectOptions(regions=(REGION,)))


# --- pure parts ----------------------------------------------------------------------------------


class FakeIam:
    """Answers GetCredentialReport from a script: an error code, or "ok" for the report."""

    def __init__(self, generate_error: str | None, answers: list[str]) -> None:
        self.generate_error = generate_error
        self.answers = answers
        self.calls: list[str] = []

    def generate_credential_report(self) -> dict[str, str]:
        self.calls.append("generate")
        if self.generate_error:
            raise ClientError({"Error": {"Code": self.generate_error, "Message": "no"}}, "GenerateCredentialReport")
        return {"State": "STARTED"}

    def get_credential_report(self) -> dict[str, object]:
        self.calls.append("get")
        answer = self.answers.pop(0) if self.answers else "ReportInProgress"
        if answer != "ok":
            raise ClientError({"Error": {"Code": answer, "Message": "not yet"}}, "GetCredentialReport")
        return {"Content": (REPORT_HEADER + "\n" + USER_ROW + "\n").encode(),
                "GeneratedTime": datetime(2026, 11, 26, 6, 0, tzinfo=UTC)}


@pytest.mark.parametrize(
    ("generate_error", "answers", "calls", "rows", "gap"),
    [
        (None, ["ok"], ["generate", "get"], 1, None),
        (None, ["ReportInProgress", "ok"], ["generate", "get", "get"], 1, None),
        (None, ["ReportNotPresent", "ok"], ["generate", "get", "generate", "get"], 1, None),
        (None, [], ["generate", "get", "get", "get"], None, ("GenerateCredentialReport", "ReportNotComplete")),
        (None, ["AccessDenied"], ["generate", "get"], None, ("GetCredentialReport", "AccessDenied")),
        ("AccessDenied", ["ok"], ["generate"], None, ("GetCredentialReport", "AccessDenied")),
    ],
    ids=["ready", "in progress", "not present", "never ready", "get denied", "generate denied"],
)
def test_credential_report_is_started_early_and_polled_when_read(
    monkeypatch: pytest.MonkeyPatch, generate_error: str | None, answers: list[str], calls: list[str],
    rows: int | None, gap: tuple[str, str] | None,
) -> None:
    monkeypatch.setattr(iam_collector, "REPORT_POLL_SECONDS", (0, 0, 0))
    iam, gaps = FakeIam(generate_error, list(answers)), Gaps("111122223333")
    report = CredentialReport(iam, gaps)
    assert iam.calls == ["generate"]
    got = report.rows()
    assert iam.calls == calls
    assert (None if got is None else len(got)) == rows
    assert report.generated_at == ("2026-11-26T06:00:00+00:00" if rows else None)
    assert [(g.operation, g.error_code) for g in gaps.items] == ([gap] if gap else [])


REPORT_HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
    "cert_2_active,cert_2_last_rotated"
)
ROOT_ROW = (
    "<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,"
    "2024-05-01T10:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,"
    "false,N/A,false,N/A"
)
USER_ROW = (
    "bob,arn:aws:iam::111122223333:user/bob,2021-02-03T00:00:00+00:00,true,no_information,"
    "2021-02-03T00:00:00+00:00,N/A,false,true,2021-02-03T00:00:00+00:00,2024-06-01T00:00:00+00:00,"
    "us-east-1,s3,true,2022-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A"
)


@pytest.mark.parametrize("rows", [[ROOT_ROW, USER_ROW], [USER_ROW]], ids=["real AWS", "moto, no root row"])
def test_parse_credential_report(rows: list[str]) -> None:
    parsed = {row.user: row for row in parse_credential_report("\n".join([REPORT_HEADER, *rows]) + "\n")}
    bob = parsed["bob"]
    assert (bob.password_enabled, bob.password_last_used, bob.mfa_active, bob.access_key_1_active,
            bob.access_key_1_last_used_date, bob.access_key_2_active, bob.access_key_2_last_rotated,
            bob.access_key_2_last_used_date) == (
        True, None, False, True, "2024-06-01T00:00:00+00:00", True, "2022-01-01T00:00:00+00:00", None)
    if len(rows) == 2:
        root = parsed["<root_account>"]
        assert (root.arn, root.password_enabled, root.password_last_used, root.mfa_active,
                root.access_key_1_active, root.access_key_1_last_rotated) == (
            "arn:aws:iam::111122223333:root", False, "2024-05-01T10:00:00+00:00", True, False, None)
    else:
        assert set(parsed) == {"bob"}


DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


@pytest.mark.parametrize(
    ("raw", "expected", "gap"),
    [
        (DOC, DOC, False),
        ('{"Version": "2012-10-17", "Statement": []}', {"Version": "2012-10-17", "Statement": []}, False),
        ("%7B%22Version%22%3A%20%222012-10-17%22%7D", {"Version": "2012-10-17"}, False),
        ("{not json", {"_unparseable": "{not json"}, True),
        ("[1, 2]", {"_unparseable": "[1, 2]"}, True),
    ],
    ids=["dict", "json text", "url-encoded", "malformed", "not an object"],
)
def test_policy_document_normalisation(raw: object, expected: dict[str, Any], gap: bool) -> None:
    gaps = Gaps("111122223333")
    assert policy_document(raw, gaps, "iam", "GetAccountAuthorizationDetails", "role/x") == expected
    expected_gaps = [("iam", "MalformedPolicyDocument")] if gap else []
    assert [(g.service, g.error_code) for g in gaps.items] == expected_gaps


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:sqs:us-east-1:111122223333:jobs", ("sqs:queue", "jobs")),
        ("arn:aws:sns:us-east-1:111122223333:alerts", ("sns:topic", "alerts")),
        ("arn:aws:rds:us-east-1:111122223333:db:orders", ("rds:db", "orders")),
        ("arn:aws:ecs:us-east-1:111122223333:service/cluster/web", ("ecs:service", "web")),
        ("arn:aws:kms:us-east-1:111122223333:key/1234", ("kms:key", "1234")),
        ("arn:aws:apigateway:us-east-1::restapis", ("apigateway:resource", "restapis")),
    ],
)
def test_resource_type_and_name(arn: str, expected: tuple[str, str]) -> None:
    assert resource_type_and_name(arn) == expected


def _client_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "DescribeInstances")


@pytest.mark.parametrize(
    ("failure", "error_code"),
    [
        (lambda: _client_error("Throttling", "Rate exceeded"), "Throttling"),  # after botocore's retries
        (lambda: botocore.exceptions.ReadTimeoutError(endpoint_url="https://ec2.eu-west-1.amazonaws.com"),
         "ReadTimeoutError"),
        (lambda: botocore.exceptions.EndpointConnectionError(endpoint_url="https://ec2.eu-west-1.amazonaws.com"),
         "EndpointConnectionError"),
        # an opt-in region that is not enabled for the account answers like this
        (lambda: _client_error("AuthFailure", "AWS was not able to validate the provided access credentials"),
         "AuthFailure"),
        (lambda: _client_error("UnauthorizedOperation", "You are not authorized to perform this operation."),
         "UnauthorizedOperation"),
    ],
    ids=["throttled", "read-timeout", "connection-error", "opt-in-region-disabled", "access-denied"],
)
def test_one_failing_region_is_a_gap_and_everything_else_is_collected(
    world: World, monkeypatch: pytest.MonkeyPatch, failure: Any, error_code: str
) -> None:
    def fail_in_eu_west_1(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if context.get("client_region") == "eu-west-1":
            raise failure()

    hook_every_session(monkeypatch, "before-parameter-build.ec2.DescribeInstances", fail_in_eu_west_1)
    accounts = (world.org.prod, world.org.dev)
    snapshot = collect(boto3.Session(), CollectOptions(accounts=accounts, regions=(REGION, "eu-west-1")))
    gaps = {(g.account_id, g.service, g.region, g.operation, g.error_code) for g in snapshot.coverage}
    assert gaps == {(account, "ec2", "eu-west-1", "DescribeInstances", error_code) for account in accounts}
    prod, baseline = snapshot.account(world.org.prod), world.snapshot.account(world.org.prod)
    assert prod is not None and baseline is not None and prod.audited
    assert prod.iam == baseline.iam and prod.budgets == baseline.budgets
    # everything of the healthy region is still there
    assert {r.arn for r in baseline.resources} <= {r.arn for r in prod.resources}


# --- which regions are inventoried ------------------------------------------------------------

# us-east-1 and eu-west-1 need no opt-in, me-south-1 was opted in, ap-east-1 was not.
REGION_ANSWER = {"Regions": [
    {"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"},
    {"RegionName": "eu-west-1", "OptInStatus": "opt-in-not-required"},
    {"RegionName": "me-south-1", "OptInStatus": "opted-in"},
    {"RegionName": "ap-east-1", "OptInStatus": "not-opted-in"},
]}


def _answer_regions(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every DescribeRegions call (in every account's session) gets ``REGION_ANSWER``; returns the calls' params."""
    calls: list[dict[str, Any]] = []

    def answer(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        calls.append(params)
        return AWSResponse("https://ec2.us-east-1.amazonaws.com/", 200, HTTPHeaders(), None), REGION_ANSWER

    hook_every_session(monkeypatch, "before-call.ec2.DescribeRegions", answer)
    return calls


def test_by_default_every_region_enabled_for_the_account_is_inventoried(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _answer_regions(monkeypatch)
    snapshot = collect(boto3.Session(), CollectOptions(accounts=(world.org.prod,)))
    prod = snapshot.account(world.org.prod)
    assert prod is not None and prod.audited
    assert prod.regions == ("eu-west-1", "me-south-1", "us-east-1")  # not ap-east-1: not opted in
    assert snapshot.manifest.regions == ("eu-west-1", "me-south-1", "us-east-1")
    assert snapshot.manifest.regions_requested == ()
    assert not [gap for gap in snapshot.coverage if gap.service == "ec2"]
    assert {r.region for r in prod.resources if r.type == "ec2:instance"} == {REGION}
    # asked with AllRegions, so a disabled region is known as such rather than unknown
    assert calls and all(call["body"].get("AllRegions") == "true" for call in calls)
    # the resource regions searched are the enabled ones only
    ec2_calls = snapshot.manifest.api_calls[world.org.prod]
    assert ec2_calls["ec2:DescribeRegions"] == 1
    assert ec2_calls["ec2:DescribeInstances"] == 3


def test_a_requested_region_the_account_has_not_enabled_is_one_gap_not_errors(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _answer_regions(monkeypatch)
    options = CollectOptions(accounts=(world.org.prod,), regions=(REGION, "ap-east-1", "xx-nowhere-1"))
    snapshot = collect(boto3.Session(), options)
    prod = snapshot.account(world.org.prod)
    assert prod is not None and prod.regions == (REGION,)
    assert snapshot.manifest.regions_requested == (REGION, "ap-east-1", "xx-nowhere-1")
    gaps = {(g.account_id, g.service, g.region, g.operation, g.error_code) for g in snapshot.coverage}
    assert gaps == {
        (world.org.prod, "ec2", "ap-east-1", "DescribeRegions", "RegionNotEnabled"),
        (world.org.prod, "ec2", "xx-nowhere-1", "DescribeRegions", "UnknownRegion"),
    }


def test_regions_that_cannot_be_listed_fall_back_to_the_home_region_with_a_gap(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def deny(**_: Any) -> None:
        raise denied("DescribeRegions")

    hook_every_session(monkeypatch, "before-call.ec2.DescribeRegions", deny)
    snapshot = collect(boto3.Session(), CollectOptions(accounts=(world.org.prod,)))
    prod, baseline = snapshot.account(world.org.prod), world.snapshot.account(world.org.prod)
    assert prod is not None and baseline is not None
    assert prod.regions == (REGION,) and prod.resources == baseline.resources
    gaps = {(g.account_id, g.operation, g.error_code, g.message) for g in snapshot.coverage}
    assert gaps == {
        (world.org.prod, "DescribeRegions", "AccessDenied",
         f"cannot list the account's enabled regions; inventorying {REGION} only: not allowed: DescribeRegions"),
        (MANAGEMENT, "DescribeRegions", "AccessDenied",
         "cannot list the enabled regions; looking for IAM Identity Center in the home region only: "
         "not allowed: DescribeRegions"),
    }


def test_ctrl_c_stops_the_accounts_not_started_yet(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []
    collect_account = collector_run._collect_account

    def counting(*args: Any) -> Any:
        started.append(args[3].account_id)
        return collect_account(*args)

    @contextlib.contextmanager
    def ctrl_c_after_the_first_account(
        enabled: bool, total: int, lines_every: int = 0
    ) -> Iterator[Callable[..., None]]:
        def advance(*_: Any) -> None:
            raise KeyboardInterrupt

        yield advance

    monkeypatch.setattr(collector_run, "_collect_account", counting)
    monkeypatch.setattr(collector_run, "_progress", ctrl_c_after_the_first_account)
    with pytest.raises(KeyboardInterrupt):
        collect(boto3.Session(), CollectOptions(regions=(REGION,), concurrency=1))
    for thread in threading.enumerate():  # the account already under way finishes in the background
        if thread.name.startswith("account"):
            thread.join()
    # three accounts to audit, one worker: the first finished, at most one more had started
    assert 1 <= len(started) < 3


def _failing(error: Callable[[], Exception], when: Callable[[dict[str, Any], str], bool], dev: str) -> Any:
    def handler(params: dict[str, Any], **_: Any) -> None:
        if when(params, dev):
            raise error()
    return handler


def _always(params: dict[str, Any], dev: str) -> bool:
    return True


@pytest.mark.parametrize(
    ("event", "error", "when", "expected_gap"),
    [
        (None, None, None, None),  # benign twin: nothing fails, the collection is complete
        ("before-parameter-build.sts.AssumeRole", lambda: denied("AssumeRole"),
         lambda params, dev: f":{dev}:" in params.get("RoleArn", ""), ("dev", "sts", "AssumeRole")),
        ("before-parameter-build.budgets.DescribeBudgets", lambda: denied("DescribeBudgets"), _always,
         ("both", "budgets", "DescribeBudgets")),
        ("before-parameter-build.ec2.DescribeInstances", lambda: _client_error("Throttling", "Rate exceeded"),
         _always, ("both", "ec2", "DescribeInstances")),
        ("before-parameter-build.ec2.DescribeVolumes",
         lambda: botocore.exceptions.ReadTimeoutError(endpoint_url="https://ec2.us-east-1.amazonaws.com"),
         _always, ("both", "ec2", "DescribeVolumes")),
        ("before-parameter-build.ec2.DescribeRegions", lambda: denied("DescribeRegions"), _always,
         ("both", "ec2", "DescribeRegions")),
    ],
    ids=["complete", "role-not-assumable", "service-denied", "throttled", "timeout", "regions-denied"],
)
def test_exit_code_says_whether_the_collection_was_partial(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    event: str | None, error: Any, when: Any, expected_gap: tuple[str, str, str] | None,
) -> None:
    accounts = {"dev": world.org.dev, "prod": world.org.prod}
    if event is not None:
        hook_every_session(monkeypatch, event, _failing(error, when, world.org.dev))
    with pytest.raises(SystemExit) as exit_info:
        main(["collect", "--out", str(tmp_path / "snap"), "--quiet", "--regions", REGION,
              "--accounts", f"{world.org.dev},{world.org.prod}"])
    capsys.readouterr()
    snapshot = read_snapshot(tmp_path / "snap")  # written in full either way
    assert {a.account_id for a in snapshot.accounts} == set(accounts.values())
    if expected_gap is None:
        assert (exit_info.value.code, snapshot.coverage) == (0, ())
        return
    assert exit_info.value.code == 3
    where, service, operation = expected_gap
    failing = set(accounts.values()) if where == "both" else {accounts[where]}
    assert {(g.account_id, g.service, g.operation) for g in snapshot.coverage} >= {
        (account, service, operation) for account in failing}
    # every account that did not fail is complete; with one failing service the rest of each account is too
    for account in snapshot.accounts:
        if account.account_id not in failing or where == "both":
            assert account.audited and account.iam is not None and account.iam.roles, account.account_id
