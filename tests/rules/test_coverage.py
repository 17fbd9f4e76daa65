"""Coverage (rules/coverage.py): an account not audited (COV-001) and a part of an audited account not
collected (COV-002) are findings, so a partial audit never looks clean."""

from __future__ import annotations

from auditor.model import AccountSnapshot, CoverageGap, Snapshot
from tests.iam_helpers import DEV, MGMT, ORG_ID, PROD, account, organization, snapshot
from tests.rules.helpers import assert_risky_and_benign, run_rule

DENIED = CoverageGap(account_id=DEV, service="sts", operation="AssumeRole", error_code="AccessDenied",
                     message="not authorized")
S3_DENIED = CoverageGap(account_id=PROD, service="s3", region="eu-west-1", operation="GetBucketPolicy",
                        error_code="AccessDenied", message="explicit deny in an SCP")


def _org(dev_audited: bool = True, coverage: tuple[CoverageGap, ...] = ()) -> Snapshot:
    dev = account(DEV) if dev_audited else AccountSnapshot(account_id=DEV, audited=False)
    base = snapshot(account(MGMT), account(PROD), dev, org=organization())
    return base.model_copy(update={"coverage": coverage})


def _arn(account_id: str) -> str:
    return f"arn:aws:organizations::{MGMT}:account/{ORG_ID}/{account_id}"


def test_cov_001_account_not_audited() -> None:
    (finding,) = assert_risky_and_benign("COV-001", _org(dev_audited=False, coverage=(DENIED,)), _org(),
                                         {_arn(DEV)})
    assert finding.message.endswith(": AccessDenied on sts:AssumeRole")
    assert finding.evidence["gaps"][0]["operation"] == "AssumeRole"


def test_cov_002_part_of_an_audited_account_not_collected() -> None:
    (finding,) = assert_risky_and_benign("COV-002", _org(coverage=(S3_DENIED,)), _org(), {_arn(PROD)})
    assert (finding.region, finding.account_id) == ("eu-west-1", PROD)
    assert "s3:GetBucketPolicy in eu-west-1" in finding.message


def test_cov_002_leaves_accounts_not_audited_to_cov_001() -> None:
    assert run_rule("COV-002", _org(dev_audited=False, coverage=(DENIED,))) == []


def test_cov_002_one_finding_per_service_operation_and_region() -> None:
    other_region = S3_DENIED.model_copy(update={"region": "us-east-1"})
    findings = run_rule("COV-002", _org(coverage=(S3_DENIED, other_region, S3_DENIED)))
    assert sorted(f.region for f in findings) == ["eu-west-1", "us-east-1"]
