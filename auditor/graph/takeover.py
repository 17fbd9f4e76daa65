"""Whoever administers an account can act as any of its users and roles.

An administrator of account A (a full admin, an ``iam:*`` admin, or anyone who escalated there) can rewrite
the trust policy of any role in A to admit itself and then assume it (in the same account a trust naming
the caller needs no identity permission), and can create an access key or a console password for any user
in A. So whatever a principal of A reaches — a role in production that trusts that principal by its own ARN —
an administrator of A reaches too. Each such takeover is a ``controls`` edge from the account node (its
administrator) to the principal, evaluated against the account's SCPs (and RCPs): a member account's
administrator cannot lift them, so an SCP that denies ``iam:UpdateAssumeRolePolicy`` on a role removes the
edge, and one that exempts particular callers (``aws:PrincipalArn``) makes it conditional.

Not taken over: service-linked roles (AWS owns their trust policy) and the roles IAM Identity Center
provisions under ``/aws-reserved/sso.amazonaws.com/`` (only Identity Center may change them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from auditor.graph.access_graph import AccessGraph
from auditor.graph.kinds import EdgeKind, NodeKind
from auditor.graph.search import reaching
from auditor.iam.decision import Decision
from auditor.iam.evaluate import Evaluator, PrincipalPolicies, ResourceRef, can
from auditor.iam.policy import arn_partition

# How an administrator acts as each kind of principal: any one way suffices.
ROLE_TAKEOVER: tuple[tuple[str, ...], ...] = (("iam:UpdateAssumeRolePolicy", "sts:AssumeRole"),)
USER_TAKEOVER: tuple[tuple[str, ...], ...] = (
    ("iam:CreateAccessKey",),
    ("iam:CreateLoginProfile",),
    ("iam:UpdateLoginProfile",),
)
_PROTECTED_ROLE_PATHS = (":role/aws-service-role/", ":role/aws-reserved/")


def add_account_takeovers(graph: AccessGraph, evaluator: Evaluator, principals: Iterable[PrincipalPolicies]) -> None:
    """Add account -> principal ``controls`` edges for the principals that lead somewhere.

    Only principals that reach an administrator node are asked about: taking over one that leads nowhere
    adds no path. Edges already leaving account nodes cannot make a new principal useful, so one pass is
    enough.
    """
    useful = reaching(graph.graph, graph.nodes_of_kind(NodeKind.ACCOUNT), max_hops=len(graph.graph))
    administrators: dict[str, PrincipalPolicies] = {}
    for principal in principals:
        account_id = principal.account_id
        if account_id is None or principal.arn not in useful or not _can_be_taken_over(principal):
            continue
        admin = administrators.get(account_id)
        if admin is None:
            root = f"arn:{arn_partition(principal.arn) or 'aws'}:iam::{account_id}:root"
            admin = administrators[account_id] = evaluator.outsider(root, "account")
        ways = ROLE_TAKEOVER if principal.type == "role" else USER_TAKEOVER
        best: tuple[tuple[str, ...], Decision] | None = None
        for actions in ways:
            decision = _all_of(evaluator, admin, account_id, principal.arn, actions)
            if decision.allowed and (best is None or (best[1].conditional and not decision.conditional)):
                best = (actions, decision)
        if best is None:
            continue
        actions, decision = best
        graph.add_edge(
            account_id,
            principal.arn,
            EdgeKind.CONTROLS,
            key=f"takeover:{principal.arn}",
            conditional=decision.conditional,
            details={
                "account_id": account_id,
                "takeover": principal.arn,
                "actions": list(actions),
                "how": _how(principal.type, actions),
                "undecided_conditions": list(decision.undecided_conditions),
            },
        )


def _can_be_taken_over(principal: PrincipalPolicies) -> bool:
    if principal.type == "role":
        return not principal.service_linked and not any(p in principal.arn for p in _PROTECTED_ROLE_PATHS)
    return principal.type == "user"


def _all_of(
    evaluator: Evaluator, admin: PrincipalPolicies, account_id: str, target_arn: str, actions: tuple[str, ...]
) -> Decision:
    """Every action allowed to the account's administrator on the target, under the account's guardrails.

    The administrator's identity policies are its own to write (assumed to allow); the role's current trust
    policy does not matter, since the first action rewrites it.
    """
    context = evaluator.request_context(admin, account_id)
    scp_levels = evaluator.scp_levels(account_id)
    if scp_levels is not None:
        context = replace(context, scp_levels=scp_levels)
    combined: Decision | None = None
    for action in actions:
        decision = can(admin, action, ResourceRef(target_arn, account_id), context)
        if not decision.allowed:
            return decision
        if combined is None or decision.conditional:
            combined = decision
    assert combined is not None
    return combined


def _how(principal_type: str, actions: tuple[str, ...]) -> str:
    if principal_type == "role":
        return "rewrite the role's trust policy to admit oneself, then assume it"
    return {
        "iam:CreateAccessKey": "create an access key for the user",
        "iam:CreateLoginProfile": "give the user a console password",
        "iam:UpdateLoginProfile": "reset the user's console password",
    }[actions[0]]
