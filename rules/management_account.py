"""The management account: it must run nothing but the organisation itself."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.engine import RuleContext, rule
from auditor.findings import Issue

from ._common import account_label

WORKLOAD_TYPES = frozenset(
    {
        "ec2:instance",
        "ec2:volume",
        "s3:bucket",
        "rds:db",
        "rds:cluster",
        "lambda:function",
        "dynamodb:table",
        "ecs:cluster",
        "eks:cluster",
        "elasticache:cluster",
        "redshift:cluster",
    }
)

MGMT_COMPLIANCE = {
    "CIS-AWS-7.0.0": ("2.1.3",),
    "ISO27001-2022": ("A.8.31", "A.8.2"),
    "NIST-800-53": ("AC-6",),
    "SOC2": ("CC6.1",),
}


@rule(
    id="MGMT-001",
    title="Workload in the management account",
    category="management-account",
    severity="high",
    rationale="""The management account is exempt from SCPs and can act on every member account. Anything
    running there (instances, functions, databases, data buckets) widens the most privileged account in
    the organisation, and nothing in the organisation can constrain it.""",
    remediation="""Move the workload into a member account of its environment and delete it from the
    management account; keep the management account for Organizations, billing and Identity Center only.""",
    compliance=MGMT_COMPLIANCE,
)
def workload_in_management(ctx: RuleContext) -> Iterator[Issue]:
    management = ctx.snapshot.management_account_id
    account = ctx.snapshot.account(management) if management else None
    if account is None:
        return
    for resource in account.resources:
        if resource.type in WORKLOAD_TYPES:
            yield Issue(
                account_id=account.account_id,
                resource_arn=resource.arn,
                region=resource.region,
                message=f"{resource.type} {resource.name or resource.arn} runs in the management account "
                f"{account_label(ctx, account.account_id)}",
                evidence={"resource_type": resource.type, "tags": dict(resource.tags)},
            )


@rule(
    id="MGMT-002",
    title="IAM user in the management account",
    category="management-account",
    severity="high",
    rationale="""Long-lived IAM users in the management account are the most valuable credentials an attacker
    can steal: they sit outside every SCP. Human access should come through IAM Identity Center.""",
    remediation="""Replace the user with IAM Identity Center access (a permission set assigned to a group),
    then delete its access keys, login profile and the user itself.""",
    compliance={**MGMT_COMPLIANCE, "CIS-AWS-3.0.0": ("1.21",)},
)
def user_in_management(ctx: RuleContext) -> Iterator[Issue]:
    management = ctx.snapshot.management_account_id
    account = ctx.snapshot.account(management) if management else None
    if account is None or account.iam is None:
        return
    for user in account.iam.users:
        rows = [r for r in account.iam.credential_report or () if r.arn == user.arn]
        active_keys = sum(int(r.access_key_1_active) + int(r.access_key_2_active) for r in rows)
        yield Issue(
            account_id=account.account_id,
            resource_arn=user.arn,
            severity="critical" if active_keys else None,
            message=f"IAM user {user.name} exists in the management account"
            + (f" with {active_keys} active access key(s)" if active_keys else ""),
            evidence={
                "user": user.name,
                "active_access_keys": active_keys,
                "console_access": any(r.password_enabled for r in rows),
            },
        )


@rule(
    id="MGMT-003",
    title="Management account reachable from a member account",
    category="management-account",
    severity="critical",
    rationale="""Whoever can assume a role in the management account from a member account can step out from
    under every SCP and act on the whole organisation; a compromised member account becomes the organisation.""",
    remediation="""Remove member-account principals from the trust policies of management-account roles;
    administer the organisation from Identity Center sessions in the management account or from a delegated
    administrator account instead.""",
    compliance={**MGMT_COMPLIANCE, "SOC2": ("CC6.1", "CC6.3")},
)
def management_reachable(ctx: RuleContext) -> Iterator[Issue]:
    management = ctx.snapshot.management_account_id
    if management is None:
        return
    for edge in ctx.graph.assume_edges():
        if edge.target_account_id != management or edge.source_account_id in (None, management):
            continue
        if not edge.in_organization:
            continue  # outsiders are EXT-001's
        yield Issue(
            account_id=management,
            resource_arn=edge.target_role_arn,
            key=edge.source,
            severity="high" if edge.conditional else None,
            path=(edge.source, edge.target_role_arn),
            message=f"{edge.source} in member account {account_label(ctx, str(edge.source_account_id))} can assume "
            f"{edge.target_role_arn} in the management account",
            evidence={
                "trust_statement": edge.trust_statement,
                "identity_statement": edge.identity_statement,
                "undecided_conditions": list(edge.undecided_conditions),
            },
        )
