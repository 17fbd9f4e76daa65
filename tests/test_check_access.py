"""`auditor check-access`: the preflight assumes the audit role in every account and says which fail and why."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from auditor.cli import main
from tests.collect_helpers import hook_every_session

REGION = "us-east-1"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


@pytest.fixture
def organization() -> Any:
    with mock_aws():
        org = boto3.client("organizations", region_name=REGION)
        org.create_organization(FeatureSet="ALL")
        ids = [org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]["AccountId"]
               for name in ("prod-app", "dev-app")]
        yield dict(zip(("prod", "dev"), ids, strict=True))


def test_every_account_is_checked_and_a_refused_role_is_named(
    organization: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if f"::{organization['dev']}:" in str(params.get("RoleArn", "")):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized to assume"}},
                              "AssumeRole")

    def record(model: Any, **_: Any) -> None:
        calls.append(f"{model.service_model.service_name}:{model.name}")

    hook_every_session(monkeypatch, "provide-client-params.sts.AssumeRole", refuse)
    hook_every_session(monkeypatch, "before-parameter-build", record)
    code, out, err = run(["check-access", "--role-name", "OrgAudit", "--external-id", "Secret-9"], capsys)
    lines = out.splitlines()
    assert code == 3 and err == "exit 3: 1 account cannot be audited\n"
    assert lines[0].split()[:2] == ["123456789012", "master"] and " ok " in lines[0]
    assert "read with your own credentials" in lines[0]
    prod = next(line for line in lines if line.startswith(organization["prod"]))
    dev = next(line for line in lines if line.startswith(organization["dev"]))
    assert " ok " in prod and f"assumed arn:aws:sts::{organization['prod']}:assumed-role/OrgAudit/" in prod
    assert "FAILED" in dev and dev.endswith("sts:AssumeRole: AccessDenied: not authorized to assume")
    assert lines[-1] == "2 of 3 accounts can be audited with role OrgAudit"
    assert "Secret-9" not in out + err
    from auditor.collect.readonly import ALLOWED_OPERATIONS

    assert set(calls) <= set(ALLOWED_OPERATIONS)
    assert "iam:GetAccountSummary" in calls  # the role is used to read, not only assumed


def test_all_accounts_reachable_exits_0(organization: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["check-access", "--exclude-accounts", organization["dev"], "--quiet"], capsys)
    assert (code, out, err) == (0, "", "")
