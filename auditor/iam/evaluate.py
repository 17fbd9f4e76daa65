"""Effective permissions: ``can(principal, action, resource, context) -> Decision``.

Follows AWS's documented policy evaluation logic:

1. an explicit Deny in any applicable policy (identity, permission boundary, SCP, RCP, resource) wins;
2. SCPs: every level from the root through each OU to the account must allow (the management account
   and service-linked roles are not affected); RCPs likewise for resources of supported services;
3. a permission boundary intersects the identity-based allow;
4. same account: identity allow OR a resource policy naming the principal (role trust policies and KMS key
   policies are always required); cross-account: identity allow AND resource policy allow.

Conditions are three-valued (see ``conditions``); anything undecided makes the allow *conditional*.
``Evaluator`` indexes a ``Snapshot`` (parsed policies, SCP chains, condition facts) so the graph and
rules can ask ``evaluator.can(principal_arn, action, resource_arn)``. Problems with the input (policies
that do not parse, unknown actions, missing managed policies) are recorded as ``EvaluationEvent``s.
"""

from __future__ import annotations

import dataclasses
import weakref
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from auditor.iam import actions as catalogue
from auditor.iam.conditions import (
    ConditionContext,
    ConditionOutcome,
    Opaque,
    Tri,
    evaluate_conditions,
    statement_fact_names,
    tri_all,
)
from auditor.iam.policy import (
    DEFAULT_PARTITION,
    Policy,
    PolicyParseError,
    PolicySource,
    Statement,
    arn_account,
    arn_partition,
    parse_policy,
)
from auditor.model import IamGroup, IamRole, IamUser, Resource, Snapshot

PrincipalType = Literal["user", "role", "group", "account", "service", "federated", "anyone"]

# Services whose resources RCPs govern (AWS, 2025).
RCP_SERVICES = frozenset({"s3", "sts", "sqs", "secretsmanager", "kms", "ecr", "logs", "dynamodb", "cognito-identity"})
# Resource types whose resource policy is required even within the account.
POLICY_REQUIRED_TYPES = frozenset({"iam:role", "kms:key"})

# Documents of AWS managed policies used when a snapshot lacks them (recorded as an assumption).
KNOWN_AWS_MANAGED: dict[str, dict[str, Any]] = {
    "arn:aws:iam::aws:policy/AdministratorAccess": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    },
    "arn:aws:iam::aws:policy/IAMFullAccess": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "iam:*",
                    "organizations:DescribeAccount",
                    "organizations:DescribeOrganization",
                    "organizations:DescribeOrganizationalUnit",
                    "organizations:DescribePolicy",
                    "organizations:ListChildren",
                    "organizations:ListParents",
                    "organizations:ListPoliciesForTarget",
                    "organizations:ListRoots",
                    "organizations:ListPolicies",
                    "organizations:ListTargetsForPolicy",
                ],
                "Resource": "*",
            }
        ],
    },
    "arn:aws:iam::aws:policy/PowerUserAccess": {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": [
                    "iam:CreateServiceLinkedRole",
                    "iam:DeleteServiceLinkedRole",
                    "iam:ListRoles",
                    "organizations:DescribeOrganization",
                    "account:ListRegions",
                    "account:GetAccountInformation",
                ],
                "Resource": "*",
            },
        ],
    },
}
FULL_AWS_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _commercial(arn: str) -> str:
    """An AWS managed policy ARN in any partition, written in the commercial one (the table's key)."""
    partition = arn_partition(arn)
    return f"arn:{DEFAULT_PARTITION}:{arn[len(partition) + 5 :]}" if partition else arn


def _is_s3_object(arn: str) -> bool:
    partition = arn_partition(arn)
    return partition is not None and arn.startswith(f"arn:{partition}:s3:::") and "/" in arn


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementRef:
    """A statement as evidence: the policy's name or ARN, how it applies, and the raw statement."""

    policy: str
    policy_kind: str
    statement: dict[str, Any] = field(hash=False)
    effect: str = "Allow"
    owner_arn: str | None = None

    @classmethod
    def of(cls, policy: Policy, statement: Statement) -> StatementRef:
        refs = _REFS.get(policy)
        if refs is None:
            refs = _REFS[policy] = {}
        ref = refs.get(statement.index)
        if ref is None:
            ref = refs[statement.index] = cls(
                policy=policy.source.label,
                policy_kind=policy.source.kind,
                statement=statement.raw,
                effect=statement.effect,
                owner_arn=policy.source.owner_arn,
            )
        return ref


# evidence objects are built once per statement; the cache goes away with the policy
_REFS: weakref.WeakKeyDictionary[Policy, dict[int, StatementRef]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class GrantEvidence:
    """A granting statement as rules show it (re-exported by ``auditor.graph``)."""

    policy: str  # name (inline) or ARN (managed)
    policy_kind: str  # inline | managed | aws-managed | group-inline | group-managed
    statement: dict[str, Any] = field(hash=False)

    @classmethod
    def of(cls, ref: StatementRef) -> GrantEvidence:
        return cls(ref.policy, ref.policy_kind, ref.statement)


IDENTITY_KINDS = frozenset({"inline", "managed", "aws-managed", "group-inline", "group-managed"})
RESOURCE_KINDS = frozenset({"trust", "resource"})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    conditional: bool  # allowed only under undecided conditions
    # allowed | explicit-deny | scp | rcp | permission-boundary | no-identity-allow | no-resource-allow
    reason: str
    allowed_by: tuple[StatementRef, ...] = ()
    denied_by: tuple[StatementRef, ...] = ()
    undecided_conditions: tuple[str, ...] = ()
    decided_conditions: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()

    @property
    def tri(self) -> Tri:
        return Tri.NO if not self.allowed else Tri.MAYBE if self.conditional else Tri.YES

    def identity_statements(self) -> tuple[StatementRef, ...]:
        return tuple(r for r in self.allowed_by if r.policy_kind in IDENTITY_KINDS)

    def resource_statements(self) -> tuple[StatementRef, ...]:
        return tuple(r for r in self.allowed_by if r.policy_kind in RESOURCE_KINDS)


@dataclass(frozen=True)
class EvaluationEvent:
    """Something about the input that limits confidence: recorded, reported as coverage, never fatal."""

    kind: str  # parse-error | unknown-action | missing-policy | assumption
    account_id: str | None
    subject: str  # policy name/ARN or principal ARN
    message: str


# --- inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrincipalPolicies:
    """A caller with every policy that applies to it (user: own + its groups'; role: own)."""

    arn: str
    type: PrincipalType
    account_id: str | None
    identity: tuple[Policy, ...] = ()
    boundary: Policy | None = None
    identity_known: bool = True  # False for outsiders whose identity policies we cannot see
    service_linked: bool = False
    name: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    unique_id: str = ""  # AIDA... / AROA...: aws:userid is this (a user) or "this:<session name>" (a role)
    _by_action: dict[tuple[bool, str], _Matches] = field(default_factory=dict, init=False, repr=False, compare=False)
    _caller: dict[Any, _CallerSide] = field(default_factory=dict, init=False, repr=False, compare=False)
    _memo_sig: dict[str, tuple[Any, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def signature(self) -> tuple[Any, ...]:
        """What the caller's half of an evaluation depends on (besides conditions): shared policy objects."""
        return (self.type, self.identity, self.boundary, self.service_linked, self.identity_known or self.arn)

    @property
    def match_kind(self) -> str:
        return {"service": "Service", "federated": "Federated"}.get(self.type, "AWS")

    def identity_for(self, action: str) -> _Matches:
        """Identity-policy statements (allow and deny) whose Action/NotAction covers ``action`` (cached)."""
        return _cached(self._by_action, (False, action), self.identity)

    def boundary_for(self, action: str) -> _Matches:
        return _cached(self._by_action, (True, action), (self.boundary,) if self.boundary else ())


@dataclass(frozen=True)
class ResourceRef:
    arn: str
    account_id: str | None = None
    policy: Policy | None = None
    policy_required: bool = False  # role trust policies, KMS key policies

    @property
    def owner_account(self) -> str | None:
        return self.account_id or arn_account(self.arn)


@dataclass(frozen=True)
class PolicyLevel:
    """The SCPs (or RCPs) attached to one target: the root, an OU or the account."""

    target_id: str
    policies: tuple[Policy, ...]
    assumed_default: bool = False  # nothing collected for this level: FullAWSAccess assumed
    _by_action: dict[tuple[bool, str], _Matches] = field(default_factory=dict, init=False, repr=False, compare=False)

    def for_action(self, action: str) -> _Matches:
        return _cached(self._by_action, (False, action), self.policies)


_Matches = tuple[tuple[Policy, Statement], ...]


def _cached(cache: dict[tuple[bool, str], _Matches], key: tuple[bool, str], policies: Iterable[Policy]) -> _Matches:
    hit = cache.get(key)
    if hit is None:
        action = key[1]
        hit = cache[key] = tuple((p, st) for p in policies for st in p.statements if st.matches_action(action))
    return hit


@dataclass(frozen=True, eq=False)  # compared by identity: the evaluator caches one per caller and account
class RequestContext:
    conditions: ConditionContext = field(default_factory=ConditionContext)
    scp_levels: tuple[PolicyLevel, ...] | None = None  # None: the caller is not governed by SCPs
    rcp_levels: tuple[PolicyLevel, ...] | None = None  # None: the resource is not governed by RCPs
    shared: dict[Any, Any] | None = field(default=None, repr=False)  # the evaluator's cache of caller halves


# --- the evaluation ---------------------------------------------------------------------------------


@dataclass
class _Part:
    """The best outcome among the statements of one component (an SCP level, the identity policies...)."""

    tri: Tri = Tri.NO
    matched: list[tuple[Policy, Statement]] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)

    def offer(self, outcome: ConditionOutcome, policy: Policy, statement: Statement) -> None:
        if outcome.result > self.tri:
            self.tri, self.matched, self.undecided = outcome.result, [], []
        if outcome.result == self.tri and outcome.result != Tri.NO:
            self.matched.append((policy, statement))
            self.undecided.extend(outcome.undecided)

    @property
    def refs(self) -> list[StatementRef]:
        return [StatementRef.of(p, s) for p, s in self.matched]


class _Trail:
    def __init__(self) -> None:
        self.decided: list[str] = []
        self.assumptions: list[str] = []

    def note(self, outcome: ConditionOutcome) -> None:
        self.decided.extend(outcome.decided)
        self.assumptions.extend(outcome.assumptions)


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


def principal_match(statement: Statement, principal: PrincipalPolicies) -> str | None:
    """How a statement's Principal/NotPrincipal element names the caller (``Statement.principal_match``)."""
    return statement.principal_match(principal.match_kind, principal.arn, principal.account_id)


_principal_of = principal_match


def _resource_matches(policy: Policy | None, action: str) -> _Matches:
    if policy is None:
        return ()
    return tuple((policy, st) for st in policy.for_action(action))


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
    guard_parts: list[_Part] = []
    for index, level in enumerate(scp_levels or ()):
        part = _best_allow(level.for_action(action), arn, None, cond, trail)
        if part.tri == Tri.NO:
            blocked = index
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
    return _CallerSide(deny, blocked, guard_parts, ident, boundary, trail.decided, trail.assumptions)


def _merge(a: _Part, b: _Part) -> _Part:
    if a.tri != b.tri:
        return a if a.tri > b.tri else b
    return _Part(a.tri, a.matched + b.matched, a.undecided + b.undecided)


def can(
    principal: PrincipalPolicies,
    action: str,
    resource: ResourceRef | str,
    context: RequestContext | None = None,
) -> Decision:
    """May ``principal`` perform ``action`` on ``resource``? (``"*"``: on every resource)"""
    ctx = context or RequestContext()
    res = resource if isinstance(resource, ResourceRef) else ResourceRef(arn=resource)
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
        return _decision(Tri.NO, "scp", [], trail, note=f"no SCP allow at {scp_levels[caller.blocked].target_id}")
    guard_parts = list(caller.guard_parts)
    for level in rcp_levels or ():
        part = _best_allow(level.for_action(action), res.arn, principal, cond, trail)
        if part.tri == Tri.NO:
            return _decision(Tri.NO, "rcp", [], trail, note=f"no RCP allow at {level.target_id}")
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
        if boundary is not None and ident.tri > Tri.NO and boundary.tri == Tri.NO and direct.tri == Tri.NO:
            reason = "permission-boundary"
        elif (res.policy_required and ident.tri > Tri.NO) or (cross and ident_tri > Tri.NO):
            reason = "no-resource-allow"
        else:
            reason = "no-identity-allow"
        return _decision(Tri.NO, reason, [], trail)
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
) -> Decision:
    assumptions = list(trail.assumptions)
    if note:
        assumptions.append(note)
    return Decision(
        allowed=tri != Tri.NO,
        conditional=tri == Tri.MAYBE,
        reason=reason,
        allowed_by=tuple(dict.fromkeys(refs)) if tri != Tri.NO else (),
        denied_by=tuple(denied or ()),
        undecided_conditions=tuple(dict.fromkeys(undecided or ())),
        decided_conditions=tuple(dict.fromkeys(trail.decided)),
        assumptions=tuple(dict.fromkeys(assumptions)),
    )


# --- the snapshot index ---------------------------------------------------------------------------


class Evaluator:
    """Parsed policies, SCP/RCP chains and condition facts of one snapshot, built once, asked many times."""

    def __init__(self, snapshot: Snapshot, *, assume_mfa: bool | None = None) -> None:
        self.snapshot = snapshot
        self.assume_mfa = assume_mfa
        self.events: list[EvaluationEvent] = []
        self._event_keys: set[tuple[str, str, str]] = set()
        org = snapshot.organization
        self.org_id = org.id if org else None
        self.management_account_id = org.management_account_id if org else None
        self.org_accounts: frozenset[str] = frozenset(a.id for a in org.accounts) if org else frozenset()
        self.known_accounts: frozenset[str] = self.org_accounts | {a.account_id for a in snapshot.accounts}
        self._managed: dict[str, tuple[dict[str, Any], bool, str]] = {}
        self.users: dict[str, tuple[str, IamUser]] = {}
        self.roles: dict[str, tuple[str, IamRole]] = {}
        self.groups: dict[str, tuple[str, IamGroup]] = {}
        self._group_by_name: dict[tuple[str, str], IamGroup] = {}
        self.resources: dict[str, tuple[str, Resource]] = {}
        self._mfa_active: dict[str, bool] = {}
        self._password: dict[str, bool] = {}
        self.account_users: dict[str, list[str]] = defaultdict(list)
        self.account_roles: dict[str, list[str]] = defaultdict(list)
        self.account_groups: dict[str, list[str]] = defaultdict(list)
        self.account_resources: dict[str, list[str]] = defaultdict(list)
        for account in snapshot.accounts:
            for res in account.resources:
                if res.arn not in self.resources:
                    self.account_resources[account.account_id].append(res.arn)
                self.resources[res.arn] = (account.account_id, res)
            if account.iam is None:
                continue
            iam = account.iam
            for mp in iam.policies:
                self._managed.setdefault(mp.arn, (mp.document, mp.aws_managed, mp.name))
            for user in iam.users:
                self.users[user.arn] = (account.account_id, user)
                self.account_users[account.account_id].append(user.arn)
            for role in iam.roles:
                self.roles[role.arn] = (account.account_id, role)
                self.account_roles[account.account_id].append(role.arn)
            for group in iam.groups:
                self.groups[group.arn] = (account.account_id, group)
                self.account_groups[account.account_id].append(group.arn)
                self._group_by_name[(account.account_id, group.name)] = group
            for row in iam.credential_report or ():
                self._mfa_active[row.arn] = row.mfa_active
                self._password[row.arn] = row.password_enabled
        # the partitions the snapshot's principals live in (aws, aws-us-gov, aws-cn...)
        self.partitions: frozenset[str] = frozenset(
            arn_partition(arn) or DEFAULT_PARTITION for arn in (*self.users, *self.roles)
        ) or frozenset({DEFAULT_PARTITION})
        self._principals: dict[str, PrincipalPolicies] = {}
        self._scp_levels: dict[str, tuple[PolicyLevel, ...] | None] = {}
        self._rcp_levels: dict[str, tuple[PolicyLevel, ...] | None] = {}
        self._org_paths: dict[str, str] = {}
        self._scps: list[Policy] = []
        self._rcps: list[Policy] = []
        self._trust: dict[str, Policy | None] = {}
        self._resource_policies: dict[str, Policy | None] = {}
        self._shared: dict[tuple[str, str], Policy | None] = {}
        self._shared_callers: dict[Any, Any] = {}
        self._group_policies: dict[str, list[Policy]] = {}
        self._contexts: dict[tuple[str, str, str | None], RequestContext] = {}
        self._conditions: dict[tuple[str, str], ConditionContext] = {}
        self._resource_facts: dict[str, dict[str, tuple[str, ...] | Opaque]] = {}
        self._default_guardrails: dict[str, Policy] = {}
        self._targets: dict[str, tuple[str, ...]] = {}
        self._guardrails_collected = {"SERVICE_CONTROL_POLICY": False, "RESOURCE_CONTROL_POLICY": False}
        if org is not None:
            for op in org.policies:
                if op.type not in self._guardrails_collected:
                    continue
                self._guardrails_collected[op.type] = True
                kind = "scp" if op.type == "SERVICE_CONTROL_POLICY" else "rcp"
                parsed = self.parse(op.document, PolicySource(op.name, kind, op.arn, None, self.management_account_id))
                if parsed is not None:
                    (self._scps if kind == "scp" else self._rcps).append(parsed)
            self._targets = {op.arn: op.target_ids for op in org.policies}
            for acct in org.accounts:
                path = org.ou_path(acct.id)
                self._org_paths[acct.id] = "/".join([org.id, org.root_id, *(ou.id for ou in path)]) + "/"
            if not self._guardrails_collected["SERVICE_CONTROL_POLICY"]:
                self.event(
                    "assumption",
                    self.management_account_id,
                    org.id,
                    "no SCPs in the snapshot: SCPs treated as not enabled (no restriction)",
                )

    # events ------------------------------------------------------------------------------
    def event(self, kind: str, account_id: str | None, subject: str, message: str) -> None:
        key = (kind, subject, message)
        if key not in self._event_keys:
            self._event_keys.add(key)
            self.events.append(EvaluationEvent(kind, account_id, subject, message))

    def parse(self, document: dict[str, Any] | str, source: PolicySource) -> Policy | None:
        """Parse and record problems; a malformed policy becomes an event, never an exception."""
        try:
            policy = parse_policy(document, source)
        except PolicyParseError as exc:
            self.event("parse-error", source.account_id, source.label, exc.reason)
            return None
        for st in policy.statements:
            for pattern in (*st.actions, *st.not_actions):
                unknown = catalogue.classify(pattern)
                if unknown is not None:
                    self.event("unknown-action", source.account_id, source.label, unknown.message)
        return policy

    # principals ------------------------------------------------------------------------------
    def _managed_policy(self, arn: str, kind_prefix: str, account_id: str, owner: str) -> Policy | None:
        found = self._managed.get(arn)
        known = KNOWN_AWS_MANAGED.get(_commercial(arn)) if found is None else None
        if known is not None:
            self.event("assumption", account_id, arn, "document not in snapshot; AWS's published document used")
            found = (known, True, arn.rsplit("/", 1)[-1])
        if found is None:
            self.event("missing-policy", account_id, arn, f"attached to {owner} but its document was not collected")
            return None
        document, aws_managed, name = found
        if kind_prefix:
            kind = f"{kind_prefix}-managed"
        else:
            kind = "aws-managed" if aws_managed or ":aws:policy/" in arn else "managed"
        # parsed once and shared by every principal it is attached to (owner_arn stays None)
        key = (arn, kind)
        if key not in self._shared:
            self._shared[key] = self.parse(document, PolicySource(name, kind, arn, None, arn_account(arn)))
        return self._shared[key]

    def _policies(
        self, account_id: str, owner: str, inline: Iterable[Any], attached: Iterable[str], prefix: str = ""
    ) -> list[Policy]:
        out: list[Policy] = []
        for ip in inline:
            kind = f"{prefix}-inline" if prefix else "inline"
            parsed = self.parse(ip.document, PolicySource(ip.name, kind, None, owner, account_id))
            if parsed:
                out.append(parsed)
        for arn in attached:
            parsed = self._managed_policy(arn, prefix, account_id, owner)
            if parsed:
                out.append(parsed)
        return out

    def _boundary(self, account_id: str, owner: str, arn: str | None) -> Policy | None:
        if arn is None:
            return None
        found = self._managed_policy(arn, "", account_id, owner)
        if found is None:
            # an unknown boundary cannot be intersected: deny nothing extra, but say so
            self.event("assumption", account_id, owner, f"permission boundary {arn} not collected: ignored")
            return None
        return Policy(PolicySource(found.source.name, "boundary", arn, owner, account_id), found.statements, found.raw)

    def password_enabled(self, user_arn: str) -> bool | None:
        """From the credential report; None when it was not collected."""
        return self._password.get(user_arn)

    def principal(self, arn: str) -> PrincipalPolicies | None:
        """The user, role or group with its applicable policies (cached)."""
        cached = self._principals.get(arn)
        if cached is not None:
            return cached
        built: PrincipalPolicies | None = None
        if arn in self.users:
            account_id, user = self.users[arn]
            policies = self._policies(account_id, arn, user.inline_policies, user.attached_policy_arns)
            for group_name in user.group_names:
                group = self._group_by_name.get((account_id, group_name))
                if group is None:
                    self.event("missing-policy", account_id, arn, f"group {group_name} not collected")
                    continue
                if group.arn not in self._group_policies:
                    self._group_policies[group.arn] = self._policies(
                        account_id, group.arn, group.inline_policies, group.attached_policy_arns, "group"
                    )
                policies += self._group_policies[group.arn]
            built = PrincipalPolicies(
                arn,
                "user",
                account_id,
                tuple(policies),
                self._boundary(account_id, arn, user.permission_boundary_arn),
                name=user.name,
                tags=user.tags,
                unique_id=user.user_id,
            )
        elif arn in self.roles:
            account_id, role = self.roles[arn]
            policies = self._policies(account_id, arn, role.inline_policies, role.attached_policy_arns)
            built = PrincipalPolicies(
                arn,
                "role",
                account_id,
                tuple(policies),
                self._boundary(account_id, arn, role.permission_boundary_arn),
                service_linked=role.path.startswith("/aws-service-role/"),
                name=role.name,
                tags=role.tags,
                unique_id=role.role_id,
            )
        elif arn in self.groups:
            account_id, group = self.groups[arn]
            policies = self._policies(account_id, arn, group.inline_policies, group.attached_policy_arns, "group")
            built = PrincipalPolicies(arn, "group", account_id, tuple(policies), name=group.name)
        if built is not None:
            self._principals[arn] = built
        return built

    def outsider(self, arn: str, type_: PrincipalType) -> PrincipalPolicies:
        """A caller whose identity policies we cannot see: an account, a service, a provider, anyone."""
        return PrincipalPolicies(
            arn,
            type_,
            arn_account(arn) if type_ in ("account", "user", "role") else None,
            identity_known=False,
        )

    # organisation guardrails --------------------------------------------------------------
    def in_organization(self, account_id: str | None) -> bool:
        return account_id is not None and account_id in self.org_accounts

    def _levels(self, account_id: str, policies: list[Policy], kind: str) -> tuple[PolicyLevel, ...] | None:
        org = self.snapshot.organization
        if org is None or account_id not in self.org_accounts or account_id == self.management_account_id:
            return None
        if not policies:
            return None
        target_ids = [org.root_id, *(ou.id for ou in org.ou_path(account_id)), account_id]
        levels: list[PolicyLevel] = []
        for target in target_ids:
            attached = tuple(p for p in policies if target in self._targets.get(p.source.arn or "", ()))
            if attached:
                levels.append(PolicyLevel(target, attached))
            else:
                default = self._default_guardrails.get(kind)
                if default is None:  # one shared object: equal levels then share cached evaluations
                    default = parse_policy(FULL_AWS_ACCESS, PolicySource(f"default-{kind}", kind))
                    self._default_guardrails[kind] = default
                levels.append(PolicyLevel(target, (default,), assumed_default=True))
        return tuple(levels)

    def scp_levels(self, account_id: str | None) -> tuple[PolicyLevel, ...] | None:
        if account_id is None:
            return None
        if account_id not in self._scp_levels:
            self._scp_levels[account_id] = self._levels(account_id, self._scps, "scp")
        return self._scp_levels[account_id]

    def rcp_levels(self, account_id: str | None) -> tuple[PolicyLevel, ...] | None:
        if account_id is None:
            return None
        if account_id not in self._rcp_levels:
            self._rcp_levels[account_id] = self._levels(account_id, self._rcps, "rcp")
        return self._rcp_levels[account_id]

    # condition facts -------------------------------------------------------------------------
    def condition_context(self, principal: PrincipalPolicies) -> ConditionContext:
        key = (principal.arn, principal.type)
        cached = self._conditions.get(key)
        if cached is None:
            cached = self._conditions[key] = self._condition_context(principal)
        return cached

    def _condition_context(self, principal: PrincipalPolicies) -> ConditionContext:
        values: dict[str, tuple[str, ...] | Opaque] = {}
        absent: set[str] = set()
        assumptions: list[str] = []
        acct = principal.account_id
        outsider_ids = frozenset({self.org_id} if self.org_id else set())
        if principal.type in ("user", "role", "account"):
            values["aws:principalaccount"] = (acct,) if acct else Opaque()
            values["aws:principalisawsservice"] = ("false",)
            absent |= {"aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:principalservicename"}
            if self.in_organization(acct):
                assert self.org_id is not None and acct is not None
                values["aws:principalorgid"] = (self.org_id,)
                values["aws:principalorgpaths"] = (self._org_paths[acct],)
            elif self.org_id is not None:
                values["aws:principalorgid"] = Opaque(outsider_ids)
                values["aws:principalorgpaths"] = Opaque(outsider_ids)
        if principal.type in ("user", "role"):
            values["aws:principalarn"] = (principal.arn,)
            values["aws:principaltype"] = ("User",) if principal.type == "user" else ("AssumedRole",)
            for key, value in principal.tags.items():
                values[f"aws:principaltag/{key.lower()}"] = (value,)
            absent.add("aws:principaltag/*")
        if principal.type == "user":
            values["aws:username"] = (principal.name,)
            if principal.unique_id:
                values["aws:userid"] = (principal.unique_id,)
            mfa_device = self._mfa_active.get(principal.arn)
            if mfa_device is False:
                values["aws:multifactorauthpresent"] = ("false",)
            elif self.assume_mfa is not None:
                values["aws:multifactorauthpresent"] = ("true",) if self.assume_mfa else ("false",)
                assumptions.append(f"aws:MultiFactorAuthPresent assumed {str(self.assume_mfa).lower()}")
        elif principal.type == "role":
            absent.add("aws:username")  # role sessions have no user name; aws:userid is "<role id>:<session>"
            values["aws:multifactorauthpresent"] = ("false",)  # role sessions do not carry MFA
        elif principal.type == "anyone":
            excluded = frozenset(self.known_accounts)
            values["aws:principalaccount"] = Opaque(excluded)
            values["aws:principalarn"] = Opaque(
                frozenset(
                    f"arn:{partition}:{service}::{a}:"
                    for a in excluded
                    for partition in self.partitions
                    for service in ("iam", "sts")
                )
            )
            if self.org_id:
                values["aws:principalorgid"] = Opaque(outsider_ids)
                values["aws:principalorgpaths"] = Opaque(outsider_ids)
        elif principal.type == "service":
            values["aws:principalisawsservice"] = ("true",)
            values["aws:principalservicename"] = (principal.arn,)
            absent |= {
                "aws:principalarn",
                "aws:principalaccount",
                "aws:principalorgid",
                "aws:principalorgpaths",
            }
        return ConditionContext(values=values, absent=frozenset(absent), assumptions=tuple(assumptions))

    def resource_facts(self, resource_account: str) -> Mapping[str, tuple[str, ...] | Opaque]:
        """Condition facts of a request to a resource of ``resource_account`` (lower-case keys; cached)."""
        found = self._resource_facts.get(resource_account)
        if found is None:
            facts: dict[str, tuple[str, ...] | Opaque] = {"aws:resourceaccount": (resource_account,)}
            if self.in_organization(resource_account) and self.org_id:
                facts["aws:resourceorgid"] = (self.org_id,)
                facts["aws:resourceorgpaths"] = (self._org_paths[resource_account],)
            found = self._resource_facts[resource_account] = facts
        return found

    def request_context(
        self,
        principal: PrincipalPolicies,
        resource_account: str | None,
        extra: Mapping[str, tuple[str, ...]] | None = None,
    ) -> RequestContext:
        key = (principal.arn, principal.type, resource_account)
        if not extra and key in self._contexts:
            return self._contexts[key]
        conditions = self.condition_context(principal)
        if resource_account is not None:
            conditions = conditions.merged(self.resource_facts(resource_account))
        if extra:
            conditions = conditions.merged(extra)
        scp = self.scp_levels(principal.account_id) if principal.type in ("user", "role", "group") else None
        context = RequestContext(
            conditions=conditions,
            scp_levels=scp,
            rcp_levels=self.rcp_levels(resource_account),
            shared=self._shared_callers,
        )
        if not extra:
            if len(self._contexts) > 50_000:
                self._contexts.clear()  # bounded: contexts are cheap to rebuild, the memory is not free
            self._contexts[key] = context
        return context

    # resources ------------------------------------------------------------------------------------
    def trust_policy(self, role_arn: str) -> Policy | None:
        found = self.roles.get(role_arn)
        if found is None:
            return None
        account_id, role = found
        if role_arn not in self._trust:
            self._trust[role_arn] = self.parse(
                role.trust_policy,
                PolicySource(f"{role.name} trust policy", "trust", role_arn, role_arn, account_id),
            )
        return self._trust[role_arn]

    def resource(self, arn: str, action: str = "sts:AssumeRole") -> ResourceRef:
        """The resource and its resource policy for ``action`` (a role's trust policy governs sts:*)."""
        if arn in self.roles:
            if not action.lower().startswith("sts:"):
                return ResourceRef(arn, self.roles[arn][0])  # e.g. iam:PassRole: IAM has no resource policies
            return ResourceRef(arn, self.roles[arn][0], self.trust_policy(arn), policy_required=True)
        found = self.resources.get(arn)
        if found is None and _is_s3_object(arn):
            found = self.resources.get(arn.split("/", 1)[0])  # an object is governed by its bucket's policy
        if found is None:
            return ResourceRef(arn, arn_account(arn))
        account_id, res = found
        policy = None
        if res.policy is not None:
            if arn not in self._resource_policies:  # parsed once per ARN asked: decisions are cached per policy
                self._resource_policies[arn] = self.parse(
                    res.policy,
                    PolicySource(f"{res.name or arn} resource policy", "resource", arn, arn, account_id),
                )
            policy = self._resource_policies[arn]
        return ResourceRef(arn, account_id, policy, policy_required=res.type in POLICY_REQUIRED_TYPES)

    def can(
        self,
        principal: str | PrincipalPolicies,
        action: str,
        resource_arn: str = "*",
        extra: Mapping[str, tuple[str, ...]] | None = None,
    ) -> Decision:
        """Convenience: evaluate by ARN against this snapshot's policies and guardrails."""
        p = self.principal(principal) if isinstance(principal, str) else principal
        if p is None:
            raise KeyError(f"principal {principal} not in snapshot")
        res = self.resource(resource_arn, action)
        return can(p, action, res, self.request_context(p, res.owner_account, extra))
