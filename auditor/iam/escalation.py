"""Privilege-escalation detection: every (attacker, technique, target) the evaluator lets through.

The techniques are data (``auditor.iam.techniques``); each target kind has one strategy
(``auditor.iam.escalation_targets``) that turns a technique into concrete requests (``Plan``). Here every
request is judged by ``evaluate.can`` against the resource it really names, with its own condition keys, so
explicit denies, permission boundaries, SCPs and conditions all apply; a change to a principal counts only
when the principal passes the graph's admin test after the change. One ``EscalationEdge`` per
(principal, technique, target) results.

"Modify then use": a principal can change itself or any principal it can act as without a further change
(one it can assume, or one it reaches through a credential or trust technique: ``Context.reach``); the
edge then names the changed principal (``modified``) and how the attacker acts as it (``via``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Set
from dataclasses import dataclass
from itertools import product

from auditor.iam.escalation_context import Context, Reach, Request
from auditor.iam.escalation_targets import STRATEGIES, Plan
from auditor.iam.evaluate import Decision, Evaluator, GrantEvidence, PrincipalPolicies
from auditor.iam.techniques import (
    ACCESS_ASSUME,
    NEW_RESOURCE_ARNS,
    TECHNIQUES,
    TECHNIQUES_BY_ID,
    Family,
    On,
    Target,
    Technique,
)

__all__ = [
    "TECHNIQUES",
    "TECHNIQUES_BY_ID",
    "EscalationEdge",
    "Technique",
    "escalation_candidates",
    "escalation_edges",
]

ACCESS_TARGETS = (Target.USER_CREDENTIALS, Target.ROLE_TRUST)


@dataclass(frozen=True)
class EscalationEdge:
    """``source`` can gain ``target``'s power (a role, user, group, or the account itself) by a technique."""

    source: str
    target: str  # principal ARN, or the account id when the technique makes the source admin directly
    account_id: str
    technique_id: str
    technique_name: str
    statements: tuple[GrantEvidence, ...]
    passed_role: str | None
    conditional: bool
    undecided_conditions: tuple[str, ...]
    modified: str | None = None  # the principal, group or policy changed ("modify then use")
    via: str | None = None  # how the source acts as the changed principal: self, assume-role, a technique id
    requests: tuple[str, ...] = ()  # "action resource" of each request judged, for evidence


def judge(ctx: Context, technique: Technique, plan: Plan) -> list[Decision] | None:
    """The decisions allowing every request of the plan, for some name and region the attacker may choose."""
    creating = [r for r in plan.requests if r.creates]
    if creating:
        new_actions = [s.action for s in technique.steps if s.on is On.NEW]
        names = ctx.name_candidates((a, NEW_RESOURCE_ARNS[a]) for a in new_actions)
        regions = list(dict.fromkeys(r for a in new_actions for r in ctx.region_candidates(a)))
        choices: Iterable[tuple[str, str]] = product(names, regions)
    else:
        choices = [("", "")]
    for name, region in choices:
        decisions: list[Decision] = []
        for request in plan.requests:
            decision = ctx.ask(request.named(name, region))
            if not decision.allowed:
                break
            decisions.append(decision)
        else:
            return decisions
    return None


def _edge(ctx: Context, technique: Technique, plan: Plan, decisions: list[Decision]) -> EscalationEdge:
    allrefs = [*decisions, *plan.decisions]
    refs = tuple(dict.fromkeys(r for d in allrefs for r in d.identity_statements()))
    undecided = [k for d in allrefs for k in d.undecided_conditions]
    if technique.caveat:
        undecided.append(technique.caveat)
    principal = ctx.principal
    return EscalationEdge(
        source=principal.arn,
        target=plan.target,
        account_id=principal.account_id or "",
        technique_id=technique.id,
        technique_name=technique.name,
        statements=tuple(GrantEvidence.of(r) for r in refs),
        passed_role=plan.passed_role,
        conditional=technique.caveat is not None or any(d.conditional for d in allrefs),
        undecided_conditions=tuple(dict.fromkeys(undecided)),
        modified=plan.modified,
        via=plan.via,
        requests=tuple(f"{r.action} {r.resource}" for r in plan.requests),
    )


def _best(
    ctx: Context, technique: Technique, plans: Iterator[Plan], target_filter: Callable[[str], bool] | None
) -> Iterator[EscalationEdge]:
    """One edge per target: the first unconditional way found, else the first conditional one."""
    found: dict[str, EscalationEdge] = {}
    for plan in plans:
        if target_filter is not None and not target_filter(plan.target):
            continue
        prior = found.get(plan.target)
        if prior is not None and not prior.conditional:
            continue
        decisions = judge(ctx, technique, plan)
        if decisions is None:
            continue
        if plan.changed is not None:
            after = ctx.admin_after(plan.changed)
            if after is None:
                continue
            decisions.append(after)
        edge = _edge(ctx, technique, plan, decisions)
        if prior is None or not edge.conditional:
            found[plan.target] = edge
    yield from found.values()


def _compute_reach(ctx: Context) -> None:
    """Principals the attacker can act as without changing anything: assumable roles, and the targets of
    credential and trust techniques (every principal, whatever the graph's target filter)."""
    wanted, ctx.target_filter = ctx.target_filter, None
    for role in ctx.roles():
        if role == ctx.principal.arn:
            continue
        decision = ctx.ask(Request("sts:AssumeRole", role))
        if decision.allowed:
            ctx.reach[role] = Reach(ACCESS_ASSUME, (decision,))
    for technique in TECHNIQUES:
        if technique.target not in ACCESS_TARGETS or not ctx.may_all(technique.actions):
            continue
        for edge in _best(ctx, technique, STRATEGIES[technique.target](ctx, technique), None):
            if edge.target not in ctx.reach:
                ctx.reach[edge.target] = Reach(technique.id, ())
    _chain_assumptions(ctx)
    ctx.target_filter = wanted


MAX_CHAIN = 3  # role assumptions chained after the first way in (the graph's paths are 5 hops at most)


def _chain_assumptions(ctx: Context) -> None:
    """Roles the attacker reaches by assuming roles from a principal it already acts as (breadth first)."""
    frontier = [arn for arn in ctx.reach if arn != ctx.principal.arn]
    for _ in range(MAX_CHAIN):
        found: list[str] = []
        for arn in frontier:
            middle = ctx.evaluator.principal(arn)
            if middle is None or not middle.identity:
                continue
            for role in ctx.roles():
                if role in ctx.reach:
                    continue
                decision = ctx.ask(Request("sts:AssumeRole", role), principal=middle)
                if decision.allowed:
                    ctx.reach[role] = Reach(ACCESS_ASSUME, (*ctx.reach[arn].decisions, decision))
                    found.append(role)
        frontier = found


def escalation_candidates(
    evaluator: Evaluator,
    principal: PrincipalPolicies,
    techniques: Iterable[Technique] = TECHNIQUES,
    target_filter: Callable[[str], bool] | None = None,
    admin_arns: Set[str] = frozenset(),
) -> Iterator[EscalationEdge]:
    """Every (target, technique) by which ``principal`` can gain more power within its own account."""
    if principal.type not in ("user", "role") or principal.account_id is None:
        return
    ctx = Context(evaluator, principal, frozenset(admin_arns))
    ctx.target_filter = target_filter
    reach_known = False
    for technique in techniques:
        if not ctx.may_all(technique.actions):
            continue
        if technique.family is Family.MODIFY and not reach_known:
            _compute_reach(ctx)
            reach_known = True
        yield from _best(ctx, technique, STRATEGIES[technique.target](ctx, technique), target_filter)


def escalation_edges(
    evaluator: Evaluator,
    admin_arns: Set[str],
    principals: Iterable[PrincipalPolicies] | None = None,
    target_filter: Callable[[str], bool] | None = None,
) -> list[EscalationEdge]:
    """Edges for every user and role that is not already an admin of its account.

    ``target_filter`` restricts the targets evaluated (the graph asks only about targets that lead to admin).
    """
    pool = (
        principals
        if principals is not None
        else (p for p in (evaluator.principal(a) for a in [*evaluator.users, *evaluator.roles]) if p is not None)
    )
    out: list[EscalationEdge] = []
    for principal in pool:
        if principal.arn in admin_arns:
            continue
        out.extend(escalation_candidates(evaluator, principal, target_filter=target_filter, admin_arns=admin_arns))
    return out
