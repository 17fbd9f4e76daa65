"""Path search over the access graph: which way from each node to a target, unconditional paths first.

Searches run backwards from the target (an account node: "administrator of the account") over path edges,
so one search answers for every source at once. Each search builds two breadth-first trees, over
unconditional edges only and over every edge; a node follows the unconditional tree whenever that tree
reaches it, so a path is reported as conditional only when no unconditional path of at most the hop limit
exists (severity never drops because a shorter conditional path exists).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import networkx as nx

from auditor.graph.kinds import PATH_KINDS, EdgeKind

Step = tuple[str, str, dict[str, Any]]  # (next node towards the target, edge key, edge data)
State = tuple[str, bool]  # (node, its way to the account uses an escalation technique)
StateStep = tuple[State, str, dict[str, Any]]


@dataclass(frozen=True)
class Towards:
    """The two trees of one search; a node's way follows one tree to the end (a real, loop-free walk)."""

    unconditional: dict[str, Step]
    any: dict[str, Step]

    def __contains__(self, node: object) -> bool:
        return node in self.unconditional or node in self.any

    def __iter__(self) -> Iterator[str]:
        yield from self.unconditional
        yield from (n for n in self.any if n not in self.unconditional)

    def steps(self, source: str) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        """(node, next node, edge key, edge data) from ``source`` to the target."""
        tree = self.unconditional if source in self.unconditional else self.any
        node = source
        while node in tree:
            target, key, data = tree[node]
            yield node, target, key, data
            node = target


def towards(graph: nx.MultiDiGraph, target: str, max_hops: int) -> Towards:
    return Towards(
        _tree(graph, target, max_hops, unconditional_only=True),
        _tree(graph, target, max_hops, unconditional_only=False),
    )


def _tree(graph: nx.MultiDiGraph, start: str, max_hops: int, *, unconditional_only: bool) -> dict[str, Step]:
    """node -> next step towards ``start`` over path edges, shortest first (unconditional edges win ties)."""
    nxt: dict[str, Step] = {}
    depth = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if depth[node] >= max_hops:
            continue
        in_edges = sorted(
            (
                (u, k, d)
                for u, k, d in in_edges_of(graph, node)
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


@dataclass(frozen=True)
class EscalationTowards:
    """``Towards`` over (node, escalated) states: a way through a technique is found even when a shorter
    way without one exists."""

    unconditional: dict[State, StateStep]
    any: dict[State, StateStep]

    def escalated_sources(self) -> Iterator[str]:
        seen = dict.fromkeys(n for tree in (self.unconditional, self.any) for n, escalated in tree if escalated)
        yield from seen

    def steps(self, source: str) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
        state = (source, True)
        tree = self.unconditional if state in self.unconditional else self.any
        while state in tree:
            target, key, data = tree[state]
            yield state[0], target[0], key, data
            state = target


def escalation_towards(graph: nx.MultiDiGraph, account: str, max_hops: int) -> EscalationTowards:
    return EscalationTowards(
        _escalation_tree(graph, account, max_hops, unconditional_only=True),
        _escalation_tree(graph, account, max_hops, unconditional_only=False),
    )


def _escalation_tree(
    graph: nx.MultiDiGraph, account: str, max_hops: int, *, unconditional_only: bool
) -> dict[State, StateStep]:
    nxt: dict[State, StateStep] = {}
    depth = {(account, False): 0}
    queue = deque([(account, False)])
    while queue:
        state = queue.popleft()
        node, escalated = state
        if depth[state] >= max_hops:
            continue
        for u, key, data in in_edges_of(graph, node):
            if data.get("kind") not in PATH_KINDS or (unconditional_only and data.get("conditional")):
                continue
            prev = (u, escalated or data["kind"] == EdgeKind.CAN_ESCALATE_TO)
            if prev in depth:
                continue
            depth[prev] = depth[state] + 1
            nxt[prev] = (state, key, data)
            queue.append(prev)
    return nxt


def reaching(graph: nx.MultiDiGraph, starts: list[str], max_hops: int) -> set[str]:
    """Every node with a way of at most ``max_hops`` path edges to one of ``starts`` (starts included)."""
    depth = {s: 0 for s in starts}
    queue = deque(starts)
    while queue:
        node = queue.popleft()
        if depth[node] >= max_hops:
            continue
        for u, _, data in in_edges_of(graph, node):
            if data.get("kind") in PATH_KINDS and u not in depth:
                depth[u] = depth[node] + 1
                queue.append(u)
    return set(depth)


def in_edges_of(graph: nx.MultiDiGraph, node: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(source, key, data) of the edges into ``node``, in ``in_edges`` order, without its per-call views."""
    for u, keyed in graph.pred[node].items():
        for key, data in keyed.items():
            yield u, key, data


def hop_evidence(data: Mapping[str, Any]) -> dict[str, Any]:
    """An edge's evidence as a dict: its evidence record, or the details Identity Center edges carry."""
    evidence = data.get("evidence")
    out: dict[str, Any] = (
        asdict(evidence)
        if evidence is not None and hasattr(evidence, "__dataclass_fields__")
        else dict(data.get("details", {}))
    )
    out["conditional"] = bool(data.get("conditional"))
    return out
