"""The access graph: who can assume, escalate to and administer what, across accounts."""

from auditor.graph.build import build_access_graph
from auditor.graph.questions import AccessGraph, AccessPath, AdminGrant, AssumeEdge, Hop
from auditor.iam.escalation import EscalationEdge
from auditor.iam.evaluate import GrantEvidence

__all__ = [
    "AccessGraph",
    "AccessPath",
    "AdminGrant",
    "AssumeEdge",
    "EscalationEdge",
    "GrantEvidence",
    "Hop",
    "build_access_graph",
]
