"""One strategy per technique target kind: which concrete requests carry a technique out, and what it yields.

A strategy turns (attacker, technique) into ``Plan``s: the requests to judge, the graph node gained and,
for a change to a principal, the principal as it would be after the change (``changed``), which must pass
the graph's admin test. "Modify then use" is the general case: the changed principal is the attacker itself
or any principal in ``Context.reach`` (one it can assume, or act as through a credential or trust technique).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from auditor.iam.escalation_context import (
    WRITTEN_POLICY,
    Context,
    Request,
    as_boundary,
    as_group_policy,
    with_boundary,
    with_policies,
)
from auditor.iam.evaluate import Decision, PrincipalPolicies, ResourceRef, can
from auditor.iam.policy import Policy, PolicySource, parse_policy
from auditor.iam.techniques import NEW_RESOURCE_ARNS, On, Target, Technique

# Services whose PassRole requests carry iam:AssociatedResourceArn (the resource the role is given to).
# Elsewhere the key is left unknown: a condition on it makes the edge conditional, never silently decided.
ASSOCIATED_RESOURCE_SERVICES = frozenset({"ec2.amazonaws.com"})


@dataclass(frozen=True)
class Plan:
    target: str  # graph node gained: a principal ARN, or the account id when the attacker becomes admin
    requests: tuple[Request, ...]
    passed_role: str | None = None
    modified: str | None = None  # the principal, group or policy the technique changes
    via: str | None = None  # how the attacker then acts as the changed principal (see Context.reach)
    changed: PrincipalPolicies | None = None  # must be an admin after the change
    decisions: tuple[Decision, ...] = field(default_factory=tuple)  # already judged (e.g. reaching the subject)


Strategy = Callable[[Context, Technique], Iterator[Plan]]


# --- requests of a technique's steps ------------------------------------------------------------------
def step_requests(
    ctx: Context, technique: Technique, target_arn: str, role: str | None, existing: dict[str, str] | None = None
) -> tuple[Request, ...] | None:
    """Requests of the technique's steps other than those a strategy builds itself (``On.TARGET`` steps get
    ``target_arn``). None when an existing resource the technique needs is not in the snapshot."""
    out: list[Request] = []
    for step in technique.steps:
        if step.on is On.TARGET:
            resource = target_arn
        elif step.on is On.NEW:
            resource = _new_arn(ctx, step.action)
        elif step.on is On.EXISTING:
            if existing is None or step.resource_type not in existing:
                return None
            resource = existing[step.resource_type]
        elif step.on is On.ROLE:
            if role is None:
                return None
            resource = role
        else:
            resource = "*"
        values: dict[str, tuple[str, ...]] = {}
        if step.action == "iam:PassRole" and technique.service:
            values["iam:PassedToService"] = (technique.service,)
            created = next((_new_arn(ctx, s.action) for s in technique.steps if s.on is On.NEW), None)
            if technique.service in ASSOCIATED_RESOURCE_SERVICES and created:
                values["iam:AssociatedResourceArn"] = (created,)
        out.append(Request(step.action, resource, values))
    return tuple(out)


def _new_arn(ctx: Context, action: str) -> str:
    """The ARN a creating request names, with {name} and {region} left for the attacker to choose."""
    template = NEW_RESOURCE_ARNS[action]
    return template.format(partition=ctx.partition, account=ctx.account, region="{region}", name="{name}")


# --- changing a principal ---------------------------------------------------------------------------------
def _subjects(ctx: Context, kind: str) -> Iterator[tuple[PrincipalPolicies, str]]:
    """(principal the attacker can act as, via) of one kind, the attacker first; admins are left out."""
    for arn, reach in list(ctx.reach.items()):
        if arn in ctx.admin_arns and arn != ctx.principal.arn:
            continue
        p = ctx.evaluator.principal(arn)
        if p is not None and p.type == kind:
            yield p, reach.via


def _reach_decisions(ctx: Context, arn: str) -> tuple[Decision, ...]:
    found = ctx.reach.get(arn)
    return found.decisions if found else ()


def _subject_principals(ctx: Context, technique: Technique) -> Iterator[tuple[str, PrincipalPolicies, str]]:
    """(ARN the request names, principal whose power changes, via): users/roles directly; a group through
    each member the attacker can act as."""
    subject = technique.subjects[0]
    if subject in ("user", "role"):
        for p, via in _subjects(ctx, subject):
            yield p.arn, p, via
    elif subject == "group":
        for member, via in _subjects(ctx, "user"):
            for group in ctx.facts.user_groups.get(member.arn, ()):
                yield group, member, via


def inline_policy(ctx: Context, technique: Technique) -> Iterator[Plan]:
    """Put{User,Role,Group}Policy: the attacker writes any document (overwriting a same-named Deny policy)."""
    for subject_arn, p, via in _subject_principals(ctx, technique):
        owner_kinds = ("inline",) if technique.subjects[0] != "group" else ("group-inline",)
        kept = tuple(
            pol
            for pol in p.identity
            if not (pol.source.kind in owner_kinds and pol.source.owner_arn == subject_arn and pol.denies())
        )
        written = WRITTEN_POLICY if technique.subjects[0] != "group" else _GROUP_WRITTEN
        values, absent = ctx.boundary_values(subject_arn) if technique.subjects[0] != "group" else ({}, frozenset())
        requests = (Request(technique.actions[0], subject_arn, values, absent),)
        yield Plan(
            ctx.account,
            requests,
            modified=subject_arn,
            via=via,
            changed=with_policies(p, (*kept, written)),
            decisions=_reach_decisions(ctx, p.arn),
        )


_GROUP_WRITTEN = as_group_policy(WRITTEN_POLICY)


def attach_policy(ctx: Context, technique: Technique) -> Iterator[Plan]:
    """Attach{User,Role,Group}Policy: one plan per attachable managed policy (iam:PolicyARN decides)."""
    candidates = ctx.managed_candidates()
    group = technique.subjects[0] == "group"
    for subject_arn, p, via in _subject_principals(ctx, technique):
        values, absent = ctx.boundary_values(subject_arn) if not group else ({}, frozenset())
        for arn, policy in candidates:
            if any(pol.source.arn == arn for pol in p.identity):
                continue
            added = as_group_policy(policy) if group else policy
            request = Request(technique.actions[0], subject_arn, {**values, "iam:PolicyARN": (arn,)}, absent)
            yield Plan(
                ctx.account,
                (request,),
                modified=subject_arn,
                via=via,
                changed=with_policies(p, (*p.identity, added)),
                decisions=_reach_decisions(ctx, p.arn),
            )


def policy_version(ctx: Context, technique: Technique) -> Iterator[Plan]:
    """CreatePolicyVersion / SetDefaultPolicyVersion on a customer managed policy attached to a principal
    the attacker can act as (directly or through a group): the policy's document becomes the attacker's."""
    for kind in ("user", "role"):
        for p, via in _subjects(ctx, kind):
            arns = dict.fromkeys(
                pol.source.arn
                for pol in p.identity
                if pol.source.arn and pol.source.kind in ("managed", "group-managed")
            )
            for arn in arns:
                changed = tuple(
                    (_GROUP_WRITTEN if pol.source.kind == "group-managed" else WRITTEN_POLICY)
                    if pol.source.arn == arn
                    else pol
                    for pol in p.identity
                )
                request = Request(technique.actions[0], arn)
                yield Plan(
                    ctx.account,
                    (request,),
                    modified=arn,
                    via=via,
                    changed=with_policies(p, changed),
                    decisions=_reach_decisions(ctx, p.arn),
                )


def boundary_delete(ctx: Context, technique: Technique) -> Iterator[Plan]:
    """Delete{User,Role}PermissionsBoundary: the principal keeps only its identity policies (and SCPs)."""
    for p, via in _subjects(ctx, technique.subjects[0]):
        if p.boundary is None:
            continue
        values, absent = ctx.boundary_values(p.arn)
        request = Request(technique.actions[0], p.arn, values, absent)
        yield Plan(
            ctx.account,
            (request,),
            modified=p.arn,
            via=via,
            changed=with_boundary(p, None),
            decisions=_reach_decisions(ctx, p.arn),
        )


def boundary_put(ctx: Context, technique: Technique) -> Iterator[Plan]:
    """Put{User,Role}PermissionsBoundary: the boundary becomes a managed policy the request may name."""
    candidates = ctx.managed_candidates()
    for p, via in _subjects(ctx, technique.subjects[0]):
        if p.boundary is None:
            continue
        for arn, policy in candidates:
            if arn == p.boundary.source.arn:
                continue
            request = Request(technique.actions[0], p.arn, {"iam:PermissionsBoundary": (arn,)})
            yield Plan(
                ctx.account,
                (request,),
                modified=p.arn,
                via=via,
                changed=with_boundary(p, as_boundary(policy, p.arn)),
                decisions=_reach_decisions(ctx, p.arn),
            )


_REMOVAL_KINDS = {
    "iam:DeleteUserPolicy": ("inline",),
    "iam:DeleteRolePolicy": ("inline",),
    "iam:DeleteGroupPolicy": ("group-inline",),
    "iam:DetachUserPolicy": ("managed", "aws-managed"),
    "iam:DetachRolePolicy": ("managed", "aws-managed"),
    "iam:DetachGroupPolicy": ("group-managed",),
}


def deny_removal(ctx: Context, technique: Technique) -> Iterator[Plan]:
    """Delete or detach a policy whose Deny guards a principal, or leave a group that carries one."""
    action = technique.actions[0]
    if action == "iam:RemoveUserFromGroup":
        for p, via in _subjects(ctx, "user"):
            for group in ctx.facts.user_groups.get(p.arn, ()):
                if not any(pol.denies() for pol in p.identity if _from_group(pol, group, ctx)):
                    continue
                kept = tuple(pol for pol in p.identity if not _from_group(pol, group, ctx))
                yield Plan(
                    ctx.account,
                    (Request(action, group),),
                    modified=group,
                    via=via,
                    changed=with_policies(p, kept),
                    decisions=_reach_decisions(ctx, p.arn),
                )
        return
    kinds = _REMOVAL_KINDS[action]
    subject = technique.subjects[0]
    for kind in ("user", "role") if subject == "group" else (subject,):
        for p, via in _subjects(ctx, kind):
            for pol in p.identity:
                if pol.source.kind not in kinds or not pol.denies():
                    continue
                if subject == "group":
                    owners = [g for g in ctx.facts.user_groups.get(p.arn, ()) if _from_group(pol, g, ctx)]
                    if not owners:
                        continue
                    owner = owners[0]
                    values: dict[str, tuple[str, ...]] = {}
                    absent: frozenset[str] = frozenset()
                else:
                    if pol.source.kind == "inline" and pol.source.owner_arn != p.arn:
                        continue
                    owner = p.arn
                    values, absent = ctx.boundary_values(p.arn)
                if pol.source.kind in ("managed", "aws-managed", "group-managed") and pol.source.arn:
                    values = {**values, "iam:PolicyARN": (pol.source.arn,)}
                kept = tuple(x for x in p.identity if x is not pol)
                yield Plan(
                    ctx.account,
                    (Request(action, owner, values, absent),),
                    modified=owner,
                    via=via,
                    changed=with_policies(p, kept),
                    decisions=_reach_decisions(ctx, p.arn),
                )


def _from_group(policy: Policy, group_arn: str, ctx: Context) -> bool:
    """Whether a policy in a user's identity comes from ``group_arn``."""
    if policy.source.kind == "group-inline":
        return policy.source.owner_arn == group_arn
    if policy.source.kind == "group-managed":
        found = ctx.evaluator.groups.get(group_arn)
        return found is not None and policy.source.arn in found[1].attached_policy_arns
    return False


def group_join(ctx: Context, technique: Technique) -> Iterator[Plan]:
    """AddUserToGroup: the user gains the group's policies, still under its own boundary and SCPs."""
    for p, via in _subjects(ctx, "user"):
        current = set(ctx.facts.user_groups.get(p.arn, ()))
        for group in ctx.groups():
            if group in current:
                continue
            group_policies = ctx.evaluator.principal(group)
            if group_policies is None or not group_policies.identity:
                continue
            changed = with_policies(p, (*p.identity, *group_policies.identity))
            request = Request(technique.actions[0], group)
            yield Plan(
                ctx.account,
                (request,),
                modified=group,
                via=via,
                changed=changed,
                decisions=_reach_decisions(ctx, p.arn),
            )
            if p.arn == ctx.principal.arn and p.boundary is None:
                yield Plan(group, (request,), modified=group, via=via)  # the group's own further reach


# --- acting as another principal -------------------------------------------------------------------------
def user_credentials(ctx: Context, technique: Technique) -> Iterator[Plan]:
    for arn in ctx.users():
        if arn == ctx.principal.arn or not _credential_state_fits(ctx, arn, technique):
            continue
        requests = tuple(Request(a, arn) for a in technique.actions)
        yield Plan(arn, requests)


def _credential_state_fits(ctx: Context, user_arn: str, technique: Technique) -> bool:
    """CreateLoginProfile needs a user without a password, UpdateLoginProfile one with; CreateAccessKey a
    user with fewer than two active keys, else DeleteAccessKey too (unknown state: both)."""
    if technique.id in ("iam-create-login-profile", "iam-update-login-profile"):
        has_password = ctx.evaluator.password_enabled(user_arn)
        return has_password is None or has_password == (technique.id == "iam-update-login-profile")
    keys = ctx.facts.active_keys.get(user_arn)
    if technique.id == "iam-create-access-key":
        return keys is None or keys < 2
    if technique.id == "iam-delete-and-create-access-key":
        return keys is None or keys >= 2
    return True


def role_trust(ctx: Context, technique: Technique) -> Iterator[Plan]:
    """UpdateAssumeRolePolicy, then AssumeRole under the new trust (the caller's own denies still apply)."""
    for arn in ctx.roles():
        if arn == ctx.principal.arn:
            continue
        trust = _trusting(ctx.principal.arn, ctx.evaluator.roles[arn][0])
        assume = can(
            ctx.principal,
            "sts:AssumeRole",
            ResourceRef(arn, ctx.account, trust, policy_required=True),
            ctx.evaluator.request_context(ctx.principal, ctx.account),
        )
        if not assume.allowed:
            continue
        yield Plan(arn, (Request(technique.actions[0], arn),), decisions=(assume,))


def _trusting(principal_arn: str, account: str) -> Policy:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal_arn}, "Action": "sts:AssumeRole"}],
    }
    return parse_policy(document, PolicySource("trust policy written by the attacker", "trust", None, None, account))


# --- services running attacker code with a role ------------------------------------------------------------
def passed_role(ctx: Context, technique: Technique) -> Iterator[Plan]:
    services = (technique.service or "", *technique.also_trusted)
    existing_types = [s.resource_type for s in technique.steps if s.on is On.EXISTING and s.resource_type]
    choices: list[dict[str, str]] = [{}]
    for resource_type in existing_types:
        choices = [{**c, resource_type: arn} for c in choices for arn in ctx.resources(resource_type)]
    for arn in ctx.roles():
        if arn == ctx.principal.arn or not ctx.wanted(arn):
            continue
        if not any(_trusts_service(ctx, arn, svc) for svc in services):
            continue
        for existing in choices:
            requests = step_requests(ctx, technique, arn, arn, existing)
            if requests is not None:
                yield Plan(arn, requests, passed_role=arn)


def _trusts_service(ctx: Context, role_arn: str, service: str) -> bool:
    trust = ctx.evaluator.trust_policy(role_arn)
    if trust is None:
        return False
    return any(
        st.matches_action("sts:AssumeRole") and st.principal_match("Service", service, None) == "direct"
        for st in trust.allows()
    )


def resource_role(ctx: Context, technique: Technique) -> Iterator[Plan]:
    for arn in ctx.resources(technique.resource_type or ""):
        role = ctx.role_of_resource(arn)
        if role is None or role == ctx.principal.arn or not ctx.wanted(role):
            continue
        requests = step_requests(ctx, technique, arn, role)
        if requests is not None:
            yield Plan(role, requests, passed_role=role)


STRATEGIES: dict[Target, Strategy] = {
    Target.INLINE_POLICY: inline_policy,
    Target.ATTACH_POLICY: attach_policy,
    Target.POLICY_VERSION: policy_version,
    Target.BOUNDARY_DELETE: boundary_delete,
    Target.BOUNDARY_PUT: boundary_put,
    Target.DENY_REMOVAL: deny_removal,
    Target.GROUP_JOIN: group_join,
    Target.USER_CREDENTIALS: user_credentials,
    Target.ROLE_TRUST: role_trust,
    Target.PASSED_ROLE: passed_role,
    Target.RESOURCE_ROLE: resource_role,
}
