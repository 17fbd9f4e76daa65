"""Collects the AWS Organization: root, OU tree, accounts with their parents, tags, SCPs and
RCPs with their targets, and delegated administrators.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from auditor.collect.iam import policy_document
from auditor.collect.session import AWS_ERRORS, Client, ClientFactory, Gaps, error_code
from auditor.model import OrgAccount, Organization, OrganizationalUnit, OrgPolicy

SERVICE = "organizations"
POLICY_TYPES = ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY")
NOT_IN_ORGANIZATION = "AWSOrganizationsNotInUseException"


def collect_organization(factory: ClientFactory, region: str, gaps: Gaps) -> Organization | None:
    """The caller's organisation, or None for single-account mode (not in an organisation, or no
    permission to read it: the latter is recorded as a coverage gap)."""
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
    root = roots[0]

    ous: list[OrganizationalUnit] = []
    accounts: list[OrgAccount] = []
    parents = [root["Id"]]
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
                    tags=_tags(org, account["Id"], gaps),
                ))
        except AWS_ERRORS as exc:
            gaps.record(SERVICE, "ListAccountsForParent", exc, context=f"parent {parent_id}")
        try:
            for ou in _pages(org, "list_organizational_units_for_parent", "OrganizationalUnits",
                             ParentId=parent_id):
                ous.append(OrganizationalUnit(
                    id=ou["Id"], arn=ou["Arn"], name=ou.get("Name", ""), parent_id=parent_id,
                    tags=_tags(org, ou["Id"], gaps),
                ))
                parents.append(ou["Id"])
        except AWS_ERRORS as exc:
            gaps.record(SERVICE, "ListOrganizationalUnitsForParent", exc, context=f"parent {parent_id}")

    return Organization(
        id=description["Id"],
        arn=description["Arn"],
        management_account_id=description.get("MasterAccountId", ""),
        root_id=root["Id"],
        root_tags=_tags(org, root["Id"], gaps),
        organizational_units=tuple(ous),
        accounts=tuple(accounts),
        policies=tuple(_policies(org, gaps)),
        delegated_administrators=tuple(_delegated_administrators(org, gaps)),
    )


def _pages(client: Client, operation: str, key: str, **params: object) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**params):
        items.extend(page.get(key, []))
    return items


def _tags(org: Client, resource_id: str, gaps: Gaps) -> dict[str, str]:
    try:
        tags = _pages(org, "list_tags_for_resource", "Tags", ResourceId=resource_id)
    except AWS_ERRORS as exc:
        gaps.record(SERVICE, "ListTagsForResource", exc, context=resource_id)
        return {}
    return {str(tag["Key"]): str(tag.get("Value", "")) for tag in tags}


def _policies(org: Client, gaps: Gaps) -> list[OrgPolicy]:
    policies: list[OrgPolicy] = []
    for policy_type in POLICY_TYPES:
        try:
            summaries = _pages(org, "list_policies", "Policies", Filter=policy_type)
        except AWS_ERRORS as exc:
            gaps.record(SERVICE, "ListPolicies", exc, context=policy_type)
            continue
        for summary in summaries:
            policy_id = str(summary["Id"])
            try:
                content = org.describe_policy(PolicyId=policy_id)["Policy"].get("Content", "{}")
            except AWS_ERRORS as exc:
                gaps.record(SERVICE, "DescribePolicy", exc, context=policy_id)
                content = "{}"
            document = policy_document(content, gaps, SERVICE, "DescribePolicy", policy_id)
            try:
                targets = _pages(org, "list_targets_for_policy", "Targets", PolicyId=policy_id)
            except AWS_ERRORS as exc:
                gaps.record(SERVICE, "ListTargetsForPolicy", exc, context=policy_id)
                targets = []
            policies.append(OrgPolicy(
                id=policy_id,
                arn=str(summary["Arn"]),
                name=str(summary.get("Name", "")),
                type=str(summary.get("Type", policy_type)),
                aws_managed=bool(summary.get("AwsManaged", False)),
                document=document,
                target_ids=tuple(str(target["TargetId"]) for target in targets),
            ))
    return policies


def _delegated_administrators(org: Client, gaps: Gaps) -> list[str]:
    try:
        admins = _pages(org, "list_delegated_administrators", "DelegatedAdministrators")
    except AWS_ERRORS as exc:
        gaps.record(SERVICE, "ListDelegatedAdministrators", exc)
        return []
    return [str(admin["Id"]) for admin in admins]
