"""REACH-001: every principal that is or can become administrator of an account, with its path."""

from __future__ import annotations

from datetime import UTC, date, datetime

from auditor.analyze import RuleSelection, analyze
from auditor.config import AuditorConfig
from auditor.model import Snapshot
from auditor.suppressions import Suppression
from tests.iam_helpers import (
    ADMIN,
    DEV,
    account,
    allow,
    aws_managed,
    doc,
    role,
    role_arn,
    root,
    snapshot,
    trust,
    user,
    user_arn,
)

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
ACCOUNT_ARN = root(DEV)  # a single-account audit names the account by its root ARN


def single_account() -> Snapshot:
    """One account, no organisation: a direct admin, a same-account chain to admin, and their benign twins."""
    return snapshot(
        account(
            DEV,
            users=[
                user(DEV, "ops", attached=[ADMIN_ARN]),  # admin directly
                user(DEV, "dev", inline={"a": doc(allow("sts:AssumeRole", role_arn(DEV, "deployer")))}),  # chain
                user(DEV, "viewer", inline={"a": doc(allow("sts:AssumeRole", role_arn(DEV, "reader")))}),  # twin
                user(DEV, "intern", inline={"a": doc(allow("s3:GetObject"))}),  # twin: may assume nothing
            ],
            roles=[
                role(
                    DEV,
                    "deployer",
                    trust(root(DEV)),
                    inline={"a": doc(allow("sts:AssumeRole", role_arn(DEV, "platform-admin")))},
                ),
                role(DEV, "platform-admin", trust(role_arn(DEV, "deployer")), attached=[ADMIN_ARN]),
                role(DEV, "reader", trust(root(DEV)), inline={"r": doc(allow("s3:GetObject"))}),
            ],
            policies=[aws_managed("AdministratorAccess", ADMIN)],
        )
    )


def test_effective_admins_in_a_single_account_audit() -> None:
    result = analyze(single_account(), AuditorConfig(), RuleSelection(only=("REACH-001",)), now=NOW)
    found = {(f.resource_arn, f.account_id, f.path, f.severity) for f in result.findings}
    admin_role, deployer = role_arn(DEV, "platform-admin"), role_arn(DEV, "deployer")
    assert found == {
        (user_arn(DEV, "ops"), DEV, (user_arn(DEV, "ops"), ACCOUNT_ARN), "high"),
        (admin_role, DEV, (admin_role, ACCOUNT_ARN), "high"),
        (deployer, DEV, (deployer, admin_role, ACCOUNT_ARN), "high"),
        (user_arn(DEV, "dev"), DEV, (user_arn(DEV, "dev"), deployer, admin_role, ACCOUNT_ARN), "high"),
    }
    chain = next(f for f in result.findings if f.resource_arn == user_arn(DEV, "dev"))
    assert chain.rule_id == "REACH-001" and chain.category == "privilege-escalation"
    assert chain.message == f"{user_arn(DEV, 'dev')} can become administrator of account acct-4444 ({DEV}) in 3 hops"
    assert chain.evidence["via"] == ["can-assume", "is-admin-of"]


def test_break_glass_path_is_suppressed_never_invisible() -> None:
    break_glass = Suppression(
        index=1,
        reason="break-glass admin, alarmed on use",
        owner="security",
        expires=date(2099, 1, 1),
        rule_id="REACH-001",
        arn=user_arn(DEV, "ops"),
    )
    selection = RuleSelection(only=("REACH-001",), suppressions=(break_glass,))
    result = analyze(single_account(), AuditorConfig(), selection, now=NOW)
    assert user_arn(DEV, "ops") not in {f.resource_arn for f in result.findings}
    assert [(s.finding.resource_arn, s.suppression["reason"]) for s in result.suppressed] == [
        (user_arn(DEV, "ops"), "break-glass admin, alarmed on use")
    ]
