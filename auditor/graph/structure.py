"""What the organisation holds: its root, OUs and accounts, and each account's users, groups and roles."""

from __future__ import annotations

from auditor.graph.access_graph import AccessGraph
from auditor.graph.admin import admin_grants_of, has_write, is_account_admin
from auditor.graph.kinds import EdgeKind, NodeKind
from auditor.iam.evaluate import Evaluator, PrincipalPolicies
from auditor.model import Snapshot


def add_structure(graph: AccessGraph, snapshot: Snapshot, evaluator: Evaluator) -> list[PrincipalPolicies]:
    """Nodes and contains/member-of edges; returns the users and roles with their policies."""
    org = snapshot.organization
    if org is not None:
        graph.add_node(org.id, NodeKind.ORGANIZATION, arn=org.arn, account_id=org.management_account_id)
        graph.add_node(org.root_id, NodeKind.ROOT, name="Root")
        graph.add_edge(org.id, org.root_id, EdgeKind.CONTAINS)
        for ou in org.organizational_units:
            graph.add_node(ou.id, NodeKind.OU, name=ou.name, arn=ou.arn)
        for ou in org.organizational_units:
            graph.add_edge(ou.parent_id, ou.id, EdgeKind.CONTAINS)
        for member in org.accounts:
            graph.add_account(member.id, name=member.name, is_management=member.id == org.management_account_id)
            graph.add_edge(member.parent_id or org.root_id, member.id, EdgeKind.CONTAINS)
    principals: list[PrincipalPolicies] = []
    for account in snapshot.accounts:
        graph.add_account(
            account.account_id,
            audited=account.audited and account.iam is not None,
            name=account.name or graph.graph.nodes.get(account.account_id, {}).get("name", ""),
        )
        if account.iam is None:
            continue
        acct = account.account_id
        groups = {g.name: g.arn for g in account.iam.groups}
        for group in account.iam.groups:
            graph.add_principal(group.arn, NodeKind.GROUP, acct, name=group.name)
        for user in account.iam.users:
            graph.add_principal(user.arn, NodeKind.USER, acct, name=user.name)
            for group_name in user.group_names:
                if group_name in groups:
                    graph.add_edge(user.arn, groups[group_name], EdgeKind.MEMBER_OF)
        for role in account.iam.roles:
            service_linked = role.path.startswith("/aws-service-role/")
            graph.add_principal(role.arn, NodeKind.ROLE, acct, name=role.name, service_linked=service_linked)
        for arn in [*(u.arn for u in account.iam.users), *(r.arn for r in account.iam.roles)]:
            principal = evaluator.principal(arn)
            if principal is not None:
                principals.append(principal)
                graph.graph.nodes[arn]["write"] = has_write(principal)
    return principals


def add_admins(graph: AccessGraph, evaluator: Evaluator, principals: list[PrincipalPolicies]) -> set[str]:
    """Admin grants of every user, role and group (the admin test); returns the account admins' ARNs."""
    admins: set[str] = set()
    groups = [evaluator.principal(arn) for arn in evaluator.groups]
    for principal in [*principals, *(g for g in groups if g is not None)]:
        for grant in admin_grants_of(evaluator, principal):
            # a user admin only through its groups is reported on the group; the edge still exists
            through_groups = all(e.policy_kind.startswith("group-") for e in grant.evidence)
            graph.add_admin_grant(grant, reported=not through_groups or principal.type == "group")
            if is_account_admin(grant):
                admins.add(grant.principal_arn)
    return admins
