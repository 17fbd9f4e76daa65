"""Collects the organisation's IAM Identity Center instance: permission sets with their policies
(sso-admin), account assignments, and the users and groups of its identity store (identitystore).

It runs with the caller's session, which must be the management account or Identity Center's
delegated administrator. Assignments are listed per audited account and per permission set
provisioned to that account, so the number of calls follows the assignments that exist rather than
every account times every permission set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from auditor.collect.iam import policy_document
from auditor.collect.session import AWS_ERRORS, Client, ClientFactory, Gaps, error_code
from auditor.model import (
    AccountAssignment,
    CustomerManagedPolicyReference,
    IdentityCenter,
    IdentityStoreGroup,
    IdentityStoreUser,
    PermissionSet,
)

SSO = "sso-admin"
IDENTITY_STORE = "identitystore"
NOT_FOUND = "ResourceNotFoundException"
PRINCIPAL_TYPES = ("USER", "GROUP")
# Answers that will be the same for every later call of the operation: ask once, record one gap.
# "NotImplemented" is an in-process simulator lacking the operation; a bare "500" (no AWS error code,
# after retries) is how an endpoint such as moto's server answers an operation it lacks.
REPEATING_ERRORS = frozenset({"NotImplemented", "500", "AccessDenied", "AccessDeniedException"})

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


class _Operation:
    """Calls of one per-item operation; stops asking after an answer that would repeat for every item."""

    def __init__(self, service: str, name: str, region: str) -> None:
        self.service, self.name, self.region = service, name, region
        self.given_up = False

    def failed(self, exc: Exception, gaps: Gaps, context: str) -> None:
        if error_code(exc) in REPEATING_ERRORS:
            self.given_up = True
            context = f"{context}; not asked again for the other items"
        gaps.record(self.service, self.name, exc, region=self.region, context=context)


def collect_identity_center(
    factory: ClientFactory,
    regions: Sequence[str],
    account_ids: Iterable[str],
    gaps: Gaps,
    concurrency: int = 8,
) -> IdentityCenter | None:
    """The Identity Center instance found in the first of ``regions`` that has one, or None when
    none has one (or none could be read: then each failure is a coverage gap)."""
    found = _instance(factory, regions, gaps)
    if found is None:
        return None
    region, instance_arn, store_id = found
    # Clients are created here, on the calling thread; the worker threads below only use them.
    sso = factory.client(SSO, region)
    store = factory.client(IDENTITY_STORE, region)
    workers = max(1, concurrency)
    permission_sets = _permission_sets(sso, instance_arn, gaps, region, workers)
    provisioned = _Operation(SSO, "ListPermissionSetsProvisionedToAccount", region)
    listed = _Operation(SSO, "ListAccountAssignments", region)
    assignments = [
        assignment
        for per_account in _parallel(
            lambda account_id, item_gaps: _account_assignments(
                sso, instance_arn, account_id, provisioned, listed, item_gaps),
            list(dict.fromkeys(account_ids)), workers, gaps)
        for assignment in per_account
    ]
    users, groups = _identity_store(store, store_id, gaps, region, workers)
    return IdentityCenter(
        instance_arn=instance_arn,
        identity_store_id=store_id,
        permission_sets=tuple(permission_sets),
        assignments=tuple(assignments),
        users=tuple(users),
        groups=tuple(groups),
    )


def _instance(factory: ClientFactory, regions: Sequence[str], gaps: Gaps) -> tuple[str, str, str] | None:
    for region in regions:
        try:
            instances = _pages(factory.client(SSO, region), "list_instances", "Instances")
        except AWS_ERRORS as exc:
            gaps.record(SSO, "ListInstances", exc, region=region)
            continue
        for instance in instances:
            if instance.get("Status", "ACTIVE") == "ACTIVE":
                return region, str(instance["InstanceArn"]), str(instance.get("IdentityStoreId", ""))
    return None


def _permission_sets(sso: Client, instance_arn: str, gaps: Gaps, region: str, workers: int) -> list[PermissionSet]:
    try:
        arns = [str(arn) for arn in _pages(sso, "list_permission_sets", "PermissionSets", InstanceArn=instance_arn)]
    except AWS_ERRORS as exc:
        gaps.record(SSO, "ListPermissionSets", exc, region=region)
        return []
    operations = {
        name: _Operation(SSO, name, region)
        for name in ("DescribePermissionSet", "GetInlinePolicyForPermissionSet",
                     "ListManagedPoliciesInPermissionSet", "ListCustomerManagedPolicyReferencesInPermissionSet",
                     "GetPermissionsBoundaryForPermissionSet")
    }
    return _parallel(lambda arn, item_gaps: _permission_set(sso, instance_arn, arn, operations, item_gaps),
                     arns, workers, gaps)


def _permission_set(
    sso: Client, instance_arn: str, arn: str, operations: dict[str, _Operation], gaps: Gaps
) -> PermissionSet:
    params = {"InstanceArn": instance_arn, "PermissionSetArn": arn}

    def ask(name: str, call: Callable[[], _Result], default: _Result, absent: _Result) -> _Result:
        operation = operations[name]
        if operation.given_up:
            return default
        try:
            return call()
        except ClientError as exc:
            if error_code(exc) == NOT_FOUND:
                return absent
            operation.failed(exc, gaps, arn)
        except AWS_ERRORS as exc:
            operation.failed(exc, gaps, arn)
        return default

    described: dict[str, Any] = ask(
        "DescribePermissionSet", lambda: dict(sso.describe_permission_set(**params)["PermissionSet"]), {}, {})
    inline_text: str = ask(
        "GetInlinePolicyForPermissionSet",
        lambda: str(sso.get_inline_policy_for_permission_set(**params).get("InlinePolicy") or ""), "", "")
    managed: list[dict[str, Any]] = ask(
        "ListManagedPoliciesInPermissionSet",
        lambda: _pages(sso, "list_managed_policies_in_permission_set", "AttachedManagedPolicies", **params), [], [])
    customer: list[dict[str, Any]] = ask(
        "ListCustomerManagedPolicyReferencesInPermissionSet",
        lambda: _pages(sso, "list_customer_managed_policy_references_in_permission_set",
                       "CustomerManagedPolicyReferences", **params), [], [])
    boundary: dict[str, Any] | None = ask(
        "GetPermissionsBoundaryForPermissionSet",
        lambda: dict(sso.get_permissions_boundary_for_permission_set(**params)["PermissionsBoundary"]), None, None)
    inline = (policy_document(inline_text, gaps, SSO, "GetInlinePolicyForPermissionSet", arn)
              if inline_text.strip() else None)
    return PermissionSet(
        arn=arn,
        name=str(described.get("Name") or arn.rsplit("/", 1)[-1]),
        session_duration=str(described.get("SessionDuration", "")),
        inline_policy=inline,
        managed_policy_arns=tuple(str(policy["Arn"]) for policy in managed),
        customer_managed_policy_refs=tuple(
            CustomerManagedPolicyReference(name=str(ref["Name"]), path=str(ref.get("Path") or "/"))
            for ref in customer
        ),
        permissions_boundary=boundary,
    )


def _account_assignments(
    sso: Client, instance_arn: str, account_id: str, provisioned: _Operation, listed: _Operation, gaps: Gaps
) -> list[AccountAssignment]:
    if provisioned.given_up:
        return []
    try:
        permission_set_arns = _pages(sso, "list_permission_sets_provisioned_to_account", "PermissionSets",
                                     InstanceArn=instance_arn, AccountId=account_id)
    except AWS_ERRORS as exc:
        provisioned.failed(exc, gaps, f"account {account_id}")
        return []
    assignments: list[AccountAssignment] = []
    for permission_set_arn in dict.fromkeys(permission_set_arns):
        if listed.given_up:
            break
        try:
            raw = _pages(sso, "list_account_assignments", "AccountAssignments", InstanceArn=instance_arn,
                         AccountId=account_id, PermissionSetArn=permission_set_arn)
        except AWS_ERRORS as exc:
            listed.failed(exc, gaps, f"account {account_id}, {permission_set_arn}")
            continue
        for item in raw:
            principal_type = str(item.get("PrincipalType", ""))
            if principal_type not in PRINCIPAL_TYPES:
                gaps.add(SSO, "ListAccountAssignments", "UnknownPrincipalType",
                         f"account {account_id}, {permission_set_arn}: principal type {principal_type!r} "
                         f"of {item.get('PrincipalId')} not understood; assignment skipped", listed.region)
                continue
            assignments.append(AccountAssignment(
                account_id=str(item.get("AccountId") or account_id),
                permission_set_arn=str(item.get("PermissionSetArn") or permission_set_arn),
                principal_type=principal_type,  # type: ignore[arg-type]  # checked against PRINCIPAL_TYPES
                principal_id=str(item["PrincipalId"]),
            ))
    return assignments


def _identity_store(
    store: Client, store_id: str, gaps: Gaps, region: str, workers: int
) -> tuple[list[IdentityStoreUser], list[IdentityStoreGroup]]:
    users: list[IdentityStoreUser] = []
    try:
        for user in _pages(store, "list_users", "Users", IdentityStoreId=store_id):
            users.append(IdentityStoreUser(user_id=str(user["UserId"]), user_name=str(user.get("UserName", ""))))
    except AWS_ERRORS as exc:
        gaps.record(IDENTITY_STORE, "ListUsers", exc, region=region, context=store_id)
    try:
        raw_groups = _pages(store, "list_groups", "Groups", IdentityStoreId=store_id)
    except AWS_ERRORS as exc:
        gaps.record(IDENTITY_STORE, "ListGroups", exc, region=region, context=store_id)
        return users, []
    memberships = _Operation(IDENTITY_STORE, "ListGroupMemberships", region)

    def group(raw: dict[str, Any], item_gaps: Gaps) -> IdentityStoreGroup:
        group_id = str(raw["GroupId"])
        return IdentityStoreGroup(group_id=group_id, display_name=str(raw.get("DisplayName", "")),
                                  member_user_ids=_members(store, store_id, group_id, memberships, item_gaps))

    return users, _parallel(group, raw_groups, workers, gaps)


def _members(
    store: Client, store_id: str, group_id: str, memberships: _Operation, gaps: Gaps
) -> tuple[str, ...]:
    if memberships.given_up:
        return ()
    try:
        raw = _pages(store, "list_group_memberships", "GroupMemberships", IdentityStoreId=store_id, GroupId=group_id)
    except AWS_ERRORS as exc:
        memberships.failed(exc, gaps, f"group {group_id}")
        return ()
    return tuple(str(m["MemberId"]["UserId"]) for m in raw if "UserId" in m.get("MemberId", {}))


def _pages(client: Client, operation: str, key: str, **params: object) -> list[Any]:
    items: list[Any] = []
    for page in client.get_paginator(operation).paginate(**params):
        items.extend(page.get(key, []))
    return items


def _parallel(
    work: Callable[[_Item, Gaps], _Result], items: Sequence[_Item], workers: int, gaps: Gaps
) -> list[_Result]:
    """``work`` over ``items``: the first alone (so an answer that would repeat is met once), the rest
    in parallel. Results and gaps keep the order of ``items`` whatever the order of completion."""
    item_gaps = [Gaps(gaps.account_id) for _ in items]
    results = [work(items[0], item_gaps[0])] if items else []
    rest = list(zip(items[1:], item_gaps[1:], strict=True))
    if workers == 1 or len(rest) <= 1:
        results.extend(work(item, own) for item, own in rest)
    else:
        with ThreadPoolExecutor(max_workers=min(workers, len(rest))) as pool:
            results.extend(pool.map(lambda pair: work(*pair), rest))
    for own in item_gaps:
        gaps.items.extend(own.items)
    return results
