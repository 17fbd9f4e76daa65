"""Resource policies (S3, KMS, Lambda, SQS, SNS, Secrets Manager) that let principals outside the
organisation in: the data-plane half of "who outside can reach anything"."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.engine import RuleContext, rule
from auditor.findings import Issue
from auditor.iam.policy import PolicyParseError, PolicySource, arn_account, normalise_aws_principal, parse_policy

# Condition keys that confine a grant to known callers, so "*" is not "anyone" (values not judged here).
SCOPING_KEYS = frozenset({
    "aws:principalorgid", "aws:principalorgpaths", "aws:principalaccount", "aws:principalarn",
    "aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths", "aws:sourcevpc",
    "aws:sourcevpce", "aws:sourceip", "kms:calleraccount", "kms:viaservice",
})


def _members(ctx: RuleContext) -> set[str]:
    org = ctx.snapshot.organization
    if org:
        return {a.id for a in org.accounts}
    return {a.account_id for a in ctx.snapshot.accounts}


@rule(
    id="EXT-002",
    title="Resource policy grants access outside the organisation",
    category="external-access",
    severity="high",
    rationale="""A bucket, key, queue, topic, function or secret whose resource policy admits another AWS
    account, or anyone, can be read or changed from outside your organisation with no role to assume and no
    trace in your IAM: identity-side reviews miss it entirely.""",
    remediation="""Remove the outside principal (or "*") from the resource policy, or confine it with
    aws:PrincipalOrgID / aws:SourceAccount conditions; for intended sharing, record the partner account and
    prefer a role they assume; enable S3 Block Public Access at the account level.""",
    compliance={"SOC2": ("CC6.6",), "ISO27001-2022": ("A.5.15",), "NIST-800-53": ("AC-6",)},
)
def external_resource_policy(ctx: RuleContext) -> Iterator[Issue]:
    members = _members(ctx)
    for account in ctx.snapshot.accounts:
        for resource in account.resources:
            if not resource.policy:
                continue
            try:
                policy = parse_policy(resource.policy, PolicySource(name=resource.name or resource.arn,
                                                                     kind="resource", arn=resource.arn))
            except PolicyParseError:
                continue  # recorded as a coverage gap by the collector and the evaluator
            for statement in policy.allows():
                aws = (statement.principals or {}).get("AWS", ())
                anyone = "*" in aws
                outsiders = sorted({
                    normalise_aws_principal(p) for p in aws
                    if p != "*" and (arn_account(normalise_aws_principal(p)) or "") not in members
                })
                if not anyone and not outsiders:
                    continue
                keys = {key.lower() for keys in statement.conditions.values() for key in keys}
                scoped = bool(keys & SCOPING_KEYS)
                if anyone and scoped and not outsiders:
                    continue  # "*" confined to the organisation or to named sources
                who = "anyone" if anyone else ", ".join(outsiders)
                yield Issue(
                    account_id=account.account_id,
                    resource_arn=resource.arn,
                    region=resource.region,
                    key=f"{statement.index}:{who}",
                    severity="critical" if anyone and not scoped else ("medium" if scoped else None),
                    message=f"{resource.type} {resource.name or resource.arn} lets {who} "
                    f"{'(under conditions) ' if scoped else ''}perform "
                    + ", ".join(statement.actions or ("NotAction " + ", ".join(statement.not_actions),)),
                    evidence={
                        "statement": statement.raw,
                        "outside_principals": outsiders,
                        "anyone": anyone,
                        "condition_keys": sorted(keys),
                    },
                )
