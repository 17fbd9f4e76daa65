"""Collection on Dask (``--executor dask``): a LocalCluster of two in-process workers against the moto demo
organisation gives the same snapshot and findings as the local executor; a worker lost in the middle of an
account gets that account retried on the other worker, or, once Dask gives up on it, a coverage gap; and the
default path never imports Dask."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import dask
import pytest
from botocore.exceptions import ClientError
from distributed import LocalCluster, get_worker
from distributed.utils import sync
from moto import mock_aws

from auditor.analyze import analyze
from auditor.collect import CollectOptions, collect
from auditor.config import AuditorConfig
from auditor.demo import DemoOrganization, seed_demo_organization
from auditor.errors import UserError
from auditor.model import Snapshot
from tests.collect_helpers import REGION, hook_every_session

NOW = "2026-12-01T00:00:00+00:00"


@dataclass(frozen=True)
class Demo:
    org: DemoOrganization
    local: Snapshot  # collected by the local executor, for comparison


def _refuse_assume_role(accounts: tuple[str, ...]) -> Any:
    """AccessDenied for AssumeRole into ``accounts``, on every session (workers build their own)."""

    def refuse(params: dict[str, Any], **_: Any) -> None:
        role_arn = str(params.get("RoleArn", ""))
        if any(f":{account}:" in role_arn for account in accounts):
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": f"not authorized: {role_arn}"}},
                              "AssumeRole")

    return refuse


def _options(org: DemoOrganization, **more: Any) -> CollectOptions:
    """The management account, prod-app, dev-app (which reach each other) and broken (its role refuses us)."""
    accounts = (org.management_account_id, *(org.accounts[name] for name in ("prod-app", "dev-app", "broken")))
    return CollectOptions(role_name=org.role_name, external_id=org.external_id, regions=(REGION,),
                          **{"accounts": accounts, **more})


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", REGION)
        env.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        with mock_aws():
            org = seed_demo_organization(REGION)
            hook_every_session(env, "before-parameter-build.sts.AssumeRole",
                               _refuse_assume_role(org.unassumable_account_ids))
            yield Demo(org, collect(boto3.Session(region_name=REGION), _options(org)))


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> Iterator[LocalCluster]:
    """Two in-process workers of one thread each; ``allowed-failures`` from the test's parameter, if any."""
    allowed_failures = getattr(request, "param", 3)
    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}), LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as local_cluster:
        yield local_cluster


def _comparable(snapshot: Snapshot) -> dict[str, Any]:
    """Everything but what differs from one run to the next: the manifest's time and API calls (each worker
    identifies itself once), and roles' last use (moto records each collection's own AssumeRole there)."""
    manifest = snapshot.manifest.model_dump(exclude={"created_at", "api_calls", "executor"})
    accounts = [account.model_dump(exclude={"iam": {"roles": {"__all__": {"last_used"}}}})
                for account in snapshot.accounts]
    return {"manifest": manifest, "organization": snapshot.organization, "accounts": accounts,
            "coverage": sorted(snapshot.coverage, key=lambda gap: gap.model_dump_json())}


def _findings(snapshot: Snapshot) -> list[tuple[str, str, str, str]]:
    from datetime import datetime

    result = analyze(snapshot, AuditorConfig(), now=datetime.fromisoformat(NOW))
    return sorted((f.id, f.rule_id, f.resource_arn, json.dumps(f.evidence, sort_keys=True, default=str))
                  for f in result.findings)


def test_dask_gives_the_same_snapshot_and_findings_as_local(demo: Demo, cluster: LocalCluster) -> None:
    snapshot = collect(boto3.Session(region_name=REGION),
                       _options(demo.org, executor="dask", scheduler=cluster.scheduler_address))
    assert _comparable(snapshot) == _comparable(demo.local)
    findings = _findings(snapshot)
    assert findings == _findings(demo.local)
    assert {"ADMIN-001", "XENV-002"} <= {rule for _, rule, _, _ in findings}
    assert any(not a.audited for a in snapshot.accounts)  # the unassumable accounts are gaps on Dask too
    # every account's calls are booked in the manifest, the workers' own GetCallerIdentity included
    local_calls = {account: sum(ops.values()) for account, ops in demo.local.manifest.api_calls.items()}
    dask_calls = {account: sum(ops.values()) for account, ops in snapshot.manifest.api_calls.items()}
    assert set(dask_calls) == set(local_calls)
    caller = demo.org.management_account_id
    assert {a: n for a, n in dask_calls.items() if a != caller} == {a: n for a, n in local_calls.items() if a != caller}


def _kill_worker_on_first_assume_role(
    monkeypatch: pytest.MonkeyPatch, cluster: LocalCluster, account_id: str
) -> list[str]:
    """The first time a worker assumes the audit role in ``account_id``, the scheduler loses that worker (as when
    its pod is evicted) and the task's thread stops; returns the addresses of the workers that tried."""
    attempts: list[str] = []

    def lose_worker(params: dict[str, Any], **_: Any) -> None:
        if f":{account_id}:" not in str(params.get("RoleArn", "")):
            return
        worker = get_worker()
        attempts.append(worker.address)
        if len(attempts) == 1:
            sync(cluster.loop, cluster.scheduler.remove_worker, address=worker.address, stimulus_id="test-lost")
            raise RuntimeError("worker lost")  # this attempt's answer is dropped with its worker

    hook_every_session(monkeypatch, "before-parameter-build.sts.AssumeRole", lose_worker)
    return attempts


def test_a_lost_worker_s_account_is_retried_on_another_worker(
    demo: Demo, cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    prod = demo.org.accounts["prod-app"]
    attempts = _kill_worker_on_first_assume_role(monkeypatch, cluster, prod)
    snapshot = collect(boto3.Session(region_name=REGION),
                       _options(demo.org, executor="dask", scheduler=cluster.scheduler_address))
    assert len(attempts) == 2 and attempts[0] != attempts[1]
    assert _comparable(snapshot) == _comparable(demo.local)


@pytest.mark.parametrize("cluster", [0], indirect=True)
def test_an_account_dask_gives_up_on_is_a_coverage_gap(
    demo: Demo, cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    prod = demo.org.accounts["prod-app"]
    _kill_worker_on_first_assume_role(monkeypatch, cluster, prod)
    # one account at a time, so that the lost worker holds no other account's task
    snapshot = collect(boto3.Session(region_name=REGION),
                       _options(demo.org, executor="dask", scheduler=cluster.scheduler_address,
                                accounts=(prod, demo.org.accounts["dev-app"])))
    lost = snapshot.account(prod)
    assert lost is not None and not lost.audited
    assert [(g.account_id, g.service, g.error_code) for g in snapshot.coverage if g.account_id == prod] == [
        (prod, "auditor", "KilledWorker")]
    dev = snapshot.account(demo.org.accounts["dev-app"])
    local_dev = demo.local.account(demo.org.accounts["dev-app"])
    assert dev is not None and local_dev is not None and dev.audited
    assert (dev.resources, dev.iam and dev.iam.users) == (local_dev.resources, local_dev.iam and local_dev.iam.users)


@pytest.mark.parametrize(
    ("scheduler", "message"),
    [
        ("", "--executor dask needs --scheduler ADDRESS"),
        ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
    ],
)
def test_a_missing_or_unreachable_scheduler_is_a_user_error(
    scheduler: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.collect import dask_executor

    monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT_SECONDS", 1)
    with pytest.raises(UserError, match=message):
        collect(boto3.Session(region_name=REGION), CollectOptions(executor="dask", scheduler=scheduler))


def test_the_default_path_never_imports_dask() -> None:
    """A local audit of a moto account, in a fresh interpreter: neither dask nor distributed is loaded."""
    script = """
import sys
from moto import mock_aws
import boto3
from auditor.cli import cli
from auditor.collect import CollectOptions, collect
from auditor.analyze import analyze
from auditor.config import AuditorConfig
with mock_aws():
    snapshot = collect(boto3.Session(region_name="us-east-1"), CollectOptions(regions=("us-east-1",)))
    analyze(snapshot, AuditorConfig())
print(sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed")))
"""
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION,
           "MOTO_EC2_LOAD_DEFAULT_AMIS": "false", "PATH": "/usr/bin:/bin",
           "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"

