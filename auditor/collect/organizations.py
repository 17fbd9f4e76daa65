"""Collects the AWS Organization: root, OU tree, accounts with their parents, tags, SCPs, RCPs and tag
policies with their targets, delegated administrators and the organisation's CloudTrail trails.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from auditor.collect.cloudtrail import collect_organization_trails
from auditor.collect.iam import policy_document
from auditor.collect.session import AWS_ERRORS, ORG_TAG_THREADS, Client, ClientFactory, Gaps, error_code
from auditor.model import OrgAccount, Organization, OrganizationalUnit, OrgPolicy

SERVICE = "organizations"
IAM_POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")  # written in the IAM policy grammar
TAG_POLICY = "TAG_POLICY"
POLICY_TYPES = (*IAM_POLICY_TYPES, TAG_POLICY)
NOT_IN_ORGANIZATION = "AWSOrganizationsNotInUseException"
POLICY_TYPE_NOT_ENABLED = "PolicyTypeNotEnabledException"


def collect_organization(
    factory: ClientFactory, region: str, gaps: Gaps, concurrency: int = 8
) -> Organization | None:
    """The caller's organisation, or None for single-account mode (not in an organisation, or no
    permission to read it: the latter is recorded as a coverage gap). Tags are read with
    ``concurrency`` threads sharing one client."""
    org = factory.client(SERVICE, region)
    try:
        description = org.describe_organization()["Organization"]
    except ClientError as exc:
        if error_code(exc) != NOT_IN_ORGANIZATION:
            gaps.record(SERVICE, "DescribeOrganization", exc,
                        context="cannot read the organisation; auditing the caller's account only")
        return None
    try:
        roots = _pages(org, "list_roots", "Roots")
    except AWS_ERRORS as exc:
        gaps.record(SERVICE, "ListRoots", exc, context=(
            "cannot list the organisation (not the management account or a delegated administrator?); "
            "auditing the caller's account only"))
        return None
    if not roots:
        gaps.add(SERVICE, "ListRoots", "NoRoot",
                 "the organisation has no root; auditing the caller's account only")
        return None
    root_id = str(roots[0]["Id"])

    ous, accounts = _walk(org, root_id, gaps)
    tags = _all_tags(org, [*(a.id for a in accounts), *(ou.id for ou in ous), root_id], gaps, concurrency)
    return Organization(
        id=description["Id"],
        arn=description["Arn"],
        management_account_id=description.get("MasterAccountId", ""),
        root_id=root_id,
        root_tags=tags[root_id],
        organizational_units=tuple(ou.model_copy(update={"tags": tags[ou.id]}) for ou in ous),
        accounts=tuple(a.model_copy(update={"tags": tags[a.id]}) for a in accounts),
        policies=tuple(_policies(org, gaps)),
        delegated_administrators=tuple(_delegated_administrators(org, gaps)),
        trails=collect_organization_trails(factory, region, gaps),
    )


def _walk(org: Client, root_id: str, gaps: Gaps) -> tuple[list[OrganizationalUnit], list[OrgAccount]]:
    """The OU tree breadth-first from the root, without tags (read afterwards, in parallel)."""
    ous: list[OrganizationalUnit] = []
    accounts: list[OrgAccount] = []
    parents = [root_id]
    while parents:
        parent_id = parents.pop(0)
        try:
            for account in _pages(org, "list_accounts_for_parent", "Accounts", ParentId=parent_id):
                accounts.append(OrgAccount(
                    id=account["Id"],
                    arn=account["Arn"],
                    name=account.get("Name", ""),
                    email=account.get("Email", ""),
                    status=account.get("State") or account.get("Status") or "ACTIVE",
                    parent_id=parent_id,
                ))
        except AWS_ERRORS as exc:
            gaps.record(SERVICE, "ListAccountsForParent", exc, context=f"parent {parent_id}")
        try:
            for ou in _pages(org, "list_organizational_units_for_parent", "OrganizationalUnits",
                             ParentId=parent_id):
                ous.append(OrganizationalUnit(id=ou["Id"], arn=ou["Arn"], name=ou.get("Name", ""),
                                              parent_id=parent_id))
                parents.append(ou["Id"])
        except AWS_ERRORS as exc:
            gaps.record(SERVICE, "ListOrganizationalUnitsForParent", exc, context=f"parent {parent_id}")
    return ous, accounts


def _pages(client: Client, operation: str, key: str, **params: object) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**params):
        items.extend(page.get(key, []))
    return items


def _all_tags(org: Client, resource_ids: list[str], gaps: Gaps, concurrency: int) -> dict[str, dict[str, str]]:
    """Tags of every account, OU and the root, read in parallel; a failed read is a gap and no tags."""
    # Load the paginator model here: the worker threads then only read the client's caches.
    org.get_paginator("list_tags_for_resource")
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix=ORG_TAG_THREADS) as pool:
        answers = list(pool.map(lambda resource_id: _read_tags(org, resource_id), resource_ids))
    tags: dict[str, dict[str, str]] = {}
    # Gaps are recorded here, in walk order, so coverage does not depend on thread scheduling.
    for resource_id, answer in zip(resource_ids, answers, strict=True):
        if isinstance(answer, Exception):
            gaps.record(SERVICE, "ListTagsForResource", answer, context=resource_id)
            tags[resource_id] = {}
        else:
            tags[resource_id] = answer
    return tags


def _read_tags(org: Client, resource_id: str) -> dict[str, str] | Exception:
    try:
        tags = _pages(org, "list_tags_for_resource", "Tags", ResourceId=resource_id)
    except AWS_ERRORS as exc:
        return exc
    return {str(tag["Key"]): str(tag.get("Value", "")) for tag in tags}


def _policies(org: Client, gaps: Gaps) -> list[OrgPolicy]:
    policies: list[OrgPolicy] = []
    for policy_type in POLICY_TYPES:
        try:
            summaries = _pages(org, "list_policies", "Policies", Filter=policy_type)
        except ClientError as exc:
            if error_code(exc) != POLICY_TYPE_NOT_ENABLED:
                gaps.record(SERVICE, "ListPolicies", exc, context=policy_type)
            continue
        except AWS_ERRORS as exc:
            gaps.record(SERVICE, "ListPolicies", exc, context=policy_type)
            continue
        for summary in summaries:
            policy_id = str(summary["Id"])
            raw: str | None
            try:
                raw = org.describe_policy(PolicyId=policy_id)["Policy"].get("Content", "{}")
            except AWS_ERRORS as exc:
                gaps.record(SERVICE, "DescribePolicy", exc, context=policy_id)
                raw = None
            kind = str(summary.get("Type", policy_type))
            document: dict[str, Any] = {}
            content: dict[str, Any] | None = None
            if kind in IAM_POLICY_TYPES:
                document = policy_document("{}" if raw is None else raw, gaps, SERVICE, "DescribePolicy", policy_id)
            elif raw is not None:
                content = _json_content(raw, gaps, policy_id)
            try:
                targets = _pages(org, "list_targets_for_policy", "Targets", PolicyId=policy_id)
            except AWS_ERRORS as exc:
                gaps.record(SERVICE, "ListTargetsForPolicy", exc, context=policy_id)
                targets = []
            policies.append(OrgPolicy(
                id=policy_id,
                arn=str(summary["Arn"]),
                name=str(summary.get("Name", "")),
                type=kind,
                aws_managed=bool(summary.get("AwsManaged", False)),
                document=document,
                content=content,
                target_ids=tuple(str(target["TargetId"]) for target in targets),
            ))
    return policies


def _json_content(raw: object, gaps: Gaps, policy_id: str) -> dict[str, Any] | None:
    """A non-IAM policy's content (tag policy) as a JSON object; anything else is a gap and None."""
    try:
        decoded = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except ValueError:
        decoded = None
    if isinstance(decoded, dict):
        return decoded
    gaps.add(SERVICE, "DescribePolicy", "MalformedPolicyDocument",
             f"{policy_id}: policy content is not a JSON object; not evaluated")
    return None


def _delegated_administrators(org: Client, gaps: Gaps) -> list[str]:
    try:
        admins = _pages(org, "list_delegated_administrators", "DelegatedAdministrators")
    except AWS_ERRORS as exc:
        gaps.record(SERVICE, "ListDelegatedAdministrators", exc)
        return []
    return [str(admin["Id"]) for admin in admins]
