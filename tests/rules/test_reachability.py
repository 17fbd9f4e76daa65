"""Reachability and escalation (rules/reachability.py): XENV-001/002, EXT-001, PRIVESC-001 and REACH-001 on
organisations built in code, each risky case beside its benign twin, asserted on exact paths."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from auditor.analyze import RuleSelection, analyze
from auditor.config import AuditorConfig
from auditor.model import AccountSnapshot, Snapshot
from auditor.suppressions import Suppression
from tests.iam_helpers import (
    ADMIN,
    DEV,
    EXTERNAL,
    MGMT,
    PROD,
    account,
    allow,
    aws_managed,
    doc,
    organization,
    role,
    role_arn,
    root,
    snapshot,
    trust,
    user,
    user_arn,
)
from tests.rules.helpers import run_rule

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
    findings = run_rule("REACH-001", single_account(), now=NOW)
    found = {(f.resource_arn, f.account_id, f.path, f.severity) for f in findings}
    admin_role, deployer = role_arn(DEV, "platform-admin"), role_arn(DEV, "deployer")
    assert found == {
        (user_arn(DEV, "ops"), DEV, (user_arn(DEV, "ops"), ACCOUNT_ARN), "high"),
        (admin_role, DEV, (admin_role, ACCOUNT_ARN), "high"),
        (deployer, DEV, (deployer, admin_role, ACCOUNT_ARN), "high"),
        (user_arn(DEV, "dev"), DEV, (user_arn(DEV, "dev"), deployer, admin_role, ACCOUNT_ARN), "high"),
    }
    chain = next(f for f in findings if f.resource_arn == user_arn(DEV, "dev"))
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


# --- cross-environment, external and escalation ------------------------------------------------------------

WRITE = doc(allow("s3:PutObject", "arn:aws:s3:::orders/*"))
DEPLOY, CI = role_arn(PROD, "deploy"), role_arn(DEV, "ci")
PROD_ACCOUNT = f"arn:aws:organizations::{MGMT}:account/o-abcdefghij/{PROD}"


def _org(*accounts: AccountSnapshot) -> Snapshot:
    present = {a.account_id for a in accounts}
    return snapshot(*accounts, *(account(a) for a in (MGMT, PROD, DEV) if a not in present), org=organization())


def _dev_ci_into(prod_role_policy: dict[str, Any], trusted: str = CI) -> Snapshot:
    """dev's CI role may assume prod's deploy role, which trusts ``trusted`` and holds ``prod_role_policy``."""
    return _org(
        account(DEV, roles=[role(DEV, "ci", trust(root(DEV)), inline={"a": doc(allow("sts:AssumeRole", DEPLOY))})]),
        account(PROD, roles=[role(PROD, "deploy", trust(trusted), inline={"p": prod_role_policy})]),
    )


def test_xenv_001_non_production_principal_assumes_a_production_role() -> None:
    (finding,) = run_rule("XENV-001", _dev_ci_into(WRITE))
    assert (finding.resource_arn, finding.account_id, finding.path) == (DEPLOY, PROD, (CI, DEPLOY))
    assert finding.evidence["source_environment"] == "non-prod"
    assert run_rule("XENV-001", _dev_ci_into(WRITE, trusted=root(PROD))) == []  # twin: prod trusts prod only
    assert run_rule("XENV-001", _dev_ci_into(ADMIN)) == []  # a hop straight into admin is XENV-002's


def test_xenv_002_non_production_principal_reaches_production_admin() -> None:
    findings = run_rule("XENV-002", _dev_ci_into(ADMIN))
    assert {(f.resource_arn, f.account_id, f.path) for f in findings} == {
        (CI, PROD, (CI, DEPLOY, PROD_ACCOUNT))}
    assert run_rule("XENV-002", _dev_ci_into(WRITE)) == []  # twin: the production role is not admin


def test_ext_001_role_trusting_an_account_outside_the_organisation() -> None:
    vendor = root(EXTERNAL)
    vendor_role = role(PROD, "vendor", trust(vendor), inline={"p": WRITE})
    (finding,) = run_rule("EXT-001", _org(account(PROD, roles=[vendor_role])))
    assert (finding.resource_arn, finding.path, finding.severity) == (
        role_arn(PROD, "vendor"), (vendor, role_arn(PROD, "vendor")), "high")
    with_external_id = trust(vendor, condition={"StringEquals": {"sts:ExternalId": "agreed"}})
    (scoped,) = run_rule("EXT-001", _org(account(PROD, roles=[role(PROD, "vendor", with_external_id,
                                                                  inline={"p": WRITE})])))
    assert scoped.severity == "medium"
    inside = _org(account(PROD, roles=[role(PROD, "vendor", trust(root(DEV)), inline={"p": WRITE})]))
    assert run_rule("EXT-001", inside) == []  # twin: an account of the organisation


def test_privesc_001_principal_can_make_itself_admin() -> None:
    attach = doc(allow("iam:AttachUserPolicy", user_arn(PROD, "builder")))
    findings = run_rule("PRIVESC-001", _org(account(PROD, users=[user(PROD, "builder", inline={"p": attach})])))
    assert {(f.resource_arn, f.account_id) for f in findings} == {(user_arn(PROD, "builder"), PROD)}
    assert findings[0].path[0] == user_arn(PROD, "builder")
    others = doc(allow("iam:AttachUserPolicy", user_arn(PROD, "someone-else")))
    twin = _org(account(PROD, users=[user(PROD, "builder", inline={"p": others}), user(PROD, "someone-else")]))
    assert run_rule("PRIVESC-001", twin) == []  # twin: may only change a user it cannot become
