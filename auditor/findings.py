"""Findings: what rules conclude, in the shape of the findings.json contract."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

FINDINGS_SCHEMA_VERSION = "1.0"

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(reversed(SEVERITIES))}
_SEVERITY_BY_NAME: dict[str, Severity] = {name: name for name in SEVERITIES}


def severity_named(name: str) -> Severity:
    """The severity called ``name``; ValueError for any other text (a config, a flag, a rule's metadata)."""
    try:
        return _SEVERITY_BY_NAME[name]
    except KeyError:
        raise ValueError(f"severity {name!r} is not one of {', '.join(SEVERITIES)}") from None

Category = Literal[
    "environment-isolation",
    "management-account",
    "admin-overgrant",
    "privilege-escalation",
    "cross-environment-access",
    "external-access",
    "credential-hygiene",
    "cost-allocation",
    "guardrails",
    "logging-monitoring",
    "data-protection",
    "network-exposure",
    "coverage",
]
CATEGORIES: tuple[Category, ...] = (
    "environment-isolation",
    "management-account",
    "admin-overgrant",
    "privilege-escalation",
    "cross-environment-access",
    "external-access",
    "credential-hygiene",
    "cost-allocation",
    "guardrails",
    "logging-monitoring",
    "data-protection",
    "network-exposure",
    "coverage",
)


@dataclass(frozen=True)
class Issue:
    """What a rule's check yields: one problem on one resource. The engine adds the rule's metadata."""

    account_id: str
    resource_arn: str
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    region: str = "global"
    path: tuple[str, ...] = ()
    severity: Severity | None = None  # overrides the rule's default severity when set
    key: str = ""  # distinguishes several issues of one rule on one resource (kept stable across runs)


def finding_id(rule_id: str, account_id: str, resource_arn: str, key: str = "") -> str:
    """A stable id: the same issue on the same resource gets the same id in every run."""
    digest = hashlib.sha256("\x1f".join((rule_id, account_id, resource_arn, key)).encode()).hexdigest()
    return f"{rule_id}-{digest[:16]}"


@dataclass(frozen=True)
class Finding:
    id: str
    rule_id: str
    title: str
    severity: Severity
    category: Category
    account_id: str
    region: str
    resource_arn: str
    environment: str
    message: str
    evidence: dict[str, Any]
    path: tuple[str, ...]
    remediation: str
    compliance: dict[str, tuple[str, ...]]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "title": self.title,
            "severity": self.severity,
            "category": self.category,
            "account_id": self.account_id,
            "region": self.region,
            "resource_arn": self.resource_arn,
            "environment": self.environment,
            "message": self.message,
            "evidence": self.evidence,
            "path": list(self.path),
            "remediation": self.remediation,
            "compliance": {framework: list(ids) for framework, ids in self.compliance.items()},
        }


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most severe first, then by rule, account and resource, so output is deterministic."""
    return sorted(
        findings,
        key=lambda f: (-SEVERITY_RANK[f.severity], f.rule_id, f.account_id, f.resource_arn, f.id),
    )
