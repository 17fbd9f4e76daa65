"""IAM Identity Center: long-lived IAM users beside central sign-in, and full-admin permission sets
assigned to production accounts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.engine import RuleContext, rule
from auditor.findings import Issue
from auditor.graph import GrantLevel
from auditor.model import AccountAssignment, IdentityCenter

from ._common import NON_PROD, account_label


def _in_use(ctx: RuleContext) -> IdentityCenter | None:
    """The organisation's Identity Center when at least one account assignment gives people a way in."""
    org = ctx.snapshot.organization
    center = org.identity_center if org else None
    return center if center is not None and center.assignments else None


@rule(
    id="CRED-008",
    title="IAM users in an organisation that uses Identity Center",
    category="credential-hygiene",
    severity="medium",
    rationale="""Once people sign in through IAM Identity Center, an IAM user with a console password or
    access keys is a second, long-lived way into the account: it escapes central joiner/leaver processes,
    session limits and the identity provider's MFA, and its keys can leak.""",
    remediation="""Give the person or workload access through Identity Center (a permission set assigned to a
    group) or an IAM role, then delete the user's access keys and login profile, and the user.""",
    compliance={"CIS-AWS-3.0.0": ("1.21",)},
)
def iam_users_beside_identity_center(ctx: RuleContext) -> Iterator[Issue]:
    center = _in_use(ctx)
    if center is None:
        return  # without central sign-in, IAM users are the other credential rules' business
    for account in ctx.snapshot.accounts:
        if account.iam is None or account.iam.credential_report is None:
            continue
        for row in account.iam.credential_report:
            if not row.arn.split(":")[-1].startswith("user/"):
                continue  # the root user's row
            active_keys = int(row.access_key_1_active) + int(row.access_key_2_active)
            if not row.password_enabled and not active_keys:
                continue
            credentials = [text for present, text in (
                (row.password_enabled, "a console password"),
                (active_keys > 0, f"{active_keys} active access key(s)"),
            ) if present]
            yield Issue(
                account_id=account.account_id,
                resource_arn=row.arn,
                message=f"IAM user {row.user} in {account_label(ctx, account.account_id)} has "
                f"{' and '.join(credentials)} although the organisation signs people in through IAM "
                f"Identity Center",
                evidence={
                    "user": row.user,
                    "console_password": row.password_enabled,
                    "mfa_active": row.mfa_active,
                    "active_access_keys": active_keys,
                    "identity_center_instance": center.instance_arn,
                    "identity_center_assignments": len(center.assignments),
                },
            )


def _principal(center: IdentityCenter, assignment: AccountAssignment) -> dict[str, Any]:
    if assignment.principal_type == "GROUP":
        group = center.group(assignment.principal_id)
        if group is None:
            return {"type": "GROUP", "id": assignment.principal_id, "label": f"group {assignment.principal_id}"}
        members = len(group.member_user_ids)
        return {"type": "GROUP", "id": group.group_id, "name": group.display_name, "member_count": members,
                "label": f"group {group.display_name} ({members} member{'s' if members != 1 else ''})"}
    user = center.user(assignment.principal_id)
    name = user.user_name if user else assignment.principal_id
    return {"type": "USER", "id": assignment.principal_id, "name": name, "label": f"user {name}"}


@rule(
    id="ADMIN-006",
    title="Administrator permission set assigned to production",
    category="admin-overgrant",
    severity="high",
    rationale="""A permission set with full administrative access on a production account lets everyone in
    the assigned group do anything there, including disabling the controls that would notice. Day-to-day
    access to production should be scoped; administrator access should be rare, small and separately
    approved, and never the same grant people use in development.""",
    remediation="""Assign a scoped permission set for routine production work; keep administrator access
    for a small break-glass group (ideally granted just in time), with a short session duration, and use a
    separate permission set or group for non-production accounts.""",
    # Not CIS 1.16: that control is about IAM policies; the role Identity Center provisions with an admin
    # policy is judged there by CIS-IAM-006.
    compliance={
        "SOC2": ("CC6.3",),
        "ISO27001-2022": ("A.8.2", "A.8.31"),
        "NIST-800-53": ("AC-6",),
    },
)
def admin_permission_set_on_prod(ctx: RuleContext) -> Iterator[Issue]:
    org = ctx.snapshot.organization
    center = org.identity_center if org else None
    if center is None:
        return
    for assignment in center.assignments:
        if ctx.environment(assignment.account_id) != "prod":
            continue
        permission_set = center.permission_set(assignment.permission_set_arn)
        if permission_set is None:
            continue
        admin = ctx.graph.permission_set_admin(permission_set.arn, assignment.account_id)
        if admin is None:
            continue
        sources = list(admin.sources)
        principal = _principal(center, assignment)
        non_prod = sorted({
            other.account_id for other in center.assignments
            if other.permission_set_arn == assignment.permission_set_arn
            and (other.principal_type, other.principal_id) == (assignment.principal_type, assignment.principal_id)
            and ctx.environment(other.account_id) in NON_PROD
        })
        boundary = permission_set.permissions_boundary
        level = "full admin" if any(g.level == GrantLevel.FULL_ADMIN for g in admin.grants) else "administrator"
        message = (f"Permission set {permission_set.name} ({level}: {'; '.join(sources)}) is assigned to "
                   f"{principal['label']} on production account {account_label(ctx, assignment.account_id)}")
        if non_prod:
            message += (f"; the same principal holds it on non-production account(s) "
                        f"{', '.join(account_label(ctx, a) for a in non_prod)}")
        if admin.conditional:
            message += " (under conditions the auditor could not decide)"
        yield Issue(
            account_id=assignment.account_id,
            resource_arn=permission_set.arn,
            key=f"{assignment.principal_type}:{assignment.principal_id}",
            severity="medium" if admin.conditional else None,
            message=message,
            evidence={
                "source_environment": "identity-center",
                "permission_set": {"arn": permission_set.arn, "name": permission_set.name},
                "admin_through": sources,
                "principal": {k: v for k, v in principal.items() if k != "label"},
                "session_duration": permission_set.session_duration,
                "permissions_boundary": boundary,
                "also_assigned_non_prod_accounts": non_prod,
            },
        )
