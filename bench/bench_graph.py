"""Benchmark: build the access graph of a synthetic 200-account / 20,000-principal organisation and ask
every question, printing wall time and peak memory.

Run: .venv/bin/python bench/bench_graph.py [--accounts 200] [--principals-per-account 100] [--tracemalloc]
(not part of the test suite).
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditor.graph import build_access_graph
from auditor.model import (
    AccountSnapshot,
    IamData,
    IamGroup,
    IamRole,
    IamUser,
    InlinePolicy,
    ManagedPolicy,
    Manifest,
    OrgAccount,
    Organization,
    OrganizationalUnit,
    OrgPolicy,
    Resource,
    Snapshot,
)

ORG = "o-bench00000"
ROOT = "r-bnch"
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
READONLY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ENVS = ("prod", "non-prod", "sandbox")


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _trust(principal: Any, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        st["Condition"] = condition
    return _doc(st)


def account_id(n: int) -> str:
    return f"{100000000000 + n:012d}"


def synthetic_snapshot(n_accounts: int, per_account: int) -> tuple[Snapshot, dict[str, str]]:
    mgmt, security, shared = account_id(0), account_id(1), account_id(2)
    ous = [
        OrganizationalUnit(
            id=f"ou-bnch-{e}", arn=f"arn:aws:organizations::{mgmt}:ou/{ORG}/ou-bnch-{e}", name=e, parent_id=ROOT
        )
        for e in (*ENVS, "security")
    ]
    environments: dict[str, str] = {}
    org_accounts: list[OrgAccount] = []
    accounts: list[AccountSnapshot] = []
    aws_policies = (
        ManagedPolicy(arn=ADMIN_ARN, name="AdministratorAccess", document=_doc(_allow("*")), aws_managed=True),
        ManagedPolicy(
            arn=READONLY_ARN,
            name="ReadOnlyAccess",
            aws_managed=True,
            document=_doc(_allow(["s3:Get*", "s3:List*", "ec2:Describe*", "iam:Get*", "iam:List*"])),
        ),
    )
    for n in range(n_accounts):
        acct = account_id(n)
        env = "security" if n in (0, 1) else "non-prod" if n == 2 else ENVS[n % 3]
        environments[acct] = env
        org_accounts.append(
            OrgAccount(
                id=acct,
                arn=f"arn:aws:organizations::{mgmt}:account/{ORG}/{acct}",
                name=f"acct-{n}",
                parent_id=ROOT if n == 0 else f"ou-bnch-{env}",
            )
        )
        n_users = per_account * 2 // 5
        n_roles = per_account - n_users
        groups = (
            IamGroup(arn=f"arn:aws:iam::{acct}:group/admins", name="admins", attached_policy_arns=(ADMIN_ARN,)),
            IamGroup(
                arn=f"arn:aws:iam::{acct}:group/devs",
                name="devs",
                inline_policies=(
                    InlinePolicy(
                        name="dev",
                        document=_doc(
                            _allow(["ec2:*", "s3:*", "lambda:*"]),
                            _allow("sts:AssumeRole", f"arn:aws:iam::{shared}:role/ci-*"),
                        ),
                    ),
                ),
            ),
            IamGroup(arn=f"arn:aws:iam::{acct}:group/readers", name="readers", attached_policy_arns=(READONLY_ARN,)),
        )
        users: list[IamUser] = []
        for u in range(n_users):
            group = "admins" if u == 0 else "devs" if u % 3 else "readers"
            inline: tuple[InlinePolicy, ...] = ()
            if u % 10 == 1:  # some users may assume read-only roles everywhere
                inline = (
                    InlinePolicy(name="ro", document=_doc(_allow("sts:AssumeRole", "arn:aws:iam::*:role/ReadOnly"))),
                )
            if u % 25 == 2:  # a few over-privileged developers: iam:PassRole on *
                inline += (InlinePolicy(name="pass", document=_doc(_allow(["iam:PassRole", "ec2:RunInstances"]))),)
            if u % 40 == 3:  # and a few with key creation on other users
                inline += (InlinePolicy(name="keys", document=_doc(_allow("iam:CreateAccessKey"))),)
            if u % 50 == 4:  # an action the catalogue does not know
                inline += (InlinePolicy(name="odd", document=_doc(_allow(["madeup:DoThing", "codestar:*"]))),)
            users.append(
                IamUser(
                    arn=f"arn:aws:iam::{acct}:user/u{u}", name=f"u{u}", group_names=(group,), inline_policies=inline
                )
            )
        roles: list[IamRole] = [
            IamRole(
                arn=f"arn:aws:iam::{acct}:role/OrganizationAccountAccessRole",
                name="OrganizationAccountAccessRole",
                trust_policy=_trust({"AWS": f"arn:aws:iam::{mgmt}:root"}),
                attached_policy_arns=(ADMIN_ARN,),
            ),
            IamRole(
                arn=f"arn:aws:iam::{acct}:role/ReadOnly",
                name="ReadOnly",
                trust_policy=_trust({"AWS": f"arn:aws:iam::{security}:root"}),
                attached_policy_arns=(READONLY_ARN,),
            ),
            IamRole(
                arn=f"arn:aws:iam::{acct}:role/deploy",
                name="deploy",
                trust_policy=_trust({"AWS": f"arn:aws:iam::{shared}:role/ci-{n % 20}"}),
                attached_policy_arns=(ADMIN_ARN,) if env != "prod" or n % 7 == 0 else (),
                inline_policies=(InlinePolicy(name="d", document=_doc(_allow(["s3:*", "lambda:*"]))),),
            ),
            IamRole(
                arn=f"arn:aws:iam::{acct}:role/vendor",
                name="vendor",
                trust_policy=_trust(
                    {"AWS": "arn:aws:iam::999999999999:root"}, {"StringEquals": {"sts:ExternalId": "x"}}
                ),
                attached_policy_arns=(READONLY_ARN,) if n % 11 else (ADMIN_ARN,),
            ),
            IamRole(
                arn=f"arn:aws:iam::{acct}:role/org-any",
                name="org-any",
                trust_policy=_trust("*", {"StringEquals": {"aws:PrincipalOrgID": ORG}}),
                attached_policy_arns=(READONLY_ARN,),
            ),
        ]
        if acct == shared:
            for c in range(20):
                roles.append(
                    IamRole(
                        arn=f"arn:aws:iam::{acct}:role/ci-{c}",
                        name=f"ci-{c}",
                        trust_policy=_trust({"AWS": [f"arn:aws:iam::{account_id(k)}:root" for k in range(3, 13)]}),
                        inline_policies=(
                            InlinePolicy(
                                name="deploy", document=_doc(_allow("sts:AssumeRole", "arn:aws:iam::*:role/deploy"))
                            ),
                        ),
                    )
                )
        services = ("ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "glue.amazonaws.com")
        while len(roles) < n_roles:
            r = len(roles)
            svc = services[r % len(services)]
            powerful = r % 17 == 0
            roles.append(
                IamRole(
                    arn=f"arn:aws:iam::{acct}:role/app-{r}",
                    name=f"app-{r}",
                    trust_policy=_trust({"Service": svc}),
                    attached_policy_arns=(ADMIN_ARN,) if powerful else (),
                    inline_policies=(
                        InlinePolicy(
                            name="app",
                            document=_doc(
                                _allow(["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::bucket-{acct}-{r}/*"),
                                _allow(["sqs:SendMessage", "dynamodb:PutItem"]),
                            ),
                        ),
                    ),
                )
            )
        resources = tuple(
            Resource(
                arn=f"arn:aws:lambda:us-east-1:{acct}:function:f{r}",
                type="lambda:function",
                region="us-east-1",
                role_arn=f"arn:aws:iam::{acct}:role/app-{r}",
            )
            for r in range(5, min(n_roles, 60), 4)
        )
        accounts.append(
            AccountSnapshot(
                account_id=acct,
                name=f"acct-{n}",
                iam=IamData(users=tuple(users), roles=tuple(roles), groups=groups, policies=aws_policies),
                resources=resources,
            )
        )
    scps = (
        OrgPolicy(
            id="p-FullAWSAccess",
            arn="arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
            name="FullAWSAccess",
            type="SERVICE_CONTROL_POLICY",
            aws_managed=True,
            document=_doc(_allow("*")),
            target_ids=(ROOT, *(ou.id for ou in ous), *(a.id for a in org_accounts)),
        ),
        OrgPolicy(
            id="p-guard",
            arn=f"arn:aws:organizations::{mgmt}:policy/{ORG}/service_control_policy/p-guard",
            name="guardrails",
            type="SERVICE_CONTROL_POLICY",
            document=_doc(
                {
                    "Effect": "Deny",
                    "Action": ["organizations:LeaveOrganization", "cloudtrail:StopLogging"],
                    "Resource": "*",
                }
            ),
            target_ids=(ROOT,),
        ),
        OrgPolicy(
            id="p-sandbox",
            arn=f"arn:aws:organizations::{mgmt}:policy/{ORG}/service_control_policy/p-sbx",
            name="sandbox-no-assume-out",
            type="SERVICE_CONTROL_POLICY",
            document=_doc(
                {
                    "Effect": "Deny",
                    "Action": "sts:AssumeRole",
                    "Resource": "*",
                    "Condition": {"StringNotEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
                }
            ),
            target_ids=("ou-bnch-sandbox",),
        ),
    )
    org = Organization(
        id=ORG,
        arn=f"arn:aws:organizations::{mgmt}:organization/{ORG}",
        management_account_id=mgmt,
        root_id=ROOT,
        organizational_units=tuple(ous),
        accounts=tuple(org_accounts),
        policies=scps,
    )
    manifest = Manifest(
        tool_version="bench",
        created_at="2026-01-01T00:00:00Z",
        mode="organization",
        account_ids=tuple(a.account_id for a in accounts),
    )
    return Snapshot(manifest=manifest, organization=org, accounts=tuple(accounts)), environments


def timed(label: str, fn: Callable[[], Any]) -> Any:
    """Wall and CPU time: on a shared machine the CPU time is the comparable figure."""
    start, cpu_start = time.perf_counter(), time.process_time()
    result = fn()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    size = len(result) if hasattr(result, "__len__") else ""
    print(f"{label:<28} wall {elapsed:8.2f} s   cpu {cpu:8.2f} s   {size}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--principals-per-account", type=int, default=100)
    parser.add_argument("--tracemalloc", action="store_true", help="trace Python allocations (slower)")
    args = parser.parse_args()
    if args.tracemalloc:
        tracemalloc.start()
    snap, envs = timed("synthetic snapshot", lambda: synthetic_snapshot(args.accounts, args.principals_per_account))
    n_principals = sum(len(a.iam.users) + len(a.iam.roles) for a in snap.accounts if a.iam)
    print(f"accounts={len(snap.accounts)} principals={n_principals}")
    gc.collect()
    graph = timed("build_access_graph", lambda: build_access_graph(snap, envs))
    print(
        f"graph: {graph.graph.number_of_nodes()} nodes, {graph.graph.number_of_edges()} edges, "
        f"{len(graph.events)} events"
    )
    timed("admin_grants", graph.admin_grants)
    timed("assume_edges", graph.assume_edges)
    timed("external_assume_edges", graph.external_assume_edges)
    timed("paths_to_admin (all)", graph.paths_to_admin)
    prod = [a for a, e in envs.items() if e == "prod"]
    timed("paths_to_admin (prod)", lambda: graph.paths_to_admin(prod))
    timed("escalation_paths", graph.escalation_paths)
    timed("effective_admins", graph.effective_admins)
    timed("reachability_matrix", graph.reachability_matrix)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_rss_mb:.0f} MiB")
    if args.tracemalloc:
        _, peak = tracemalloc.get_traced_memory()
        print(f"tracemalloc peak: {peak / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
