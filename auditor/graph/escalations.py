"""Who can escalate to what: privilege-escalation edges (``auditor.iam.escalation``) towards admin."""

from __future__ import annotations

from collections.abc import Set

from auditor.graph.access_graph import AccessGraph
from auditor.graph.kinds import NodeKind
from auditor.graph.search import reaching
from auditor.iam.escalation import escalation_edges
from auditor.iam.evaluate import Evaluator, PrincipalPolicies


def add_escalations(
    graph: AccessGraph, evaluator: Evaluator, admins: Set[str], principals: list[PrincipalPolicies]
) -> None:
    """Add escalation edges whose target leads to admin, iterating until no new target becomes useful.

    An edge to a target that reaches no admin (e.g. CreateAccessKey for a read-only user) adds nothing
    to any path, so such targets are not even evaluated; chains (A -> B -> admin) are found because
    each round asks only about the targets that became useful in the previous one.
    """
    accounts = graph.nodes_of_kind(NodeKind.ACCOUNT)
    asked: set[str] = set()
    while True:
        useful = reaching(graph.graph, accounts, max_hops=len(graph.graph)) - asked
        if not useful:
            break
        asked |= useful
        edges = escalation_edges(evaluator, admins, principals, useful.__contains__)
        for edge in edges:
            graph.add_escalation_edge(edge)
        if not edges:
            break
