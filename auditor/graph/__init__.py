"""The access graph: who can assume, escalate to and administer what, across accounts."""

from auditor.graph.access_graph import AccessGraph
from auditor.graph.admin import (
    PermissionSetAdmin,
    admin_grants_of,
    is_account_admin,
    permission_set_admin,
    provisioned_role,
)
from auditor.graph.build import build_access_graph
from auditor.graph.identity_center import identity_center_group_node, identity_center_user_node
from auditor.graph.kinds import ControlKind, EdgeKind, Environment, GrantLevel, LiftedBy, NodeKind
from auditor.graph.records import (
    AccessPath,
    AdminGrant,
    AssumeEdge,
    BlockedAssume,
    BlockedPath,
    Control,
    Guardrail,
    Hop,
)
from auditor.iam.escalation import EscalationEdge
from auditor.iam.evaluate import GrantEvidence

__all__ = [
    "AccessGraph",
    "AccessPath",
    "AdminGrant",
    "AssumeEdge",
    "BlockedAssume",
    "BlockedPath",
    "Control",
    "ControlKind",
    "EdgeKind",
    "Environment",
    "EscalationEdge",
    "GrantEvidence",
    "GrantLevel",
    "Guardrail",
    "Hop",
    "LiftedBy",
    "NodeKind",
    "PermissionSetAdmin",
    "admin_grants_of",
    "build_access_graph",
    "identity_center_group_node",
    "identity_center_user_node",
    "is_account_admin",
    "permission_set_admin",
    "provisioned_role",
]
