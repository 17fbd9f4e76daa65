"""Environment classification of accounts: config override > account tag > OU path > account name."""

from __future__ import annotations

import pytest

from auditor.config import AuditorConfig, EnvironmentConfig
from auditor.environment import classify_accounts, classify_value
from auditor.model import (
    AccountSnapshot,
    Manifest,
    OrgAccount,
    Organization,
    OrganizationalUnit,
    Snapshot,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prod", "prod"),
        ("Production", "prod"),
        ("PRD", "prod"),
        ("prod-app", "prod"),
        ("dev", "non-prod"),
        ("staging", "non-prod"),
        ("NonProduction", "non-prod"),
        ("non-prod", "non-prod"),
        ("dev-app", "non-prod"),
        ("Sandbox", "sandbox"),
        ("security-audit", "security"),
        ("Log Archive", "security"),
        ("Workloads", None),
        ("legacy-mixed", None),
        ("", None),
        ("product-catalog", None),
    ],
)
def test_classify_value(text: str, expected: str | None) -> None:
    assert classify_value(text) == expected


def _snapshot() -> Snapshot:
    root = "r-root"
    ous = (
        OrganizationalUnit(id="ou-prod", arn="arn:ou/prod", name="Production", parent_id=root),
        OrganizationalUnit(id="ou-work", arn="arn:ou/work", name="Workloads", parent_id=root),
    )
    accounts = (
        OrgAccount(id="111111111111", arn="arn:acct/1", name="payments", parent_id="ou-prod"),
        OrgAccount(id="222222222222", arn="arn:acct/2", name="payments-x", parent_id="ou-prod",
                   tags={"env": "Development"}),
        OrgAccount(id="333333333333", arn="arn:acct/3", name="team-sandbox", parent_id="ou-work"),
        OrgAccount(id="444444444444", arn="arn:acct/4", name="mystery", parent_id="ou-work"),
        OrgAccount(id="555555555555", arn="arn:acct/5", name="mgmt", parent_id=root),
    )
    org = Organization(id="o-1", arn="arn:org", management_account_id="555555555555", root_id=root,
                       organizational_units=ous, accounts=accounts)
    manifest = Manifest(tool_version="t", created_at="2026-01-01T00:00:00+00:00", mode="organization",
                        account_ids=tuple(a.id for a in accounts))
    return Snapshot(manifest=manifest, organization=org,
                    accounts=tuple(AccountSnapshot(account_id=a.id, name=a.name) for a in accounts))


def test_classify_accounts_sources_in_order() -> None:
    result = classify_accounts(_snapshot(), AuditorConfig())
    assert (result["111111111111"].environment, result["111111111111"].source) == (
        "prod", "OU path /Root/Production")
    assert (result["222222222222"].environment, result["222222222222"].source) == (
        "non-prod", "account tag env=Development")
    assert (result["333333333333"].environment, result["333333333333"].source) == (
        "sandbox", "account name team-sandbox")
    assert result["444444444444"].environment == "unknown"
    # the management account (no tag, OU or name saying otherwise) is its own environment, not "security"
    assert (result["555555555555"].environment, result["555555555555"].source) == (
        "management", "organization management account")


def test_config_override_wins() -> None:
    config = AuditorConfig(environments=EnvironmentConfig(accounts={"222222222222": "prod"}))
    result = classify_accounts(_snapshot(), config)
    assert (result["222222222222"].environment, result["222222222222"].source) == (
        "prod", "auditor.yaml override")
