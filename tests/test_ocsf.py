"""OCSF output: one Detection Finding event per finding, with the class's required fields and exact values."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from auditor import __version__
from auditor.errors import UserError
from auditor.findings import SEVERITIES
from auditor.report.ocsf import SEVERITY_IDS, render_ocsf, resource_type, write_ocsf
from tests.report_helpers import (
    MANAGEMENT,
    ORG_ID,
    PAYLOAD,
    SANDBOX,
    STAGING,
    hostile_result,
    make_finding,
    sample_result,
)

GENERATED_MS = int(datetime(2026, 11, 20, 9, 5, tzinfo=UTC).timestamp() * 1000)
REQUIRED = (
    ("class_uid",), ("category_uid",), ("type_uid",), ("activity_id",), ("severity_id",), ("time",),
    ("metadata", "version"), ("metadata", "product", "name"), ("finding_info", "uid"), ("finding_info", "title"),
    ("cloud", "provider"), ("finding_info", "analytic", "type_id"),
)


def _get(event: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = event
    for key in path:
        value = value[key]
    return value


def test_every_finding_becomes_one_event_with_the_required_fields() -> None:
    result = sample_result()
    events = render_ocsf(result)
    assert [e["finding_info"]["uid"] for e in events] == [f.id for f in result.findings]
    for event in events:
        for path in REQUIRED:
            assert _get(event, path) not in (None, ""), path
        assert (event["class_uid"], event["category_uid"], event["type_uid"], event["activity_id"]) == (
            2004, 2, 200401, 1)
        assert (event["class_name"], event["category_name"], event["activity_name"], event["type_name"]) == (
            "Detection Finding", "Findings", "Create", "Detection Finding: Create")
        assert (event["status_id"], event["status"]) == (1, "New")
        assert event["time"] == GENERATED_MS
        assert event["metadata"]["version"] == "1.3.0"
        assert event["metadata"]["product"] == {
            "name": "aws-org-auditor", "vendor_name": "aws-org-auditor", "version": __version__}


def test_an_event_carries_the_finding_exactly() -> None:
    result = sample_result()
    finding = next(f for f in result.findings if f.rule_id == "TAG-001")
    event = next(e for e in render_ocsf(result) if e["finding_info"]["uid"] == finding.id)
    sandbox = {"uid": SANDBOX, "type": "AWS Account", "type_id": 10, "name": "dev-sandbox"}
    assert event["finding_info"] == {
        "uid": finding.id,
        "title": "Resource without a CostCenter tag",
        "desc": "bucket has no CostCenter tag",
        "types": ["cost-allocation"],
        "analytic": {"uid": "TAG-001", "name": "Resource without a CostCenter tag", "type_id": 1, "type": "Rule",
                     "desc": "Why TAG-001 matters."},
    }
    assert event["message"] == "bucket has no CostCenter tag"
    assert event["resources"] == [{
        "uid": f"arn:aws:s3:::sandbox-scratch-{SANDBOX}", "type": "AWS::S3::Bucket", "cloud_partition": "aws",
        "region": "eu-west-1", "owner": {"account": sandbox},
    }]
    assert event["cloud"] == {"provider": "AWS", "account": sandbox, "region": "eu-west-1", "org": {"uid": ORG_ID}}
    assert event["remediation"] == {"desc": "How to fix TAG-001."}
    assert event["unmapped"] == {"evidence": {}, "path": [], "compliance": {}, "environment": "sandbox"}


def test_global_findings_have_no_region_and_keep_path_evidence_compliance() -> None:
    result = sample_result()
    finding = next(f for f in result.findings if f.rule_id == "IAM-001" and f.account_id == STAGING)
    event = next(e for e in render_ocsf(result) if e["finding_info"]["uid"] == finding.id)
    assert "region" not in event["cloud"] and "region" not in event["resources"][0]
    assert event["resources"][0]["type"] == "AWS::IAM::User"
    assert event["unmapped"] == {
        "evidence": {"attached_policy_arns": ["arn:aws:iam::aws:policy/AdministratorAccess"]},
        "path": [],
        "compliance": {"CIS AWS Foundations 3.0": ["1.16"]},
        "environment": "non-prod",
    }
    env = next(e for e in render_ocsf(result) if e["finding_info"]["analytic"]["uid"] == "ENV-001")
    assert env["unmapped"]["path"] == list(result.findings[0].path)


@pytest.mark.parametrize(
    ("severity", "severity_id", "caption"),
    [("info", 1, "Informational"), ("low", 2, "Low"), ("medium", 3, "Medium"), ("high", 4, "High"),
     ("critical", 5, "Critical")],
)
def test_severity_mapping(severity: str, severity_id: int, caption: str) -> None:
    finding = make_finding("IAM-001", STAGING, f"arn:aws:iam::{STAGING}:user/alice", "m", severity=severity)
    (event,) = render_ocsf(sample_result(findings=(finding,)))
    assert (event["severity_id"], event["severity"]) == (severity_id, caption)


def test_every_severity_has_an_ocsf_mapping() -> None:
    assert set(SEVERITY_IDS) == set(SEVERITIES)


def test_finding_uid_is_stable_across_runs_and_event_uid_is_not() -> None:
    first = render_ocsf(sample_result())
    later = render_ocsf(replace(sample_result(), generated_at="2026-11-27T09:05:00+00:00"))
    assert [e["finding_info"]["uid"] for e in first] == [e["finding_info"]["uid"] for e in later]
    assert {e["metadata"]["uid"] for e in first}.isdisjoint(e["metadata"]["uid"] for e in later)
    assert later[0]["time"] == GENERATED_MS + 7 * 24 * 3600 * 1000


@pytest.mark.parametrize(
    ("generated_at", "expected_ms"),
    [
        ("2026-11-20T09:05:00Z", GENERATED_MS),
        ("2026-11-20T09:05:00+00:00", GENERATED_MS),
        ("2026-11-20T11:05:00+02:00", GENERATED_MS),
        ("2026-11-20T09:05:00.250000+00:00", GENERATED_MS + 250),
        ("2026-11-20T09:05:00", GENERATED_MS),  # no zone: taken as UTC
    ],
)
def test_time_is_epoch_milliseconds(generated_at: str, expected_ms: int) -> None:
    (event, *_) = render_ocsf(replace(sample_result(), generated_at=generated_at))
    assert event["time"] == expected_ms


def test_unreadable_generated_at_is_a_user_error() -> None:
    with pytest.raises(UserError, match="not an ISO 8601 time"):
        render_ocsf(replace(sample_result(), generated_at="last tuesday"))


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (f"arn:aws:iam::{STAGING}:role/ci-deployer", "AWS::IAM::Role"),
        (f"arn:aws:iam::{STAGING}:role/service-role/nested", "AWS::IAM::Role"),
        (f"arn:aws:iam::{STAGING}:user/alice", "AWS::IAM::User"),
        (f"arn:aws:iam::{STAGING}:root", "AWS::Account"),
        ("arn:aws:s3:::my-bucket", "AWS::S3::Bucket"),
        (f"arn:aws:ec2:us-east-1:{MANAGEMENT}:instance/i-0abc", "AWS::EC2::Instance"),
        (f"arn:aws:lambda:us-east-1:{MANAGEMENT}:function:deploy", "AWS::Lambda::Function"),
        (f"arn:aws:organizations::{MANAGEMENT}:root/{ORG_ID}/r-root", "AWS::Organizations::Root"),
        (f"arn:aws:dynamodb:us-east-1:{MANAGEMENT}:table/orders", "dynamodb:table"),
        ("not-an-arn", "unknown"),
    ],
)
def test_resource_type(arn: str, expected: str) -> None:
    assert resource_type(arn) == expected


def test_partition_comes_from_the_arn() -> None:
    finding = make_finding("IAM-001", STAGING, f"arn:aws-us-gov:iam::{STAGING}:user/alice", "m")
    (event,) = render_ocsf(sample_result(findings=(finding,)))
    assert event["resources"][0]["cloud_partition"] == "aws-us-gov"


def test_no_findings_no_events() -> None:
    assert render_ocsf(sample_result(findings=())) == []


def test_write_ocsf_round_trips_hostile_text(tmp_path: Path) -> None:
    result = replace(hostile_result(), generated_at="2026-11-20T09:05:00Z")
    path = write_ocsf(result, tmp_path / "out" / "findings.ocsf.json")
    events = json.loads(path.read_text(encoding="utf-8"))
    assert events == render_ocsf(result)
    assert len(events) == len(result.findings)
    assert events[0]["finding_info"]["title"] == PAYLOAD
    assert [p.name for p in path.parent.iterdir()] == ["findings.ocsf.json"]  # no staging file left behind
