"""``AccessGraph``: the graph of an organisation's principals and what they can become, and the questions
rules ask of it.

It wraps a networkx ``MultiDiGraph``. Nodes and edges are added only through its ``add_*`` methods (the
builders in this package call them); every edge has a kind (``EdgeKind``), a ``conditional`` flag and an
``evidence`` record (Identity Center edges: ``details``). Questions are answered with searches backwards from
the target accounts (``auditor.graph.search``), never by evaluating all pairs of principals.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from auditor.graph.admin import PermissionSetAdmin, is_account_admin
from auditor.graph.kinds import SOURCE_KINDS, EdgeKind, Environment, NodeKind
from auditor.graph.records import AccessPath, AdminGrant, AssumeEdge, BlockedAssume, Control, Hop
from auditor.graph.search import Towards, escalation_towards, hop_evidence, in_edges_of, reaching, towards
from auditor.iam.escalation import EscalationEdge
from auditor.iam.evaluate import EvaluationEvent

_Rank = tuple[bool, int, tuple[str, ...]]


@dataclass
class AccessGraph:
    graph: nx.MultiDiGraph
    environments: Mapping[str, str]
    internal_accounts: frozenset[str]  # organisation members (or the audited accounts without an org)
    events: list[EvaluationEvent] = field(default_factory=list)
    _admin_grants: list[AdminGrant] = field(default_factory=list)
    _assume_edges: list[AssumeEdge] = field(default_factory=list)
    _blocked_assumes: list[BlockedAssume] = field(default_factory=list)
    _escalation_edges: list[EscalationEdge] = field(default_factory=list)
    _permission_set_admins: dict[tuple[str, str], PermissionSetAdmin] = field(default_factory=dict)
    _hops_by_edge: dict[tuple[str, str, str], Hop] = field(default_factory=dict, repr=False)
    _paths_cache: dict[tuple[tuple[str, ...] | None, int, bool], list[AccessPath]] = field(
        default_factory=dict, repr=False
    )
    _target_paths: dict[tuple[str, int], list[AccessPath]] = field(default_factory=dict, repr=False)

    # --- building -------------------------------------------------------------------------------
    def add_node(self, node: str, kind: NodeKind, **attrs: Any) -> str:
        """Add ``node`` unless it exists (the first description of a node wins)."""
        if node not in self.graph:
            self.graph.add_node(node, kind=kind, **attrs)
        return node

    def add_account(self, account_id: str, **attrs: Any) -> str:
        """The account's node, created on first mention; ``attrs`` update it."""
        if account_id not in self.graph:
            self.graph.add_node(
                account_id,
                kind=NodeKind.ACCOUNT,
                account_id=account_id,
                environment=self.environment_of(account_id),
                in_organization=account_id in self.internal_accounts,
                audited=False,
                name="",
            )
        self.graph.nodes[account_id].update(attrs)
        return account_id

    def add_principal(self, arn: str, kind: NodeKind, account_id: str, **attrs: Any) -> str:
        """A user, group or role of the snapshot, contained in its account."""
        self.add_node(arn, kind, account_id=account_id, in_snapshot=True, **attrs)
        self.add_edge(account_id, arn, EdgeKind.CONTAINS)
        return arn

    def add_outside_principal(self, node: str, kind: NodeKind, account_id: str | None, *, audited: bool) -> str:
        """A principal named by a trust but not among the snapshot's users and roles: an account principal, a
        principal of another account, a service, a federated provider, anyone.

        An account principal is controlled by the account: whoever is administrator of the account can grant
        itself what a trust in the account's name delegates to the account's identity policies.
        """
        if node in self.graph:
            return node
        self.add_node(node, kind, account_id=account_id, in_snapshot=False, audited=audited)
        if account_id:
            self.add_account(account_id)
            self.add_edge(account_id, node, EdgeKind.CONTAINS)
            if kind == NodeKind.ACCOUNT_PRINCIPAL:
                details = {"account_id": account_id, "account_principal": node}
                self.add_edge(account_id, node, EdgeKind.CONTROLS, details=details)
        return node

    def add_edge(
        self,
        source: str,
        target: str,
        kind: EdgeKind,
        *,
        key: str | None = None,
        conditional: bool = False,
        evidence: object = None,
        details: Mapping[str, Any] | None = None,
    ) -> bool:
        """Add one edge (``key`` tells parallel edges of a kind apart); False when it already exists."""
        key = key or kind.value
        if self.graph.has_edge(source, target, key):
            return False
        attrs: dict[str, Any] = {"kind": kind, "conditional": conditional}
        if evidence is not None:
            attrs["evidence"] = evidence
        if details is not None:
            attrs["details"] = dict(details)
        self.graph.add_edge(source, target, key=key, **attrs)
        return True

    def add_admin_grant(self, grant: AdminGrant, *, reported: bool) -> None:
        """An admin grant; full admin and admin of IAM are admin of the account (an is-admin-of edge).

        ``reported``: kept for the admin rules (a user admin only through its groups is reported on the
        group, yet is an admin in the graph)."""
        if reported:
            self._admin_grants.append(grant)
        if is_account_admin(grant):
            self.add_edge(
                grant.principal_arn,
                grant.account_id,
                EdgeKind.IS_ADMIN_OF,
                key=f"{EdgeKind.IS_ADMIN_OF}:{grant.level}",
                conditional=grant.conditional,
                evidence=grant,
            )

    def add_assume_edge(self, edge: AssumeEdge) -> None:
        self._assume_edges.append(edge)
        self.add_edge(
            edge.source, edge.target_role_arn, EdgeKind.CAN_ASSUME, conditional=edge.conditional, evidence=edge
        )

    def add_blocked_assume(self, blocked: BlockedAssume) -> None:
        """A trust names the source but evaluation refused it: kept as evidence, never an edge."""
        self._blocked_assumes.append(blocked)

    def add_escalation_edge(self, edge: EscalationEdge) -> None:
        self.add_account(edge.account_id)
        self._escalation_edges.append(edge)
        self.add_edge(
            edge.source,
            edge.target,
            EdgeKind.CAN_ESCALATE_TO,
            key=f"{EdgeKind.CAN_ESCALATE_TO}:{edge.technique_id}",
            conditional=edge.conditional,
            evidence=edge,
        )

    def add_permission_set_admin(self, admin: PermissionSetAdmin) -> None:
        self._permission_set_admins[(admin.permission_set_arn, admin.account_id)] = admin

    # --- node facts ---------------------------------------------------------------------------
    def node_kind(self, node: str) -> str:
        return str(self.graph.nodes[node].get("kind", ""))

    def node_account(self, node: str) -> str | None:
        value = self.graph.nodes[node].get("account_id")
        return str(value) if value else None

    def nodes_of_kind(self, kind: NodeKind) -> list[str]:
        return [n for n, d in self.graph.nodes(data=True) if d.get("kind") == kind]

    def environment_of(self, account_id: str | None) -> str:
        if account_id is None or account_id not in self.internal_accounts:
            return Environment.EXTERNAL
        return self.environments.get(account_id, Environment.UNKNOWN)

    def account_ids(self) -> list[str]:
        return sorted(self.nodes_of_kind(NodeKind.ACCOUNT))

    # --- stored facts ---------------------------------------------------------------------------
    def admin_grants(self) -> list[AdminGrant]:
        """Users, groups and roles holding admin in their own account through their own policies."""
        return list(self._admin_grants)

    def assume_edges(self) -> list[AssumeEdge]:
        return list(self._assume_edges)

    def external_assume_edges(self) -> list[AssumeEdge]:
        """Trusts that let someone outside the organisation (or anyone) assume a role."""
        return [
            e
            for e in self._assume_edges
            if e.source_type == "anyone" or (e.source_type in ("user", "role", "account") and not e.in_organization)
        ]

    def blocked_assumes(self) -> list[BlockedAssume]:
        """Candidate can-assume edges that evaluation refused, each with the guardrails that stopped it."""
        return list(self._blocked_assumes)

    def controls(self, max_hops: int = 5) -> list[Control]:
        """Guardrails that stop a trust from leading on to administrator of an account, with the paths they
        block (``auditor.graph.controls``)."""
        from auditor.graph.controls import controls  # the module reads this class's questions

        return controls(self, max_hops)

    def escalation_edges(self) -> list[EscalationEdge]:
        return list(self._escalation_edges)

    def permission_set_admin(self, permission_set_arn: str, account_id: str) -> PermissionSetAdmin | None:
        """Whether an Identity Center permission set assigned to the account makes administrators there."""
        return self._permission_set_admins.get((permission_set_arn, account_id))

    # --- path questions ---------------------------------------------------------------------------
    def _hop(self, source: str, target: str, key: str, data: Mapping[str, Any]) -> Hop:
        """One edge as a hop, built once per edge and shared by every path through it."""
        cache_key = (source, target, key)
        hop = self._hops_by_edge.get(cache_key)
        if hop is None:
            hop = self._hops_by_edge[cache_key] = Hop(source, target, EdgeKind(data["kind"]), hop_evidence(data))
        return hop

    def _hops(self, source: str, way: Towards) -> tuple[Hop, ...]:
        return tuple(self._hop(u, v, key, data) for u, v, key, data in way.steps(source))

    def _path(self, source: str, target_account: str, hops: tuple[Hop, ...]) -> AccessPath:
        account = self.node_account(source)
        external = self.node_kind(source) == NodeKind.FEDERATED
        return AccessPath(
            source=source,
            source_account_id=account,
            source_environment=Environment.EXTERNAL if external else self.environment_of(account),
            target_account_id=target_account,
            target_environment=self.environment_of(target_account),
            hops=hops,
            conditional=any(bool(h.evidence.get("conditional")) for h in hops),
        )

    def _is_source(self, node: str) -> bool:
        """A node a path to admin may start from (concrete principals rather than their account's)."""
        data = self.graph.nodes[node]
        kind = data.get("kind")
        if kind not in SOURCE_KINDS or data.get("service_linked"):
            return False  # a service-linked role is assumed only by its AWS service
        return not (kind == NodeKind.ACCOUNT_PRINCIPAL and data.get("audited"))

    def paths_to_admin(self, target_account_ids: Iterable[str] | None = None, max_hops: int = 5) -> list[AccessPath]:
        """Best path per (source principal, target account) from another account (or outside) to admin."""
        return self._paths(target_account_ids, max_hops, same_account=False)

    def effective_admins(self, target_account_ids: Iterable[str] | None = None, max_hops: int = 5) -> list[AccessPath]:
        """Every principal that is or can become administrator of each target account, with its best path:
        directly, through role assumptions in the account or from elsewhere, a trust naming it or its account,
        or an escalation technique. (Identity Center users: ``identity_center_access``.)"""
        return self._paths(target_account_ids, max_hops, same_account=True)

    def _paths(
        self, target_account_ids: Iterable[str] | None, max_hops: int, *, same_account: bool
    ) -> list[AccessPath]:
        targets = tuple(target_account_ids) if target_account_ids is not None else None
        cache_key = (targets, max_hops, same_account)
        if cache_key not in self._paths_cache:
            out: list[AccessPath] = []
            for target in targets if targets is not None else self.account_ids():
                if target in self.graph:
                    found = self._paths_to(target, max_hops)
                    out.extend(found if same_account else (p for p in found if p.source_account_id != target))
            out.sort(key=lambda p: (len(p.hops), p.target_account_id, p.source))
            self._paths_cache[cache_key] = out
        return list(self._paths_cache[cache_key])

    def _paths_to(self, target: str, max_hops: int) -> list[AccessPath]:
        """The paths to one target, searched once and shared by every question that names the target."""
        found = self._target_paths.get((target, max_hops))
        if found is None:
            way = towards(self.graph, target, max_hops)
            found = [self._path(source, target, self._hops(source, way)) for source in way if self._is_source(source)]
            self._target_paths[(target, max_hops)] = found
        return found

    def identity_center_access(
        self, target_account_ids: Iterable[str] | None = None, max_hops: int = 5
    ) -> list[AccessPath]:
        """Identity Center users that can reach admin of each target account, one path per (user, account).

        A path is [member-of] assigned, then either is-admin-of (a full-admin permission set on the target)
        or provisions (the permission set's ``AWSReservedSSO_*`` role in the assigned account) followed by
        that role's own path to admin of the target, of at most ``max_hops`` hops. An assignment only counts
        with the permission set's edge for the same account. Unconditional, then shortest, paths first.
        """
        targets = list(target_account_ids) if target_account_ids is not None else self.account_ids()
        permission_sets = self.nodes_of_kind(NodeKind.PERMISSION_SET)
        out: list[AccessPath] = []
        if not permission_sets:
            return out
        for target in dict.fromkeys(targets):
            if target not in self.graph:
                continue
            way: Towards | None = None
            best: dict[str, tuple[_Rank, tuple[Hop, ...]]] = {}
            for ps in permission_sets:
                for _, v, key, data in self.graph.out_edges(ps, keys=True, data=True):
                    kind = data.get("kind")
                    if kind == EdgeKind.IS_ADMIN_OF and v == target:
                        tail: tuple[Hop, ...] = (self._hop(ps, v, key, data),)
                    elif kind == EdgeKind.PROVISIONS:
                        if way is None:
                            way = towards(self.graph, target, max_hops)
                        if v not in way:
                            continue
                        tail = (self._hop(ps, v, key, data), *self._hops(v, way))
                    else:
                        continue
                    account = data.get("details", {}).get("account_id")
                    for principal, assigned_key, assigned in in_edges_of(self.graph, ps):
                        if (
                            assigned.get("kind") != EdgeKind.ASSIGNED
                            or assigned.get("details", {}).get("account_id") != account
                        ):
                            continue
                        hops = (self._hop(principal, ps, assigned_key, assigned), *tail)
                        if self.node_kind(principal) == NodeKind.IDENTITY_CENTER_USER:
                            _keep_best(best, principal, hops)
                        elif self.node_kind(principal) == NodeKind.IDENTITY_CENTER_GROUP:
                            for member, member_key, member_data in in_edges_of(self.graph, principal):
                                if (
                                    member_data.get("kind") == EdgeKind.MEMBER_OF
                                    and self.node_kind(member) == NodeKind.IDENTITY_CENTER_USER
                                ):
                                    via = self._hop(member, principal, member_key, member_data)
                                    _keep_best(best, member, (via, *hops))
            for source, (_, hops) in best.items():
                out.append(
                    AccessPath(
                        source=source,
                        source_account_id=None,
                        source_environment=Environment.IDENTITY_CENTER,
                        target_account_id=target,
                        target_environment=self.environment_of(target),
                        hops=hops,
                        conditional=any(bool(h.evidence.get("conditional")) for h in hops),
                    )
                )
        out.sort(key=lambda p: (len(p.hops), p.target_account_id, p.source))
        return out

    def escalation_paths(self, max_hops: int = 5) -> list[AccessPath]:
        """Principals that are not admin of their own account but can become admin through a technique."""
        out: list[AccessPath] = []
        for account in sorted({e.account_id for e in self._escalation_edges}):
            if account not in self.graph:
                continue
            direct_admins = {u for u, _, d in in_edges_of(self.graph, account) if d.get("kind") == EdgeKind.IS_ADMIN_OF}
            way = escalation_towards(self.graph, account, max_hops)
            for node in way.escalated_sources():
                if node in direct_admins:
                    continue
                if self.node_kind(node) not in (NodeKind.USER, NodeKind.ROLE) or self.node_account(node) != account:
                    continue
                hops = tuple(self._hop(u, v, key, data) for u, v, key, data in way.steps(node))
                out.append(self._path(node, account, hops))
        out.sort(key=lambda p: (len(p.hops), p.target_account_id, p.source))
        return out

    def reachability_matrix(self, max_hops: int = 5) -> dict[tuple[str, str], dict[str, int]]:
        """(source environment, target account) -> principals from other accounts reaching admin / write.

        ``write`` counts principals reaching any principal of the target account with Write or
        Permissions-management access (admins included), ``admin`` those reaching admin.
        """
        admin_sources: dict[tuple[str, str], set[str]] = defaultdict(set)
        for path in self.paths_to_admin(max_hops=max_hops):
            admin_sources[(path.source_environment, path.target_account_id)].add(path.source)
        write_sources: dict[tuple[str, str], set[str]] = defaultdict(set)
        writers_by_account: dict[str, list[str]] = defaultdict(list)
        for node, data in self.graph.nodes(data=True):
            if data.get("write") and data.get("account_id"):
                writers_by_account[str(data["account_id"])].append(node)
        for target in self.account_ids():
            for node in reaching(self.graph, [target, *writers_by_account.get(target, [])], max_hops):
                if self._is_source(node) and self.node_account(node) != target:
                    account = self.node_account(node)
                    env = (
                        Environment.EXTERNAL
                        if self.node_kind(node) == NodeKind.FEDERATED
                        else self.environment_of(account)
                    )
                    write_sources[(env, target)].add(node)
        keys = set(admin_sources) | set(write_sources)
        return {
            key: {"admin": len(admin_sources.get(key, ())), "write": len(write_sources.get(key, ()))}
            for key in sorted(keys)
        }


def _keep_best(best: dict[str, tuple[_Rank, tuple[Hop, ...]]], source: str, hops: tuple[Hop, ...]) -> None:
    """Keep, per source, the unconditional-first, shortest, then first-by-name path."""
    rank = (
        any(bool(h.evidence.get("conditional")) for h in hops),
        len(hops),
        tuple(f"{h.source}|{h.target}|{h.kind}" for h in hops),
    )
    found = best.get(source)
    if found is None or rank < found[0]:
        best[source] = (rank, hops)
