"""What the escalation strategies ask of a snapshot: concrete requests judged by the evaluator, facts about
the account (group members, key counts, attachable policies) and "what if" admin tests.

Every step of a technique is judged against the resource its request really names (never ``"*"`` unless the
action has no resource-level permissions), with the request's own condition keys: ``iam:PolicyARN``,
``iam:PermissionsBoundary``, ``iam:PassedToService`` and ``iam:AssociatedResourceArn``.

A resource the attacker creates has a name the attacker chooses. We cannot try every name, so we try a
small set of representative names: a neutral one, and one instantiated from every Resource pattern of the
attacker's own Allow statements for that action (wildcards filled with a neutral token, account and region
fixed to the attacker's). The request counts as allowed when one candidate is allowed by every step and
denied by none. This is sound for allows (every candidate is really judged) and misses an escalation only
when every Allow pattern's instances happen to fall under a Deny while some other name would not.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from auditor.iam.evaluate import KNOWN_AWS_MANAGED, Decision, Evaluator, PrincipalPolicies, can
from auditor.iam.policy import Policy, PolicySource, action_matches, parse_policy
from auditor.iam.techniques import TECHNIQUE_ACTIONS

# The document an attacker writes when a technique lets it choose policy content (one shared object, so the
# evaluator's caches key on it once). "iam:*" is spelled out too: under a boundary that allows only IAM, the
# admin test then sees the IAM administrator the attacker would really be.
ADMIN_DOCUMENT: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
    ],
}
WRITTEN_POLICY = parse_policy(ADMIN_DOCUMENT, PolicySource("policy written by the attacker", "inline"))

NAME_TOKEN = "zq9esc"  # fills a wildcard of an attacker-chosen name: unlikely to be named by any policy
DEFAULT_REGIONS = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}
# AWS managed policies an attacker would attach first (names; the ARN follows the principal's partition).
ADMIN_MANAGED_NAMES = ("AdministratorAccess", "IAMFullAccess")


@lru_cache(maxsize=65536)
def _named(actions: tuple[str, ...], not_actions: tuple[str, ...]) -> frozenset[str]:
    """Which technique actions a statement's Action/NotAction covers (cached: statements repeat a lot)."""
    if not_actions:
        return frozenset(a for a in TECHNIQUE_ACTIONS if not any(action_matches(p, a) for p in not_actions))
    return frozenset(a for a in TECHNIQUE_ACTIONS if any(action_matches(p, a) for p in actions))


def partition_of(arn: str) -> str:
    parts = arn.split(":", 2)
    return parts[1] if len(parts) > 2 and parts[0] == "arn" and parts[1] else "aws"


@dataclass(frozen=True)
class Request:
    """One API request of a technique: its action, the resource it names and its condition-key values."""

    action: str
    resource: str  # may hold "{name}": a resource the attacker creates
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()

    @property
    def creates(self) -> bool:
        return "{name}" in self.resource or "{region}" in self.resource

    def named(self, name: str, region: str) -> Request:
        """The request with the attacker's choice of name and region filled in."""

        def fill(text: str) -> str:
            return text.replace("{name}", name).replace("{region}", region)

        if not self.creates and not any("{" in v for vs in self.values.values() for v in vs):
            return self
        return Request(
            self.action,
            fill(self.resource),
            {k: tuple(fill(v) for v in vs) for k, vs in self.values.items()},
            self.absent,
        )


class AccountFacts:
    """Per-snapshot indexes the strategies need and the evaluator does not keep (built once, cached)."""

    def __init__(self, evaluator: Evaluator) -> None:
        self.group_members: dict[str, list[str]] = defaultdict(list)  # group ARN -> member user ARNs
        self.user_groups: dict[str, list[str]] = defaultdict(list)  # user ARN -> group ARNs
        self.active_keys: dict[str, int] = {}  # user ARN -> active access keys (credential report)
        self.profile_roles: dict[str, str] = {}  # instance profile ARN -> role ARN
        self.managed: dict[str, list[tuple[str, dict[str, Any], bool]]] = defaultdict(list)  # account -> policies
        self.resources_by_type: dict[tuple[str, str], list[str]] = defaultdict(list)  # (account, type) -> ARNs
        self.attached_to: dict[str, list[str]] = defaultdict(list)  # managed policy ARN -> users/roles/groups
        for account in evaluator.snapshot.accounts:
            for res in account.resources:
                self.resources_by_type[(account.account_id, res.type.lower())].append(res.arn)
            iam = account.iam
            if iam is None:
                continue
            groups = {g.name: g.arn for g in iam.groups}
            for user in iam.users:
                for name in user.group_names:
                    if name in groups:
                        self.group_members[groups[name]].append(user.arn)
                        self.user_groups[user.arn].append(groups[name])
                for arn in user.attached_policy_arns:
                    self.attached_to[arn].append(user.arn)
            for role in iam.roles:
                for profile in role.instance_profile_arns:
                    self.profile_roles[profile] = role.arn
                for arn in role.attached_policy_arns:
                    self.attached_to[arn].append(role.arn)
            for grp in iam.groups:
                for arn in grp.attached_policy_arns:
                    self.attached_to[arn].append(grp.arn)
            for row in iam.credential_report or ():
                self.active_keys[row.arn] = int(row.access_key_1_active) + int(row.access_key_2_active)
            for mp in iam.policies:
                self.managed[account.account_id].append((mp.arn, mp.document, mp.aws_managed))


_FACTS: weakref.WeakKeyDictionary[Evaluator, AccountFacts] = weakref.WeakKeyDictionary()
_PARSED: weakref.WeakKeyDictionary[Evaluator, dict[tuple[str, str], Policy | None]] = weakref.WeakKeyDictionary()


def facts_of(evaluator: Evaluator) -> AccountFacts:
    found = _FACTS.get(evaluator)
    if found is None:
        found = _FACTS[evaluator] = AccountFacts(evaluator)
    return found


@dataclass
class Reach:
    """How the attacker can act as another principal of its account without a further change."""

    via: str  # "self", "assume-role", or the id of a USER_CREDENTIALS / ROLE_TRUST technique
    decisions: tuple[Decision, ...] = ()


class Context:
    """One attacker principal, asking requests of the evaluator."""

    def __init__(self, evaluator: Evaluator, principal: PrincipalPolicies, admin_arns: frozenset[str]) -> None:
        self.evaluator = evaluator
        self.principal = principal
        self.account = principal.account_id or ""
        self.partition = partition_of(principal.arn)
        self.facts = facts_of(evaluator)
        self.admin_arns = admin_arns
        self.reach: dict[str, Reach] = {principal.arn: Reach("self")}
        self._allowed: frozenset[str] | None = None
        self.target_filter: Callable[[str], bool] | None = None

    # --- judging requests -------------------------------------------------------------------------
    def ask(self, request: Request, principal: PrincipalPolicies | None = None) -> Decision:
        p = principal or self.principal
        res = self.evaluator.resource(request.resource, request.action)
        facts: dict[str, str | Iterable[str] | None] = {**request.values, **dict.fromkeys(request.absent)}
        return can(p, request.action, res, self.evaluator.request_context(p, res.owner_account), request=facts)

    def may_all(self, actions: tuple[str, ...]) -> bool:
        """Cheap prefilter: some identity Allow names each action at all (resources and conditions ignored)."""
        if self._allowed is None:
            statements = (st for policy in self.principal.identity for st in policy.allows())
            self._allowed = frozenset(a for st in statements for a in _named(st.actions, st.not_actions))
        return all(a in self._allowed for a in actions)

    def wanted(self, target: str) -> bool:
        return self.target_filter is None or self.target_filter(target)

    def region_candidates(self, action: str) -> list[str]:
        default = DEFAULT_REGIONS.get(self.partition, "us-east-1")
        out = [default]
        for pattern in self._patterns(action):
            parts = pattern.split(":")
            if len(parts) > 3 and parts[3] and "*" not in parts[3] and "?" not in parts[3] and parts[3] not in out:
                out.append(parts[3])
        return out

    def name_candidates(self, templates: Iterable[tuple[str, str]]) -> list[str]:
        """Names to try for resources the attacker creates (see the module docstring)."""
        names = [f"{NAME_TOKEN}-name"]
        for action, template in templates:
            resource_part = template.split(":", 5)[-1]
            prefix, _, suffix = resource_part.partition("{name}")
            for pattern in self._patterns(action):
                parts = pattern.split(":", 5)
                if len(parts) < 6:
                    continue
                concrete = parts[5].replace("*", NAME_TOKEN).replace("?", "q")
                if not concrete.startswith(prefix):
                    continue
                name = concrete[len(prefix) :]
                if suffix and suffix[0] in name:
                    name = name.split(suffix[0], 1)[0]
                if name and name not in names:
                    names.append(name)
        return names

    def _patterns(self, action: str) -> Iterator[str]:
        for policy in self.principal.identity:
            for st in policy.allows():
                if st.matches_action(action):
                    yield from st.resources

    # --- the account ------------------------------------------------------------------------------
    def roles(self) -> list[str]:
        return [
            arn
            for arn in self.evaluator.account_roles.get(self.account, ())
            if not self.evaluator.roles[arn][1].path.startswith("/aws-service-role/")
        ]

    def users(self) -> list[str]:
        return list(self.evaluator.account_users.get(self.account, ()))

    def groups(self) -> list[str]:
        return list(self.evaluator.account_groups.get(self.account, ()))

    def resources(self, resource_type: str) -> list[str]:
        return self.facts.resources_by_type.get((self.account, resource_type.lower()), [])

    def role_of_resource(self, arn: str) -> str | None:
        """The IAM role a resource runs with (an instance profile ARN is resolved to its role)."""
        found = self.evaluator.resources.get(arn)
        if found is None or not found[1].role_arn:
            return None
        role = found[1].role_arn
        if role in self.evaluator.roles:
            return role
        return self.facts.profile_roles.get(role)

    def boundary_values(self, subject: str) -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
        """iam:PermissionsBoundary of a request acting on a user or role: its current boundary, or absent."""
        found = self.evaluator.users.get(subject) or self.evaluator.roles.get(subject)
        boundary = found[1].permission_boundary_arn if found else None
        if boundary:
            return {"iam:PermissionsBoundary": (boundary,)}, frozenset()
        return {}, frozenset({"iam:PermissionsBoundary"})

    def managed_candidates(self) -> list[tuple[str, Policy]]:
        """Managed policies an attacker may attach or set as a boundary: AWS's admin policies first."""
        out: list[tuple[str, Policy]] = []
        seen: set[str] = set()
        for name in ADMIN_MANAGED_NAMES:
            arn = f"arn:{self.partition}:iam::aws:policy/{name}"
            document = KNOWN_AWS_MANAGED.get(f"arn:aws:iam::aws:policy/{name}")
            parsed = self._parsed(arn, document) if document is not None else None
            if parsed is not None:
                out.append((arn, parsed))
                seen.add(arn)
        for arn, document, _aws in self.facts.managed.get(self.account, ()):
            if arn not in seen:
                parsed = self._parsed(arn, document)
                if parsed is not None:
                    out.append((arn, parsed))
                    seen.add(arn)
        return out

    def _parsed(self, arn: str, document: dict[str, Any]) -> Policy | None:
        cache = _PARSED.setdefault(self.evaluator, {})
        key = (arn, self.account)
        if key not in cache:
            kind = "aws-managed" if ":iam::aws:policy/" in arn else "managed"
            source = PolicySource(arn.rsplit("/", 1)[-1], kind, arn, None, self.account)
            cache[key] = self.evaluator.parse(document, source)
        return cache[key]

    # --- what if ----------------------------------------------------------------------------------
    def admin_after(self, changed: PrincipalPolicies) -> Decision | None:
        """A Decision-like summary when ``changed`` (a principal after the technique) is an admin, else None."""
        from auditor.graph.admin import admin_grants_of, is_account_admin  # the graph's one admin test

        for grant in admin_grants_of(self.evaluator, changed):
            if is_account_admin(grant):
                return Decision(
                    allowed=True,
                    conditional=grant.conditional,
                    reason="admin after the change",
                    undecided_conditions=grant.undecided_conditions,
                )
        return None


def with_policies(principal: PrincipalPolicies, identity: tuple[Policy, ...]) -> PrincipalPolicies:
    return replace(principal, identity=identity)


def with_boundary(principal: PrincipalPolicies, boundary: Policy | None) -> PrincipalPolicies:
    return replace(principal, boundary=boundary)


def as_boundary(policy: Policy, owner: str) -> Policy:
    src = policy.source
    return Policy(PolicySource(src.name, "boundary", src.arn, owner, src.account_id), policy.statements, policy.raw)


def as_group_policy(policy: Policy) -> Policy:
    src = policy.source
    kind = "group-inline" if src.kind == "inline" else "group-managed"
    return Policy(PolicySource(src.name, kind, src.arn, src.owner_arn, src.account_id), policy.statements, policy.raw)
