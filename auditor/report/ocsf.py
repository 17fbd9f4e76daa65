"""OCSF output: each finding as an OCSF Detection Finding event (class 2004) for Security Hub or a SIEM.

Field names follow the OCSF schema at ``OCSF_VERSION`` (https://schema.ocsf.io): the base event,
the ``finding`` class, and the ``finding_info``, ``analytic``, ``resource_details``, ``cloud``,
``account``, ``user``, ``metadata``, ``product`` and ``remediation`` objects. What OCSF has no
attribute for (evidence, attack path, compliance mapping, environment) goes under ``unmapped``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor import __version__
from auditor.errors import UserError
from auditor.findings import Finding
from auditor.outputs import write_text_atomically
from auditor.result import AuditResult

OCSF_VERSION = "1.3.0"
OCSF_FILE = "findings.ocsf.json"
PRODUCT_NAME = "aws-org-auditor"
VENDOR_NAME = "aws-org-auditor"

CATEGORY_UID, CATEGORY_NAME = 2, "Findings"
CLASS_UID, CLASS_NAME = 2004, "Detection Finding"
ACTIVITY_ID, ACTIVITY_NAME = 1, "Create"
TYPE_UID = CLASS_UID * 100 + ACTIVITY_ID  # OCSF: type_uid = class_uid * 100 + activity_id
STATUS_ID, STATUS = 1, "New"
ANALYTIC_TYPE_ID, ANALYTIC_TYPE = 1, "Rule"
ACCOUNT_TYPE_ID, ACCOUNT_TYPE = 10, "AWS Account"

# Our severity -> OCSF severity_id and its caption.
SEVERITY_IDS: dict[str, tuple[int, str]] = {
    "info": (1, "Informational"),
    "low": (2, "Low"),
    "medium": (3, "Medium"),
    "high": (4, "High"),
    "critical": (5, "Critical"),
}

# (ARN service, resource type) -> the resource type name AWS uses (CloudFormation spelling).
RESOURCE_TYPES: dict[tuple[str, str], str] = {
    ("iam", "role"): "AWS::IAM::Role",
    ("iam", "user"): "AWS::IAM::User",
    ("iam", "group"): "AWS::IAM::Group",
    ("iam", "policy"): "AWS::IAM::ManagedPolicy",
    ("iam", "instance-profile"): "AWS::IAM::InstanceProfile",
    ("iam", "root"): "AWS::Account",
    ("s3", ""): "AWS::S3::Bucket",
    ("ec2", "instance"): "AWS::EC2::Instance",
    ("ec2", "security-group"): "AWS::EC2::SecurityGroup",
    ("ec2", "vpc"): "AWS::EC2::VPC",
    ("lambda", "function"): "AWS::Lambda::Function",
    ("kms", "key"): "AWS::KMS::Key",
    ("sns", ""): "AWS::SNS::Topic",
    ("sqs", ""): "AWS::SQS::Queue",
    ("secretsmanager", "secret"): "AWS::SecretsManager::Secret",
    ("organizations", "root"): "AWS::Organizations::Root",
    ("organizations", "ou"): "AWS::Organizations::OrganizationalUnit",
    ("organizations", "account"): "AWS::Organizations::Account",
    ("organizations", "policy"): "AWS::Organizations::Policy",
    ("organizations", "organization"): "AWS::Organizations::Organization",
}


def _epoch_ms(generated_at: str) -> int:
    try:
        moment = datetime.fromisoformat(generated_at)
    except ValueError:
        raise UserError(f"generated_at {generated_at!r} is not an ISO 8601 time; cannot write OCSF") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def arn_parts(arn: str) -> tuple[str, str, str]:
    """(partition, service, resource type) of an ARN; a type is "" when the resource has no type prefix."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "aws", "", ""
    resource = parts[5]
    resource_type = "root" if resource == "root" else ""  # arn:aws:iam::123456789012:root
    for separator in ("/", ":"):
        if separator in resource:
            resource_type = resource.split(separator, 1)[0]
            break
    return parts[1] or "aws", parts[2], resource_type


def resource_type(arn: str) -> str:
    """AWS's name for the resource type of an ARN, else ``service:type`` from the ARN itself."""
    _, service, kind = arn_parts(arn)
    return _type_name(service, kind)


def _type_name(service: str, kind: str) -> str:
    known = RESOURCE_TYPES.get((service, kind))
    if known:
        return known
    return f"{service}:{kind}" if kind else service or "unknown"


def _account(account_id: str, names: dict[str, str]) -> dict[str, Any]:
    account: dict[str, Any] = {"uid": account_id, "type": ACCOUNT_TYPE, "type_id": ACCOUNT_TYPE_ID}
    if names.get(account_id):
        account["name"] = names[account_id]
    return account


def _event(finding: Finding, time_ms: int, org_id: str | None, names: dict[str, str],
           rationales: dict[str, str]) -> dict[str, Any]:
    severity_id, severity = SEVERITY_IDS[finding.severity]
    partition, service, kind = arn_parts(finding.resource_arn)
    region = finding.region if finding.region and finding.region != "global" else None

    analytic: dict[str, Any] = {
        "uid": finding.rule_id,
        "name": finding.title,
        "type_id": ANALYTIC_TYPE_ID,
        "type": ANALYTIC_TYPE,
    }
    if rationales.get(finding.rule_id):
        analytic["desc"] = rationales[finding.rule_id]

    resource: dict[str, Any] = {
        "uid": finding.resource_arn,
        "type": _type_name(service, kind),
        "cloud_partition": partition,
        "owner": {"account": _account(finding.account_id, names)},
    }
    cloud: dict[str, Any] = {"provider": "AWS", "account": _account(finding.account_id, names)}
    if region:
        resource["region"] = region
        cloud["region"] = region
    if org_id:
        cloud["org"] = {"uid": org_id}

    event: dict[str, Any] = {
        "class_uid": CLASS_UID,
        "class_name": CLASS_NAME,
        "category_uid": CATEGORY_UID,
        "category_name": CATEGORY_NAME,
        "activity_id": ACTIVITY_ID,
        "activity_name": ACTIVITY_NAME,
        "type_uid": TYPE_UID,
        "type_name": f"{CLASS_NAME}: {ACTIVITY_NAME}",
        "severity_id": severity_id,
        "severity": severity,
        "status_id": STATUS_ID,
        "status": STATUS,
        "time": time_ms,
        "message": finding.message,
        "metadata": {
            "version": OCSF_VERSION,
            "product": {"name": PRODUCT_NAME, "vendor_name": VENDOR_NAME, "version": __version__},
            "profiles": ["cloud"],
            # One event per finding per run: the finding id is stable, the run time tells runs apart.
            "uid": f"{finding.id}-{time_ms}",
        },
        "finding_info": {
            "uid": finding.id,
            "title": finding.title,
            "desc": finding.message,
            "types": [finding.category],
            "analytic": analytic,
        },
        "resources": [resource],
        "cloud": cloud,
        "unmapped": {
            "evidence": finding.evidence,
            "path": list(finding.path),
            "compliance": {framework: list(ids) for framework, ids in finding.compliance.items()},
            "environment": finding.environment,
        },
    }
    if finding.remediation:
        event["remediation"] = {"desc": finding.remediation}
    return event


def render_ocsf(result: AuditResult) -> list[dict[str, Any]]:
    """One OCSF Detection Finding event per (unsuppressed) finding, in the result's finding order."""
    time_ms = _epoch_ms(result.generated_at)
    org_id = result.snapshot.organization.id if result.snapshot.organization else None
    names = {account.id: account.name for account in result.accounts}
    rationales = {rule.id: rule.rationale for rule in result.rules}
    return [_event(finding, time_ms, org_id, names, rationales) for finding in result.findings]


def ocsf_json(result: AuditResult) -> str:
    """The events as a JSON array, the shape Security Hub's and most SIEMs' batch importers read."""
    return json.dumps(render_ocsf(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_ocsf(result: AuditResult, path: Path) -> Path:
    """Write the OCSF JSON array to ``path`` atomically (via a temporary sibling and a rename)."""
    return write_text_atomically(path, ocsf_json(result))
