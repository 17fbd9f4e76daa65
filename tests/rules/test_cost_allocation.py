"""Cost allocation (rules/cost_allocation.py): COST-001..005, each risky case beside its benign twin.
COST-005's full table (tag policies on OUs and accounts, unreadable ones, not listed) is with the tag-policy
collector in tests/test_org_breadth.py."""

from __future__ import annotations

import pytest

from auditor.config import AuditorConfig
from auditor.model import Budget, OrgPolicy, Resource, Snapshot
from tests.iam_helpers import DEV, MGMT, ORG_ID, PROD, ROOT_ID, account, organization, snapshot
from tests.rules.helpers import assert_risky_and_benign, run_rule

BUCKET = "arn:aws:s3:::app-data"
ALL_TAGS = {"Environment": "prod", "Owner": "payments", "CostCenter": "cc-42"}


def _with(resources: tuple[Resource, ...] = (), budgets: tuple[Budget, ...] | None = None,
          tag_policies: tuple[OrgPolicy, ...] = ()) -> Snapshot:
    org = organization()
    org = org.model_copy(update={"policies": (*org.policies, *tag_policies)})
    prod = account(PROD, resources=resources).model_copy(update={"budgets": budgets})
    return snapshot(account(MGMT), prod, account(DEV), org=org)


def _bucket(tags: dict[str, str], type_: str = "s3:bucket", arn: str = BUCKET) -> Resource:
    return Resource(arn=arn, type=type_, region="eu-west-1", name=arn.rsplit(":", 1)[-1], tags=tags)


def _tag_policy(*keys: str) -> OrgPolicy:
    return OrgPolicy(id="p-tags", arn=f"arn:aws:organizations::{MGMT}:policy/{ORG_ID}/tag_policy/p-tags",
                     name="cost-tags", type="TAG_POLICY", target_ids=(ROOT_ID,),
                     content={"tags": {k.lower(): {"tag_key": {"@@assign": k}} for k in keys}})


@pytest.mark.parametrize(
    ("rule_id", "risky", "benign", "expected"),
    [
        ("COST-001", _with((_bucket({"Environment": "prod"}),)), _with((_bucket(ALL_TAGS),)), {BUCKET}),
        ("COST-002", _with(budgets=()), _with(budgets=(Budget(name="monthly", notification_count=1),)),
         {f"arn:aws:organizations::{MGMT}:account/{ORG_ID}/{PROD}"}),
        ("COST-003", _with(budgets=(Budget(name="quiet"),)),
         _with(budgets=(Budget(name="loud", notification_count=2),)),
         {f"arn:aws:budgets::{PROD}:budget/quiet"}),
        ("COST-004", _with((_bucket({**ALL_TAGS, "Environment": "johns-test2"}),)),
         _with((_bucket({**ALL_TAGS, "Environment": "Production"}),)), {BUCKET}),
        ("COST-005", _with(tag_policies=(_tag_policy("Environment", "Owner"),)),
         _with(tag_policies=(_tag_policy("Environment", "Owner", "CostCenter"),)),
         {f"arn:aws:organizations::{MGMT}:organization/{ORG_ID}"}),
    ],
)
def test_rule_fires_on_risk_and_not_on_twin(rule_id: str, risky: Snapshot, benign: Snapshot,
                                            expected: set[str]) -> None:
    assert_risky_and_benign(rule_id, risky, benign, expected)


def test_cost_001_names_the_missing_tags_case_insensitively_and_skips_iam() -> None:
    resources = (_bucket({"environment": "prod", "OWNER": "x"}),
                 _bucket({}, type_="iam:role", arn=f"arn:aws:iam::{PROD}:role/r"))
    (finding,) = run_rule("COST-001", _with(resources))
    assert finding.evidence["missing"] == ["CostCenter"]


def test_cost_001_follows_the_configured_required_tags() -> None:
    resources = (_bucket({"Team": "a"}),)
    assert run_rule("COST-001", _with(resources), config=AuditorConfig(required_tags=("Team",))) == []


def test_cost_002_not_collected_or_not_audited_is_no_finding() -> None:
    assert run_rule("COST-002", _with(budgets=None)) == []  # budgets not collected: a coverage gap says so


def test_cost_004_without_an_environment_tag_is_no_finding() -> None:
    assert run_rule("COST-004", _with((_bucket({"Owner": "x"}),))) == []


def test_cost_005_one_finding_per_undefined_tag() -> None:
    findings = run_rule("COST-005", _with())
    assert sorted(f.evidence["missing"] for f in findings) == ["CostCenter", "Environment", "Owner"]
