"""Credential hygiene: root, MFA, access key age and use, password policy (from the credential report)."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.engine import RuleContext, rule
from auditor.findings import Issue
from auditor.model import AccountSnapshot, CredentialReportRow

from ._common import account_label, days_since

ROOT = "<root_account>"


def _rows(ctx: RuleContext) -> Iterator[tuple[AccountSnapshot, CredentialReportRow]]:
    for account in ctx.snapshot.accounts:
        if account.iam and account.iam.credential_report:
            for row in account.iam.credential_report:
                yield account, row


def _keys(row: CredentialReportRow) -> list[tuple[int, str | None, str | None]]:
    """(key number, last rotated, last used) for each active access key of a credential-report row."""
    keys = []
    if row.access_key_1_active:
        keys.append((1, row.access_key_1_last_rotated, row.access_key_1_last_used_date))
    if row.access_key_2_active:
        keys.append((2, row.access_key_2_last_rotated, row.access_key_2_last_used_date))
    return keys


@rule(
    id="CRED-001",
    title="Root user has access keys",
    category="credential-hygiene",
    severity="critical",
    rationale="""Root access keys cannot be restricted by IAM policies or SCPs in their own account; whoever
    holds them owns the account.""",
    remediation="""Delete the root access keys (Security credentials page as root); use IAM roles for
    automation. In an organisation, consider centralised root access management to remove root credentials.""",
    compliance={
        "CIS-AWS-3.0.0": ("1.4",),
        "AWS-FSBP": ("IAM.4",),
        "NIST-800-53": ("AC-6",),
        "ISO27001-2022": ("A.8.2",),
    },
    inputs=("iam",),
)
def root_keys(ctx: RuleContext) -> Iterator[Issue]:
    for account, row in _rows(ctx):
        if row.user == ROOT and _keys(row):
            yield Issue(
                account_id=account.account_id,
                resource_arn=row.arn,
                message=f"The root user of {account_label(ctx, account.account_id)} has "
                f"{len(_keys(row))} active access key(s)",
                evidence={
                    "access_keys": [{"key": n, "last_rotated": r, "last_used": u} for n, r, u in _keys(row)]
                },
            )


@rule(
    id="CRED-002",
    title="Root user without MFA",
    category="credential-hygiene",
    severity="critical",
    rationale="""The root user can do anything, including closing the account; a password alone is one
    phishing email away from losing it.""",
    remediation="""Enable MFA (preferably a hardware key or passkey) on the root user, or remove root
    credentials from member accounts with centralised root access management.""",
    compliance={
        "CIS-AWS-3.0.0": ("1.5",),
        "AWS-FSBP": ("IAM.9",),
        "NIST-800-53": ("AC-2",),
    },
    inputs=("iam",),
)
def root_without_mfa(ctx: RuleContext) -> Iterator[Issue]:
    for account, row in _rows(ctx):
        if row.user == ROOT and not row.mfa_active and (row.password_enabled or _keys(row)):
            yield Issue(
                account_id=account.account_id,
                resource_arn=row.arn,
                message=f"The root user of {account_label(ctx, account.account_id)} has no MFA",
                evidence={"mfa_active": False, "password_enabled": row.password_enabled},
            )


@rule(
    id="CRED-003",
    title="Console user without MFA",
    category="credential-hygiene",
    severity="high",
    rationale="""A console password without MFA is the credential most often phished or reused from another
    breach.""",
    remediation="""Require MFA for the user (and deny actions without aws:MultiFactorAuthPresent), or move the
    person to IAM Identity Center and delete the login profile.""",
    compliance={
        "CIS-AWS-3.0.0": ("1.10",),
        "AWS-FSBP": ("IAM.5",),
        "NIST-800-53": ("AC-2",),
        "SOC2": ("CC6.1",),
    },
    inputs=("iam",),
)
def console_without_mfa(ctx: RuleContext) -> Iterator[Issue]:
    for account, row in _rows(ctx):
        if row.user != ROOT and row.password_enabled and not row.mfa_active:
            yield Issue(
                account_id=account.account_id,
                resource_arn=row.arn,
                message=f"IAM user {row.user} can sign in to the console without MFA",
                evidence={
                    "password_enabled": True,
                    "mfa_active": False,
                    "password_last_used": row.password_last_used,
                },
            )


@rule(
    id="CRED-004",
    title="Access key older than the rotation limit",
    category="credential-hygiene",
    severity="medium",
    rationale="""The longer a key lives, the more places it has been copied to (laptops, CI variables, old
    scripts) and the more likely it has leaked.""",
    remediation="""Rotate the key (create a new one, switch consumers, deactivate then delete the old one), or
    better, replace it with a role (IAM Roles Anywhere, OIDC federation for CI).""",
    compliance={
        "CIS-AWS-3.0.0": ("1.14",),
        "AWS-FSBP": ("IAM.3",),
        "NIST-800-53": ("AC-2",),
    },
    inputs=("iam",),
)
def old_key(ctx: RuleContext) -> Iterator[Issue]:
    for account, row in _rows(ctx):
        for number, rotated, used in _keys(row):
            age = days_since(ctx, rotated)
            if age is not None and age > ctx.config.key_max_age_days:
                yield Issue(
                    account_id=account.account_id,
                    resource_arn=row.arn,
                    key=f"key{number}",
                    message=f"Access key {number} of {row.user} is {age} days old",
                    evidence={
                        "key": number,
                        "last_rotated": rotated,
                        "age_days": age,
                        "last_used": used,
                        "limit_days": ctx.config.key_max_age_days,
                    },
                )


@rule(
    id="CRED-005",
    title="Access key unused for a long time",
    category="credential-hygiene",
    severity="medium",
    rationale="""An active key nobody uses is pure risk: it can only be used by someone who should not have
    it.""",
    remediation="""Deactivate the key, wait for complaints, then delete it.""",
    compliance={
        "CIS-AWS-3.0.0": ("1.12",),
        "AWS-FSBP": ("IAM.8", "IAM.22"),
        "NIST-800-53": ("AC-2",),
    },
    inputs=("iam",),
)
def unused_key(ctx: RuleContext) -> Iterator[Issue]:
    for account, row in _rows(ctx):
        for number, rotated, used in _keys(row):
            idle = days_since(ctx, used) if used else days_since(ctx, rotated)
            if idle is not None and idle >= ctx.config.stale_days:
                yield Issue(
                    account_id=account.account_id,
                    resource_arn=row.arn,
                    key=f"key{number}",
                    message=f"Access key {number} of {row.user} has not been used for {idle} days"
                    + ("" if used else " (never used)"),
                    evidence={"key": number, "last_used": used, "last_rotated": rotated, "idle_days": idle},
                )


@rule(
    id="CRED-006",
    title="User with two active access keys",
    category="credential-hygiene",
    severity="low",
    rationale="""Two active keys usually mean a rotation that was never finished: the old key is still valid
    somewhere.""",
    remediation="""Find which key is in use (last-used date), switch consumers to it, deactivate and delete
    the other.""",
    compliance={"CIS-AWS-3.0.0": ("1.13",)},
    inputs=("iam",),
)
def two_keys(ctx: RuleContext) -> Iterator[Issue]:
    for account, row in _rows(ctx):
        if row.user != ROOT and row.access_key_1_active and row.access_key_2_active:
            yield Issue(
                account_id=account.account_id,
                resource_arn=row.arn,
                message=f"IAM user {row.user} has two active access keys",
                evidence={
                    "key_1_last_used": row.access_key_1_last_used_date,
                    "key_2_last_used": row.access_key_2_last_used_date,
                },
            )


@rule(
    id="CRED-007",
    title="Weak or missing IAM password policy",
    category="credential-hygiene",
    severity="medium",
    rationale="""Accounts with IAM console users need a password policy that resists guessing and reuse.""",
    remediation="""Set an account password policy with at least 14 characters and reuse prevention of 24,
    or remove console passwords in favour of IAM Identity Center.""",
    compliance={"CIS-AWS-3.0.0": ("1.8", "1.9"), "AWS-FSBP": ("IAM.7",)},
    inputs=("iam",),
)
def weak_password_policy(ctx: RuleContext) -> Iterator[Issue]:
    for account in ctx.snapshot.accounts:
        rows = account.iam.credential_report if account.iam else None
        if account.iam is None or not any(r.user != ROOT and r.password_enabled for r in rows or ()):
            continue  # the policy only matters where someone signs in with a password
        policy = account.iam.password_policy
        problems = []
        if policy is None:
            problems.append("no password policy is set")
        else:
            if int(policy.get("MinimumPasswordLength", 0)) < 14:
                problems.append(f"minimum length {policy.get('MinimumPasswordLength', 0)} < 14")
            if int(policy.get("PasswordReusePrevention", 0)) < 24:
                problems.append("password reuse prevention below 24")
        if problems:
            yield Issue(
                account_id=account.account_id,
                resource_arn=f"arn:aws:iam::{account.account_id}:root",
                key="password-policy",
                message=f"Account {account_label(ctx, account.account_id)} has console users and "
                + "; ".join(problems),
                evidence={"password_policy": policy, "problems": problems},
            )
