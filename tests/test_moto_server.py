"""`auditor audit` against a moto server on 127.0.0.1 through AWS_ENDPOINT_URL, as a real subprocess:
the unchanged production command, credentials from the environment, exit codes for CI gating."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from auditor.demo import DemoOrganization, seed_demo_organization

# What moto's server does not implement (HTTP 500 there; in-process tests answer them with
# auditor.simulated_services): each is a coverage gap of a run against it, never a crash.
MOTO_SERVER_LACKS = {("apprunner", "ListServices"), ("bedrock-agentcore-control", "ListCodeInterpreters"),
                     ("accessanalyzer", "ListAnalyzers"),
                     # a custom endpoint cannot take S3 Control's account-id host prefix
                     ("s3", "GetPublicAccessBlock")}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, DemoOrganization]]:
    moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto_server.start()
    host, port = moto_server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
        demo = seed_demo_organization("us-east-1")
    try:
        yield endpoint, demo
    finally:
        moto_server.stop()


def _audit(
    endpoint: str, out: Path, *args: str, credentials: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # AWS_MAX_ATTEMPTS: the standard SDK setting; moto answers a missing operation with HTTP 500, which
    # would otherwise be retried 10 times with back-off.
    env.update(AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="2")
    if credentials:
        env.update(AWS_ACCESS_KEY_ID=credentials["aws_access_key_id"],
                   AWS_SECRET_ACCESS_KEY=credentials["aws_secret_access_key"],
                   AWS_SESSION_TOKEN=credentials["aws_session_token"])
    return subprocess.run(
        [sys.executable, "-m", "auditor", "audit", "--out", str(out), "--quiet", *args],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )


def test_audit_through_moto_server(server: tuple[str, DemoOrganization], tmp_path: Path) -> None:
    endpoint, demo = server
    broken = demo.accounts["broken"]
    result = _audit(endpoint, tmp_path, "--external-id", demo.external_id, "--exclude-accounts", broken,
                    "--format", "json,html", "--regions", "us-east-1")
    # moto's server does not implement sso-admin:GetPermissionsBoundaryForPermissionSet, App Runner nor AgentCore
    # code interpreters: those calls are coverage gaps (exit 3, "partial"), and everything else is complete.
    assert result.returncode == 3, result.stderr
    gaps = json.loads((tmp_path / "snapshot" / "coverage.json").read_text())
    assert {(g["service"], g["operation"]) for g in gaps} == {
        ("sso-admin", "GetPermissionsBoundaryForPermissionSet"), *MOTO_SERVER_LACKS}
    document = json.loads((tmp_path / "findings.json").read_text())
    assert (tmp_path / "report.html").exists() and not (tmp_path / "findings.csv").exists()
    audited = {a["id"] for a in document["accounts"] if a["audited"]}
    assert broken not in audited and demo.accounts["prod-app"] in audited
    admin_users = {f["resource_arn"] for f in document["findings"] if f["rule_id"] == "ADMIN-001"}
    assert f"arn:aws:iam::{demo.accounts['dev-app']}:user/alice" in admin_users
    assert (tmp_path / "snapshot" / "manifest.json").exists()


def test_fail_on_gates_ci(server: tuple[str, DemoOrganization], tmp_path: Path) -> None:
    endpoint, demo = server
    result = _audit(endpoint, tmp_path, "--accounts", demo.accounts["prod-app"], "--format", "json",
                    "--fail-on", "critical", "--regions", "us-east-1")
    assert result.returncode == 1, result.stderr
    document = json.loads((tmp_path / "findings.json").read_text())
    assert {a["id"] for a in document["accounts"]} == {demo.accounts["prod-app"]}
    assert any(f["severity"] == "critical" for f in document["findings"])


def test_single_account_without_organization(server: tuple[str, DemoOrganization], tmp_path: Path) -> None:
    """The article's starting point: one account, no Organization, audited with just its credentials."""
    endpoint, _ = server
    standalone = "210987654321"  # outside the demo organisation: moto binds these credentials to it
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ENDPOINT_URL", endpoint)
        credentials = boto3.client("sts", region_name="us-east-1").assume_role(
            RoleArn=f"arn:aws:iam::{standalone}:role/Admin", RoleSessionName="seed")["Credentials"]
        keys = {"aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"]}
        iam = boto3.client("iam", region_name="us-east-1", **keys)
        iam.create_user(UserName="ops")
        policy = iam.create_policy(PolicyName="admin", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        iam.attach_user_policy(UserName="ops", PolicyArn=policy["Policy"]["Arn"])
    result = _audit(endpoint, tmp_path, "--format", "json", credentials=keys)
    assert result.returncode == 3, result.stderr  # partial: only what moto's server lacks
    gaps = {(g["service"], g["operation"]) for g in json.loads((tmp_path / "snapshot" / "coverage.json").read_text())}
    # In some Regions moto's server routes Data Pipeline and Bedrock Agents requests to a Region it has no
    # backend for (KeyError, HTTP 500): those may be gaps too, in every Region run only.
    assert MOTO_SERVER_LACKS <= gaps <= MOTO_SERVER_LACKS | {("datapipeline", "ListPipelines"),
                                                            ("bedrock-agent", "ListAgents")}
    document = json.loads((tmp_path / "findings.json").read_text())
    assert document["organization"] == {"id": None, "management_account_id": None}
    assert [a["id"] for a in document["accounts"]] == [standalone]
    found = {(f["rule_id"], f["resource_arn"]) for f in document["findings"]}
    assert (("ORG-001", f"arn:aws:iam::{standalone}:root")) in found
    assert ("ADMIN-001", f"arn:aws:iam::{standalone}:user/ops") in found
    # no --regions: every region the account has enabled was inventoried, and nothing else failed
    manifest = json.loads((tmp_path / "snapshot" / "manifest.json").read_text())
    assert manifest["regions_requested"] == []
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= set(manifest["regions"])
    assert manifest["api_calls"][standalone]["ec2:DescribeInstances"] == len(manifest["regions"])


def test_worker_processes_collect_the_same_snapshot(server: tuple[str, DemoOrganization], tmp_path: Path) -> None:
    """--processes 2 spreads the accounts over two spawned processes, each rebuilding the caller's session from
    the environment: the snapshot, the API call counts and the findings equal those of one process."""
    endpoint, demo = server
    common = ("--external-id", demo.external_id, "--exclude-accounts", demo.accounts["broken"],
              "--format", "json", "--regions", "us-east-1", "--concurrency", "4")
    one, two = tmp_path / "one", tmp_path / "two"
    assert _audit(endpoint, one, *common).returncode == 3
    result = _audit(endpoint, two, *common, "--processes", "2")
    assert result.returncode == 3, result.stderr

    def load(out: Path, name: str) -> Any:
        return json.loads((out / name).read_text())

    def without_role_use(account: dict[str, Any]) -> dict[str, Any]:
        # moto stamps RoleLastUsed at every AssumeRole, so the second run sees the first one's use
        for role in (account.get("iam") or {}).get("roles", []):
            role.pop("last_used", None)
        return account

    accounts = sorted(path.name for path in (one / "snapshot" / "accounts").iterdir())
    assert accounts == sorted(path.name for path in (two / "snapshot" / "accounts").iterdir())
    assert len(accounts) == len(demo.accounts)  # the broken one is excluded, the management account is in
    for name in accounts:
        assert without_role_use(load(one / "snapshot" / "accounts", name)) == \
            without_role_use(load(two / "snapshot" / "accounts", name)), name
    manifests = load(one / "snapshot", "manifest.json"), load(two / "snapshot", "manifest.json")
    assert [m["processes"] for m in manifests] == [1, 2]
    # Calls to what moto's server lacks depend on scheduling: after server errors in a few accounts, the
    # others skip that service (ServerErrorBreaker, one per process); every other call is the same.
    lacking = {service for service, _ in MOTO_SERVER_LACKS}

    def answered(calls: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        return {account: {op: n for op, n in ops.items() if op.split(":")[0] not in lacking}
                for account, ops in calls.items()}

    assert answered(manifests[0]["api_calls"]) == answered(manifests[1]["api_calls"])
    assert [f["id"] for f in load(one, "findings.json")["findings"]] == \
        [f["id"] for f in load(two, "findings.json")["findings"]]
