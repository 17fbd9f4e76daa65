"""Who reaches which account through IAM Identity Center: its users, groups, permission sets and assignments.

user -member-of-> group; user/group -assigned-> permission set (one edge per account, details name the
account); permission set -provisions-> its ``AWSReservedSSO_<name>_<id>`` role when that account's IAM data
has it (the role's own edges then say what it can do), else permission set -is-admin-of-> account when the
admin test (``auditor.graph.admin``) says the set makes administrators there, or -can-access-> account.
``assigned`` and ``provisions`` are not path kinds: only ``AccessGraph.identity_center_access`` follows them.
"""

from __future__ import annotations

from typing import Any

from auditor.graph.access_graph import AccessGraph
from auditor.graph.admin import permission_set_admin, provisioned_role
from auditor.graph.kinds import EdgeKind, NodeKind
from auditor.iam.evaluate import Evaluator
from auditor.model import IdentityCenter, PermissionSet, Snapshot


def identity_center_user_node(identity_store_id: str, user_id: str) -> str:
    return f"identitystore:{identity_store_id}:user/{user_id}"


def identity_center_group_node(identity_store_id: str, group_id: str) -> str:
    return f"identitystore:{identity_store_id}:group/{group_id}"


def add_identity_center(graph: AccessGraph, snapshot: Snapshot, evaluator: Evaluator) -> None:
    """Add Identity Center's nodes and edges (last: no other step follows or starts from them)."""
    org = snapshot.organization
    center = org.identity_center if org else None
    if center is not None:
        _IdentityCenter(graph, evaluator, center).add()


class _IdentityCenter:
    def __init__(self, graph: AccessGraph, evaluator: Evaluator, center: IdentityCenter) -> None:
        self.graph = graph
        self.evaluator = evaluator
        self.center = center
        self.store = center.identity_store_id
        self.user_names = {u.user_id: u.user_name for u in center.users}

    def add(self) -> None:
        center = self.center
        for user in center.users:
            self._user(user.user_id)
        for group in center.groups:
            node = self._group(group.group_id, group.display_name)
            for user_id in group.member_user_ids:
                details = {
                    "identity_store_id": self.store,
                    "user_id": user_id,
                    "user_name": self.user_names.get(user_id, user_id),
                    "group_id": group.group_id,
                    "group_name": group.display_name,
                }
                self.graph.add_edge(self._user(user_id), node, EdgeKind.MEMBER_OF, details=details)
        for known_set in center.permission_sets:
            self._permission_set(known_set)
        for assignment in center.assignments:
            permission_set = center.permission_set(assignment.permission_set_arn)
            if assignment.principal_type == "GROUP":
                known = center.group(assignment.principal_id)
                principal = self._group(assignment.principal_id, known.display_name if known else None)
            else:
                principal = self._user(assignment.principal_id)
            ps_node = assignment.permission_set_arn
            # assigned, but perhaps not among the collected permission sets
            self.graph.add_node(
                ps_node, NodeKind.PERMISSION_SET, account_id=None, arn=ps_node, name="", in_snapshot=False
            )
            details = {
                "account_id": assignment.account_id,
                "permission_set_arn": ps_node,
                "permission_set_name": permission_set.name if permission_set else "",
                "principal_type": assignment.principal_type,
                "principal_id": assignment.principal_id,
            }
            key = f"{EdgeKind.ASSIGNED}:{assignment.account_id}"
            self.graph.add_edge(principal, ps_node, EdgeKind.ASSIGNED, key=key, details=details)
            if permission_set is not None:
                self._access(permission_set, assignment.account_id)

    def _user(self, user_id: str) -> str:
        name = self.user_names.get(user_id, user_id)
        return self.graph.add_node(
            identity_center_user_node(self.store, user_id),
            NodeKind.IDENTITY_CENTER_USER,
            account_id=None,
            identity_store_id=self.store,
            user_id=user_id,
            name=name,
            label=name,
            in_snapshot=user_id in self.user_names,
        )

    def _group(self, group_id: str, name: str | None) -> str:
        label = name if name is not None else group_id
        return self.graph.add_node(
            identity_center_group_node(self.store, group_id),
            NodeKind.IDENTITY_CENTER_GROUP,
            account_id=None,
            identity_store_id=self.store,
            group_id=group_id,
            name=label,
            label=label,
            in_snapshot=name is not None,
        )

    def _permission_set(self, permission_set: PermissionSet) -> str:
        return self.graph.add_node(
            permission_set.arn,
            NodeKind.PERMISSION_SET,
            account_id=None,
            arn=permission_set.arn,
            name=permission_set.name,
            label=permission_set.name,
            session_duration=permission_set.session_duration,
            permissions_boundary=permission_set.permissions_boundary is not None,
            in_snapshot=True,
        )

    def _access(self, permission_set: PermissionSet, account_id: str) -> None:
        """The edge from a permission set to what it gives in one account (once per permission set and account)."""
        ps_node = permission_set.arn
        base: dict[str, Any] = {
            "account_id": account_id,
            "permission_set_arn": ps_node,
            "permission_set_name": permission_set.name,
        }
        self.graph.add_account(account_id)
        admin = permission_set_admin(self.evaluator, permission_set, account_id)
        if admin is not None:
            self.graph.add_permission_set_admin(admin)
        role = provisioned_role(self.evaluator, permission_set, account_id)
        if role is not None:
            key = f"{EdgeKind.PROVISIONS}:{account_id}"
            self.graph.add_edge(ps_node, role.arn, EdgeKind.PROVISIONS, key=key, details={**base, "role_arn": role.arn})
            return
        if admin is None:
            self.graph.add_edge(ps_node, account_id, EdgeKind.CAN_ACCESS, details=base)
            return
        levels = sorted({g.level.value for g in admin.grants})
        details = {
            **base,
            "level": levels[0] if len(levels) == 1 else levels,
            "admin_through": list(admin.sources),
            "permissions_boundary": permission_set.permissions_boundary,
            "session_duration": permission_set.session_duration,
        }
        self.graph.add_edge(
            ps_node,
            account_id,
            EdgeKind.IS_ADMIN_OF,
            key=f"{EdgeKind.IS_ADMIN_OF}:permission-set",
            conditional=admin.conditional,
            details=details,
        )
