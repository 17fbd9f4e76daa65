"""Organisation-level breadth: organisation trails (collector and GUARD-005), tag policies (collector and
COST-005) and organisation tags read in parallel. Each risky case sits beside its benign twin."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from auditor.analyze import RuleSelection, analyze
from auditor.collect.organizations import collect_organization
from auditor.collect.session import ApiCallCounter, ClientFactory, Gaps
from auditor.config import AuditorConfig
from auditor.model import (
    AccountSnapshot,
    CoverageGap,
    Manifest,
    OrgAccount,
    Organization,
    OrganizationalUnit,
    OrgPolicy,
    OrgTrail,
    Snapshot,
)
from tests.collect_helpers import DENY_LEAVE, MANAGEMENT, REGION, hook_every_session

NOW = datetime(2026, 11, 26, tzinfo=UTC)
BUCKET = "org-trail-logs"
TRAIL = "org-trail"
COST_TAGS = {"tags": {"costcenter": {"tag_key": {"@@assign": "CostCenter"},
                                     "tag_value": {"@@assign": ["cc-1", "cc-2"]},
                                     "enforced_for": {"@@assign": ["ec2:instance"]}}}}


def denied(operation: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "AccessDenied", "Message": f"not allowed: {operation}"},
         "ResponseMetadata": {"HTTPStatusCode": 403}},
        operation,
    )


def deny_on(monkeypatch: pytest.MonkeyPatch, event: str, handler: Callable[..., None]) -> None:
    """Register ``handler`` on every session created from now on (the auditor's included)."""
    hook_every_session(monkeypatch, f"before-parameter-build.{event}", handler)


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


def _org(accounts: int = 1) -> tuple[Any, str, list[str]]:
    """An organisation with ``accounts`` tagged member accounts in the root, the DenyLeave SCP on the root."""
    org = boto3.client("organizations", region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    root_id = str(org.list_roots()["Roots"][0]["Id"])
    ids = [str(org.create_account(Email=f"a{n}@example.com", AccountName=f"a{n}",
                                  Tags=[{"Key": "n", "Value": str(n)}])["CreateAccountStatus"]["AccountId"])
           for n in range(accounts)]
    scp = org.create_policy(Content=json.dumps(DENY_LEAVE), Description="", Name="DenyLeave",
                            Type="SERVICE_CONTROL_POLICY")["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp, TargetId=root_id)
    return org, root_id, ids


def _collect(concurrency: int = 8) -> tuple[Organization | None, list[CoverageGap]]:
    gaps = Gaps(MANAGEMENT)
    factory = ClientFactory(boto3.Session(region_name=REGION), MANAGEMENT, ApiCallCounter())
    return collect_organization(factory, REGION, gaps, concurrency=concurrency), gaps.items


def _trail(region: str = REGION, *, organization: bool = True, multi_region: bool = True,
           logging: bool = True) -> str:
    s3 = boto3.client("s3", region_name=REGION)
    if BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=BUCKET)
    cloudtrail = boto3.client("cloudtrail", region_name=region)
    arn = str(cloudtrail.create_trail(Name=TRAIL, S3BucketName=BUCKET, IsMultiRegionTrail=multi_region,
                                      IsOrganizationTrail=organization)["TrailARN"])
    if logging:
        cloudtrail.start_logging(Name=TRAIL)
    return arn


# --- organisation trails: collector ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("home", "organization", "multi_region", "logging", "expected"),
    [
        (REGION, True, True, True, ((True, True),)),  # the good case
        (REGION, True, True, False, ((True, False),)),  # created, never started
        (REGION, True, False, True, ((False, True),)),  # single-region
        (REGION, False, True, True, ()),  # an account trail is no organisation trail
        ("eu-west-1", True, True, True, ((True, True),)),  # homed elsewhere: seen as a shadow trail
        ("eu-west-1", True, False, True, ()),  # single-region elsewhere: not visible from the home region
    ],
)
def test_organization_trails(moto: None, home: str, organization: bool, multi_region: bool, logging: bool,
                             expected: tuple[tuple[bool, bool], ...]) -> None:
    _org()
    arn = _trail(home, organization=organization, multi_region=multi_region, logging=logging)
    collected, gaps = _collect()
    assert collected is not None and gaps == []
    assert collected.trails == tuple(
        OrgTrail(name=TRAIL, arn=arn, home_region=home, is_multi_region=multi, is_organization_trail=True,
                 is_logging=on)
        for multi, on in expected
    )


def test_no_trail_at_all_is_collected_as_none_seen(moto: None) -> None:
    _org()
    collected, gaps = _collect()
    assert collected is not None and (collected.trails, gaps) == ((), [])


def test_describe_trails_denied_is_a_gap_and_the_organisation_is_still_collected(
    moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, root_id, (member,) = _org()
    _trail()
    baseline, _ = _collect()

    def deny(**_: Any) -> None:
        raise denied("DescribeTrails")

    deny_on(monkeypatch, "cloudtrail.DescribeTrails", deny)
    collected, gaps = _collect()
    assert gaps == [CoverageGap(account_id=MANAGEMENT, service="cloudtrail", region=REGION,
                                operation="DescribeTrails", error_code="AccessDenied",
                                message="not allowed: DescribeTrails")]
    assert collected is not None and baseline is not None
    assert collected.trails is None
    assert collected == baseline.model_copy(update={"trails": None})
    assert (collected.root_id, [a.id for a in collected.accounts]) == (root_id, [MANAGEMENT, member])
    assert [p.name for p in collected.policies] == ["FullAWSAccess", "DenyLeave", "RCPFullAWSAccess"]


def test_trail_status_denied_is_a_gap_and_an_unknown_status(moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    _org()
    arn = _trail()

    def deny(**_: Any) -> None:
        raise denied("GetTrailStatus")

    deny_on(monkeypatch, "cloudtrail.GetTrailStatus", deny)
    collected, gaps = _collect()
    assert collected is not None and collected.trails is not None
    assert [(t.arn, t.is_logging) for t in collected.trails] == [(arn, None)]
    assert gaps == [CoverageGap(account_id=MANAGEMENT, service="cloudtrail", region=REGION,
                                operation="GetTrailStatus", error_code="AccessDenied",
                                message=f"{arn}: not allowed: GetTrailStatus")]


# --- tag policies: collector ------------------------------------------------------------------------


def _tag_policy(org: Any, name: str, content: str, target: str | None) -> str:
    policy_id = str(org.create_policy(Content=content, Description="", Name=name, Type="TAG_POLICY")
                    ["Policy"]["PolicySummary"]["Id"])
    if target:
        org.attach_policy(PolicyId=policy_id, TargetId=target)
    return policy_id


def test_tag_policy_collected_with_its_content_and_no_iam_document(moto: None) -> None:
    org, root_id, _ = _org()
    org.enable_policy_type(RootId=root_id, PolicyType="TAG_POLICY")
    cost = _tag_policy(org, "CostTags", json.dumps(COST_TAGS), root_id)
    _tag_policy(org, "Unattached", json.dumps({"tags": {}}), None)
    collected, gaps = _collect()
    assert collected is not None and gaps == []
    tag_policies = {p.name: (p.id, p.document, p.content, p.target_ids)
                    for p in collected.policies if p.type == "TAG_POLICY"}
    assert tag_policies == {"CostTags": (cost, {}, COST_TAGS, (root_id,)),
                            "Unattached": (tag_policies["Unattached"][0], {}, {"tags": {}}, ())}
    scp = next(p for p in collected.policies if p.name == "DenyLeave")
    assert (scp.document, scp.content) == (DENY_LEAVE, None)


def test_malformed_tag_policy_is_a_gap_and_other_policies_are_intact(moto: None) -> None:
    org, root_id, _ = _org()
    good = _tag_policy(org, "CostTags", json.dumps(COST_TAGS), root_id)
    bad = _tag_policy(org, "Broken", "{not json", root_id)
    collected, gaps = _collect()
    assert gaps == [CoverageGap(account_id=MANAGEMENT, service="organizations", operation="DescribePolicy",
                                error_code="MalformedPolicyDocument",
                                message=f"{bad}: policy content is not a JSON object; not evaluated")]
    assert collected is not None
    by_name = {p.name: p for p in collected.policies}
    assert (by_name["Broken"].content, by_name["Broken"].target_ids) == (None, (root_id,))
    assert (by_name["CostTags"].id, by_name["CostTags"].content) == (good, COST_TAGS)
    assert by_name["DenyLeave"].document == DENY_LEAVE


# --- organisation tags in parallel -------------------------------------------------------------------


def test_tags_read_in_parallel_are_complete_and_in_walk_order(moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    org, root_id, members = _org(accounts=20)
    ou = org.create_organizational_unit(ParentId=root_id, Name="Apps",
                                        Tags=[{"Key": "tier", "Value": "apps"}])["OrganizationalUnit"]["Id"]
    org.tag_resource(ResourceId=root_id, Tags=[{"Key": "owner", "Value": "platform"}])
    serial, serial_gaps = _collect(concurrency=1)

    # The first four reads wait for each other: they can only all arrive with four threads at work.
    barrier = threading.Barrier(4, timeout=10)
    lock = threading.Lock()
    seen: list[str] = []

    def meet(**_: Any) -> None:
        with lock:
            seen.append(threading.current_thread().name)
            first_four = len(seen) <= 4
        if first_four:
            barrier.wait()

    deny_on(monkeypatch, "organizations.ListTagsForResource", meet)
    parallel, gaps = _collect(concurrency=4)
    assert parallel is not None and (gaps, serial_gaps) == ([], [])
    assert parallel == serial
    assert [(a.id, a.tags) for a in parallel.accounts] == [
        (MANAGEMENT, {}), *((member, {"n": str(n)}) for n, member in enumerate(members))]
    assert [(o.id, o.tags) for o in parallel.organizational_units] == [(ou, {"tier": "apps"})]
    assert parallel.root_tags == {"owner": "platform"}
    assert len(seen) == len(members) + 3  # every account, the OU and the root, once each
    assert all(name.startswith("org-tags") for name in seen) and len(set(seen)) == 4


def test_one_failed_tag_read_is_that_account_gap_only(moto: None, monkeypatch: pytest.MonkeyPatch) -> None:
    _, _, members = _org(accounts=20)
    victim = members[7]

    def deny_one(params: dict[str, Any], **_: Any) -> None:
        if params.get("ResourceId") == victim:
            raise denied("ListTagsForResource")

    deny_on(monkeypatch, "organizations.ListTagsForResource", deny_one)
    collected, gaps = _collect(concurrency=4)
    assert gaps == [CoverageGap(account_id=MANAGEMENT, service="organizations", operation="ListTagsForResource",
                                error_code="AccessDenied", message=f"{victim}: not allowed: ListTagsForResource")]
    assert collected is not None
    assert {a.id: a.tags for a in collected.accounts} == {
        MANAGEMENT: {}, **{m: ({} if m == victim else {"n": str(n)}) for n, m in enumerate(members)}}


# --- rules on snapshots built in code -----------------------------------------------------------------

ROOT = "r-root"
MGMT = "100000000000"
ORG_ARN = f"arn:aws:organizations::{MGMT}:organization/o-1"
DEV = "300000000000"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{MGMT}:trail/org"
FULL_ACCESS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _snapshot(*, trails: tuple[OrgTrail, ...] | None = None, policies: tuple[OrgPolicy, ...] = (),
              organization: bool = True, coverage: tuple[CoverageGap, ...] = ()) -> Snapshot:
    members = (
        OrgAccount(id=MGMT, arn=f"arn:aws:organizations::{MGMT}:account/o-1/{MGMT}", name="management",
                   parent_id=ROOT),
        OrgAccount(id=DEV, arn=f"arn:aws:organizations::{MGMT}:account/o-1/{DEV}", name="dev", parent_id="ou-dev",
                   tags={"Environment": "dev"}),
    )
    org = Organization(
        id="o-1", arn=ORG_ARN, management_account_id=MGMT, root_id=ROOT, accounts=members,
        organizational_units=(OrganizationalUnit(id="ou-dev", arn="arn:aws:organizations::1:ou/o-1/ou-dev",
                                                 name="Dev", parent_id=ROOT),),
        policies=(OrgPolicy(id="p-FullAWSAccess", arn="arn:full", name="FullAWSAccess", type="SERVICE_CONTROL_POLICY",
                            aws_managed=True, document=FULL_ACCESS, target_ids=(ROOT,)), *policies),
        trails=trails,
    )
    manifest = Manifest(tool_version="0", created_at=NOW.isoformat(), mode="organization",
                        account_ids=tuple(m.id for m in members))
    accounts = tuple(AccountSnapshot(account_id=m.id, name=m.name) for m in members)
    if not organization:
        return Snapshot(manifest=manifest.model_copy(update={"mode": "single-account", "account_ids": (DEV,)}),
                        organization=None, accounts=(AccountSnapshot(account_id=DEV),), coverage=coverage)
    return Snapshot(manifest=manifest, organization=org, accounts=accounts, coverage=coverage)


def _org_trail(*, multi_region: bool = True, logging: bool | None = True, organization: bool = True) -> OrgTrail:
    return OrgTrail(name="org", arn=TRAIL_ARN, home_region=REGION, is_multi_region=multi_region,
                    is_organization_trail=organization, is_logging=logging)


def _tag_policy_model(name: str, keys: tuple[str, ...], *targets: str, content: bool = True) -> OrgPolicy:
    document = {"tags": {key.lower(): {"tag_key": {"@@assign": key}} for key in keys}}
    return OrgPolicy(id=f"p-{name}", arn=f"arn:aws:organizations::{MGMT}:policy/o-1/tag_policy/p-{name}", name=name,
                     type="TAG_POLICY", content=document if content else None, target_ids=targets)


def _findings(snapshot: Snapshot, rule_id: str) -> list[tuple[str, str, Any]]:
    result = analyze(snapshot, AuditorConfig(), RuleSelection(only=(rule_id,)), now=NOW)
    assert not [gap for gap in result.coverage if gap.service == "auditor"], result.coverage
    return sorted((f.account_id, f.resource_arn, f.evidence.get("missing")) for f in result.findings)


@pytest.mark.parametrize(
    ("trails", "fires"),
    [
        ((), True),  # collected, none exists
        ((_org_trail(logging=False),), True),  # exists, not logging
        ((_org_trail(multi_region=False),), True),  # logging in one region only
        ((_org_trail(logging=None),), False),  # status unknown: its coverage gap speaks, the rule does not guess
        ((_org_trail(logging=None, multi_region=False),), True),  # unknown status, but single-region anyway
        ((_org_trail(organization=False),), True),  # not an organisation trail
        ((_org_trail(),), False),  # benign twin: multi-region organisation trail, logging
        ((_org_trail(logging=False), _org_trail()), False),  # one good trail is enough
        (None, False),  # not collected: the coverage gap speaks, the rule does not
    ],
)
def test_guard_005_no_logging_organization_trail(trails: tuple[OrgTrail, ...] | None, fires: bool) -> None:
    found = _findings(_snapshot(trails=trails), "GUARD-005")
    assert found == ([(MGMT, ORG_ARN, None)] if fires else [])


def test_guard_005_evidence_lists_the_trails_seen() -> None:
    result = analyze(_snapshot(trails=(_org_trail(logging=False),)), AuditorConfig(),
                     RuleSelection(only=("GUARD-005",)), now=NOW)
    (finding,) = result.findings
    assert (finding.severity, finding.evidence) == ("high", {"trails": [{
        "name": "org", "arn": TRAIL_ARN, "home_region": REGION, "is_multi_region": True,
        "is_organization_trail": True, "is_logging": False}]})


def test_guard_005_silent_without_organization() -> None:
    assert _findings(_snapshot(organization=False), "GUARD-005") == []


ALL_COST_TAGS = ("Environment", "Owner", "CostCenter")
TAG_POLICY_LIST_DENIED = CoverageGap(account_id=MGMT, service="organizations", operation="ListPolicies",
                                     error_code="AccessDenied", message="TAG_POLICY: not allowed: ListPolicies")


@pytest.mark.parametrize(
    ("policies", "coverage", "organization", "missing"),
    [
        ((), (), True, ALL_COST_TAGS),  # no tag policy at all
        ((_tag_policy_model("Cost", ALL_COST_TAGS, ROOT),), (), True, ()),  # benign twin: on the root
        ((_tag_policy_model("Cost", ALL_COST_TAGS),), (), True, ALL_COST_TAGS),  # defined but attached nowhere
        ((_tag_policy_model("Env", ("Environment", "Owner"), "ou-dev"),), (), True, ("CostCenter",)),  # on an OU
        ((_tag_policy_model("Env", ("Environment", "Owner"), "ou-dev"),
          _tag_policy_model("Cost", ("costcenter",), DEV)), (), True, ()),  # split over an OU and an account
        ((_tag_policy_model("Cost", ALL_COST_TAGS, ROOT, content=False),), (), True, ()),  # unreadable: gap speaks
        ((), (TAG_POLICY_LIST_DENIED,), True, ()),  # tag policies not listed: gap speaks
        ((), (), False, ()),  # no organisation, no tag policies to expect
    ],
)
def test_cost_005_required_tags_not_in_a_tag_policy(
    policies: tuple[OrgPolicy, ...], coverage: tuple[CoverageGap, ...], organization: bool, missing: tuple[str, ...]
) -> None:
    snapshot = _snapshot(policies=policies, coverage=coverage, organization=organization)
    assert _findings(snapshot, "COST-005") == sorted((MGMT, ORG_ARN, key) for key in missing)


def test_tag_policies_are_never_evaluated_as_scps() -> None:
    # A tag policy on the root with content no IAM parser accepts: no parse problem, no SCP conclusion changed.
    odd = _tag_policy_model("Cost", ALL_COST_TAGS, ROOT)
    plain = analyze(_snapshot(), AuditorConfig(), now=NOW)
    with_tag_policy = analyze(_snapshot(policies=(odd,)), AuditorConfig(), now=NOW)
    assert with_tag_policy.coverage == plain.coverage == ()
    assert [f.id for f in with_tag_policy.findings if f.rule_id != "COST-005"] == [
        f.id for f in plain.findings if f.rule_id != "COST-005"]
    assert {f.rule_id for f in plain.findings} >= {"GUARD-002", "COST-005"}
    assert "COST-005" not in {f.rule_id for f in with_tag_policy.findings}
