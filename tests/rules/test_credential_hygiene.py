"""Credential hygiene (rules/credential_hygiene.py): CRED-001..007 on credential-report rows built in code.

moto's credential report has no ``<root_account>`` row and cannot age keys through the API, so root
and age cases are seeded here as the report rows real AWS returns (the collector parses both shapes).
"""

from __future__ import annotations

import pytest

from auditor.model import AccountSnapshot, CredentialReportRow, IamData, Manifest, Snapshot
from tests.rules.helpers import NOW, run_rule

FAMILY = ("CRED-001", "CRED-002", "CRED-003", "CRED-004", "CRED-005", "CRED-006", "CRED-007")
ACCOUNT = "111111111111"
ROOT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
STRONG = {"MinimumPasswordLength": 16, "PasswordReusePrevention": 24}


def _row(user: str, **fields: object) -> CredentialReportRow:
    arn = ROOT_ARN if user == "<root_account>" else f"arn:aws:iam::{ACCOUNT}:user/{user}"
    return CredentialReportRow(user=user, arn=arn, **fields)  # type: ignore[arg-type]


def _findings(
    rows: list[CredentialReportRow], password_policy: dict[str, int] | None = None
) -> set[tuple[str, str]]:
    iam = IamData(credential_report=tuple(rows), password_policy=password_policy)
    manifest = Manifest(
        tool_version="0", created_at=NOW.isoformat(), mode="single-account", account_ids=(ACCOUNT,)
    )
    snapshot = Snapshot(
        manifest=manifest, organization=None, accounts=(AccountSnapshot(account_id=ACCOUNT, iam=iam),)
    )
    return {(f.rule_id, f.resource_arn) for rule_id in FAMILY for f in run_rule(rule_id, snapshot)}


def _user(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


@pytest.mark.parametrize(
    ("row", "password_policy", "expected"),
    [
        # root access keys and root without MFA, and their clean twin
        (
            _row(
                "<root_account>",
                password_enabled=True,
                mfa_active=False,
                access_key_1_active=True,
                access_key_1_last_rotated="2026-11-01T00:00:00+00:00",
                access_key_1_last_used_date="2026-11-20T00:00:00+00:00",
            ),
            STRONG,
            {("CRED-001", ROOT_ARN), ("CRED-002", ROOT_ARN)},
        ),
        (_row("<root_account>", password_enabled=True, mfa_active=True), STRONG, set()),
        # console user without MFA (and with a weak password policy), and the MFA twin
        (_row("dave", password_enabled=True, mfa_active=False), STRONG, {("CRED-003", _user("dave"))}),
        (_row("erin", password_enabled=True, mfa_active=True), STRONG, set()),
        (
            _row("erin", password_enabled=True, mfa_active=True),
            {"MinimumPasswordLength": 8},
            {("CRED-007", ROOT_ARN)},
        ),
        (_row("erin", password_enabled=True, mfa_active=True), None, {("CRED-007", ROOT_ARN)}),
        # old key that is used daily: old, not unused
        (
            _row(
                "frank",
                access_key_1_active=True,
                access_key_1_last_rotated="2026-01-01T00:00:00+00:00",
                access_key_1_last_used_date="2026-11-25T00:00:00+00:00",
            ),
            None,
            {("CRED-004", _user("frank"))},
        ),
        # key 100 days old never used: old and unused
        (
            _row("gina", access_key_1_active=True, access_key_1_last_rotated="2026-08-18T00:00:00+00:00"),
            None,
            {("CRED-004", _user("gina")), ("CRED-005", _user("gina"))},
        ),
        # fresh key, used: clean; inactive old key: clean
        (
            _row(
                "hal",
                access_key_1_active=True,
                access_key_1_last_rotated="2026-11-01T00:00:00+00:00",
                access_key_1_last_used_date="2026-11-25T00:00:00+00:00",
            ),
            None,
            set(),
        ),
        (
            _row("ivy", access_key_1_active=False, access_key_1_last_rotated="2020-01-01T00:00:00+00:00"),
            None,
            set(),
        ),
        # two active keys
        (
            _row(
                "jo",
                access_key_1_active=True,
                access_key_1_last_rotated="2026-11-01T00:00:00+00:00",
                access_key_1_last_used_date="2026-11-25T00:00:00+00:00",
                access_key_2_active=True,
                access_key_2_last_rotated="2026-11-10T00:00:00+00:00",
                access_key_2_last_used_date="2026-11-25T00:00:00+00:00",
            ),
            None,
            {("CRED-006", _user("jo"))},
        ),
    ],
)
def test_credential_rules(
    row: CredentialReportRow, password_policy: dict[str, int] | None, expected: set[tuple[str, str]]
) -> None:
    assert _findings([row], password_policy) == expected
