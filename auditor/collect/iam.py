"""Collects one account's IAM: authorization details (users, groups, roles, managed policies),
the credential report, the account summary and the password policy.

The credential report is asked for first and read last (``CredentialReport``), so that IAM builds
it while the other reads of the account go on.
"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from auditor.collect.session import AWS_ERRORS, Client, ClientFactory, Gaps, error_code
from auditor.model import (
    CredentialReportRow,
    IamData,
    IamGroup,
    IamRole,
    IamUser,
    InlinePolicy,
    ManagedPolicy,
    PolicyDocument,
)

SERVICE = "iam"
AUTHORIZATION_FILTER = ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"]
AUTHORIZATION_PAGE_SIZE = 1000  # GetAccountAuthorizationDetails' MaxItems maximum (the default is 100)
REPORT_POLL_SECONDS = (0.1, 0.2, 0.5, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2)  # about 27 s in all
REPORT_NONE_VALUES = frozenset({"", "N/A", "no_information", "not_supported"})


def policy_document(raw: object, gaps: Gaps, service: str, operation: str, context: str) -> PolicyDocument:
    """A policy document as a dict, whether AWS sent a dict, JSON text or URL-encoded JSON text.

    A document that cannot be decoded is kept raw as ``{"_unparseable": raw}`` and recorded as a gap.
    """
    if isinstance(raw, dict):
        return raw
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    for candidate in (text, urllib.parse.unquote(text)):
        try:
            decoded = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(decoded, dict):
            return decoded
    gaps.add(service, operation, "MalformedPolicyDocument",
             f"{context}: policy document is not a JSON object; kept raw")
    return {"_unparseable": text}


def collect_iam(
    factory: ClientFactory, region: str, gaps: Gaps, credential_report: CredentialReport | None = None
) -> IamData:
    """The account's IAM. With ``credential_report`` (started earlier by the caller) the report is left
    out here (``credential_report=None`` in the answer) for the caller to read when it wants."""
    iam = factory.client(SERVICE, region)
    report = credential_report or CredentialReport(iam, gaps)
    users: tuple[IamUser, ...] = ()
    groups: tuple[IamGroup, ...] = ()
    roles: tuple[IamRole, ...] = ()
    policies: tuple[ManagedPolicy, ...] = ()
    try:
        details = _authorization_details(iam)
    except AWS_ERRORS as exc:
        gaps.record(SERVICE, "GetAccountAuthorizationDetails", exc)
    else:
        users = tuple(_user(item, gaps) for item in details["UserDetailList"])
        groups = tuple(_group(item, gaps) for item in details["GroupDetailList"])
        roles = tuple(_role(item, gaps) for item in details["RoleDetailList"])
        policies = tuple(
            _managed_policy(item, gaps)
            for item in details["Policies"]
            if not _aws_managed(item["Arn"]) or int(item.get("AttachmentCount", 0)) > 0
        )
    return IamData(
        users=users,
        groups=groups,
        roles=roles,
        policies=policies,
        credential_report=None if credential_report else report.rows(),
        account_summary=_account_summary(iam, gaps),
        password_policy=_password_policy(iam, gaps),
        credential_report_generated_at=None if credential_report else report.generated_at,
    )


def _authorization_details(iam: Client) -> dict[str, list[dict[str, Any]]]:
    merged: dict[str, list[dict[str, Any]]] = {
        "UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": [],
    }
    paginator = iam.get_paginator("get_account_authorization_details")
    for page in paginator.paginate(Filter=AUTHORIZATION_FILTER,
                                   PaginationConfig={"PageSize": AUTHORIZATION_PAGE_SIZE}):
        for key, items in merged.items():
            items.extend(page.get(key, []))
    return merged


def _aws_managed(arn: str) -> bool:
    return ":iam::aws:policy/" in arn


def _iso(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value or "")


def _tags(item: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag.get("Value", "") for tag in item.get("Tags", [])}


def _inline(
    entries: list[dict[str, Any]], gaps: Gaps, operation: str, owner: str
) -> tuple[InlinePolicy, ...]:
    return tuple(
        InlinePolicy(
            name=entry["PolicyName"],
            document=policy_document(entry.get("PolicyDocument", {}), gaps, SERVICE, operation,
                                     f"{owner} inline policy {entry['PolicyName']}"),
        )
        for entry in entries
    )


def _attached(item: dict[str, Any]) -> tuple[str, ...]:
    return tuple(policy["PolicyArn"] for policy in item.get("AttachedManagedPolicies", []))


def _boundary(item: dict[str, Any]) -> str | None:
    boundary = item.get("PermissionsBoundary") or {}
    arn = boundary.get("PermissionsBoundaryArn")
    return str(arn) if arn else None


def _user(item: dict[str, Any], gaps: Gaps) -> IamUser:
    return IamUser(
        arn=item["Arn"],
        name=item["UserName"],
        user_id=item.get("UserId", ""),
        path=item.get("Path", "/"),
        create_date=_iso(item.get("CreateDate")),
        group_names=tuple(item.get("GroupList", [])),
        inline_policies=_inline(item.get("UserPolicyList", []), gaps, "GetAccountAuthorizationDetails",
                                item["Arn"]),
        attached_policy_arns=_attached(item),
        permission_boundary_arn=_boundary(item),
        tags=_tags(item),
    )


def _group(item: dict[str, Any], gaps: Gaps) -> IamGroup:
    return IamGroup(
        arn=item["Arn"],
        name=item["GroupName"],
        path=item.get("Path", "/"),
        inline_policies=_inline(item.get("GroupPolicyList", []), gaps, "GetAccountAuthorizationDetails",
                                item["Arn"]),
        attached_policy_arns=_attached(item),
    )


def _role(item: dict[str, Any], gaps: Gaps) -> IamRole:
    last_used = (item.get("RoleLastUsed") or {}).get("LastUsedDate")
    return IamRole(
        arn=item["Arn"],
        name=item["RoleName"],
        role_id=item.get("RoleId", ""),
        path=item.get("Path", "/"),
        create_date=_iso(item.get("CreateDate")),
        trust_policy=policy_document(item.get("AssumeRolePolicyDocument", {}), gaps, SERVICE,
                                     "GetAccountAuthorizationDetails", f"{item['Arn']} trust policy"),
        inline_policies=_inline(item.get("RolePolicyList", []), gaps, "GetAccountAuthorizationDetails",
                                item["Arn"]),
        attached_policy_arns=_attached(item),
        permission_boundary_arn=_boundary(item),
        instance_profile_arns=tuple(profile["Arn"] for profile in item.get("InstanceProfileList", [])),
        tags=_tags(item),
        last_used=_iso(last_used) if last_used else None,
    )


def _managed_policy(item: dict[str, Any], gaps: Gaps) -> ManagedPolicy:
    arn = item["Arn"]
    versions = item.get("PolicyVersionList", [])
    default = next((v for v in versions if v.get("IsDefaultVersion")), None)
    if default is None:
        default = next((v for v in versions if v.get("VersionId") == item.get("DefaultVersionId")), None)
    if default is None:
        gaps.add(SERVICE, "GetAccountAuthorizationDetails", "NoDefaultVersion",
                 f"{arn}: default policy version missing from the answer")
        document: PolicyDocument = {}
    else:
        document = policy_document(default.get("Document", {}), gaps, SERVICE,
                                   "GetAccountAuthorizationDetails", arn)
    return ManagedPolicy(
        arn=arn,
        # GetAccountAuthorizationDetails may omit PolicyName (moto does): the ARN ends with it.
        name=item.get("PolicyName") or arn.rsplit("/", 1)[-1],
        document=document,
        attachment_count=int(item.get("AttachmentCount", 0)),
        aws_managed=_aws_managed(arn),
    )


def start_credential_report(factory: ClientFactory, region: str, gaps: Gaps) -> CredentialReport:
    """Ask IAM to build the account's credential report now; read it later with ``rows()``."""
    return CredentialReport(factory.client(SERVICE, region), gaps)


class CredentialReport:
    """The account's credential report: generation is asked for on creation, ``rows()`` reads it.

    Between the two the caller does its other reads, so IAM's generation time is rarely waited for.
    Every failure becomes one gap, recorded by ``rows()``.
    """

    NOT_READY = frozenset({"ReportInProgress", "ReportNotPresent", "ReportExpired"})

    def __init__(self, iam: Client, gaps: Gaps) -> None:
        self._iam = iam
        self._gaps = gaps
        self._error: Exception | None = None
        self.generated_at: str | None = None
        try:
            iam.generate_credential_report()
        except AWS_ERRORS as exc:
            self._error = exc

    def rows(self) -> tuple[CredentialReportRow, ...] | None:
        if self._error is not None:
            self._gaps.record(SERVICE, "GetCredentialReport", self._error)
            return None
        try:
            content = self._content()
        except AWS_ERRORS as exc:
            self._gaps.record(SERVICE, "GetCredentialReport", exc)
            return None
        if content is None:
            self._gaps.add(SERVICE, "GenerateCredentialReport", "ReportNotComplete",
                           "the credential report was still being generated; not collected")
            return None
        text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
        return parse_credential_report(text)

    def _content(self) -> object | None:
        """The report's content, polling (bounded) while IAM still builds it; None if it never finished."""
        for pause in REPORT_POLL_SECONDS:
            try:
                answer = self._iam.get_credential_report()
                self.generated_at = _iso(answer["GeneratedTime"]) if answer.get("GeneratedTime") else None
                content: object = answer["Content"]
                return content
            except ClientError as exc:
                code = error_code(exc)
                if code not in self.NOT_READY:
                    raise
                if code != "ReportInProgress":  # none yet, or too old: ask again
                    self._iam.generate_credential_report()
            time.sleep(pause)
        return None


def _optional(value: str | None) -> str | None:
    return None if value is None or value.strip() in REPORT_NONE_VALUES else value.strip()


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def parse_credential_report(text: str) -> tuple[CredentialReportRow, ...]:
    """Parse the credential report CSV (with or without its ``<root_account>`` row)."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        rows.append(CredentialReportRow(
            user=row.get("user", ""),
            arn=row.get("arn", ""),
            user_creation_time=_optional(row.get("user_creation_time")) or "",
            password_enabled=_flag(row.get("password_enabled")),
            password_last_used=_optional(row.get("password_last_used")),
            mfa_active=_flag(row.get("mfa_active")),
            access_key_1_active=_flag(row.get("access_key_1_active")),
            access_key_1_last_rotated=_optional(row.get("access_key_1_last_rotated")),
            access_key_1_last_used_date=_optional(row.get("access_key_1_last_used_date")),
            access_key_2_active=_flag(row.get("access_key_2_active")),
            access_key_2_last_rotated=_optional(row.get("access_key_2_last_rotated")),
            access_key_2_last_used_date=_optional(row.get("access_key_2_last_used_date")),
        ))
    return tuple(rows)


def _account_summary(iam: Client, gaps: Gaps) -> dict[str, int]:
    try:
        summary = iam.get_account_summary()["SummaryMap"]
    except AWS_ERRORS as exc:
        gaps.record(SERVICE, "GetAccountSummary", exc)
        return {}
    return {str(key): int(value) for key, value in summary.items()}


def _password_policy(iam: Client, gaps: Gaps) -> dict[str, Any] | None:
    try:
        return dict(iam.get_account_password_policy()["PasswordPolicy"])
    except ClientError as exc:
        if error_code(exc) != "NoSuchEntity":
            gaps.record(SERVICE, "GetAccountPasswordPolicy", exc)
        return None
    except AWS_ERRORS as exc:
        gaps.record(SERVICE, "GetAccountPasswordPolicy", exc)
        return None
