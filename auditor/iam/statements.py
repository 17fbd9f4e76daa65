"""Does one statement apply to one request? Its conditions, its Resource element (policy variables from the
request's facts) and how its Principal element names the caller."""

from __future__ import annotations

import dataclasses

from auditor.iam.conditions import ConditionContext, ConditionOutcome, Opaque, Tri, evaluate_conditions
from auditor.iam.policy import Policy, Statement
from auditor.iam.request import PrincipalPolicies, _Matches


def statement_outcome(statement: Statement, ctx: ConditionContext, resource: str | None = None) -> ConditionOutcome:
    """Whether a statement applies to a request: its conditions and, given ``resource``, its Resource element
    with policy variables taken from ``ctx`` (a variable of unknown value makes it undecided).

    Without ``resource`` the outcome carries the variables' bindings instead, so that outcomes used as cache
    keys still tell apart callers for whom the Resource element resolves differently.
    """
    outcome = evaluate_conditions(statement.conditions, ctx, statement.effect)
    if outcome.result == Tri.NO:
        return outcome
    if statement.principal_variables:  # AWS allows no variables in Principal: kept symbolic, undecided
        symbols = tuple(f"${{{v}}}" for v in statement.principal_variables)
        outcome = dataclasses.replace(outcome, result=Tri.MAYBE, undecided=outcome.undecided + symbols)
    if not statement.resource_variables:
        return outcome
    if resource is None:
        return dataclasses.replace(outcome, bindings=statement.variable_bindings(ctx.lookup))
    matched = statement.resource_tri(resource, ctx.lookup)
    if matched == Tri.NO:
        return ConditionOutcome(Tri.NO, outcome.decided, outcome.undecided, outcome.assumptions)
    if matched == Tri.MAYBE:
        unknown = tuple(f"${{{name}}}" for name in statement.resource_variables if _unknown(ctx.lookup(name)))
        return dataclasses.replace(
            outcome, result=min(outcome.result, Tri.MAYBE), undecided=outcome.undecided + unknown
        )
    return outcome


def _unknown(found: object) -> bool:
    return found is False or isinstance(found, Opaque)


_outcome = statement_outcome

def principal_match(statement: Statement, principal: PrincipalPolicies) -> str | None:
    """How a statement's Principal/NotPrincipal element names the caller (``Statement.principal_match``)."""
    return statement.principal_match(principal.match_kind, principal.arn, principal.account_id)


_principal_of = principal_match


def _resource_matches(policy: Policy | None, action: str) -> _Matches:
    if policy is None:
        return ()
    return tuple((policy, st) for st in policy.for_action(action))


