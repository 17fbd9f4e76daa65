"""The access graph: who can assume, escalate to and administer what, across accounts."""

from auditor.graph.build import (
    build_access_graph,
    identity_center_group_node,
    identity_center_user_node,
    is_full_admin_permission_set,
    permission_set_admin_sources,
    provisioned_role,
)
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
    "identity_center_group_node",
    "identity_center_user_node",
    "is_full_admin_permission_set",
    "permission_set_admin_sources",
    "provisioned_role",
]
