"""Cross-environment and external access: who can reach production, and who outside can reach anything."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from auditor.engine import RuleContext, rule
from auditor.findings import Issue

from ._common import NON_PROD, account_arn, account_label, admin_role_arns

XENV_COMPLIANCE = {
    "ISO27001-2022": ("A.8.31", "A.5.15"),
    "NIST-800-53": ("AC-5", "AC-6"),
    "SOC2": ("CC6.1", "CC6.3"),
}


def _nodes(ctx: RuleContext, path: Any) -> tuple[str, ...]:
    """The path as ARNs, source first; an account node becomes the account's ARN."""
    nodes = (path.hops[0].source, *(h.target for h in path.hops)) if path.hops else (path.source,)
    return tuple(account_arn(ctx, n) if n.isdigit() and len(n) == 12 else n for n in nodes)


def _hops(path: Any) -> list[dict[str, Any]]:
    return [
        {"source": h.source, "target": h.target, "kind": h.kind, "evidence": h.evidence} for h in path.hops
    ]


@rule(
    id="XENV-001",
    title="Non-production principal can assume a role in a production account",
    category="cross-environment-access",
    severity="high",
    rationale="""Production is only isolated if nothing in dev, staging or sandbox can step into it. A trust
    from a non-production principal means that whoever compromises a dev workload or a dev user's keys
    reaches production too.""",
    remediation="""Remove the non-production principal from the production role's trust policy; deploy to
    production from a dedicated deployment account or pipeline, and add an SCP on the non-production OU that
    denies sts:AssumeRole into production accounts.""",
    compliance=XENV_COMPLIANCE,
)
def nonprod_assumes_prod(ctx: RuleContext) -> Iterator[Issue]:
    # A hop straight into an admin role is reported once, by XENV-002, with the full path.
    admin_roles = admin_role_arns(ctx)
    for edge in ctx.graph.assume_edges():
        if edge.source_account_id is None or edge.source_account_id == edge.target_account_id:
            continue
        if edge.target_role_arn in admin_roles:
            continue
        source_env = ctx.environment(edge.source_account_id)
        if source_env not in NON_PROD or ctx.environment(edge.target_account_id) != "prod":
            continue
        yield Issue(
            account_id=edge.target_account_id,
            resource_arn=edge.target_role_arn,
            severity="medium" if edge.conditional else None,
            key=edge.source,
            path=(edge.source, edge.target_role_arn),
            message=f"{edge.source} in {source_env} account {account_label(ctx, edge.source_account_id)} can "
            f"assume {edge.target_role_arn} in production account {account_label(ctx, edge.target_account_id)}"
            + (" (under conditions the auditor could not decide)" if edge.conditional else ""),
            evidence={
                "source_environment": source_env,
                "trust_statement": edge.trust_statement,
                "identity_statement": edge.identity_statement,
                "conditional": edge.conditional,
                "undecided_conditions": list(edge.undecided_conditions),
            },
        )


@rule(
    id="XENV-002",
    title="Non-production principal can reach administrator of a production account",
    category="cross-environment-access",
    severity="critical",
    rationale="""A chain of role assumptions and privilege escalations that starts in dev, staging or sandbox
    and ends as administrator of a production account makes the environments one: the weakest dev
    credential is a production admin credential.""",
    remediation="""Break the chain at its first cross-account hop: remove the trust (or the sts:AssumeRole
    permission) that lets the non-production principal in, and deny cross-environment sts:AssumeRole with an
    SCP on the non-production OU.""",
    compliance=XENV_COMPLIANCE,
)
def nonprod_reaches_prod_admin(ctx: RuleContext) -> Iterator[Issue]:
    for path in ctx.graph.paths_to_admin():
        if path.source_environment not in NON_PROD or path.target_environment != "prod":
            continue
        nodes = _nodes(ctx, path)
        yield Issue(
            account_id=path.target_account_id,
            resource_arn=path.source,
            severity="high" if path.conditional else None,
            key=path.target_account_id,
            path=nodes,
            message=f"{path.source} ({path.source_environment}) can become administrator of production account "
            f"{account_label(ctx, path.target_account_id)} in {len(path.hops)} hop(s)",
            evidence={
                "source_environment": path.source_environment,
                "hops": _hops(path),
                "conditional": path.conditional,
            },
        )


@rule(
    id="EXT-001",
    title="Role trusts a principal outside the organisation",
    category="external-access",
    severity="high",
    rationale="""A trust policy that admits an account outside your organisation (or anyone) lets a party you
    do not control obtain credentials in your account. Without an ExternalId it is also open to the
    confused-deputy problem.""",
    remediation="""Remove the external principal if it is not a known vendor; otherwise require sts:ExternalId
    (a secret agreed with the vendor), scope the role to the minimum permissions, and record the vendor in
    your third-party register.""",
    compliance={"SOC2": ("CC6.6",), "ISO27001-2022": ("A.5.15",), "NIST-800-53": ("AC-6",)},
)
def external_trust(ctx: RuleContext) -> Iterator[Issue]:
    admin_roles = admin_role_arns(ctx)
    for edge in ctx.graph.external_assume_edges():
        external_id = any(
            "sts:externalid" in c.lower() for c in (*edge.decided_conditions, *edge.undecided_conditions)
        )
        is_admin = edge.target_role_arn in admin_roles
        if (edge.source_type == "anyone" and not edge.conditional) or (is_admin and not external_id):
            severity = "critical"
        elif external_id and not is_admin:
            severity = "medium"
        else:
            severity = "high"
        yield Issue(
            account_id=edge.target_account_id,
            resource_arn=edge.target_role_arn,
            severity=severity,  # type: ignore[arg-type]
            key=edge.source,
            path=(edge.source, edge.target_role_arn),
            message=f"{'Admin role' if is_admin else 'Role'} {edge.target_role_arn.split('/')[-1]} can be assumed "
            f"by {edge.source}, outside the organisation" + (" (ExternalId required)" if external_id else ""),
            evidence={
                "external_principal": edge.source,
                "external_account_id": edge.source_account_id,
                "trust_statement": edge.trust_statement,
                "external_id_required": external_id,
                "target_is_admin": is_admin,
                "undecided_conditions": list(edge.undecided_conditions),
            },
        )


@rule(
    id="PRIVESC-001",
    title="Principal can escalate to administrator in its own account",
    category="privilege-escalation",
    severity="high",
    rationale="""A principal that can rewrite its own permissions, create credentials for someone more
    powerful, or pass a powerful role to a service it controls is effectively an administrator, whatever its
    policies look like at first sight.""",
    remediation="""Remove the escalation permission named in the path (for example iam:CreatePolicyVersion,
    iam:PassRole on an admin role); scope iam:PassRole to specific roles and add a permission boundary.""",
    compliance={"ISO27001-2022": ("A.8.2",), "NIST-800-53": ("AC-6",), "SOC2": ("CC6.3",)},
)
def escalation(ctx: RuleContext) -> Iterator[Issue]:
    for path in ctx.graph.escalation_paths():
        nodes = _nodes(ctx, path)
        yield Issue(
            account_id=path.target_account_id,
            resource_arn=path.source,
            severity="medium" if path.conditional else None,
            path=nodes,
            message=f"{path.source} can escalate to administrator of account "
            f"{account_label(ctx, path.target_account_id)} in {len(path.hops)} step(s)",
            evidence={"hops": _hops(path), "conditional": path.conditional},
        )


@rule(
    id="REACH-001",
    title="Principal is, or can become, administrator of an account",
    category="privilege-escalation",
    severity="high",
    rationale="""Who can really administer an account is not who holds AdministratorAccess: it is everyone with
    a path there, by their own policies, by a chain of role assumptions in the account or from another, by a
    trust that names them or their account, or by a privilege-escalation technique. Each of them is a full
    compromise of the account when their credentials leak; the list should be short and known.""",
    remediation="""Cut the path at the hop named in the evidence: remove the admin grant, the trust or the
    sts:AssumeRole permission, or the escalation permission. A deliberate break-glass path stays reported
    unless suppressed with a reason, an owner and an expiry (suppressions file: rule_id REACH-001 and the
    principal's arn); suppressed findings remain in findings.json.""",
    compliance={"ISO27001-2022": ("A.8.2", "A.5.15"), "NIST-800-53": ("AC-2", "AC-6"), "SOC2": ("CC6.1", "CC6.3")},
)
def effective_admins(ctx: RuleContext) -> Iterator[Issue]:
    # Identity Center users are ADMIN-006's (per permission set and assignment) and anyone ("*") is EXT-001's:
    # both name what to fix better than a path per person would; a finding's path is made of ARNs.
    for path in ctx.graph.effective_admins():
        if not path.source.startswith("arn:"):
            continue
        nodes = _nodes(ctx, path)
        how = "directly" if len(path.hops) == 1 else f"in {len(path.hops)} hops"
        yield Issue(
            account_id=path.target_account_id,
            resource_arn=path.source,
            severity="medium" if path.conditional else None,
            key=path.target_account_id,
            path=nodes,
            message=f"{path.source} can become administrator of account "
            f"{account_label(ctx, path.target_account_id)} {how}"
            + (" (under conditions the auditor could not decide)" if path.conditional else ""),
            evidence={
                "source_environment": path.source_environment,
                "hops": _hops(path),
                "via": sorted({str(h.kind) for h in path.hops}),
                "conditional": path.conditional,
            },
        )
