"""Coverage: what the auditor could not see is itself a finding, so a partial audit never looks clean."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.engine import RuleContext, rule
from auditor.findings import Issue

from ._common import account_arn, account_label


@rule(
    id="COV-001",
    title="Account could not be audited",
    category="coverage",
    severity="high",
    rationale="""An account the auditor cannot enter is an account whose risks are unknown; a clean report
    that silently skipped it would be worse than no report.""",
    remediation="""Deploy the read-only audit role (`auditor role-template`) to the account, for example with a
    CloudFormation StackSet targeting every OU, and check its trust policy and ExternalId.""",
)
def account_not_audited(ctx: RuleContext) -> Iterator[Issue]:
    for account in ctx.snapshot.accounts:
        if account.audited:
            continue
        reasons = [gap for gap in ctx.snapshot.coverage if gap.account_id == account.account_id]
        yield Issue(
            account_id=account.account_id,
            resource_arn=account_arn(ctx, account.account_id),
            message=f"Account {account_label(ctx, account.account_id)} could not be audited"
            + (
                f": {reasons[0].error_code} on {reasons[0].service}:{reasons[0].operation}" if reasons else ""
            ),
            evidence={"gaps": [gap.model_dump() for gap in reasons]},
        )


@rule(
    id="COV-002",
    title="Part of an account could not be collected",
    category="coverage",
    severity="low",
    rationale="""A service the auditor was denied or that failed is a blind spot: rules that need its data
    could not look at it in this account and region.""",
    remediation="""Grant the audit role the read-only permissions of `auditor role-template`, check SCPs that
    deny them, and re-run the collection.""",
)
def partial_collection(ctx: RuleContext) -> Iterator[Issue]:
    audited = {a.account_id for a in ctx.snapshot.accounts if a.audited}
    for gap in ctx.snapshot.coverage:
        if gap.account_id not in audited:
            continue
        yield Issue(
            account_id=gap.account_id,
            resource_arn=account_arn(ctx, gap.account_id),
            region=gap.region,
            key=f"{gap.service}:{gap.operation}:{gap.region}",
            message=f"{gap.service}:{gap.operation} in {gap.region} failed for "
            f"{account_label(ctx, gap.account_id)}: {gap.error_code} {gap.message}".strip(),
            evidence={"gap": gap.model_dump()},
        )
