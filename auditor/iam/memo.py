"""Which decisions can be reused: the key of everything a decision reads, so one evaluation serves every
request that agrees on it (e.g. all admins against one org-wide trust)."""

from __future__ import annotations

from typing import Any

from auditor.iam.conditions import ConditionContext, ConditionOutcome, statement_fact_names
from auditor.iam.policy import Policy, Statement
from auditor.iam.request import PolicyLevel, PrincipalPolicies, RequestContext, ResourceRef, _Matches
from auditor.iam.statements import _outcome, _principal_of, _resource_matches
from auditor.iam.tri import Tri

_BY_SCP_TARGET = object()  # memo marker: the decision also depends on the SCP levels' target ids


def _memo_key(
    principal: PrincipalPolicies,
    action: str,
    res: ResourceRef,
    ctx: RequestContext,
    cross: bool,
    scp_levels: tuple[PolicyLevel, ...] | None,
    rcp_levels: tuple[PolicyLevel, ...] | None,
    caller_matches: tuple[_Matches, ...],
    mask: tuple[Tri, ...],
) -> tuple[Any, ...]:
    """Everything a decision reads: which statements apply (by policy object and index), how the Resource and
    Principal elements matched, the outcome of each conditional statement, and the texts of assumptions.

    Two requests with equal keys get equal decisions, whatever the principal, resource or account: this is
    what lets one evaluation serve every caller of a class (e.g. all admins against one org-wide trust).
    """
    assert ctx.shared is not None
    shared = ctx.shared
    cond = ctx.conditions
    caller_sig = principal._memo_sig.get(action)
    if caller_sig is None:
        caller_sig = principal._memo_sig[action] = (
            principal.type,
            principal.identity_known or principal.arn,
            principal.boundary is not None,
            tuple((p, st.index) for p, st in principal.identity_for(action)),
            tuple((p, st.index) for p, st in principal.boundary_for(action)),
        )
    outcomes: list[ConditionOutcome] = []
    position = 0
    for matches in caller_matches:
        for policy, st in matches:
            if mask[position] and (st.conditions or st.symbolic_variables):
                outcomes.append(_shared_outcome(shared, policy, st, cond))
            position += 1
    resource_sig: list[tuple[Tri, str | None]] = []
    resource_statements = (
        *(m for level in rcp_levels or () for m in level.for_action(action)),
        *_resource_matches(res.policy, action),
    )
    for policy, st in resource_statements:
        hit = st.resource_tri(res.arn, cond.lookup)
        match = _principal_of(st, principal) if hit else None
        resource_sig.append((hit, match))
        if match is not None and (st.conditions or st.symbolic_variables):
            outcomes.append(_shared_outcome(shared, policy, st, cond))
    return (
        "decision",
        action,
        caller_sig,
        cross,
        None if scp_levels is None else tuple(_level_sig(level) for level in scp_levels),
        None if rcp_levels is None else tuple((level.target_id, *_level_sig(level)) for level in rcp_levels),
        res.policy,
        res.policy_required,
        mask,
        tuple(resource_sig),
        tuple(outcomes),
        cond.assumptions,
    )


def _level_sig(level: PolicyLevel) -> tuple[Any, ...]:
    return (level.policies, level.target_id if level.assumed_default else None)


def _shared_outcome(shared: dict[Any, Any], policy: Policy, statement: Statement, cond: ConditionContext) -> Any:
    """``_outcome`` cached by the facts it reads: its condition keys, the variables in its values, MFA notes."""
    names_key = ("condition-facts", policy, statement.index)
    names = shared.get(names_key)
    if names is None:
        names = shared[names_key] = statement_fact_names(statement)
    facts = tuple(cond.lookup(name) for name in names)
    key = ("outcome", policy, statement.index, facts, cond.assumptions)
    found = shared.get(key)
    if found is None:
        found = shared[key] = _outcome(statement, cond)
    return found


