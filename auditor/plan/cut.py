"""The fewest (cheapest) changes that cut every path from the plan's sources to production admin.

The access graph's path edges become a flow network in which each change is one arc whose capacity is its
cost, shared by every edge the change removes:

* a change that removes edges all entering one role (a trust principal) sits at the end of each edge's
  chain, a change that removes edges all leaving one principal (its identity statement, attachment or group
  membership) at the start; ``AnyOf`` parts are chained in series, ``AllOf`` parts run in parallel;
* an edge no change removes keeps a capacity larger than every change together (it is cut only when nothing
  else can be, and is then reported as remaining).

A minimum s-t cut of that network (networkx) is a cheapest set of such changes that separates every source
from every target; it is exact when each change's edges share their head or their tail (the two gadgets
above) and an edge's alternatives do not mix several shared changes of one side, and otherwise never cheaper
than claimed (gadgets may join two edges' halves, which can only ask for more cuts, never fewer).

SCPs remove edges with many heads and many tails at once, which no such gadget expresses: they are chosen by
greedy improvement on top of the cut (add the SCP that lowers the total cost most, repeat, then drop any SCP
whose removal lowers it), and the result is made irredundant (no change can be dropped without reopening a
path). Re-analysis of the changed snapshot then checks the plan (``auditor.plan.isolation``).
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from auditor.graph import AccessGraph, NodeKind
from auditor.graph.kinds import PATH_KINDS, SOURCE_KINDS, Environment
from auditor.plan.changes import AttachScp, Change, change_key
from auditor.plan.model import AllOf, AnyOf, Formula, PlanModel, satisfied, scp_candidates, scp_cuts

SOURCE_ENVIRONMENTS = frozenset({"non-prod", "sandbox", Environment.EXTERNAL.value})
TARGET_ENVIRONMENTS = frozenset({"prod"})
_SOURCE, _SINK = ("s*",), ("t*",)
UNCUTTABLE = 10**9  # the capacity of an edge no change removes: more than any plan costs


@dataclass(frozen=True)
class Edge:
    """One path edge of the access graph between two relevant nodes, with what cuts it."""

    index: int
    source: str
    target: str
    kind: str
    formula: Formula | None
    scp_account: str | None  # the member account whose SCPs govern it, when an SCP into production cuts it


@dataclass
class Scope:
    """The sources and target accounts of the plan, and the edges on some path between them."""

    sources: frozenset[str]
    targets: frozenset[str]
    edges: list[Edge] = field(default_factory=list)


def graph_sources(graph: AccessGraph, environments: frozenset[str]) -> frozenset[str]:
    """Principals in the source environments that can start a path (as ``AccessGraph`` defines a source)."""
    out = []
    for node, data in graph.graph.nodes(data=True):
        kind = data.get("kind")
        if kind not in SOURCE_KINDS or data.get("service_linked"):
            continue
        if kind == NodeKind.ACCOUNT_PRINCIPAL and data.get("audited"):
            continue
        account = data.get("account_id")
        env = Environment.EXTERNAL if kind == NodeKind.FEDERATED else graph.environment_of(account or None)
        if env in environments:
            out.append(node)
    return frozenset(out)


def graph_targets(graph: AccessGraph, environments: frozenset[str]) -> frozenset[str]:
    return frozenset(a for a in graph.account_ids() if graph.environment_of(a) in environments)


def scope_of(
    model: PlanModel,
    sources: frozenset[str],
    targets: frozenset[str],
) -> Scope:
    g = model.graph.graph
    path_edges = [
        (u, v, k, d) for u, v, k, d in g.edges(keys=True, data=True) if d.get("kind") in PATH_KINDS and u not in targets
    ]
    forward = _reach(sources, [(u, v) for u, v, _, _ in path_edges])
    backward = _reach(targets, [(v, u) for u, v, _, _ in path_edges])
    live = forward & backward
    scope = Scope(sources & live, targets & live)
    for u, v, _, data in path_edges:
        if u in live and v in live:
            scope.edges.append(
                Edge(len(scope.edges), u, v, str(data.get("kind")), model.formula(u, v, data),
                     scp_cuts(model, u, v, data, targets))
            )
    return scope


def _reach(start: Iterable[str], arcs: Iterable[tuple[str, str]]) -> set[str]:
    successors: dict[str, list[str]] = defaultdict(list)
    for a, b in arcs:
        successors[a].append(b)
    seen = set(start)
    queue = deque(seen)
    while queue:
        node = queue.popleft()
        for nxt in successors.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


@dataclass(frozen=True)
class CutResult:
    changes: tuple[Change, ...]  # ranked: most source-target pairs closed first
    pairs_closed: dict[Change, int]  # estimated on the graph, in rank order
    edges_of: dict[Change, tuple[tuple[str, str], ...]]  # access-graph edges (source, target) each change removes
    uncut: tuple[Edge, ...]  # edges on remaining paths that no known change removes
    pairs_before: int
    pairs_after: int
    cost: int


class Network:
    """The flow network of a scope (see the module docstring)."""

    def __init__(self, model: PlanModel, scope: Scope) -> None:
        self.model = model
        self.scope = scope
        self.flow = nx.DiGraph()
        self.flow.add_nodes_from((_SOURCE, _SINK))
        self._counter = 0
        self.big = UNCUTTABLE
        for source in scope.sources:
            self.flow.add_edge(_SOURCE, ("n", source))
        for target in scope.targets:
            self.flow.add_edge(("n", target), _SINK)
        for edge in scope.edges:
            entry = ("in", edge.index)
            self.flow.add_edge(("n", edge.source), entry)
            if edge.formula is None:
                self.flow.add_edge(entry, ("n", edge.target), capacity=self.big, edge=edge.index)
            else:
                self._build(edge.formula, entry, ("n", edge.target))

    def _node(self) -> tuple[str, int]:
        self._counter += 1
        return ("m", self._counter)

    def _build(self, formula: Formula, entry: Any, exit_: Any) -> None:
        if isinstance(formula, AnyOf):
            points = [entry, *(self._node() for _ in formula.parts[1:]), exit_]
            for part, start, end in zip(formula.parts, points, points[1:], strict=False):
                self._build(part, start, end)
        elif isinstance(formula, AllOf):
            for part in formula.parts:
                self._build(part, entry, exit_)
        else:
            key = change_key(formula)
            a, b = ("a", key), ("b", key)
            if not self.flow.has_edge(a, b):
                self.flow.add_edge(a, b, capacity=self.model.cost(formula), change=formula)
            self.flow.add_edge(entry, a)
            self.flow.add_edge(b, exit_)

    def solve(self, removed_edges: frozenset[int]) -> tuple[int, list[Change], list[Edge]]:
        """Minimum cut with the edges ``removed_edges`` already gone: (value, changes, uncuttable edges)."""
        arcs = [(("n", self.scope.edges[i].source), ("in", i)) for i in removed_edges]
        self.flow.remove_edges_from(arcs)
        try:
            if not nx.has_path(self.flow, _SOURCE, _SINK):
                return 0, [], []
            value, (reachable, _) = nx.minimum_cut(self.flow, _SOURCE, _SINK)
            changes: list[Change] = []
            uncut: list[Edge] = []
            for node in reachable:
                for nxt, data in self.flow[node].items():
                    if nxt in reachable:
                        continue
                    if "change" in data:
                        changes.append(data["change"])
                    elif "edge" in data:
                        uncut.append(self.scope.edges[data["edge"]])
            return int(value), changes, uncut
        finally:
            self.flow.add_edges_from(arcs)


def _leaf_changes(formula: Formula | None) -> list[Change]:
    if formula is None:
        return []
    if isinstance(formula, AnyOf | AllOf):
        return [c for part in formula.parts for c in _leaf_changes(part)]
    return [formula]


def plan_cut(
    model: PlanModel,
    environments: Mapping[str, str],
    sources: frozenset[str] | None = None,
    source_environments: frozenset[str] = SOURCE_ENVIRONMENTS,
    target_environments: frozenset[str] = TARGET_ENVIRONMENTS,
) -> CutResult:
    """The plan's changes, ranked, with the pairs each closes on the graph."""
    graph = model.graph
    sources = sources if sources is not None else graph_sources(graph, source_environments)
    targets = graph_targets(graph, target_environments)
    scope = scope_of(model, sources, targets)
    network = Network(model, scope)
    candidates = scp_candidates(model, environments, source_environments - {Environment.EXTERNAL.value}, targets)
    cut_by: dict[AttachScp, frozenset[int]] = {}
    for scp, accounts in candidates.items():
        edges = frozenset(e.index for e in scope.edges if e.scp_account in accounts)
        if edges:
            cut_by[scp] = edges
    chosen: list[AttachScp] = []

    def total(scps: list[AttachScp]) -> tuple[int, list[Change], list[Edge]]:
        removed = frozenset(i for s in scps for i in cut_by[s])
        value, changes, uncut = network.solve(removed)
        return value + sum(model.cost(s) for s in scps), changes, uncut

    best, changes, uncut = total(chosen)
    while True:  # greedy improvement: the SCP that lowers the total most, while one does
        # on a tie, the SCP guarding more accounts (an OU's also guards the accounts added to it later)
        trials = [(total([*chosen, s])[0], -len(candidates[s]), change_key(s), s) for s in cut_by if s not in chosen]
        if not trials:
            break
        value, _, _, scp = min(trials, key=lambda t: t[:3])
        if value >= best:
            break
        chosen.append(scp)
        best, changes, uncut = total(chosen)
    for scp in list(chosen):  # an SCP a later one made useless
        rest = [s for s in chosen if s != scp]
        value, rest_changes, rest_uncut = total(rest)
        if value < best:
            chosen, best, changes, uncut = rest, value, rest_changes, rest_uncut
    selected: list[Change] = [*chosen, *dict.fromkeys(changes)]
    counter = _PairCounter(scope, cut_by)
    selected = counter.irredundant(selected, model)
    ranked, closed = counter.rank(selected, model)
    before = counter.count(frozenset())
    after = counter.count(frozenset(ranked))
    edges_of: dict[Change, tuple[tuple[str, str], ...]] = {}
    for change in ranked:
        cut = cut_by.get(change, frozenset()) if isinstance(change, AttachScp) else frozenset(
            e.index for e in scope.edges if change in _leaf_changes(e.formula))
        edges_of[change] = tuple(sorted({(scope.edges[i].source, scope.edges[i].target) for i in cut}))
    return CutResult(
        changes=tuple(ranked),
        pairs_closed=closed,
        edges_of=edges_of,
        uncut=tuple(uncut),
        pairs_before=before,
        pairs_after=after,
        cost=sum(model.cost(c) for c in ranked),
    )


class _PairCounter:
    """(source, target account) pairs still connected once some changes are applied, on the scope's edges."""

    def __init__(self, scope: Scope, cut_by: Mapping[AttachScp, frozenset[int]]) -> None:
        self.scope = scope
        self.cut_by = cut_by

    def _pairs(self, chosen: frozenset[Change]) -> set[tuple[str, str]]:
        removed = {i for c in chosen if isinstance(c, AttachScp) for i in self.cut_by.get(c, ())}
        predecessors: dict[str, list[str]] = defaultdict(list)
        for edge in self.scope.edges:
            if edge.index in removed or (edge.formula is not None and satisfied(edge.formula, chosen)):
                continue
            predecessors[edge.target].append(edge.source)
        out: set[tuple[str, str]] = set()
        for target in self.scope.targets:
            seen = {target}
            queue = deque(seen)
            while queue:
                node = queue.popleft()
                for prev in predecessors.get(node, ()):
                    if prev not in seen:
                        seen.add(prev)
                        queue.append(prev)
            out.update((s, target) for s in seen & self.scope.sources)
        return out

    def count(self, chosen: frozenset[Change]) -> int:
        return len(self._pairs(chosen))

    def irredundant(self, changes: list[Change], model: PlanModel) -> list[Change]:
        """Drop, dearest first, every change whose absence reopens no pair."""
        kept = list(changes)
        target = self._pairs(frozenset(kept))
        for change in sorted(changes, key=lambda c: (-model.cost(c), change_key(c))):
            rest = frozenset(c for c in kept if c != change)
            if self._pairs(rest) <= target:
                kept = [c for c in kept if c != change]
        return kept

    def rank(self, changes: list[Change], model: PlanModel) -> tuple[list[Change], dict[Change, int]]:
        """Greedy order: at each rank the change that closes the most pairs still open (then the cheapest)."""
        applied: frozenset[Change] = frozenset()
        open_pairs = self._pairs(applied)
        left = list(changes)
        order: list[Change] = []
        closed: dict[Change, int] = {}
        while left:
            scored = []
            for change in left:
                remaining = self._pairs(applied | {change})
                scored.append((-(len(open_pairs) - len(remaining)), model.cost(change), change_key(change), change,
                               remaining))
            gain, _, _, change, remaining = min(scored, key=lambda s: s[:3])
            order.append(change)
            closed[change] = -gain
            applied = applied | {change}
            open_pairs = remaining
            left.remove(change)
        return order, closed
