"""The access graph and the questions rules ask of it.

``AccessGraph`` wraps a networkx ``MultiDiGraph`` (built by ``auditor.graph.build``). Every edge has a
``kind`` (contains, member-of, can-assume, can-escalate-to, is-admin-of), a ``conditional`` flag and an
``evidence`` object (or, for Identity Center edges, ``details``). Identity Center adds assigned, provisions and
can-access edges, which are not path kinds: only ``identity_center_access`` follows them. Questions are
answered with indexed searches (reverse breadth-first searches from the admin nodes of an account), never by
evaluating all pairs of principals.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import networkx as nx

from auditor.iam.escalation import EscalationEdge as EscalationEdge  # re-exported for rules
from auditor.iam.evaluate import EvaluationEvent
from auditor.iam.evaluate import GrantEvidence as GrantEvidence  # re-exported for rules

ENV_UNKNOWN = "unknown"
ENV_EXTERNAL = "external"  # accounts outside the organisation, federated identities, anyone
ENV_IDENTITY_CENTER = "identity-center"  # the source environment of Identity Center users

# Edge kinds.
CONTAINS = "contains"
MEMBER_OF = "member-of"
CAN_ASSUME = "can-assume"
CAN_ESCALATE_TO = "can-escalate-to"
IS_ADMIN_OF = "is-admin-of"
CONTROLS = "controls"  # account (as "admin of it") -> its account principal, arn:aws:iam::A:root
PATH_KINDS = frozenset({CAN_ASSUME, CAN_ESCALATE_TO, IS_ADMIN_OF, CONTROLS})
# Identity Center edge kinds (besides member-of and is-admin-of): user/group -> permission set (per account),
# permission set -> its provisioned role, permission set -> account it gives non-admin access to.
ASSIGNED = "assigned"
PROVISIONS = "provisions"
CAN_ACCESS = "can-access"

# Identity Center node kinds.
IC_USER = "identity-center-user"
IC_GROUP = "identity-center-group"
PERMISSION_SET = "permission-set"

# Node kinds that can start an access path (groups cannot act; services act for whoever passes a role).
SOURCE_KINDS = frozenset({"user", "role", "account-principal", "federated", "anyone"})


@dataclass(frozen=True)
class AdminGrant:
    principal_arn: str
    principal_type: str  # user | group | role
    account_id: str
    level: str  # full-admin | service-admin
    services: tuple[str, ...]  # for service-admin, e.g. ("iam",) for iam:*
    evidence: tuple[GrantEvidence, ...]
    conditional: bool
    undecided_conditions: tuple[str, ...]


@dataclass(frozen=True)
class AssumeEdge:
    source: str  # principal ARN, arn:aws:iam::ACCT:root, service principal, federated provider, or "*"
    source_type: str  # user | role | account | service | federated | anyone
    source_account_id: str | None
    target_role_arn: str
    target_account_id: str
    trust_statement: dict[str, Any]
    identity_statement: dict[str, Any] | None
    in_organization: bool  # the source account is a member of the organisation (or the audited account)
    conditional: bool
    undecided_conditions: tuple[str, ...]
    decided_conditions: tuple[str, ...]


@dataclass(frozen=True)
class Hop:
    source: str
    target: str
    kind: str
    evidence: dict[str, Any]


@dataclass(frozen=True)
class AccessPath:
    source: str
    source_account_id: str | None
    source_environment: str
    target_account_id: str
    target_environment: str
    hops: tuple[Hop, ...]
    conditional: bool

    @property
    def nodes(self) -> tuple[str, ...]:
        return (self.hops[0].source, *(h.target for h in self.hops)) if self.hops else (self.source,)


@dataclass
class AccessGraph:
    graph: nx.MultiDiGraph
    environments: Mapping[str, str]
    internal_accounts: frozenset[str]  # organisation members (or the audited accounts without an org)
    events: list[EvaluationEvent] = field(default_factory=list)
    _admin_grants: list[AdminGrant] = field(default_factory=list)
    _assume_edges: list[AssumeEdge] = field(default_factory=list)
    _escalation_edges: list[EscalationEdge] = field(default_factory=list)
    _hop_cache: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict, repr=False)
    _hops_by_edge: dict[tuple[str, str, str], Hop] = field(default_factory=dict, repr=False)
    _paths_cache: dict[tuple[tuple[str, ...] | None, int], list[AccessPath]] = field(default_factory=dict, repr=False)
    _target_paths: dict[tuple[str, int], list[AccessPath]] = field(default_factory=dict, repr=False)

    # --- node facts ---------------------------------------------------------------------------
    def node_kind(self, node: str) -> str:
        return str(self.graph.nodes[node].get("kind", ""))

    def node_account(self, node: str) -> str | None:
        value = self.graph.nodes[node].get("account_id")
        return str(value) if value else None

    def environment_of(self, account_id: str | None) -> str:
        if account_id is None or account_id not in self.internal_accounts:
            return ENV_EXTERNAL
        return self.environments.get(account_id, ENV_UNKNOWN)

    def account_ids(self) -> list[str]:
        return sorted(n for n, d in self.graph.nodes(data=True) if d.get("kind") == "account")

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

    def escalation_edges(self) -> list[EscalationEdge]:
        return list(self._escalation_edges)

    # --- path questions ---------------------------------------------------------------------------
    def _reverse_bfs(self, start: str, max_hops: int) -> _Towards:
        """The best path from every node that reaches ``start`` within ``max_hops``: an unconditional one
        whenever one exists (shortest among those), else the shortest conditional one."""
        return _Towards(
            _bfs_tree(self.graph, start, max_hops, unconditional_only=True),
            _bfs_tree(self.graph, start, max_hops, unconditional_only=False),
        )

    def _hops(self, source: str, towards: _Towards) -> tuple[Hop, ...]:
        hops: list[Hop] = []
        nxt = towards.tree_of(source)
        node = source
        while node in nxt:
            target, key, data = nxt[node]
            hops.append(self._hop(node, target, key, data))
            node = target
        return tuple(hops)

    def _hop(self, source: str, target: str, key: str, data: Mapping[str, Any]) -> Hop:
        """One edge as a hop, built once per edge and shared by every path through it."""
        cache_key = (source, target, key)
        hop = self._hops_by_edge.get(cache_key)
        if hop is None:
            hop = self._hops_by_edge[cache_key] = Hop(
                source, target, str(data["kind"]), self._evidence(source, target, key, data)
            )
        return hop

    def _evidence(self, source: str, target: str, key: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """An edge's evidence as a dict, converted once per edge (many paths share the same hops)."""
        cache_key = (source, target, key)
        cached = self._hop_cache.get(cache_key)
        if cached is None:
            cached = self._hop_cache[cache_key] = _hop_evidence(data)
        return cached

    def _path(self, source: str, target_account: str, hops: tuple[Hop, ...]) -> AccessPath:
        account = self.node_account(source)
        return AccessPath(
            source=source,
            source_account_id=account,
            source_environment=self.environment_of(account) if self.node_kind(source) != "federated" else ENV_EXTERNAL,
            target_account_id=target_account,
            target_environment=self.environment_of(target_account),
            hops=hops,
            conditional=any(bool(h.evidence.get("conditional")) for h in hops),
        )

    def _is_path_source(self, node: str, target_account: str) -> bool:
        kind = self.node_kind(node)
        if kind not in SOURCE_KINDS:
            return False
        account = self.node_account(node)
        if kind == "account-principal" and self.graph.nodes[node].get("audited"):
            return False  # its concrete principals are in the graph and are the real sources
        return account != target_account

    def paths_to_admin(self, target_account_ids: Iterable[str] | None = None, max_hops: int = 5) -> list[AccessPath]:
        """Shortest path per (source principal, target account) from another account (or outside) to admin."""
        cache_key = (tuple(target_account_ids) if target_account_ids is not None else None, max_hops)
        if cache_key in self._paths_cache:
            return list(self._paths_cache[cache_key])
        targets = list(cache_key[0]) if cache_key[0] is not None else self.account_ids()
        out: list[AccessPath] = []
        for target in targets:
            if target in self.graph:
                out.extend(self._paths_to(target, max_hops))
        out.sort(key=lambda p: (len(p.hops), p.target_account_id, p.source))
        self._paths_cache[cache_key] = out
        return list(out)

    def _paths_to(self, target: str, max_hops: int) -> list[AccessPath]:
        """The paths to one target, searched once and shared by every question that names the target."""
        found = self._target_paths.get((target, max_hops))
        if found is None:
            nxt = self._reverse_bfs(target, max_hops)
            found = [
                self._path(source, target, self._hops(source, nxt))
                for source in nxt
                if self._is_path_source(source, target)
            ]
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
        permission_sets = [n for n, d in self.graph.nodes(data=True) if d.get("kind") == PERMISSION_SET]
        out: list[AccessPath] = []
        if not permission_sets:
            return out
        for target in dict.fromkeys(targets):
            if target not in self.graph:
                continue
            nxt: _Towards | None = None
            best: dict[str, tuple[tuple[bool, int, tuple[str, ...]], tuple[Hop, ...]]] = {}
            for ps in permission_sets:
                for _, v, key, data in self.graph.out_edges(ps, keys=True, data=True):
                    kind = data.get("kind")
                    if kind == IS_ADMIN_OF and v == target:
                        tail: tuple[Hop, ...] = (self._hop(ps, v, key, data),)
                    elif kind == PROVISIONS:
                        if nxt is None:
                            nxt = self._reverse_bfs(target, max_hops)
                        if v not in nxt:
                            continue
                        tail = (self._hop(ps, v, key, data), *self._hops(v, nxt))
                    else:
                        continue
                    account = data.get("details", {}).get("account_id")
                    for principal, assigned_key, assigned in _in_edges(self.graph, ps):
                        if assigned.get("kind") != ASSIGNED or assigned.get("details", {}).get("account_id") != account:
                            continue
                        hops = (self._hop(principal, ps, assigned_key, assigned), *tail)
                        if self.node_kind(principal) == IC_USER:
                            _keep_best(best, principal, hops)
                        elif self.node_kind(principal) == IC_GROUP:
                            for member, member_key, member_data in _in_edges(self.graph, principal):
                                if member_data.get("kind") == MEMBER_OF and self.node_kind(member) == IC_USER:
                                    via = self._hop(member, principal, member_key, member_data)
                                    _keep_best(best, member, (via, *hops))
            for source, (_, hops) in best.items():
                out.append(
                    AccessPath(
                        source=source,
                        source_account_id=None,
                        source_environment=ENV_IDENTITY_CENTER,
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
        accounts = sorted({e.account_id for e in self._escalation_edges})
        for account in accounts:
            if account not in self.graph:
                continue
            direct_admins = {u for u, _, d in _in_edges(self.graph, account) if d.get("kind") == IS_ADMIN_OF}
            trees = (
                _escalation_tree(self.graph, account, max_hops, unconditional_only=True),
                _escalation_tree(self.graph, account, max_hops, unconditional_only=False),
            )
            sources = dict.fromkeys(node for tree in trees for node, escalated in tree if escalated)
            for node in sources:
                if node in direct_admins:
                    continue
                if self.node_kind(node) not in ("user", "role") or self.node_account(node) != account:
                    continue
                nxt = trees[0] if (node, True) in trees[0] else trees[1]
                hops: list[Hop] = []
                state = (node, True)
                while state in nxt:
                    target_state, key, data = nxt[state]
                    hops.append(self._hop(state[0], target_state[0], key, data))
                    state = target_state
                out.append(self._path(node, account, tuple(hops)))
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
            starts = [target, *writers_by_account.get(target, [])]
            depth = {s: 0 for s in starts}
            queue = deque(starts)
            while queue:
                node = queue.popleft()
                if depth[node] >= max_hops:
                    continue
                for u, _, data in _in_edges(self.graph, node):
                    if data.get("kind") in PATH_KINDS and u not in depth:
                        depth[u] = depth[node] + 1
                        queue.append(u)
            for node in depth:
                if self._is_path_source(node, target):
                    account = self.node_account(node)
                    env = ENV_EXTERNAL if self.node_kind(node) == "federated" else self.environment_of(account)
                    write_sources[(env, target)].add(node)
        keys = set(admin_sources) | set(write_sources)
        return {
            key: {"admin": len(admin_sources.get(key, ())), "write": len(write_sources.get(key, ()))}
            for key in sorted(keys)
        }


_Step = tuple[str, str, dict[str, Any]]  # (next node towards the target, edge key, edge data)


@dataclass(frozen=True)
class _Towards:
    """Two breadth-first trees towards one target: over unconditional edges only, and over every edge.

    A node's path follows one tree to the end, so each path is a real, loop-free walk of at most the
    search's hop limit; the unconditional tree wins for every node it reaches.
    """

    unconditional: dict[str, _Step]
    any: dict[str, _Step]

    def __contains__(self, node: object) -> bool:
        return node in self.unconditional or node in self.any

    def __iter__(self) -> Iterator[str]:
        yield from self.unconditional
        yield from (n for n in self.any if n not in self.unconditional)

    def tree_of(self, node: str) -> dict[str, _Step]:
        return self.unconditional if node in self.unconditional else self.any


def _bfs_tree(graph: nx.MultiDiGraph, start: str, max_hops: int, *, unconditional_only: bool) -> dict[str, _Step]:
    """node -> next step towards ``start`` over path edges, shortest first (unconditional edges win ties)."""
    nxt: dict[str, _Step] = {}
    depth = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if depth[node] >= max_hops:
            continue
        in_edges = sorted(
            (
                (u, k, d)
                for u, k, d in _in_edges(graph, node)
                if d.get("kind") in PATH_KINDS and not (unconditional_only and d.get("conditional"))
            ),
            key=lambda e: (bool(e[2].get("conditional")), e[0], e[1]),
        )
        for u, key, data in in_edges:
            if u in depth:
                continue
            depth[u] = depth[node] + 1
            nxt[u] = (node, key, data)
            queue.append(u)
    return nxt


_State = tuple[str, bool]  # (node, its path to the account uses an escalation hop)


def _escalation_tree(
    graph: nx.MultiDiGraph, account: str, max_hops: int, *, unconditional_only: bool
) -> dict[_State, tuple[_State, str, dict[str, Any]]]:
    """``_bfs_tree`` over (node, escalated) states, so that a path through a technique is found even when a
    shorter path without one exists."""
    nxt: dict[_State, tuple[_State, str, dict[str, Any]]] = {}
    depth = {(account, False): 0}
    queue = deque([(account, False)])
    while queue:
        state = queue.popleft()
        node, escalated = state
        if depth[state] >= max_hops:
            continue
        for u, key, data in _in_edges(graph, node):
            if data.get("kind") not in PATH_KINDS or (unconditional_only and data.get("conditional")):
                continue
            prev = (u, escalated or data["kind"] == CAN_ESCALATE_TO)
            if prev in depth:
                continue
            depth[prev] = depth[state] + 1
            nxt[prev] = (state, key, data)
            queue.append(prev)
    return nxt


def _keep_best(
    best: dict[str, tuple[tuple[bool, int, tuple[str, ...]], tuple[Hop, ...]]], source: str, hops: tuple[Hop, ...]
) -> None:
    """Keep, per source, the unconditional-first, shortest, then first-by-name path."""
    rank = (
        any(bool(h.evidence.get("conditional")) for h in hops),
        len(hops),
        tuple(f"{h.source}|{h.target}|{h.kind}" for h in hops),
    )
    found = best.get(source)
    if found is None or rank < found[0]:
        best[source] = (rank, hops)


def _in_edges(graph: nx.MultiDiGraph, node: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(source, key, data) of the edges into ``node``, in ``in_edges`` order, without its per-call views."""
    for u, keyed in graph.pred[node].items():
        for key, data in keyed.items():
            yield u, key, data


def _hop_evidence(data: Mapping[str, Any]) -> dict[str, Any]:
    evidence = data.get("evidence")
    out: dict[str, Any] = (
        asdict(evidence)
        if evidence is not None and hasattr(evidence, "__dataclass_fields__")
        else dict(data.get("details", {}))
    )
    out["conditional"] = bool(data.get("conditional"))
    return out
