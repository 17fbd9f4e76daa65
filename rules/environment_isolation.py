"""Environment isolation: one account per environment, and an OU structure that says which is which."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from auditor.engine import RuleContext, rule
from auditor.environment import classify_value, tag_value
from auditor.findings import Issue

from ._common import account_arn, account_label

ISOLATION_COMPLIANCE = {
    "ISO27001-2022": ("A.8.31",),
    "NIST-800-53": ("AC-5",),
    "SOC2": ("CC6.1",),
    "CIS-AWS-7.0.0": ("2.1.4",),
}


def _resource_environments(ctx: RuleContext, account_id: str) -> dict[str, list[tuple[str, str]]]:
    """Environment -> [(resource ARN, tag text)] for the account's resources that carry an environment tag."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    account = ctx.snapshot.account(account_id)
    if account is None:
        return found
    for resource in account.resources:
        tag = tag_value(resource.tags, ctx.config.environments.tag_keys)
        if tag is None:
            continue
        environment = classify_value(tag[1])
        if environment:
            found[environment].append((resource.arn, f"{tag[0]}={tag[1]}"))
    return found


@rule(
    id="ENV-001",
    title="Several environments share one account",
    category="environment-isolation",
    severity="high",
    rationale="""When production and non-production workloads run in the same account, one leaked key or
    one over-broad role reaches both, a dev script can change production, and costs cannot be told apart.
    The account is the only hard isolation boundary AWS offers.""",
    remediation="""Move each environment into its own account under AWS Organizations (one account per
    environment and workload), then delete the foreign-environment resources from this account.""",
    compliance=ISOLATION_COMPLIANCE,
)
def mixed_environments(ctx: RuleContext) -> Iterator[Issue]:
    for account in ctx.snapshot.accounts:
        environments = _resource_environments(ctx, account.account_id)
        if len(environments) < 2 or "prod" not in environments:
            continue
        yield Issue(
            account_id=account.account_id,
            resource_arn=account_arn(ctx, account.account_id),
            message=(
                f"Account {account_label(ctx, account.account_id)} holds resources of "
                f"{len(environments)} environments: {', '.join(sorted(environments))}"
            ),
            evidence={
                "account_environment": ctx.environment(account.account_id),
                "resources_by_environment": {
                    env: [{"arn": arn, "tag": tag} for arn, tag in sorted(items)[:20]]
                    for env, items in sorted(environments.items())
                },
            },
        )


@rule(
    id="ENV-002",
    title="Resource environment tag contradicts its account's environment",
    category="environment-isolation",
    severity="medium",
    rationale="""A resource tagged for one environment inside an account of another environment is either a
    workload in the wrong place (a dev database in production) or a wrong tag that breaks cost allocation
    and environment-scoped access policies.""",
    remediation="""Move the resource to an account of its environment, or correct the Environment tag if the
    tag is wrong; enforce allowed values with an Organizations tag policy.""",
    compliance=ISOLATION_COMPLIANCE,
)
def contradicting_resource_tag(ctx: RuleContext) -> Iterator[Issue]:
    for account in ctx.snapshot.accounts:
        account_environment = ctx.environment(account.account_id)
        if account_environment == "unknown":
            continue
        for resource in account.resources:
            tag = tag_value(resource.tags, ctx.config.environments.tag_keys)
            if tag is None:
                continue
            environment = classify_value(tag[1])
            if environment is None or environment == account_environment:
                continue
            yield Issue(
                account_id=account.account_id,
                resource_arn=resource.arn,
                region=resource.region,
                message=(
                    f"{resource.type} {resource.name or resource.arn} is tagged {tag[0]}={tag[1]} "
                    f"({environment}) but account {account_label(ctx, account.account_id)} is {account_environment}"
                ),
                evidence={
                    "tag": {tag[0]: tag[1]},
                    "resource_environment": environment,
                    "account_environment": account_environment,
                    "account_environment_source": ctx.environments[account.account_id].source,
                },
            )


@rule(
    id="ENV-003",
    title="Account environment cannot be determined",
    category="environment-isolation",
    severity="low",
    rationale="""Without a known environment, the auditor (and your people) cannot tell whether access into
    this account is access into production. Every account should say what it is.""",
    remediation="""Tag the account in AWS Organizations with Environment=prod|dev|staging|sandbox|security, or
    place it in an OU named for its environment, or declare it in auditor.yaml (environments.accounts).""",
    compliance={"CIS-AWS-7.0.0": ("2.1.4",), "ISO27001-2022": ("A.8.31",)},
)
def unknown_environment(ctx: RuleContext) -> Iterator[Issue]:
    for account in ctx.snapshot.accounts:
        if ctx.environment(account.account_id) == "unknown":
            yield Issue(
                account_id=account.account_id,
                resource_arn=account_arn(ctx, account.account_id),
                message=f"No tag, OU or name tells the environment of account {account_label(ctx, account.account_id)}",
                evidence={"source": ctx.environments[account.account_id].source},
            )


@rule(
    id="ENV-004",
    title="OU mixes production and non-production accounts",
    category="environment-isolation",
    severity="medium",
    rationale="""SCPs and other guardrails are attached to OUs. An OU that holds both production and
    non-production accounts cannot give production stricter guardrails without also constraining dev.""",
    remediation="""Create separate OUs for production and non-production (e.g. Workloads/Prod and
    Workloads/NonProd) and move each account into the OU of its environment.""",
    compliance={"CIS-AWS-7.0.0": ("2.1.4",), "ISO27001-2022": ("A.8.31",)},
)
def mixed_ou(ctx: RuleContext) -> Iterator[Issue]:
    org = ctx.snapshot.organization
    if org is None:
        return
    by_ou: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for member in org.accounts:
        if member.id in ctx.environments and member.parent_id != org.root_id:
            by_ou[member.parent_id][ctx.environment(member.id)].append(member.id)
    for ou in org.organizational_units:
        environments = by_ou.get(ou.id, {})
        if "prod" in environments and "non-prod" in environments:
            yield Issue(
                account_id=org.management_account_id,
                resource_arn=ou.arn,
                message=f"OU {ou.name} holds production and non-production accounts",
                evidence={"accounts_by_environment": {k: sorted(v) for k, v in sorted(environments.items())}},
            )


@rule(
    id="ENV-005",
    title="Production account outside a production OU",
    category="environment-isolation",
    severity="medium",
    rationale="""Production guardrails (SCPs, tag and backup policies) are attached to the production OU; a
    production account outside it silently escapes them.""",
    remediation="""Move the account into the production OU (organizations:MoveAccount) or, if it is not a
    production account, correct its Environment tag.""",
    compliance={"CIS-AWS-7.0.0": ("2.1.4",), "ISO27001-2022": ("A.8.31",)},
)
def prod_outside_prod_ou(ctx: RuleContext) -> Iterator[Issue]:
    org = ctx.snapshot.organization
    if org is None:
        return
    for member in org.accounts:
        if member.id == org.management_account_id or ctx.environment(member.id) != "prod":
            continue
        path = org.ou_path(member.id)
        if any(classify_value(ou.name) == "prod" for ou in path):
            continue
        yield Issue(
            account_id=member.id,
            resource_arn=member.arn,
            message=f"Production account {account_label(ctx, member.id)} sits in {org.ou_path_names(member.id)}",
            evidence={
                "ou_path": org.ou_path_names(member.id),
                "environment_source": ctx.environments[member.id].source,
            },
        )


@rule(
    id="ORG-001",
    title="No AWS Organization: environments cannot be isolated",
    category="environment-isolation",
    severity="high",
    rationale="""A single AWS account with no Organization is one blast radius: one leaked credential reaches
    dev, staging and production alike, and there are no SCP guardrails or per-environment budgets.""",
    remediation="""Create an AWS Organization from a new, empty management account, then create one member
    account per environment (prod, staging, dev, sandbox) and migrate workloads; use IAM Identity Center
    for human access.""",
    compliance={"ISO27001-2022": ("A.8.31",), "NIST-800-53": ("AC-5",), "CIS-AWS-3.0.0": ("1.21",)},
)
def no_organization(ctx: RuleContext) -> Iterator[Issue]:
    if ctx.snapshot.organization is not None:
        return
    for account in ctx.snapshot.accounts:
        yield Issue(
            account_id=account.account_id,
            resource_arn=account_arn(ctx, account.account_id),
            message=f"Account {account.account_id} is not part of an AWS Organization",
            evidence={"mode": ctx.snapshot.manifest.mode},
        )
