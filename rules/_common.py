"""Small helpers shared by rule modules (no rules here)."""

from __future__ import annotations

from datetime import UTC, datetime

from auditor.engine import RuleContext

NON_PROD = frozenset({"non-prod", "sandbox"})


def admin_role_arns(ctx: RuleContext) -> frozenset[str]:
    """Roles with full admin in their account (computed once per run, shared by rules)."""
    return frozenset(ctx.cached("admin_role_arns", lambda: {
        g.principal_arn for g in ctx.graph.admin_grants() if g.principal_type == "role"
    }))


def account_arn(ctx: RuleContext, account_id: str) -> str:
    """The ARN that identifies an account in findings: its Organizations ARN, else its root ARN."""
    org = ctx.snapshot.organization
    if org:
        member = org.account(account_id)
        if member:
            return member.arn
    return f"arn:aws:iam::{account_id}:root"


def account_label(ctx: RuleContext, account_id: str) -> str:
    org = ctx.snapshot.organization
    member = org.account(account_id) if org else None
    name = member.name if member else ""
    if not name:
        snapshot_account = ctx.snapshot.account(account_id)
        name = snapshot_account.name if snapshot_account else ""
    return f"{name} ({account_id})" if name else account_id


def parse_time(value: str | None) -> datetime | None:
    """An ISO-8601 timestamp from AWS or the credential report, as an aware datetime (None if absent)."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def days_since(ctx: RuleContext, value: str | None) -> int | None:
    moment = parse_time(value)
    return None if moment is None else (ctx.now - moment).days

