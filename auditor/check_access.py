"""``auditor check-access``: before a long run, can the audit role be assumed in every account, and can it
read there? Read-only like collection: ListAccounts, then per account AssumeRole, GetCallerIdentity and
iam:GetAccountSummary through the same guarded clients as the collectors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from auditor.collect.run import DEFAULT_REGION, CollectOptions, _caller_identity
from auditor.collect.session import ApiCallCounter, ClientFactory, SessionMaker, error_code_and_message
from auditor.errors import UserError

NOT_IN_ORGANIZATION = "AWSOrganizationsNotInUseException"


@dataclass(frozen=True)
class AccessCheck:
    """One account: whether the auditor can read it, and how, or why not."""

    account_id: str
    name: str
    ok: bool
    detail: str  # the identity the auditor reads with, or "<step>: <error code>: <message>"


def _accounts(caller: ClientFactory, region: str, caller_account: str) -> list[tuple[str, str, str]]:
    """(account id, name, status) of every account of the organisation; the caller's account alone when
    it is in none."""
    org = caller.client("organizations", region)
    try:
        management = org.describe_organization()["Organization"]["MasterAccountId"]
    except ClientError as exc:
        code, message = error_code_and_message(exc)
        if code == NOT_IN_ORGANIZATION:
            return [(caller_account, "", "ACTIVE")]
        raise UserError(
            f"cannot read the organisation: organizations:DescribeOrganization: {code}: {message}"
        ) from None
    try:
        accounts = [
            (str(a["Id"]), str(a.get("Name", "")), str(a.get("Status", "ACTIVE")))
            for page in org.get_paginator("list_accounts").paginate() for a in page["Accounts"]
        ]
    except ClientError as exc:
        code, message = error_code_and_message(exc)
        raise UserError(f"cannot list the organisation's accounts: organizations:ListAccounts: {code}: {message} "
                        "(run from the management account or a delegated administrator)") from None
    return sorted(accounts, key=lambda a: (a[0] != management, a[0]))


def check_access(session: boto3.Session, options: CollectOptions) -> list[AccessCheck]:
    """One check per selected account, the caller's own account (read with its own credentials) first."""
    region = session.region_name or DEFAULT_REGION
    counter = ApiCallCounter()
    caller = ClientFactory(session, "", counter)
    sts = caller.client("sts", region)
    caller_arn, caller_account = _caller_identity(sts)
    partition = caller_arn.split(":")[1] if caller_arn.count(":") >= 5 else "aws"
    accounts = _accounts(caller, region, caller_account)
    known = {account_id for account_id, _, _ in accounts}
    unknown = [a for a in options.accounts if a not in known]
    if unknown:
        raise UserError(f"account {', '.join(unknown)} is not in the organisation: check --accounts")
    selected = [a for a in accounts if (not options.accounts or a[0] in options.accounts)
                and a[0] not in options.exclude_accounts]
    makers = SessionMaker()

    def check(account: tuple[str, str, str]) -> AccessCheck:
        account_id, name, status = account
        if status != "ACTIVE":
            return AccessCheck(account_id, name, False, f"account is {status}: it will not be audited")
        if account_id == caller_account:
            return AccessCheck(account_id, name, True, f"read with your own credentials ({caller_arn})")
        step = "sts:AssumeRole"
        try:
            assumed = makers.assume_role(sts, account_id, options.role_name, options.external_id, region, partition)
            member = ClientFactory(assumed, account_id, counter)
            step = "sts:GetCallerIdentity"
            arn = str(member.client("sts", region).get_caller_identity()["Arn"])
            step = "iam:GetAccountSummary"
            member.client("iam", region).get_account_summary()
        except (ClientError, BotoCoreError) as exc:
            code, message = error_code_and_message(exc)
            return AccessCheck(account_id, name, False, f"{step}: {code}: {message}")
        return AccessCheck(account_id, name, True, f"assumed {arn}")

    with ThreadPoolExecutor(max_workers=options.concurrency, thread_name_prefix="account-check") as pool:
        return list(pool.map(check, selected))
