"""Environment isolation (rules/environment_isolation.py): ENV-001..005 and ORG-001 on organisations built in
code, each risky case beside its benign twin."""

from __future__ import annotations

import pytest

from auditor.config import AuditorConfig, EnvironmentConfig
from auditor.model import Resource, Snapshot
from tests.rules.helpers import run_rule
from tests.rules.org_snapshot import MGMT, MISC, MIXED_PROD, PROD, org_snapshot

DB = f"arn:aws:rds:eu-west-1:{PROD}:db:orders"
QUEUE = f"arn:aws:sqs:eu-west-1:{PROD}:orders"


def _resource(arn: str, environment: str, key: str = "Environment") -> Resource:
    return Resource(arn=arn, type=arn.split(":")[2] + ":x", region="eu-west-1", name=arn.rsplit(":", 1)[-1],
                    tags={key: environment})


def _prod_with(*resources: Resource) -> Snapshot:
    return org_snapshot(resources={PROD: resources})


def _found(snapshot: Snapshot, rule_id: str) -> set[str]:
    return {f.resource_arn.split("/")[-1] for f in run_rule(rule_id, snapshot)}


@pytest.mark.parametrize(
    ("rule_id", "risky", "benign", "expected"),
    [
        # production and development resources in one account; the twin holds production only
        ("ENV-001", _prod_with(_resource(DB, "prod"), _resource(QUEUE, "dev")),
         _prod_with(_resource(DB, "prod"), _resource(QUEUE, "production")), {PROD}),
        # a dev-tagged database in a production account; the twin is tagged for its account's environment
        ("ENV-002", _prod_with(_resource(DB, "development")), _prod_with(_resource(DB, "prod")), {DB}),
        ("ENV-003", org_snapshot(), org_snapshot(misc_name="team-sandbox"), {MISC}),
        ("ENV-004", org_snapshot(), org_snapshot(organization=False), {"ou-mix"}),
        ("ENV-005", org_snapshot(), org_snapshot(organization=False), {MIXED_PROD}),
        ("ORG-001", org_snapshot(organization=False), org_snapshot(), {f"arn:aws:iam::{PROD}:root"}),
    ],
)
def test_rule_fires_on_risk_and_not_on_twin(rule_id: str, risky: Snapshot, benign: Snapshot,
                                            expected: set[str]) -> None:
    assert _found(risky, rule_id) == expected
    assert _found(benign, rule_id) == set()


def test_env_001_needs_production_among_the_environments() -> None:
    assert run_rule("ENV-001", _prod_with(_resource(DB, "dev"), _resource(QUEUE, "staging"))) == []


def test_env_002_evidence_and_the_configured_tag_keys() -> None:
    (finding,) = run_rule("ENV-002", _prod_with(_resource(DB, "dev")))
    assert (finding.evidence["resource_environment"], finding.evidence["account_environment"]) == ("non-prod", "prod")
    stage_tag = _prod_with(_resource(DB, "dev", key="Stage"))
    assert run_rule("ENV-002", stage_tag) == []  # not an environment tag key by default
    config = AuditorConfig(environments=EnvironmentConfig(tag_keys=("Stage",)))
    assert [f.resource_arn for f in run_rule("ENV-002", stage_tag, config=config)] == [DB]


def test_env_005_the_management_account_is_not_expected_in_a_production_ou() -> None:
    assert MGMT not in _found(org_snapshot(), "ENV-005")
