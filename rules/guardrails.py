"""Guardrails: the SCPs that keep an organisation's accounts inside their lanes."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.engine import RuleContext, rule
from auditor.environment import classify_value
from auditor.findings import Issue
from auditor.iam.policy import PolicyParseError, PolicySource, parse_policy
from auditor.model import Organization, OrgPolicy

SCP = "SERVICE_CONTROL_POLICY"


def _scps(org: Organization) -> list[OrgPolicy]:
    return [p for p in org.policies if p.type == SCP]


def _denies(policy: OrgPolicy, action: str) -> bool:
    try:
        parsed = parse_policy(policy.document, PolicySource(kind="scp", name=policy.name, arn=policy.arn))
    except PolicyParseError:
        return False
    return any(s.effect == "Deny" and s.matches_action(action) for s in parsed.statements)


@rule(
    id="GUARD-001",
    title="Production OU has no SCP beyond FullAWSAccess",
    category="guardrails",
    severity="medium",
    rationale="""Production accounts deserve guardrails that dev does not need: denying the disabling of
    CloudTrail and GuardDuty, region restrictions, protection of the audit and break-glass roles.""",
    remediation="""Attach an SCP to the production OU that denies at least cloudtrail:StopLogging,
    cloudtrail:DeleteTrail, guardduty:DeleteDetector and changes to your security roles.""",
    compliance={"ISO27001-2022": ("A.8.31",), "NIST-800-53": ("AC-6",)},
)
def prod_ou_without_scp(ctx: RuleContext) -> Iterator[Issue]:
    org = ctx.snapshot.organization
    if org is None:
        return
    for ou in org.organizational_units:
        if classify_value(ou.name) != "prod":
            continue
        attached = [p for p in _scps(org) if ou.id in p.target_ids and not p.aws_managed]
        if not attached:
            yield Issue(
                account_id=org.management_account_id,
                resource_arn=ou.arn,
                message=f"Production OU {ou.name} has no SCP of its own",
                evidence={"attached_scps": [p.name for p in _scps(org) if ou.id in p.target_ids]},
            )


@rule(
    id="GUARD-002",
    title="No SCP prevents accounts from leaving the organisation",
    category="guardrails",
    severity="medium",
    rationale="""An account that leaves the organisation also leaves every SCP, the organisation trail and
    consolidated billing; an attacker with admin in a member account can do it in one call.""",
    remediation="""Attach an SCP to the root that denies organizations:LeaveOrganization.""",
    compliance={"NIST-800-53": ("AC-6",), "ISO27001-2022": ("A.8.2",)},
)
def no_leave_protection(ctx: RuleContext) -> Iterator[Issue]:
    org = ctx.snapshot.organization
    if org is None:
        return
    at_root = [p for p in _scps(org) if org.root_id in p.target_ids]
    if not any(_denies(p, "organizations:LeaveOrganization") for p in at_root):
        yield Issue(
            account_id=org.management_account_id,
            resource_arn=org.arn,
            message="No SCP attached to the root denies organizations:LeaveOrganization",
            evidence={"root_scps": [p.name for p in at_root]},
        )


def _has_region_restriction(policy: OrgPolicy) -> bool:
    try:
        parsed = parse_policy(policy.document, PolicySource(kind="scp", name=policy.name, arn=policy.arn))
    except PolicyParseError:
        return False
    return any(
        s.effect == "Deny"
        and any(key.lower() == "aws:requestedregion" for keys in s.conditions.values() for key in keys)
        for s in parsed.statements
    )


def _custom_scps(org: Organization) -> list[OrgPolicy]:
    return [p for p in _scps(org) if not p.aws_managed]


@rule(
    id="GUARD-003",
    title="No SCP restricts the regions accounts can use",
    category="guardrails",
    severity="low",
    rationale="""Attackers with stolen keys favour regions nobody watches. Denying unused regions with an SCP
    (aws:RequestedRegion) shrinks the surface to monitor and keeps data where your compliance scope says.""",
    remediation="""Attach an SCP to the root (or workload OUs) that denies actions outside your approved regions
    via the aws:RequestedRegion condition, exempting global services.""",
    compliance={"NIST-800-53": ("AC-6",)},
)
def no_region_restriction(ctx: RuleContext) -> Iterator[Issue]:
    org = ctx.snapshot.organization
    if org is None:
        return
    custom = _custom_scps(org)
    if any(_has_region_restriction(p) for p in custom):
        return
    yield Issue(
        account_id=org.management_account_id,
        resource_arn=org.arn,
        severity="info" if not custom else None,
        message="No SCP denies requests outside approved regions (aws:RequestedRegion)"
        + (" — the organisation has no custom SCP at all" if not custom else ""),
        evidence={"custom_scps": [p.name for p in custom]},
    )


@rule(
    id="GUARD-004",
    title="No SCP protects the audit role from tampering",
    category="guardrails",
    severity="low",
    rationale="""An administrator of a member account can delete or re-trust the read-only audit role and blind
    the auditor. An SCP that denies changes to the role (except from a trusted pipeline) keeps audits honest.""",
    remediation="""Attach an SCP denying iam:DeleteRole, iam:UpdateAssumeRolePolicy, iam:PutRolePolicy,
    iam:AttachRolePolicy and iam:DetachRolePolicy on arn:aws:iam::*:role/<audit role name>, with an exception for
    the StackSet execution role that deploys it.""",
    compliance={"NIST-800-53": ("AC-6",), "ISO27001-2022": ("A.8.2",)},
)
def audit_role_unprotected(ctx: RuleContext) -> Iterator[Issue]:
    org = ctx.snapshot.organization
    role_name = ctx.snapshot.manifest.role_name
    if org is None or not role_name:
        return
    probe = f"arn:aws:iam::{ctx.snapshot.management_account_id}:role/{role_name}"
    custom = _custom_scps(org)
    for policy in custom:
        try:
            parsed = parse_policy(policy.document, PolicySource(kind="scp", name=policy.name, arn=policy.arn))
        except PolicyParseError:
            continue
        for statement in parsed.statements:
            if (
                statement.effect == "Deny"
                and statement.matches_action("iam:UpdateAssumeRolePolicy")
                and statement.matches_action("iam:DeleteRole")
                and statement.matches_resource(probe)
            ):
                return
    yield Issue(
        account_id=org.management_account_id,
        resource_arn=org.arn,
        severity="info" if not custom else None,
        message=f"No SCP denies changes to the audit role {role_name}",
        evidence={"audit_role": role_name, "custom_scps": [p.name for p in custom]},
    )


@rule(
    id="GUARD-005",
    title="No organisation trail is logging",
    category="guardrails",
    severity="high",
    rationale="""An organisation trail records the API activity of every member account, present and future, in
    every region, and member accounts cannot stop or delete it. Without one that is multi-region and logging,
    an intruder's actions in any account or region may leave no record to investigate.""",
    remediation="""From the management account (or CloudTrail's delegated administrator), create a multi-region
    organization trail delivering to a bucket in a log-archive account (aws cloudtrail create-trail
    --is-organization-trail --is-multi-region-trail ...), then start it (aws cloudtrail start-logging).""",
    compliance={
        "CIS-AWS-3.0.0": ("3.1",),
        "AWS-FSBP": ("CloudTrail.1",),
        "NIST-800-53": ("AU-12",),
        "ISO27001-2022": ("A.8.15",),
    },
    inputs=("cloudtrail", "organizations"),
)
def no_logging_organization_trail(ctx: RuleContext) -> Iterator[Issue]:
    org = ctx.snapshot.organization
    if org is None or org.trails is None:
        return  # trails not collected: the coverage gap already says so
    candidates = [t for t in org.trails if t.is_organization_trail and t.is_multi_region]
    # A trail whose status could not be read may well be logging: its coverage gap speaks, the rule does not guess.
    if any(t.is_logging is not False for t in candidates):
        return
    yield Issue(
        account_id=org.management_account_id,
        resource_arn=org.arn,
        message="No multi-region organisation trail is logging"
        + ("" if org.trails else " — the organisation has no organisation trail at all"),
        evidence={"trails": [t.model_dump(mode="json") for t in org.trails]},
    )
