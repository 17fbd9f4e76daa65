"""AuditResults built in code for the report tests (and the report benchmark)."""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any

from auditor.findings import CATEGORIES, SEVERITIES, Finding, finding_id
from auditor.model import (
    CoverageGap,
    Manifest,
    OrgAccount,
    Organization,
    OrganizationalUnit,
    Snapshot,
)
from auditor.result import AccountView, AuditResult, MatrixCell, RuleInfo

ORG_ID = "o-a1b2c3d4e5"
MANAGEMENT = "111111111111"
PROD_APP = "222222222222"
PROD_DATA = "333333333333"
STAGING = "444444444444"
SANDBOX = "555555555555"
SECURITY = "666666666666"
SUSPENDED = "777777777777"

# id, name, OU id, environment, environment source, audited, management
ACCOUNTS: tuple[tuple[str, str, str, str, str, bool, bool], ...] = (
    (MANAGEMENT, "management", "r-root", "unknown", "default (no tag, no OU match)", True, True),
    (PROD_APP, "prod-app", "ou-prod", "prod", "account tag Environment=prod", True, False),
    (PROD_DATA, "prod-data", "ou-prod", "prod", "OU path /Root/Workloads/Prod", True, False),
    (STAGING, "staging", "ou-nonprod", "non-prod", "OU path /Root/Workloads/NonProd", True, False),
    (SANDBOX, "dev-sandbox", "ou-sandbox", "sandbox", "account tag Environment=sandbox", True, False),
    (SECURITY, "security-audit", "ou-security", "security", "config", True, False),
    (SUSPENDED, "legacy", "ou-sandbox", "sandbox", "OU path /Root/Sandbox", False, False),
)
OUS = (
    ("ou-workloads", "Workloads", "r-root"),
    ("ou-prod", "Prod", "ou-workloads"),
    ("ou-nonprod", "NonProd", "ou-workloads"),
    ("ou-sandbox", "Sandbox", "r-root"),
    ("ou-security", "Security", "r-root"),
)

CIS = "CIS AWS Foundations 3.0"
SOC2 = "SOC 2"


def _rule(rule_id: str, title: str, category: str, severity: str,
          compliance: dict[str, tuple[str, ...]]) -> RuleInfo:
    return RuleInfo(rule_id, title, category, severity, f"Why {rule_id} matters.",
                    f"How to fix {rule_id}.", compliance)


RULE_CATALOGUE: tuple[RuleInfo, ...] = (
    _rule("ENV-001", "Non-production principal can reach production admin", "environment-isolation",
          "critical", {SOC2: ("CC6.1", "CC6.3")}),
    _rule("IAM-001", "IAM user with AdministratorAccess", "admin-overgrant", "high", {CIS: ("1.16",)}),
    _rule("IAM-002", "Privilege escalation via iam:PassRole", "privilege-escalation", "high",
          {CIS: ("1.16",), SOC2: ("CC6.3",)}),
    _rule("MGMT-001", "Workloads in the management account", "management-account", "medium", {CIS: ("1.1",)}),
    _rule("CRED-001", "Access key older than 90 days", "credential-hygiene", "medium",
          {CIS: ("1.14",), SOC2: ("CC6.1",)}),
    _rule("EXT-001", "Role trusts an account outside the organisation", "external-access", "high",
          {SOC2: ("CC6.6",)}),
    _rule("TAG-001", "Resource without a CostCenter tag", "cost-allocation", "low", {}),
    _rule("SCP-001", "No SCP denies leaving the organisation", "guardrails", "info", {CIS: ("1.20",)}),
    # A control no rule fires on in the sample: the compliance view must show it as passed.
    _rule("ROOT-001", "Root user has no MFA", "credential-hygiene", "critical", {CIS: ("1.5",)}),
)
RULES_BY_ID = {rule.id: rule for rule in RULE_CATALOGUE}
ENVIRONMENT_OF = {entry[0]: entry[3] for entry in ACCOUNTS}


def make_finding(
    rule_id: str,
    account_id: str,
    resource_arn: str,
    message: str,
    *,
    severity: str | None = None,
    evidence: dict[str, Any] | None = None,
    path: tuple[str, ...] = (),
    region: str = "global",
    key: str = "",
) -> Finding:
    rule = RULES_BY_ID[rule_id]
    return Finding(
        id=finding_id(rule_id, account_id, resource_arn, key),
        rule_id=rule_id,
        title=rule.title,
        severity=severity or rule.severity,  # type: ignore[arg-type]
        category=rule.category,  # type: ignore[arg-type]
        account_id=account_id,
        region=region,
        resource_arn=resource_arn,
        environment=ENVIRONMENT_OF.get(account_id, "unknown"),
        message=message,
        evidence=evidence or {},
        path=path,
        remediation=rule.remediation,
        compliance=rule.compliance,
    )


def _role(account_id: str, name: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{name}"


def sample_findings() -> tuple[Finding, ...]:
    ci_role = _role(STAGING, "ci-deployer")
    prod_admin = _role(PROD_APP, "OrganizationAccountAccessRole")
    return (
        make_finding(
            "ENV-001", PROD_APP, prod_admin,
            "staging role ci-deployer can assume OrganizationAccountAccessRole (admin) in prod-app",
            path=(ci_role, prod_admin),
            evidence={"hops": [{
                "source": ci_role, "target": prod_admin, "kind": "sts:AssumeRole",
                "evidence": {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{STAGING}:root"},
                             "Action": "sts:AssumeRole"},
            }], "access": "admin"},
        ),
        make_finding(
            "ENV-001", PROD_DATA, _role(PROD_DATA, "data-writer"),
            "sandbox user dev can write to prod-data through two hops",
            severity="high", key="write",
            path=(f"arn:aws:iam::{SANDBOX}:user/dev", _role(SANDBOX, "hop"), _role(PROD_DATA, "data-writer")),
            evidence={"hops": [
                {"source": f"arn:aws:iam::{SANDBOX}:user/dev", "target": _role(SANDBOX, "hop"),
                 "kind": "sts:AssumeRole", "evidence": {"Effect": "Allow", "Action": "sts:AssumeRole"}},
                {"source": _role(SANDBOX, "hop"), "target": _role(PROD_DATA, "data-writer"),
                 "kind": "sts:AssumeRole", "evidence": {"Effect": "Allow", "Action": "sts:AssumeRole"}},
            ], "access": "write"},
        ),
        make_finding("IAM-001", STAGING, f"arn:aws:iam::{STAGING}:user/alice",
                     "user alice has AdministratorAccess attached directly",
                     evidence={"attached_policy_arns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}),
        make_finding("IAM-001", SANDBOX, f"arn:aws:iam::{SANDBOX}:user/bob",
                     "user bob has AdministratorAccess attached directly"),
        make_finding("IAM-002", PROD_APP, _role(PROD_APP, "lambda-deployer"),
                     "lambda-deployer can pass any role to a new Lambda function",
                     evidence={"actions": ["iam:PassRole", "lambda:CreateFunction"], "resource": "*"}),
        make_finding("MGMT-001", MANAGEMENT, f"arn:aws:ec2:us-east-1:{MANAGEMENT}:instance/i-0abc",
                     "EC2 instance running in the management account", region="us-east-1"),
        make_finding("CRED-001", PROD_DATA, f"arn:aws:iam::{PROD_DATA}:user/etl",
                     "access key 1 of etl last rotated 412 days ago", evidence={"age_days": 412}),
        make_finding("EXT-001", STAGING, _role(STAGING, "vendor-access"),
                     "vendor-access trusts 999999999999, outside the organisation",
                     evidence={"external_account_ids": ["999999999999"]}),
        make_finding("TAG-001", SANDBOX, f"arn:aws:s3:::sandbox-scratch-{SANDBOX}",
                     "bucket has no CostCenter tag", region="eu-west-1"),
        make_finding("SCP-001", MANAGEMENT, f"arn:aws:organizations::{MANAGEMENT}:root/{ORG_ID}/r-root",
                     "no SCP denies organizations:LeaveOrganization"),
    )


def sample_snapshot(org_id: str = ORG_ID, account_names: dict[str, str] | None = None) -> Snapshot:
    names = account_names or {}
    org = Organization(
        id=org_id, arn=f"arn:aws:organizations::{MANAGEMENT}:organization/{org_id}",
        management_account_id=MANAGEMENT, root_id="r-root",
        organizational_units=tuple(
            OrganizationalUnit(id=ou, arn=f"arn:aws:organizations::{MANAGEMENT}:ou/{org_id}/{ou}",
                               name=name, parent_id=parent) for ou, name, parent in OUS),
        accounts=tuple(
            OrgAccount(id=a[0], arn=f"arn:aws:organizations::{MANAGEMENT}:account/{org_id}/{a[0]}",
                       name=names.get(a[0], a[1]), parent_id=a[2]) for a in ACCOUNTS),
    )
    manifest = Manifest(tool_version="0.1.0", created_at="2026-11-20T09:00:00Z", mode="organization",
                        regions=("us-east-1", "eu-west-1"), account_ids=tuple(a[0] for a in ACCOUNTS))
    return Snapshot(manifest=manifest, organization=org, accounts=())


def sample_result(
    findings: tuple[Finding, ...] | None = None,
    account_names: dict[str, str] | None = None,
    coverage: tuple[CoverageGap, ...] | None = None,
) -> AuditResult:
    """Seven accounts in five environments, ten findings, two coverage gaps, an isolation matrix."""
    names = account_names or {}
    snapshot = sample_snapshot(account_names=names)
    assert snapshot.organization is not None
    accounts = tuple(
        AccountView(id=a[0], name=names.get(a[0], a[1]), ou_path=snapshot.organization.ou_path_names(a[0]),
                    environment=a[3], environment_source=a[4], audited=a[5], is_management=a[6])
        for a in ACCOUNTS
    )
    findings = sample_findings() if findings is None else findings
    env_findings = [f for f in findings if f.rule_id == "ENV-001"]
    matrix = (
        MatrixCell("non-prod", PROD_APP, admin=1, write=1,
                   finding_ids=tuple(f.id for f in env_findings if f.account_id == PROD_APP)),
        MatrixCell("sandbox", PROD_DATA, admin=0, write=1,
                   finding_ids=tuple(f.id for f in env_findings if f.account_id == PROD_DATA)),
        MatrixCell("sandbox", PROD_APP, admin=0, write=0),
        MatrixCell("prod", PROD_APP, admin=3, write=5),
    )
    coverage = coverage if coverage is not None else (
        CoverageGap(account_id=SUSPENDED, service="sts", operation="AssumeRole", error_code="AccessDenied",
                    message="not authorized to perform sts:AssumeRole"),
        CoverageGap(account_id=PROD_APP, service="lambda", region="ap-southeast-2",
                    operation="ListFunctions", error_code="UnrecognizedClientException",
                    message="region not enabled"),
    )
    return AuditResult(
        generated_at="2026-11-20T09:05:00Z", snapshot=snapshot, accounts=accounts, findings=findings,
        coverage=coverage, rules=RULE_CATALOGUE, matrix=matrix,
    )


# --- hostile input --------------------------------------------------------------------------------

SCRIPT_PAYLOAD = "</script><script>alert(1)</script>"
IMG_PAYLOAD = "\"'><img src=x onerror=alert(1)>"
PAYLOAD = SCRIPT_PAYLOAD + IMG_PAYLOAD + "\u2028&amp;"


def hostile_result() -> AuditResult:
    """Every free-text field an attacker can influence (names, tags, messages, evidence) is a payload."""
    findings = tuple(
        replace(f, message=f.message + PAYLOAD, title=PAYLOAD,
                resource_arn=f.resource_arn + PAYLOAD,
                evidence={**f.evidence, "tags": {"Name": PAYLOAD, PAYLOAD: "value"}},
                path=tuple(hop + PAYLOAD for hop in f.path),
                remediation=PAYLOAD)
        for f in sample_findings()
    )
    result = sample_result(
        findings=findings,
        account_names={PROD_APP: PAYLOAD, STAGING: SCRIPT_PAYLOAD},
        coverage=(CoverageGap(account_id=PROD_APP, service="iam", operation=PAYLOAD, error_code=PAYLOAD,
                              message=PAYLOAD),),
    )
    accounts = tuple(replace(a, environment_source=PAYLOAD, ou_path=a.ou_path + PAYLOAD)
                     for a in result.accounts)
    rules = tuple(replace(r, compliance={PAYLOAD: (PAYLOAD,)}) for r in result.rules)
    return replace(result, accounts=accounts, rules=rules, generated_at="2026-11-20T09:05:00Z" + PAYLOAD)


# --- volume ----------------------------------------------------------------------------------------


def synthetic_result(n_findings: int, n_accounts: int = 200, seed: int = 7) -> AuditResult:
    """A large organisation with ``n_findings`` findings of realistic size, for the benchmark."""
    rng = random.Random(seed)
    base = sample_result()
    environments = ("prod", "non-prod", "sandbox", "security", "unknown")
    accounts = tuple(
        AccountView(id=f"{100000000000 + i}", name=f"workload-{i:03d}", ou_path=f"/Root/Workloads/OU{i % 12}",
                    environment=environments[i % 5], environment_source="account tag Environment",
                    audited=i % 50 != 7, is_management=i == 0)
        for i in range(n_accounts)
    )
    rule_ids = [r.id for r in RULE_CATALOGUE]
    findings = []
    for n in range(n_findings):
        account = accounts[rng.randrange(n_accounts)]
        rule = RULES_BY_ID[rule_ids[n % len(rule_ids)]]
        arn = f"arn:aws:iam::{account.id}:role/service-role-{n:06d}"
        source = f"arn:aws:iam::{accounts[rng.randrange(n_accounts)].id}:role/ci-{n % 97}"
        findings.append(Finding(
            id=finding_id(rule.id, account.id, arn), rule_id=rule.id, title=rule.title,
            severity=SEVERITIES[rng.randrange(5)], category=CATEGORIES[rng.randrange(len(CATEGORIES))],
            account_id=account.id, region=rng.choice(("global", "us-east-1", "eu-west-1")),
            resource_arn=arn, environment=account.environment,
            message=f"{source} can reach {arn} with sts:AssumeRole and iam:PassRole on *",
            evidence={"hops": [{"source": source, "target": arn, "kind": "sts:AssumeRole",
                                "evidence": {"Effect": "Allow", "Action": "sts:AssumeRole",
                                             "Principal": {"AWS": source}}}],
                      "access": "admin"},
            path=(source, arn), remediation=rule.remediation, compliance=rule.compliance,
        ))
    by_target: dict[tuple[str, str], list[str]] = {}
    for f in findings[: n_findings // 10]:
        by_target.setdefault((environments[rng.randrange(5)], f.account_id), []).append(f.id)
    matrix = tuple(MatrixCell(env, target, admin=len(ids), write=len(ids) // 2, finding_ids=tuple(ids))
                   for (env, target), ids in by_target.items())
    coverage = tuple(CoverageGap(account_id=a.id, service="sts", operation="AssumeRole",
                                 error_code="AccessDenied", message="denied")
                     for a in accounts if not a.audited)
    return replace(base, accounts=accounts, findings=tuple(findings), matrix=matrix, coverage=coverage)
