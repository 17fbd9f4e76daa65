"""Admin over-grants: effective full administrative access where it does not belong."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.engine import RuleContext, rule
from auditor.findings import Issue
from auditor.model import IamRole

from ._common import days_since, parse_time

ADMIN_COMPLIANCE = {
    "CIS-AWS-3.0.0": ("1.16",),
    "AWS-FSBP": ("IAM.1",),
    "SOC2": ("CC6.3",),
    "ISO27001-2022": ("A.8.2", "A.5.15"),
    "NIST-800-53": ("AC-6",),
}
WORKLOAD_SERVICES = frozenset(
    {
        "ec2.amazonaws.com",
        "lambda.amazonaws.com",
        "ecs-tasks.amazonaws.com",
        "ecs.amazonaws.com",
        "eks.amazonaws.com",
        "glue.amazonaws.com",
        "sagemaker.amazonaws.com",
        "codebuild.amazonaws.com",
        "batch.amazonaws.com",
        "states.amazonaws.com",
        "apprunner.amazonaws.com",
        "build.apprunner.amazonaws.com",
    }
)


def _evidence(grant: Any) -> dict[str, Any]:
    return {
        "level": grant.level,
        "services": list(grant.services),
        "granted_by": [
            {"policy": e.policy, "policy_kind": e.policy_kind, "statement": e.statement}
            for e in grant.evidence
        ],
        "conditional": grant.conditional,
        "undecided_conditions": list(grant.undecided_conditions),
    }


def _roles(ctx: RuleContext) -> dict[str, IamRole]:
    return {role.arn: role for account in ctx.snapshot.accounts if account.iam for role in account.iam.roles}


def _group_members(ctx: RuleContext) -> dict[str, list[str]]:
    members: dict[str, list[str]] = {}
    for account in ctx.snapshot.accounts:
        if account.iam is None:
            continue
        by_name = {g.name: g.arn for g in account.iam.groups}
        for user in account.iam.users:
            for name in user.group_names:
                if name in by_name:
                    members.setdefault(by_name[name], []).append(user.arn)
    return members


def _trusted_services(ctx: RuleContext) -> dict[str, set[str]]:
    """Role ARN -> AWS service principals its trust policy admits (from the graph's can-assume edges)."""
    services: dict[str, set[str]] = {}
    for edge in ctx.graph.assume_edges():
        if edge.source_type == "service":
            services.setdefault(edge.target_role_arn, set()).add(edge.source)
    return services


@rule(
    id="ADMIN-001",
    title="IAM user with full administrative access",
    category="admin-overgrant",
    severity="high",
    rationale="""An IAM user with administrator rights holds long-lived credentials (password, access keys)
    that give the whole account to whoever steals them; these grants are the "temporary admin" that stays.""",
    remediation="""Remove the admin policy from the user (and its groups); give humans admin through IAM
    Identity Center permission sets with short sessions and MFA, and give automation a narrowly scoped role.""",
    compliance={**ADMIN_COMPLIANCE, "AWS-FSBP": ("IAM.1", "IAM.2"), "CIS-AWS-3.0.0": ("1.15", "1.16")},
    inputs=("iam", "organizations"),
)
def admin_user(ctx: RuleContext) -> Iterator[Issue]:
    for grant in ctx.graph.admin_grants():
        if grant.principal_type == "user" and grant.level == "full-admin":
            yield Issue(
                account_id=grant.account_id,
                resource_arn=grant.principal_arn,
                message=f"IAM user {grant.principal_arn.split('/')[-1]} has full administrative access",
                evidence=_evidence(grant),
            )


@rule(
    id="ADMIN-002",
    title="Group with members grants full administrative access",
    category="admin-overgrant",
    severity="high",
    rationale="""Every member of an admin group is an administrator; groups grow quietly as people are added
    "temporarily" and never removed.""",
    remediation="""Remove the admin policy from the group or empty it; move human admin access to IAM
    Identity Center with time-bound, approved elevation.""",
    compliance=ADMIN_COMPLIANCE,
    inputs=("iam", "organizations"),
)
def admin_group(ctx: RuleContext) -> Iterator[Issue]:
    members = _group_members(ctx)
    for grant in ctx.graph.admin_grants():
        if (
            grant.principal_type == "group"
            and grant.level == "full-admin"
            and members.get(grant.principal_arn)
        ):
            yield Issue(
                account_id=grant.account_id,
                resource_arn=grant.principal_arn,
                message=f"Group {grant.principal_arn.split('/')[-1]} grants full administrative access to "
                f"{len(members[grant.principal_arn])} member(s)",
                evidence={**_evidence(grant), "members": sorted(members[grant.principal_arn])},
            )


@rule(
    id="ADMIN-003",
    title="Workload role with full administrative access",
    category="admin-overgrant",
    severity="critical",
    rationale="""A role assumed by EC2, Lambda, ECS or another compute service hands its credentials to any
    code running there: a single application vulnerability (SSRF, RCE) becomes administrator of the account.""",
    remediation="""Replace the admin policy with a least-privilege policy for what the workload does (IAM
    Access Analyzer can generate one from CloudTrail activity) and add a permission boundary.""",
    compliance=ADMIN_COMPLIANCE,
    inputs=("iam", "organizations"),
)
def admin_workload_role(ctx: RuleContext) -> Iterator[Issue]:
    roles = _roles(ctx)
    trusted = _trusted_services(ctx)
    for grant in ctx.graph.admin_grants():
        role = roles.get(grant.principal_arn)
        if grant.principal_type != "role" or grant.level != "full-admin" or role is None:
            continue
        services = sorted(trusted.get(role.arn, set()) & WORKLOAD_SERVICES)
        if services:
            yield Issue(
                account_id=grant.account_id,
                resource_arn=grant.principal_arn,
                message=f"Role {role.name}, assumed by {', '.join(services)}, has full administrative access",
                evidence={
                    **_evidence(grant),
                    "trusted_services": services,
                    "trust_policy": role.trust_policy,
                },
            )


@rule(
    id="ADMIN-004",
    title="Service-wide admin on a critical service (iam:*, organizations:*, sts:*)",
    category="admin-overgrant",
    severity="high",
    rationale="""iam:* on every resource lets the holder grant itself any permission, so it is administrator in
    all but name; organizations:* and sts:* are similarly account-wide powers.""",
    remediation="""Replace the service wildcard with the specific actions needed, scoped to specific resources;
    keep permission management with a small set of Identity Center admins.""",
    # Not CIS 1.16 ("*" on "*"): a service-wide wildcard is FSBP IAM.21's concern.
    compliance={**{k: v for k, v in ADMIN_COMPLIANCE.items() if k != "CIS-AWS-3.0.0"}, "AWS-FSBP": ("IAM.21",)},
    inputs=("iam", "organizations"),
)
def service_admin(ctx: RuleContext) -> Iterator[Issue]:
    for grant in ctx.graph.admin_grants():
        if grant.level == "service-admin":
            yield Issue(
                account_id=grant.account_id,
                resource_arn=grant.principal_arn,
                message=f"{grant.principal_type.capitalize()} {grant.principal_arn.split('/')[-1]} holds "
                + ", ".join(f"{s}:*" for s in grant.services)
                + " on all resources",
                evidence=_evidence(grant),
            )


@rule(
    id="ADMIN-005",
    title="Unused administrative access (role or user)",
    category="admin-overgrant",
    severity="medium",
    rationale="""An admin role nobody has used for months is standing privilege with no business need: the
    "temporary" admin that stayed. It is pure attack surface.""",
    remediation="""Delete the role, or remove its admin policy; if it is break-glass access, document it and
    protect its trust policy with MFA and an alarm on use.""",
    compliance={"ISO27001-2022": ("A.5.18", "A.8.2"), "NIST-800-53": ("AC-2", "AC-6"), "SOC2": ("CC6.2",)},
)
def unused_admin_role(ctx: RuleContext) -> Iterator[Issue]:
    roles = _roles(ctx)
    for grant in ctx.graph.admin_grants():
        role = roles.get(grant.principal_arn)
        if grant.principal_type != "role" or grant.level != "full-admin" or role is None:
            continue
        if role.path.startswith("/aws-service-role/") or role.path.startswith("/aws-reserved/"):
            continue
        idle = days_since(ctx, role.last_used) if role.last_used else days_since(ctx, role.create_date)
        if idle is None or idle < ctx.config.stale_days:
            continue
        yield Issue(
            account_id=grant.account_id,
            resource_arn=role.arn,
            message=f"Admin role {role.name} has not been used for {idle} days"
            + ("" if role.last_used else " (never used since creation)"),
            evidence={**_evidence(grant), "last_used": role.last_used, "created": role.create_date},
        )
    yield from _unused_admin_users(ctx)


def _unused_admin_users(ctx: RuleContext) -> Iterator[Issue]:
    """Users holding admin (directly or through a group) whose credentials show no use for a long time."""
    members = _group_members(ctx)
    admins: dict[str, Any] = {}
    for grant in ctx.graph.admin_grants():
        if grant.level != "full-admin":
            continue
        if grant.principal_type == "user":
            admins.setdefault(grant.principal_arn, grant)
        elif grant.principal_type == "group":
            for user_arn in members.get(grant.principal_arn, ()):
                admins.setdefault(user_arn, grant)
    for account in ctx.snapshot.accounts:
        for row in (account.iam.credential_report or ()) if account.iam else ():
            admin_grant = admins.get(row.arn)
            if admin_grant is None:
                continue
            used = [
                t
                for t in (row.password_last_used, row.access_key_1_last_used_date, row.access_key_2_last_used_date)
                if t
            ]
            last = max(used, key=lambda t: parse_time(t) or ctx.now) if used else None
            idle = days_since(ctx, last) if last else days_since(ctx, row.user_creation_time)
            if idle is None or idle < ctx.config.stale_days:
                continue
            yield Issue(
                account_id=account.account_id,
                resource_arn=row.arn,
                message=f"Admin user {row.user} has not signed in or used a key for {idle} days"
                + ("" if last else " (never used since creation)"),
                evidence={**_evidence(admin_grant), "last_activity": last, "created": row.user_creation_time},
            )
