"""May this principal perform this action on this resource? AWS's documented policy evaluation logic.

1. an explicit Deny in any applicable policy (identity, permission boundary, SCP, RCP, resource) wins;
2. SCPs: every level from the root through each OU to the account must allow (the management account
   and service-linked roles are not affected); RCPs likewise for resources of supported services;
3. a permission boundary intersects the identity-based allow;
4. same account: identity allow OR a resource policy naming the principal (role trust policies and KMS key
   policies are always required); cross-account: identity allow AND resource policy allow.

Conditions are three-valued (see ``conditions``); anything undecided makes the allow *conditional*.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

from auditor.iam.conditions import ConditionContext, ConditionOutcome, Tri, tri_all
from auditor.iam.decision import Decision, StatementRef
from auditor.iam.memo import _BY_SCP_TARGET, _memo_key
from auditor.iam.picks import request_variants
from auditor.iam.policy import Policy, Statement, arn_partition
from auditor.iam.request import RCP_SERVICES, PolicyLevel, PrincipalPolicies, RequestContext, ResourceRef
from auditor.iam.statements import _outcome, _principal_of, _resource_matches


@dataclass
class _Part:
    """The best outcome among the statements of one component (an SCP level, the identity policies...)."""

    tri: Tri = Tri.NO
    matched: list[tuple[Policy, Statement]] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)
    failed: list[tuple[Policy, Statement]] = field(default_factory=list)  # applied, but a condition is false

    def offer(self, outcome: ConditionOutcome, policy: Policy, statement: Statement) -> None:
        if outcome.result > self.tri:
            self.tri, self.matched, self.undecided = outcome.result, [], []
        if outcome.result == self.tri and outcome.result != Tri.NO:
            self.matched.append((policy, statement))
            self.undecided.extend(outcome.undecided)
        elif outcome.result == Tri.NO:
            self.failed.append((policy, statement))

    @property
    def refs(self) -> list[StatementRef]:
        return [StatementRef.of(p, s) for p, s in self.matched]

    @property
    def failed_refs(self) -> list[StatementRef]:
        return [StatementRef.of(p, s) for p, s in self.failed]


class _Trail:
    def __init__(self) -> None:
        self.decided: list[str] = []
        self.assumptions: list[str] = []

    def note(self, outcome: ConditionOutcome) -> None:
        self.decided.extend(outcome.decided)
        self.assumptions.extend(outcome.assumptions)


def _best_allow(
    matches: Iterable[tuple[Policy, Statement]],
    arn: str,
    principal: PrincipalPolicies | None,
    ctx: ConditionContext,
    trail: _Trail,
) -> _Part:
    part = _Part()
    for policy, st in matches:
        if not st.is_allow or st.resource_tri(arn, ctx.lookup) == Tri.NO:
            continue
        if principal is not None and _principal_of(st, principal) is None:
            continue
        outcome = _outcome(st, ctx, arn)
        trail.note(outcome)
        part.offer(outcome, policy, st)
    return part


@dataclass
class _CallerSide:
    """The caller's half of an evaluation (identity, boundary, SCPs), reusable across resources."""

    deny: _Part
    blocked: int | None  # index of the first SCP level with no allow
    guard_parts: list[_Part]
    ident: _Part
    boundary: _Part | None
    decided: list[str]
    assumptions: list[str]
    blocked_part: _Part | None = None  # the SCP level with no allow, as evaluated


def _caller_side(
    principal: PrincipalPolicies,
    action: str,
    arn: str,
    cond: ConditionContext,
    scp_levels: tuple[PolicyLevel, ...] | None,
) -> _CallerSide:
    trail = _Trail()
    deny = _Part()
    for matches in (
        principal.identity_for(action),
        principal.boundary_for(action),
        *(level.for_action(action) for level in scp_levels or ()),
    ):
        for policy, st in matches:
            if not st.is_allow and st.resource_tri(arn, cond.lookup) != Tri.NO:
                outcome = _outcome(st, cond, arn)
                trail.note(outcome)
                deny.offer(outcome, policy, st)
    blocked: int | None = None
    blocked_part: _Part | None = None
    guard_parts: list[_Part] = []
    for index, level in enumerate(scp_levels or ()):
        part = _best_allow(level.for_action(action), arn, None, cond, trail)
        if part.tri == Tri.NO:
            blocked, blocked_part = index, part
            break
        guard_parts.append(part)
    if principal.identity_known:
        ident = _best_allow(principal.identity_for(action), arn, None, cond, trail)
    else:
        ident = _Part(tri=Tri.YES)
        trail.assumptions.append(f"identity policies of {principal.arn} not visible: assumed to allow")
    boundary: _Part | None = None
    if principal.boundary is not None:
        boundary = _best_allow(principal.boundary_for(action), arn, None, cond, trail)
    return _CallerSide(
        deny, blocked, guard_parts, ident, boundary, trail.decided, trail.assumptions, blocked_part
    )


def _merge(a: _Part, b: _Part) -> _Part:
    if a.tri != b.tri:
        return a if a.tri > b.tri else b
    return _Part(a.tri, a.matched + b.matched, a.undecided + b.undecided)


def can(
    principal: PrincipalPolicies,
    action: str,
    resource: ResourceRef | str,
    context: RequestContext | None = None,
    *,
    request: Mapping[str, str | Iterable[str] | None] | None = None,
) -> Decision:
    """May ``principal`` perform ``action`` on ``resource``? (``"*"``: on every resource)

    ``request``: facts of this very request (``{"iam:PolicyARN": arn}``, ``{"iam:PassedToService": svc}``;
    ``None`` for a key the request does not carry), so conditions that scope it are decided.
    Keys the caller picks (how it signs in, the region it calls) are tried pick by pick (``picks``); the
    best decision wins and its assumptions say what was picked.
    """
    ctx = context or RequestContext()
    if request:
        ctx = ctx.with_request(request)
    res = resource if isinstance(resource, ResourceRef) else ResourceRef(arn=resource)
    scp_levels = ctx.scp_levels if not principal.service_linked else None
    service = action.split(":", 1)[0].lower()
    rcp_levels = ctx.rcp_levels if service in RCP_SERVICES else None
    statements = tuple(
        st
        for matches in (
            principal.identity_for(action),
            principal.boundary_for(action),
            *(level.for_action(action) for level in scp_levels or ()),
            *(level.for_action(action) for level in rcp_levels or ()),
            _resource_matches(res.policy, action),
        )
        for _, st in matches
        if st.condition_keys
    )
    best: Decision | None = None
    best_notes: tuple[str, ...] = ()
    for key, conditions, notes in request_variants(ctx.conditions, action, arn_partition(principal.arn), statements):
        sub = ctx.derived.get(key)
        if sub is None:
            sub = ctx.derived[key] = RequestContext(conditions, ctx.scp_levels, ctx.rcp_levels, ctx.shared)
        decision = _can_one(principal, action, res, sub)
        if best is None or decision.tri > best.tri:
            best, best_notes = decision, notes
            if best.tri == Tri.YES:
                break
    if best is None:
        return _can_one(principal, action, res, ctx)
    if best.allowed and best_notes:
        return replace(best, assumptions=tuple(dict.fromkeys((*best.assumptions, *best_notes))))
    return best


def _can_one(principal: PrincipalPolicies, action: str, res: ResourceRef, ctx: RequestContext) -> Decision:
    """``can`` for one request context (the caller's picks made)."""
    cond = ctx.conditions
    res_account = res.owner_account
    cross = principal.account_id is not None and res_account is not None and res_account != principal.account_id
    service = action.split(":", 1)[0].lower()
    scp_levels = ctx.scp_levels if not principal.service_linked else None
    rcp_levels = ctx.rcp_levels if service in RCP_SERVICES else None

    # the caller's half depends on the resource only through which statements' Resource matches it, and on
    # the request context only when a matching statement has a condition; without one it is shared by
    # every principal holding the same policy objects under the same SCPs
    caller_matches = (
        principal.identity_for(action),
        principal.boundary_for(action),
        *(level.for_action(action) for level in scp_levels or ()),
    )
    hits: list[Tri] = []
    conditional = False
    lookup = cond.lookup
    for matches in caller_matches:
        for _, st in matches:
            hit = st.resource_tri(res.arn, lookup)
            hits.append(hit)
            if hit and (st.conditions or st.symbolic_variables):
                conditional = True
    mask = tuple(hits)
    shared = ctx.shared
    memo_key: tuple[Any, ...] | None = None
    if shared is not None:
        # a whole decision is reused by any request that agrees on everything it reads (see _memo_key)
        memo_key = _memo_key(principal, action, res, ctx, cross, scp_levels, rcp_levels, caller_matches, mask)
        found = shared.get(memo_key)
        if found is _BY_SCP_TARGET:
            found = shared.get((memo_key, tuple(level.target_id for level in scp_levels or ())))
        if found is not None:
            return cast(Decision, found)
    cache: dict[Any, _CallerSide]
    key: tuple[Any, ...]
    if conditional or shared is None:
        cache, key = principal._caller, (action, mask, ctx if conditional else None, scp_levels is None)
    else:
        scp_signature = tuple(level.policies for level in scp_levels) if scp_levels is not None else None
        cache, key = shared, (principal.signature, scp_signature, action, mask)
    caller = cache.get(key)
    if caller is None:
        caller = cache[key] = _caller_side(principal, action, res.arn, cond, scp_levels)
    decision = _decide(principal, action, res, ctx, caller, cross, scp_levels, rcp_levels)
    if shared is not None and memo_key is not None:
        if decision.reason == "scp":  # its note names the blocking level: reuse only under the same levels
            shared[memo_key] = _BY_SCP_TARGET
            shared[(memo_key, tuple(level.target_id for level in scp_levels or ()))] = decision
        else:
            shared[memo_key] = decision
    return decision


def _decide(
    principal: PrincipalPolicies,
    action: str,
    res: ResourceRef,
    ctx: RequestContext,
    caller: _CallerSide,
    cross: bool,
    scp_levels: tuple[PolicyLevel, ...] | None,
    rcp_levels: tuple[PolicyLevel, ...] | None,
) -> Decision:
    cond = ctx.conditions
    trail = _Trail()
    trail.assumptions.extend(cond.assumptions)
    for levels, label in ((scp_levels, "SCP"), (rcp_levels, "RCP")):
        for level in levels or ():
            if level.assumed_default:
                trail.assumptions.append(f"no {label} collected for {level.target_id}: default full access assumed")
    trail.decided.extend(caller.decided)
    trail.assumptions.extend(caller.assumptions)

    # 1. explicit deny anywhere
    resource_deny = _Part()
    resource_matches = _resource_matches(res.policy, action)
    rcp_matches = tuple(m for level in rcp_levels or () for m in level.for_action(action))
    for policy, st in (*rcp_matches, *resource_matches):
        if st.is_allow or st.resource_tri(res.arn, cond.lookup) == Tri.NO or _principal_of(st, principal) is None:
            continue
        outcome = _outcome(st, cond, res.arn)
        trail.note(outcome)
        resource_deny.offer(outcome, policy, st)
    deny = _merge(caller.deny, resource_deny)
    if deny.tri == Tri.YES:
        return _decision(Tri.NO, "explicit-deny", [], trail, denied=deny.refs)

    # 2. organisation guardrails: every level must allow
    if caller.blocked is not None and scp_levels is not None:
        level = scp_levels[caller.blocked]
        return _decision(
            Tri.NO, "scp", [], trail, note=f"no SCP allow at {level.target_id}",
            blocked=(level, caller.blocked_part),
        )
    guard_parts = list(caller.guard_parts)
    for level in rcp_levels or ():
        part = _best_allow(level.for_action(action), res.arn, principal, cond, trail)
        if part.tri == Tri.NO:
            return _decision(Tri.NO, "rcp", [], trail, note=f"no RCP allow at {level.target_id}", blocked=(level, part))
        guard_parts.append(part)

    # 3. identity policies, intersected with the permission boundary
    ident, boundary = caller.ident, caller.boundary
    ident_tri = min(ident.tri, boundary.tri) if boundary else ident.tri

    # 4. resource-based policy
    direct, account = _Part(), _Part()
    for policy, st in resource_matches:
        if not st.is_allow or st.resource_tri(res.arn, cond.lookup) == Tri.NO:
            continue
        match = _principal_of(st, principal)
        if match is None:
            continue
        outcome = _outcome(st, cond, res.arn)
        trail.note(outcome)
        (account if match == "account" else direct).offer(outcome, policy, st)

    used: list[_Part] = []
    if principal.type in ("service", "federated", "anyone"):
        total = direct.tri
        used = [direct]
    elif cross:
        if res.policy is None:
            return _decision(Tri.NO, "no-resource-allow", [], trail, note="cross-account without resource policy")
        res_tri = max(direct.tri, account.tri)
        total = min(ident_tri, res_tri)
        used = [ident, *([boundary] if boundary else []), direct if direct.tri >= account.tri else account]
    else:
        via_resource = direct.tri
        if principal.type == "role" and boundary is not None:
            via_resource = min(via_resource, boundary.tri)  # a role ARN in a resource policy stays bounded
        via_identity = min(ident_tri, max(account.tri, direct.tri)) if res.policy_required else ident_tri
        total = max(via_resource, via_identity)
        if via_resource >= via_identity and via_resource > Tri.NO:
            used = [direct]
        else:
            used = [ident, *([boundary] if boundary else [])]
            if res.policy_required:
                used.append(direct if direct.tri >= account.tri else account)
    if total == Tri.NO:
        unmet: list[StatementRef]
        stopped_by: tuple[str, ...] = ()
        # a resource policy that admits the caller leaves the boundary as what stopped it (not the resource)
        needs_resource = cross or res.policy_required
        res_admits = max(direct.tri, account.tri) > Tri.NO if needs_resource else direct.tri == Tri.NO
        if boundary is not None and ident.tri > Tri.NO and boundary.tri == Tri.NO and res_admits:
            reason, unmet = "permission-boundary", boundary.failed_refs
            stopped_by = (principal.boundary.source.label,) if principal.boundary is not None else ()
        elif (res.policy_required and ident.tri > Tri.NO) or (cross and ident_tri > Tri.NO):
            reason, unmet = "no-resource-allow", [*direct.failed_refs, *account.failed_refs]
        else:
            reason, unmet = "no-identity-allow", ident.failed_refs
        return _decision(Tri.NO, reason, [], trail, unmet=unmet, blocked_policies=stopped_by)
    final = tri_all([total, *(p.tri for p in guard_parts), Tri.MAYBE if deny.tri == Tri.MAYBE else Tri.YES])
    parts = [*used, *guard_parts, deny]
    refs = [r for p in used for r in p.refs]
    undecided = [k for p in parts if p.tri == Tri.MAYBE for k in p.undecided] if final == Tri.MAYBE else []
    return _decision(final, "allowed", refs, trail, undecided=undecided)


def _decision(
    tri: Tri,
    reason: str,
    refs: list[StatementRef],
    trail: _Trail,
    *,
    denied: list[StatementRef] | None = None,
    undecided: list[str] | None = None,
    note: str | None = None,
    blocked: tuple[PolicyLevel, _Part | None] | None = None,
    unmet: list[StatementRef] | None = None,
    blocked_policies: tuple[str, ...] = (),
) -> Decision:
    assumptions = list(trail.assumptions)
    if note:
        assumptions.append(note)
    blocked_at: str | None = None
    if blocked is not None:
        level, part = blocked
        blocked_at = level.target_id
        blocked_policies = tuple(p.source.label for p in level.policies)
        unmet = part.failed_refs if part is not None else []
    return Decision(
        allowed=tri != Tri.NO,
        conditional=tri == Tri.MAYBE,
        reason=reason,
        allowed_by=tuple(dict.fromkeys(refs)) if tri != Tri.NO else (),
        denied_by=tuple(denied or ()),
        undecided_conditions=tuple(dict.fromkeys(undecided or ())),
        decided_conditions=tuple(dict.fromkeys(trail.decided)),
        assumptions=tuple(dict.fromkeys(assumptions)),
        blocked_at=blocked_at,
        blocked_policies=blocked_policies,
        unmet=tuple(dict.fromkeys(unmet or ())),
    )


