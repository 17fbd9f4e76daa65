"""Cost allocation: tags that tell whose and which environment a cost is, and budgets that watch it."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.engine import RuleContext, rule
from auditor.environment import classify_value, tag_value
from auditor.findings import Issue
from auditor.model import OrgPolicy

from ._common import account_arn, account_label

# Resource types that carry cost and are taggable; tagging-API-only types are checked too.
UNTAGGABLE = frozenset({"iam:role", "iam:user", "iam:policy"})
TAG_POLICY = "TAG_POLICY"


@rule(
    id="COST-001",
    title="Resource is missing required cost-allocation tags",
    category="cost-allocation",
    severity="low",
    rationale="""Without Environment, Owner and CostCenter tags the bill cannot be split by environment or
    team, and nobody can be asked about a resource that looks abandoned or misplaced.""",
    remediation="""Add the missing tags, activate them as cost allocation tags in the Billing console, and
    enforce them with an Organizations tag policy plus an SCP that denies untagged creation.""",
    compliance={"SOC2": ("CC6.1",), "AWS-WA-COST": ("COST03-BP02",)},
)
def missing_tags(ctx: RuleContext) -> Iterator[Issue]:
    required = ctx.config.required_tags
    for account in ctx.snapshot.accounts:
        for resource in account.resources:
            if resource.type in UNTAGGABLE:
                continue
            present = {key.lower() for key in resource.tags}
            missing = [tag for tag in required if tag.lower() not in present]
            if missing:
                yield Issue(
                    account_id=account.account_id,
                    resource_arn=resource.arn,
                    region=resource.region,
                    message=f"{resource.type} {resource.name or resource.arn} lacks tag(s) {', '.join(missing)}",
                    evidence={"missing": missing, "tags": dict(resource.tags), "required": list(required)},
                )


@rule(
    id="COST-002",
    title="Account has no AWS Budget",
    category="cost-allocation",
    severity="medium",
    rationale="""An account without a budget has no alarm when spend jumps: a leaked key mining crypto or a
    runaway dev experiment is found on the invoice, weeks later.""",
    remediation="""Create an AWS Budget for the account (monthly cost, with an email or SNS notification at
    80% and 100% of forecast), ideally from the management account per linked account.""",
    compliance={"AWS-WA-COST": ("COST02-BP05", "COST03-BP05")},
)
def no_budget(ctx: RuleContext) -> Iterator[Issue]:
    for account in ctx.snapshot.accounts:
        if account.audited and account.budgets is not None and not account.budgets:
            yield Issue(
                account_id=account.account_id,
                resource_arn=account_arn(ctx, account.account_id),
                message=f"Account {account_label(ctx, account.account_id)} has no AWS Budget",
                evidence={"budgets": []},
            )


@rule(
    id="COST-003",
    title="Budget without notifications",
    category="cost-allocation",
    severity="low",
    rationale="""A budget that notifies nobody is a number on a dashboard: overspend still goes unnoticed.""",
    remediation="""Add notifications (ACTUAL and FORECASTED thresholds) with email or SNS subscribers.""",
    compliance={"AWS-WA-COST": ("COST02-BP05",)},
)
def budget_without_notification(ctx: RuleContext) -> Iterator[Issue]:
    for account in ctx.snapshot.accounts:
        for budget in account.budgets or ():
            if budget.notification_count == 0:
                yield Issue(
                    account_id=account.account_id,
                    resource_arn=f"arn:aws:budgets::{account.account_id}:budget/{budget.name}",
                    message=f"Budget {budget.name} in {account_label(ctx, account.account_id)} has no notification",
                    evidence={"budget": budget.model_dump()},
                )


@rule(
    id="COST-004",
    title="Environment tag value outside the allowed set",
    category="cost-allocation",
    severity="low",
    rationale="""Free-text environment values ("prd2", "johns-test") defeat cost reports and environment-scoped
    access policies alike: nobody can tell which environment the resource belongs to.""",
    remediation="""Use one of the organisation's environment values and enforce them with an Organizations tag
    policy (tag key Environment with allowed values).""",
    compliance={"AWS-WA-COST": ("COST03-BP02", "COST03-BP03")},
)
def unknown_environment_value(ctx: RuleContext) -> Iterator[Issue]:
    keys = ctx.config.environments.tag_keys
    for account in ctx.snapshot.accounts:
        for resource in account.resources:
            found = tag_value(resource.tags, keys)
            if found and classify_value(found[1]) is None:
                yield Issue(
                    account_id=account.account_id,
                    resource_arn=resource.arn,
                    region=resource.region,
                    message=f"{resource.type} {resource.name or resource.arn} has {found[0]}={found[1]}, "
                    "which names no known environment",
                    evidence={"tag": {found[0]: found[1]}},
                )


def _tag_policy_keys(policy: OrgPolicy) -> set[str]:
    """The tag keys a tag policy defines (``tags.<name>.tag_key.@@assign``), lower-cased."""
    tags = (policy.content or {}).get("tags")
    keys: set[str] = set()
    for definition in tags.values() if isinstance(tags, dict) else ():
        tag_key = definition.get("tag_key") if isinstance(definition, dict) else None
        assigned = tag_key.get("@@assign") if isinstance(tag_key, dict) else None
        if isinstance(assigned, str):
            keys.add(assigned.lower())
    return keys


def _tag_policies_listed(ctx: RuleContext) -> bool:
    # The collector records a failed ListPolicies with the policy type as the message's context.
    return not any(gap.service == "organizations" and gap.operation == "ListPolicies" and TAG_POLICY in gap.message
                   for gap in ctx.snapshot.coverage)


@rule(
    id="COST-005",
    title="Cost-allocation tags not defined in a tag policy",
    category="cost-allocation",
    severity="low",
    rationale="""A tag policy fixes each cost tag's key spelling and capitalisation (and optionally its values)
    across every account; without one, "CostCenter", "costcenter" and "cost-center" drift apart and the bill
    cannot be split. It is governance rather than exposure, hence low.""",
    remediation="""Create an Organizations tag policy defining each required tag (tags.<name>.tag_key with
    @@assign set to the exact key, and allowed tag_value where it applies) and attach it to the root.""",
    compliance={"AWS-WA-COST": ("COST02-BP01", "COST03-BP02")},
)
def required_tag_not_in_tag_policy(ctx: RuleContext) -> Iterator[Issue]:
    org = ctx.snapshot.organization
    if org is None or not _tag_policies_listed(ctx):
        return
    attached = [p for p in org.policies if p.type == TAG_POLICY and p.target_ids]
    if any(p.content is None for p in attached):
        return  # an attached tag policy could not be read: the coverage gap already says so
    defined: set[str] = set()
    for policy in attached:
        defined |= _tag_policy_keys(policy)
    for tag in ctx.config.required_tags:
        if tag.lower() in defined:
            continue
        yield Issue(
            account_id=org.management_account_id,
            resource_arn=org.arn,
            key=tag,
            message=f"No attached tag policy defines the cost-allocation tag {tag}",
            evidence={"missing": tag, "required": list(ctx.config.required_tags),
                      "attached_tag_policies": {p.name: sorted(_tag_policy_keys(p)) for p in attached}},
        )
