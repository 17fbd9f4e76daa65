"""CIS foundations, identity and access (rules/cis_iam.py): CIS-IAM-001..010. One account that passes every
control is the benign twin; each risky case changes one thing in it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auditor.model import (
    AccessAnalyzer,
    AccountSnapshot,
    CredentialReportRow,
    IamExtras,
    IamRole,
    Resource,
    ServerCertificate,
    Snapshot,
)
from tests.iam_helpers import ADMIN, DEV, account, group, managed, role, root, snapshot, trust, user, user_arn
from tests.rules.helpers import arns, run_rule

REGION = "us-east-1"
SUPPORT = "arn:aws:iam::aws:policy/AWSSupportAccess"
RECENTLY, LONG_AGO = "2026-11-20T00:00:00+00:00", "2026-06-01T00:00:00+00:00"
INSTANCE = f"arn:aws:ec2:{REGION}:{DEV}:instance/i-0123456789abcdef0"
CERT = f"arn:aws:iam::{DEV}:server-certificate/web"


def _root(**fields: object) -> CredentialReportRow:
    return CredentialReportRow(user="<root_account>", arn=root(DEV), **fields)  # type: ignore[arg-type]


def _alice(**fields: object) -> CredentialReportRow:
    values: dict[str, object] = {"password_enabled": True, "password_last_used": RECENTLY,
                                 "user_creation_time": LONG_AGO, **fields}
    return CredentialReportRow(user="alice", arn=user_arn(DEV, "alice"), **values)  # type: ignore[arg-type]


def compliant(*, rows: tuple[CredentialReportRow, ...] = (), roles: tuple[IamRole, ...] | None = None,
              alice_inline: bool = False, admin_policy: bool = False, extras: IamExtras | None = None,
              instance_role: str | None = f"arn:aws:iam::{DEV}:role/app") -> Snapshot:
    """An account that passes every CIS-IAM control; the keyword arguments change one thing."""
    base = account(
        DEV,
        users=[user(DEV, "alice", groups=["people"], inline={"own": ADMIN} if alice_inline else None)],
        groups=[group(DEV, "people", attached=[SUPPORT])],
        roles=roles if roles is not None else [
            role(DEV, "support", trust(root(DEV)), attached=[SUPPORT]),
            role(DEV, "app", trust({"Service": "ec2.amazonaws.com"}),
                 attached=[f"arn:aws:iam::{DEV}:policy/everything"] if admin_policy else ())],
        policies=[managed(DEV, "everything", ADMIN)] if admin_policy else [],
        credential_report=rows or (_root(), _alice()),
        resources=[Resource(arn=INSTANCE, type="ec2:instance", region=REGION, name="web", role_arn=instance_role,
                            instance_profile_arn=instance_role and f"arn:aws:iam::{DEV}:instance-profile/app")],
    )
    default_extras = IamExtras(
        server_certificates=(ServerCertificate(name="web", arn=CERT, expiration="2027-06-01T00:00:00+00:00"),),
        root_virtual_mfa=False,
        access_analyzers={REGION: (AccessAnalyzer(arn=f"arn:aws:access-analyzer:{REGION}:{DEV}:analyzer/a",
                                                  name="a", type="ACCOUNT"),)})
    complete = AccountSnapshot(**{**base.model_dump(), "regions": (REGION,), "iam_extras": extras or default_extras})
    return snapshot(complete)


ANALYZER_OFF = IamExtras(server_certificates=(), root_virtual_mfa=False, access_analyzers={REGION: ()})
EXPIRED = IamExtras(server_certificates=(ServerCertificate(name="web", arn=CERT,
                                                           expiration="2026-01-01T00:00:00+00:00"),),
                    root_virtual_mfa=False, access_analyzers={REGION: ()})
VIRTUAL_ROOT_MFA = IamExtras(server_certificates=(), root_virtual_mfa=True, access_analyzers={})

CASES: list[tuple[str, Callable[[], Snapshot], set[str]]] = [
    ("CIS-IAM-001", lambda: compliant(rows=(_root(password_enabled=True, mfa_active=True), _alice()),
                                      extras=VIRTUAL_ROOT_MFA), {root(DEV)}),
    ("CIS-IAM-002", lambda: compliant(rows=(_root(password_last_used=RECENTLY), _alice())), {root(DEV)}),
    ("CIS-IAM-003", lambda: compliant(rows=(_root(), _alice(access_key_1_active=True))), {user_arn(DEV, "alice")}),
    ("CIS-IAM-004", lambda: compliant(rows=(_root(), _alice(password_last_used=LONG_AGO))),
     {user_arn(DEV, "alice")}),
    ("CIS-IAM-005", lambda: compliant(alice_inline=True), {user_arn(DEV, "alice")}),
    ("CIS-IAM-006", lambda: compliant(admin_policy=True), {f"arn:aws:iam::{DEV}:policy/everything"}),
    ("CIS-IAM-007", lambda: compliant(roles=(role(DEV, "app", trust(root(DEV))),)), {root(DEV)}),
    ("CIS-IAM-008", lambda: compliant(extras=EXPIRED), {CERT}),
    ("CIS-IAM-009", lambda: compliant(extras=ANALYZER_OFF), {root(DEV)}),
    ("CIS-IAM-010", lambda: compliant(instance_role=None), {INSTANCE}),
]


@pytest.mark.parametrize(("rule_id", "risky", "expected"), CASES, ids=[case[0] for case in CASES])
def test_rule_fires_on_the_change_and_not_on_the_compliant_twin(
    rule_id: str, risky: Callable[[], Snapshot], expected: set[str]
) -> None:
    assert arns(run_rule(rule_id, risky())) == expected
    assert run_rule(rule_id, compliant()) == []


def test_cis_iam_001_root_without_any_mfa() -> None:
    (finding,) = run_rule("CIS-IAM-001", compliant(rows=(_root(password_enabled=True), _alice())))
    assert finding.evidence == {"mfa_active": False, "virtual_mfa": False}


def test_cis_iam_003_names_the_key() -> None:
    findings = run_rule("CIS-IAM-003", compliant(rows=(_root(), _alice(access_key_2_active=True))))
    assert [f.evidence["key"] for f in findings] == [2]
