"""Which changes cut which edge of the access graph, and what each change costs.

Each edge on a path towards production admin gets a *formula* over changes: ``AnyOf`` (cutting one part cuts
the edge) and ``AllOf`` (every part must be cut). An assumption edge is cut on the identity side (every identity
statement allowing the call removed) or on the trust side (every trust principal admitting the caller removed);
an escalation edge by denying the source any one request of the technique. Edges no change of ours removes (the
admin test, an account's control of its account principal, what evaluation found elsewhere) have no formula.
Costs are data, in tenths of a change: an SCP is one change, slightly dearer than one trust edit so that a
targeted fix wins a tie; a change that takes away more than the path (a broad statement) counts three.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from auditor.graph import AccessGraph, AssumeEdge, EdgeKind, EscalationEdge, NodeKind
from auditor.iam.facts import ASSUME_ACTIONS
from auditor.iam.policy import (
    Policy,
    PolicyParseError,
    PolicySource,
    Statement,
    arn_account,
    arn_matches,
    is_account_root,
    normalise_aws_principal,
    parse_policy,
)
from auditor.model import IamGroup, IamRole, IamUser, ManagedPolicy, Snapshot
from auditor.plan.changes import (
    AttachScp,
    Change,
    DetachManagedPolicy,
    RemoveGroupMember,
    RemovePolicyStatement,
    RemoveTrustPrincipal,
)

COST = {
    "remove-trust-principal": 10,
    "remove-policy-statement": 10,
    "detach-managed-policy": 10,
    "remove-group-member": 20,
    "delete-account-assignment": 10,
    "attach-scp": 11,
}
BROAD_COST = 30  # a statement or policy that grants more than the edge needs (another service, "*", NotAction)


def change_cost(change: Change, broad: bool = False) -> int:
    return max(COST[change.kind], BROAD_COST if broad else 0)


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Formula, ...]


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Formula, ...]


Formula = AnyOf | AllOf | Change


def satisfied(formula: Formula, chosen: frozenset[Change]) -> bool:
    """Whether applying ``chosen`` removes the edge the formula belongs to."""
    if isinstance(formula, AnyOf):
        return any(satisfied(p, chosen) for p in formula.parts)
    if isinstance(formula, AllOf):
        return all(satisfied(p, chosen) for p in formula.parts)
    return formula in chosen


def leaves(formula: Formula) -> Iterable[Change]:
    if isinstance(formula, AnyOf | AllOf):
        for part in formula.parts:
            yield from leaves(part)
    else:
        yield formula


@dataclass(frozen=True)
class Site:
    """An identity Allow statement of a user or role, and where it lives."""

    principal_arn: str
    statement: Statement
    policy: Policy
    group: IamGroup | None = None  # the group it reaches the principal through
    policy_arn: str | None = None  # managed policy
    policy_name: str | None = None  # inline policy
    aws_managed: bool = False


def _broad(statement: Statement, service: str) -> bool:
    if statement.not_actions:
        return True
    return any(p.strip() in ("*", "*:*") or p.split(":", 1)[0].lower() != service for p in statement.actions)


class PlanModel:
    """The snapshot's principals and policies as the plan needs them, and each edge's formula."""

    def __init__(self, snapshot: Snapshot, graph: AccessGraph, costs: Mapping[Change, int] | None = None) -> None:
        self.snapshot = snapshot
        self.graph = graph
        self.costs: dict[Change, int] = dict(costs or {})
        self.roles: dict[str, IamRole] = {}
        self.users: dict[str, IamUser] = {}
        self.groups: dict[tuple[str, str], IamGroup] = {}
        self.managed: dict[tuple[str, str], ManagedPolicy] = {}
        for account in snapshot.accounts:
            if account.iam is None:
                continue
            for role in account.iam.roles:
                self.roles[role.arn] = role
            for user in account.iam.users:
                self.users[user.arn] = user
            for group in account.iam.groups:
                self.groups[(account.account_id, group.name)] = group
            for policy in account.iam.policies:
                self.managed[(account.account_id, policy.arn)] = policy
        self._parsed: dict[tuple[str, str], Policy | None] = {}
        self._sites: dict[str, list[Site]] = {}

    # --- costs ---------------------------------------------------------------------------------------
    def cost(self, change: Change) -> int:
        return self.costs.get(change, COST[change.kind])

    def _offer(self, change: Change, broad: bool) -> Change:
        self.costs[change] = max(self.costs.get(change, 0), change_cost(change, broad))
        return change

    # --- policies ------------------------------------------------------------------------------------
    def _parse(self, key: tuple[str, str], document: Mapping[str, Any], source: PolicySource) -> Policy | None:
        if key not in self._parsed:
            try:
                self._parsed[key] = parse_policy(dict(document), source)
            except PolicyParseError:
                self._parsed[key] = None
        return self._parsed[key]

    def trust(self, role_arn: str) -> Policy | None:
        role = self.roles.get(role_arn)
        if role is None:
            return None
        return self._parse(("trust", role_arn), role.trust_policy, PolicySource(role.name, "trust", role_arn, role_arn))

    def _inline_sites(self, principal: str, holder: IamUser | IamRole | IamGroup, group: IamGroup | None) -> list[Site]:
        out = []
        for inline in holder.inline_policies:
            policy = self._parse(("inline", f"{holder.arn}\x1f{inline.name}"), inline.document,
                                 PolicySource(inline.name, "inline", None, holder.arn))
            if policy is not None:
                out += [Site(principal, st, policy, group=group, policy_name=inline.name) for st in policy.allows()]
        return out

    def _managed_sites(self, principal: str, account: str, arns: Iterable[str], group: IamGroup | None) -> list[Site]:
        out = []
        for arn in arns:
            found = self.managed.get((account, arn))
            if found is None:
                continue
            policy = self._parse(("managed", arn), found.document, PolicySource(found.name, "managed", arn))
            aws_managed = found.aws_managed or ":aws:policy/" in arn
            if policy is not None:
                out += [Site(principal, st, policy, group=group, policy_arn=arn, aws_managed=aws_managed)
                        for st in policy.allows()]
        return out

    def sites(self, principal_arn: str) -> list[Site]:
        """Every identity Allow statement that applies to a user or role of the snapshot."""
        found = self._sites.get(principal_arn)
        if found is not None:
            return found
        account = arn_account(principal_arn) or ""
        holder: IamUser | IamRole | None = self.users.get(principal_arn) or self.roles.get(principal_arn)
        out: list[Site] = []
        if holder is not None:
            out += self._inline_sites(principal_arn, holder, None)
            out += self._managed_sites(principal_arn, account, holder.attached_policy_arns, None)
            for name in holder.group_names if isinstance(holder, IamUser) else ():
                group = self.groups.get((account, name))
                if group is not None:
                    out += self._inline_sites(principal_arn, group, group)
                    out += self._managed_sites(principal_arn, account, group.attached_policy_arns, group)
        self._sites[principal_arn] = out
        return out

    def _has_deny(self, account: str, holder: IamGroup | None, policy_arn: str | None) -> bool:
        """Whether removing this group membership or attachment would also remove a Deny."""
        if policy_arn is not None:
            found = self.managed.get((account, policy_arn))
            policy = self._parse(("managed", policy_arn), found.document,
                                 PolicySource(found.name, "managed", policy_arn)) if found else None
            return policy is None or bool(policy.denies())
        if holder is None:
            return False
        for inline in holder.inline_policies:
            parsed = self._parse(("inline", f"{holder.arn}\x1f{inline.name}"), inline.document,
                                 PolicySource(inline.name, "inline", None, holder.arn))
            if parsed is None or parsed.denies():
                return True
        return any(self._has_deny(account, None, arn) for arn in holder.attached_policy_arns)

    def site_changes(self, site: Site, service: str) -> tuple[Change, ...]:
        """The changes, each touching only this principal, that take the site's statement away from it."""
        account = arn_account(site.principal_arn) or ""
        broad = _broad(site.statement, service)
        if site.group is not None:
            if self._has_deny(account, site.group, None):
                return ()
            return (self._offer(RemoveGroupMember(site.group.arn, site.principal_arn), False),)
        if site.policy_arn is not None:
            if self._has_deny(account, None, site.policy_arn):
                return ()
            policy_broad = any(_broad(st, service) for st in site.policy.allows())
            return (self._offer(DetachManagedPolicy(site.principal_arn, site.policy_arn), policy_broad),)
        statements = site.policy.raw.get("Statement")
        sid = site.statement.sid
        unique_sid = sid is not None and sid != "" and sum(
            isinstance(st, dict) and st.get("Sid") == sid for st in (statements if isinstance(statements, list) else [])
        ) == 1
        change = RemovePolicyStatement(
            principal_arn=site.principal_arn,
            policy_name=site.policy_name,
            sid=sid if unique_sid else None,
            statement_index=None if unique_sid else site.statement.index,
            statement=site.statement.raw,
        )
        return (self._offer(change, broad),)

    # --- edges ---------------------------------------------------------------------------------------
    def formula(self, source: str, target: str, data: Mapping[str, Any]) -> Formula | None:
        kind = data.get("kind")
        evidence = data.get("evidence")
        if kind == EdgeKind.CAN_ASSUME and isinstance(evidence, AssumeEdge):
            return self._assume_formula(source, evidence)
        if kind == EdgeKind.CAN_ESCALATE_TO and isinstance(evidence, EscalationEdge):
            return self._escalation_formula(evidence)
        return None

    def _assume_formula(self, source: str, edge: AssumeEdge) -> Formula | None:
        trust_side, by_root_only = self._trust_side(source, edge)
        parts: list[Formula] = []
        identity_needed = edge.source_account_id != edge.target_account_id or by_root_only
        known = source in self.users or source in self.roles
        if identity_needed and edge.source_type in ("user", "role") and known:
            identity = self._statements_side(source, "sts:AssumeRole", edge.target_role_arn)
            if identity is not None:
                parts.append(identity)
        if trust_side is not None:
            parts.append(trust_side)
        return _any(parts)

    def _trust_side(self, source: str, edge: AssumeEdge) -> tuple[Formula | None, bool]:
        """Removing every trust principal that admits the caller; (None, _) when that cannot be said."""
        trust = self.trust(edge.target_role_arn)
        if trust is None:
            return None, False
        match_kind = {"service": "Service", "federated": "Federated"}.get(edge.source_type, "AWS")
        values: dict[str, bool] = {}  # value -> it names the caller's account (not the caller itself)
        for st in trust.allows():
            if not any(st.matches_action(a) for a in ASSUME_ACTIONS):
                continue
            if st.not_principals is not None:
                return None, False
            for listed_kind, listed in (st.principals or {"AWS": ("*",)}).items():
                for value in listed:
                    how = _admits(listed_kind, value, match_kind, source, edge.source_account_id)
                    if how is not None:
                        values[value] = values.get(value, True) and how == "account"
        if not values:
            return None, False
        changes = [self._offer(RemoveTrustPrincipal(edge.target_role_arn, v), False) for v in sorted(values)]
        return _all(changes), all(values.values())

    def _statements_side(self, principal: str, action: str, resource: str | None) -> Formula | None:
        """Taking away every identity statement of ``principal`` that allows ``action`` (on ``resource``)."""
        service = action.split(":", 1)[0].lower()
        parts: list[Formula] = []
        for site in self.sites(principal):
            if not site.statement.matches_action(action):
                continue
            if resource is not None and not site.statement.matches_resource(resource):
                continue
            changes = self.site_changes(site, service)
            if not changes:
                return None
            part = _any(changes)
            if part is not None:
                parts.append(part)
        return _all(parts) if parts else None

    def _escalation_formula(self, edge: EscalationEdge) -> Formula | None:
        if edge.via not in (None, "self") or (edge.source not in self.users and edge.source not in self.roles):
            return None
        parts: list[Formula] = []
        for request in dict.fromkeys(edge.requests):
            action = request.split(" ", 1)[0]
            side = self._statements_side(edge.source, action, None)
            if side is not None:
                parts.append(side)
        return _any(parts)


def _any(given: Sequence[Formula]) -> Formula | None:
    parts = list(dict.fromkeys(given))
    return None if not parts else parts[0] if len(parts) == 1 else AnyOf(tuple(parts))


def _all(given: Sequence[Formula]) -> Formula | None:
    parts = list(dict.fromkeys(given))
    return None if not parts else parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _admits(listed_kind: str, value: str, match_kind: str, caller: str, account: str | None) -> str | None:
    """How one Principal value names the caller: "anyone", "account", "direct", or None."""
    if value == "*" and listed_kind in ("AWS", match_kind):
        return "anyone"
    if listed_kind != match_kind:
        return None
    if match_kind == "AWS":
        if account and is_account_root(normalise_aws_principal(value), account):
            return "account" if caller != normalise_aws_principal(value) else "direct"
        return "direct" if caller != "*" and arn_matches(value, caller) else None
    return "direct" if value.lower() == caller.lower() else None


# --- SCPs: one change over many edges -----------------------------------------------------------------


def scp_document(prod_accounts: Iterable[str]) -> dict[str, Any]:
    accounts = sorted(set(prod_accounts))
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyAssumeRoleIntoProduction",
            "Effect": "Deny",
            "Action": "sts:AssumeRole",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceAccount": accounts[0] if len(accounts) == 1 else accounts}},
        }],
    }


MAX_SCPS_PER_TARGET = 5  # AWS Organizations quota: SCPs attached directly to one root, OU or account


def scp_candidates(
    model: PlanModel, environments: Mapping[str, str], source_environments: frozenset[str], targets: Iterable[str]
) -> dict[AttachScp, frozenset[str]]:
    """Each OU or account whose accounts are all source environments -> the member accounts it covers.

    The SCP denies sts:AssumeRole into the target (production) accounts. The management account is never
    covered (SCPs do not apply to it), nor a target that already holds the quota of directly attached SCPs."""
    org = model.snapshot.organization
    if org is None:
        return {}
    document = scp_document(targets)
    children: dict[str, list[str]] = defaultdict(list)
    for ou in org.organizational_units:
        children[ou.parent_id].append(ou.id)
    members: dict[str, list[str]] = defaultdict(list)
    for account in org.accounts:
        members[account.parent_id or org.root_id].append(account.id)
    attached: dict[str, int] = defaultdict(int)
    for policy in org.policies:
        if policy.type == "SERVICE_CONTROL_POLICY":
            for target in policy.target_ids:
                attached[target] += 1

    def covered(node: str) -> list[str]:
        out = list(members.get(node, ()))
        for child in children.get(node, ()):
            out += covered(child)
        return out

    out: dict[AttachScp, frozenset[str]] = {}
    for node in [*(ou.id for ou in org.organizational_units), *(a.id for a in org.accounts)]:
        accounts = [node] if node in {a.id for a in org.accounts} else covered(node)
        if not accounts or attached[node] >= MAX_SCPS_PER_TARGET:
            continue
        if any(a == org.management_account_id or environments.get(a) not in source_environments for a in accounts):
            continue
        out[AttachScp(node, document)] = frozenset(accounts)
    return out


def scp_cuts(model: PlanModel, source: str, target: str, data: Mapping[str, Any], prod: frozenset[str]) -> str | None:
    """The member account whose SCPs govern this edge, when an SCP there denying sts:AssumeRole into
    production would remove it; else None."""
    if data.get("kind") != EdgeKind.CAN_ASSUME:
        return None
    evidence = data.get("evidence")
    if not isinstance(evidence, AssumeEdge) or evidence.target_account_id not in prod:
        return None
    if evidence.source_type not in ("user", "role", "account") or not evidence.in_organization:
        return None
    node = model.graph.graph.nodes.get(source, {})
    if node.get("service_linked"):
        return None
    if evidence.source_type == "account" and node.get("kind") != NodeKind.ACCOUNT_PRINCIPAL:
        return None
    return evidence.source_account_id
