"""Collection benchmark (not a test): seed a synthetic organisation into a moto server, run
``auditor.collect.collect`` against it once per concurrency value and print wall time, API calls
(per account and, for one account, per operation next to the count the collector's design implies
and the minimum a collector could arguably make), HTTP requests seen by the server, CPU time and
peak memory. Figures are printed, never asserted.

    .venv/bin/python bench/bench_collect.py [--accounts 50] [--roles 100] [--resources 200]
        [--concurrency 1,8] [--regions us-east-1,eu-west-1]

How it measures:
- The moto server runs in this process (``ThreadedMotoServer``); a ``logging.Handler`` on the
  "werkzeug" logger counts the HTTP requests it answers.
- Seeding uses assumed-role credentials per member account, in worker processes (one account per
  task); AWS managed policies are not loaded (customer-managed ones stand in).
- Each ``collect()`` runs in a fresh child process forked from a small fork server started before
  moto is loaded: its wall time does not share a GIL with the server, and its ru_maxrss is the
  collector's own, not moto's stored organisation. ``--in-process`` runs it here instead.
- tracemalloc makes the collector use 2-3x the CPU, so timed runs are untraced and one extra traced run
  (at the highest concurrency) gives the tracemalloc peak; ``--no-tracemalloc`` skips it.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import logging
import math
import multiprocessing
import multiprocessing.forkserver
import os
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

AUDIT_ROLE = "SecurityAuditRole"
SEED_ROLE = "OrganizationAccountAccessRole"
MANAGEMENT = "123456789012"  # moto's default account: the organisation's management account
KINDS = ("s3", "ec2", "dynamodb", "lambda")
TAGS = [{"Key": "Owner", "Value": "platform-team"}, {"Key": "CostCenter", "Value": "cc-1001"}]
OUS = 5
SCPS = 3

# Page sizes: moto 5.2's defaults (what the collector gets here, since it sets none) and the
# largest AWS accepts (what a collector could ask for). None: the whole listing in one answer.
MOTO_PAGE = {"gaad": None, "functions": None, "tables": 100, "tagging": 50}
MAX_PAGE = {"gaad": 1000, "functions": 50, "tables": 100, "tagging": 100}
MOTO_TAGGING_TAGS_PER_PAGE = 100  # moto also ends a GetResources page before 100 tags
# Steps collect() runs once for the organisation: the organisation before the account pool (its tags
# in parallel), Identity Center in a thread beside the pool. Their time is wall time, not thread time.
PRE_POOL_STEPS = {"collect_organization": ("organizations", "cloudtrail"),
                  "collect_identity_center": ("sso-admin", "identitystore")}


def _env(endpoint: str) -> None:
    """Fake credentials and the endpoint, before any client is made (children call it too)."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "MOTO_IAM_LOAD_MANAGED_POLICIES"):
        os.environ.pop(name, None)
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        MOTO_EC2_LOAD_DEFAULT_AMIS="false",
    )


def _context() -> Any:
    """Children are forked from a small fork server started before moto is loaded: a fork or an
    exec from this process would make them inherit its peak RSS as their ru_maxrss."""
    return multiprocessing.get_context("forkserver")


class RequestCounter(logging.Handler):
    """Counts, by HTTP status, the requests the moto server answers (werkzeug logs each one)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.status: Counter[str] = Counter()
        self._take_lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) == 3:  # ("METHOD path HTTP/1.1", status, size): WSGIRequestHandler.log_request
            with self._take_lock:
                self.status[str(args[1])] += 1

    def take(self) -> Counter[str]:
        """The counts since the last take."""
        with self._take_lock:
            taken, self.status = self.status, Counter()
        return taken


# ---------------------------------------------------------------------------------------- seeding

@dataclass
class SeededAccount:
    """What one member account holds, for the expected-calls formula."""

    account_id: str
    index: int
    roles: int = 0
    users: int = 0
    policies: int = 0
    budgets: int = 0
    count: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(Counter))  # kind -> region -> n
    tagged: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(Counter))
    api_calls: int = 0

    def total(self, kind: str) -> int:
        return sum(self.count[kind].values())


def _doc(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _trust(principal: dict[str, str]) -> str:
    return _doc([{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}])


def _function_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def seed_organization(accounts: int) -> tuple[list[str], int]:
    """The organisation, OUs, member accounts and SCPs; serial (one Organizations backend)."""
    import boto3

    org: Any = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    org.tag_resource(ResourceId=root, Tags=TAGS[:1])
    ous = [org.create_organizational_unit(ParentId=root, Name=f"ou-{i}", Tags=TAGS[:1])
           ["OrganizationalUnit"]["Id"] for i in range(OUS)]
    calls = 3 + OUS
    member_ids = []
    for i in range(accounts):
        account_id = org.create_account(
            Email=f"member-{i}@example.com", AccountName=f"member-{i:04d}",
            Tags=[{"Key": "Environment", "Value": ("prod", "dev")[i % 2]}],
        )["CreateAccountStatus"]["AccountId"]
        org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=ous[i % OUS])
        member_ids.append(account_id)
        calls += 2
    for i in range(SCPS):
        policy = org.create_policy(
            Name=f"scp-{i}", Description="bench", Type="SERVICE_CONTROL_POLICY",
            Content=_doc([{"Effect": "Deny", "Action": f"service{i}:*", "Resource": "*"}]),
        )["Policy"]["PolicySummary"]["Id"]
        org.attach_policy(PolicyId=policy, TargetId=ous[i % OUS])
        calls += 2
    return member_ids, calls


def _seeding_session(loader: Any, sts: Any, account_id: str, region: str) -> Any:
    """A session in ``account_id`` that can write (the collector's own sessions only know its reads)."""
    import boto3
    import botocore.session

    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/{SEED_ROLE}",
                                  RoleSessionName="bench-seed")["Credentials"]
    core = botocore.session.Session()
    core.register_component("data_loader", loader)  # one loader per worker process: models parsed once
    return boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                         aws_secret_access_key=credentials["SecretAccessKey"],
                         aws_session_token=credentials["SessionToken"], region_name=region, botocore_session=core)


def seed_account(loader: Any, sts: Any, account_id: str, index: int, args: argparse.Namespace) -> SeededAccount:
    """IAM, resources round-robin over kinds and regions (every other group tagged) and, in every
    other account, a budget; all created with credentials assumed into the account."""
    session = _seeding_session(loader, sts, account_id, args.regions[0])
    seeded = SeededAccount(account_id, index, api_calls=1)
    clients: dict[tuple[str, str], Any] = {}

    def call(service: str, region: str, operation: str, **params: Any) -> Any:
        if (service, region) not in clients:
            clients[service, region] = session.client(service, region_name=region)
        seeded.api_calls += 1
        return getattr(clients[service, region], operation)(**params)

    home = args.regions[0]
    policy_arns = [
        call("iam", home, "create_policy", PolicyName=f"policy-{p:03d}", PolicyDocument=_doc(
            [{"Effect": "Allow", "Action": [f"s3:Get{p}*", "ec2:Describe*"], "Resource": "*"}]))["Policy"]["Arn"]
        for p in range(args.policies)
    ]
    seeded.policies = len(policy_arns)
    management_trust = _trust({"AWS": f"arn:aws:iam::{MANAGEMENT}:root"})
    lambda_role_arn = ""
    for r in range(args.roles):
        if r == 0:
            name, trust = AUDIT_ROLE, management_trust
        elif r == 1:
            name, trust = "lambda-exec", _trust({"Service": "lambda.amazonaws.com"})
        else:
            name = f"role-{r:04d}"
            trust = management_trust if r % 3 == 0 else _trust({"Service": "ec2.amazonaws.com"})
        tags = {"Tags": TAGS} if r % 2 == 0 else {}
        arn = call("iam", home, "create_role", RoleName=name, AssumeRolePolicyDocument=trust, **tags)["Role"]["Arn"]
        lambda_role_arn = arn if r == 1 else lambda_role_arn
        if policy_arns:
            call("iam", home, "attach_role_policy", RoleName=name, PolicyArn=policy_arns[r % len(policy_arns)])
        if r % 4 == 0:
            call("iam", home, "put_role_policy", RoleName=name, PolicyName="inline",
                 PolicyDocument=_doc([{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]))
    seeded.roles = args.roles
    for u in range(args.users):
        call("iam", home, "create_user", UserName=f"user-{u:03d}")
        call("iam", home, "create_access_key", UserName=f"user-{u:03d}")
    seeded.users = args.users

    kinds = [kind for kind in args.kinds if kind != "lambda" or lambda_role_arn]
    code = _function_zip()
    for i in range(args.resources if kinds else 0):
        kind = kinds[i % len(kinds)]
        region = args.regions[(i // len(kinds)) % len(args.regions)]
        tagged = (i // (len(kinds) * len(args.regions))) % 2 == 0
        tags = TAGS if tagged else []
        if kind == "s3":
            bucket = f"bench-{account_id}-{i:05d}"
            location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            call("s3", region, "create_bucket", Bucket=bucket, **location)
            if tagged:
                call("s3", region, "put_bucket_tagging", Bucket=bucket, Tagging={"TagSet": tags})
            if i % 5 == 0:
                call("s3", region, "put_bucket_policy", Bucket=bucket, Policy=_doc([{
                    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                    "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]))
        elif kind == "ec2":
            spec = [{"ResourceType": "volume", "Tags": tags}] if tagged else []
            call("ec2", region, "create_volume", AvailabilityZone=f"{region}a", Size=1, TagSpecifications=spec)
        elif kind == "dynamodb":
            call("dynamodb", region, "create_table", TableName=f"table-{i:05d}", BillingMode="PAY_PER_REQUEST",
                 KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                 AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], Tags=tags)
        else:
            function = f"function-{i:05d}"
            call("lambda", region, "create_function", FunctionName=function, Runtime="python3.12",
                 Role=lambda_role_arn, Handler="handler.handler", Code={"ZipFile": code},
                 Tags={tag["Key"]: tag["Value"] for tag in tags})
            if i % 5 == 0:
                call("lambda", region, "add_permission", FunctionName=function, StatementId="s3",
                     Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
        seeded.count[kind][region] += 1
        seeded.tagged[kind][region] += 1 if tagged else 0

    if index % 2 == 0:
        call("budgets", home, "create_budget", AccountId=account_id, Budget={
            "BudgetName": "monthly", "BudgetType": "COST", "TimeUnit": "MONTHLY",
            "BudgetLimit": {"Amount": "1000", "Unit": "USD"}},
            NotificationsWithSubscribers=[{
                "Notification": {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN",
                                 "Threshold": 80},
                "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "finops@example.com"}]}])
        seeded.budgets = 1
    seeded.count, seeded.tagged = dict(seeded.count), dict(seeded.tagged)  # picklable
    return seeded


_WORKER: dict[str, Any] = {}


def _seed_worker_init(endpoint: str, region: str) -> None:
    _env(endpoint)  # the fork server started before the endpoint was known
    import boto3
    import botocore.loaders

    _WORKER["sts"] = boto3.client("sts", region_name=region)
    _WORKER["loader"] = botocore.loaders.create_loader()


def _seed_worker(job: tuple[str, int, argparse.Namespace]) -> SeededAccount:
    account_id, index, args = job
    return seed_account(_WORKER["loader"], _WORKER["sts"], account_id, index, args)


def _seed_worker_ready() -> None:
    """A no-op task: submitting it starts a worker (and its imports) early."""


def _import_moto_services() -> None:
    """Moto imports a service on its first request (EC2 alone takes seconds): do it beforehand."""
    for service in ("ec2", "awslambda", "dynamodb", "s3", "iam", "rds", "budgets", "resourcegroupstaggingapi"):
        for module in ("models", "responses", "urls"):
            importlib.import_module(f"moto.{service}.{module}")


def seed(args: argparse.Namespace) -> tuple[list[SeededAccount], int]:
    """Organisation first, then member accounts in parallel: each account has its own moto
    backends, and worker processes keep the seeding clients off the server's GIL. The workers
    start, and moto imports its services, while the organisation is seeded."""
    warm_up = threading.Thread(target=_import_moto_services, daemon=True)
    warm_up.start()
    workers = max(1, min(args.seed_workers, args.accounts))
    with ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_seed_worker_init,
                             initargs=(os.environ["AWS_ENDPOINT_URL"], args.regions[0])) as pool:
        ready = [pool.submit(_seed_worker_ready) for _ in range(workers)]
        member_ids, calls = seed_organization(args.accounts)
        wait(ready)
        warm_up.join()
        jobs = [(account_id, index, args) for index, account_id in enumerate(member_ids)]
        seeded, started = [], time.perf_counter()
        for account in pool.map(_seed_worker, jobs):
            seeded.append(account)
            if len(seeded) % 10 == 0 and len(seeded) < len(jobs):
                print(f"  seeded {len(seeded)}/{len(jobs)} member accounts, {time.perf_counter() - started:.0f} s")
    return seeded, calls + sum(s.api_calls for s in seeded)


# ---------------------------------------------------------------------------------------- collect

def _cpu_seconds() -> float:
    """This process's CPU plus that of its finished children (the collector's worker processes, if any)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class _StepTimer:
    """Thread-seconds spent in the collector's steps (wrapped here, the collector is not changed)."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._originals: list[tuple[Any, str, Any]] = []

    def restore(self) -> None:
        for owner, name, original in reversed(self._originals):
            setattr(owner, name, original)

    def wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)
        self._originals.append((owner, name, original))

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                with self._lock:
                    self.seconds[label] += time.perf_counter() - started

        setattr(owner, name, timed)


def run_collect(
    regions: tuple[str, ...], concurrency: int, trace: bool, checkpoint: Callable[[], None], processes: int = 1,
    accounts: tuple[str, ...] = (), stream: bool = False,
) -> dict[str, Any]:
    """One timed ``collect()``; ``checkpoint`` runs right before it (the server count is reset there)."""
    import boto3

    from auditor.collect import CollectOptions, collect, run, session

    steps = _StepTimer()
    steps.wrap(session.SessionMaker, "assume_role", "AssumeRole + new boto3.Session")
    steps.wrap(session.ClientFactory, "client", "ClientFactory.client (client creation)")
    steps.wrap(run, "collect_organization", "collect_organization")
    if hasattr(run, "collect_identity_center"):  # newer collectors: Identity Center, also before the pool
        steps.wrap(run, "collect_identity_center", "collect_identity_center")
    steps.wrap(run, "collect_iam", "collect_iam (incl. its client)")
    steps.wrap(run, "collect_resources", "collect_resources (incl. its clients)")
    steps.wrap(run, "collect_budgets", "collect_budgets (incl. its client)")
    options = CollectOptions(role_name=AUDIT_ROLE, regions=regions, concurrency=concurrency, processes=processes,
                             accounts=accounts)
    boto_session = boto3.Session(region_name=regions[0])
    out = Path(tempfile.mkdtemp(prefix="bench-collect-")) / "snapshot"
    sink = None
    if stream:  # each account's shard written as it finishes, as `auditor collect` does
        from auditor.snapshot_writer import DirectorySnapshotWriter

        sink = DirectorySnapshotWriter(out)
    rss_before = _maxrss_mb()
    checkpoint()
    if trace:
        tracemalloc.start()
    cpu = _cpu_seconds()
    started = time.perf_counter()
    try:
        snapshot = collect(boto_session, options, sink)
        if sink is not None:
            sink.finish(snapshot.manifest, snapshot.organization, snapshot.coverage)
    finally:
        wall = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu
        traced_peak = tracemalloc.get_traced_memory()[1] / 1e6 if trace else None
        tracemalloc.stop()
        steps.restore()
    if stream:
        from auditor.snapshot import read_snapshot

        snapshot = read_snapshot(out)  # the counts below, from what was written
    shutil.rmtree(out.parent, ignore_errors=True)
    audited = [a for a in snapshot.accounts if a.audited]
    return {
        "wall": wall, "cpu": cpu, "rss_before": rss_before, "rss_after": _maxrss_mb(),
        "traced_peak": traced_peak, "api_calls": snapshot.manifest.api_calls, "steps": dict(steps.seconds),
        "accounts": len(snapshot.accounts), "audited": len(audited),
        "roles": sum(len(a.iam.roles) for a in audited if a.iam),
        "policies": sum(len(a.iam.policies) for a in audited if a.iam),
        "resources": sum(len(a.resources) for a in audited),
        "tagged_resources": sum(1 for a in audited for r in a.resources if r.tags),
        "budgets": sum(len(a.budgets or ()) for a in audited),
        "gaps": Counter(f"{g.service}:{g.operation} {g.error_code}" for g in snapshot.coverage),
        "rate_cap_waits": snapshot.manifest.rate_cap_waits,
        "processes": snapshot.manifest.processes,
    }


def _child(
    conn: Any, endpoint: str, regions: tuple[str, ...], concurrency: int, trace: bool, processes: int,
    accounts: tuple[str, ...] = (), stream: bool = False,
) -> None:
    _env(endpoint)  # the fork server started before the endpoint was known

    def checkpoint() -> None:
        conn.send("ready")
        conn.recv()  # the parent has reset its request count

    conn.send(run_collect(regions, concurrency, trace, checkpoint, processes, accounts, stream))
    conn.close()


@dataclass
class Run:
    concurrency: int
    traced: bool
    result: dict[str, Any]
    http: Counter[str]  # server-side requests during collect(), by status
    server_cpu: float | None  # this process's CPU during collect() (child mode: the server only)
    load: tuple[float, float]  # 1-minute load average before and after: other work on the machine


def collect_once(
    args: argparse.Namespace, concurrency: int, requests: RequestCounter, trace: bool, accounts: tuple[str, ...] = ()
) -> Run:
    load = os.getloadavg()[0]
    if args.in_process:
        result = run_collect(args.regions, concurrency, trace, requests.take, args.processes, accounts, args.stream)
        return Run(concurrency, trace, result, requests.take(), None, (load, os.getloadavg()[0]))
    context = _context()
    parent, child = context.Pipe()
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    process = context.Process(target=_child, args=(child, endpoint, args.regions, concurrency, trace, args.processes,
                                                   accounts, args.stream))
    process.start()
    if parent.recv() != "ready":
        raise RuntimeError("benchmark child process did not start")
    requests.take()
    server_cpu = _cpu_seconds()
    parent.send("go")
    result = parent.recv()
    server_cpu = _cpu_seconds() - server_cpu
    http = requests.take()
    process.join()
    return Run(concurrency, trace, result, http, server_cpu, (load, os.getloadavg()[0]))


# ------------------------------------------------------------------------------- expected calls

def _pages(items: int, page: int | None) -> int:
    return 1 if not page else max(1, math.ceil(items / page))


def expected_calls(
    account: SeededAccount, regions: tuple[str, ...], report_exists: bool
) -> dict[str, tuple[int, int, str]]:
    """"service:Operation" -> (calls by the collector's design, here on moto; minimum arguable; why).

    ``report_exists``: an earlier run generated the credential report, which then answers COMPLETE.
    """
    buckets, functions = account.total("s3"), account.total("lambda")
    iam_items = account.roles + account.users + account.policies

    def per_region(kind: str, page: int | None) -> int:
        return sum(_pages(account.count.get(kind, {}).get(r, 0), page) for r in regions)

    def tagged(kind: str, region: str | None = None) -> int:
        counts = account.tagged.get(kind, {})
        return sum(counts.values()) if region is None else counts.get(region, 0)

    moto_tagging_page = min(MOTO_PAGE["tagging"] or 0, (MOTO_TAGGING_TAGS_PER_PAGE - 1) // len(TAGS))
    regional_tagged = {r: sum(tagged(kind, r) for kind in ("ec2", "dynamodb", "lambda")) for r in regions}
    return {
        "sts:AssumeRole": (1, 1, "booked under the member account it opens"),
        "ec2:DescribeRegions": (1, 1, "opt-in regions are enabled per account: asked once per account"),
        "iam:GetAccountAuthorizationDetails": (
            _pages(iam_items, MOTO_PAGE["gaad"]), _pages(iam_items, MAX_PAGE["gaad"]),
            f"{iam_items} items: 1 page in moto; the collector asks for 1,000 per page"),
        "iam:GenerateCredentialReport": (1, 1, "started first, read after the other services"),
        "iam:GetCredentialReport": (1, 1, ""),
        "iam:GetAccountSummary": (1, 1, ""),
        "iam:GetAccountPasswordPolicy": (1, 1, ""),
        "s3:ListBuckets": (1, 1, ""),
        "s3:GetBucketLocation": (buckets, 0, "per bucket, only when ListBuckets omits BucketRegion: AWS sends it "
                                             "(the collector sends MaxBuckets), moto never does"),
        "s3:GetBucketTagging": (0, 0, "tags come from GetResources (fallback only if it fails)"),
        "s3:GetBucketPolicy": (buckets, buckets, "per bucket: no batch read of bucket policies"),
        "ec2:DescribeInstances": (len(regions), len(regions), "per region"),
        "ec2:DescribeVolumes": (len(regions), len(regions), "per region, tags included"),
        "rds:DescribeDBInstances": (len(regions), len(regions), "per region"),
        "lambda:ListFunctions": (per_region("lambda", MOTO_PAGE["functions"]),
                                 per_region("lambda", MAX_PAGE["functions"]), "per region; AWS: 50 per page"),
        "lambda:ListTags": (0, 0, "tags come from GetResources (fallback only if it fails)"),
        "lambda:GetPolicy": (functions, functions, "per function: no batch read of resource policies"),
        "dynamodb:ListTables": (per_region("dynamodb", MOTO_PAGE["tables"]),
                                per_region("dynamodb", MAX_PAGE["tables"]), "per region"),
        "dynamodb:ListTagsOfResource": (0, 0, "tags come from GetResources (fallback only if it fails)"),
        # moto answers every tagged bucket of the account in each region's GetResources.
        "resourcegroupstaggingapi:GetResources": (
            sum(_pages(regional_tagged[r] + tagged("s3"), moto_tagging_page) for r in regions),
            sum(_pages(regional_tagged[r] + tagged("s3", r), MAX_PAGE["tagging"]) for r in regions),
            "per region and page: default page 50 (moto), ResourcesPerPage allows 100"),
        # The benchmark seeds no keys, queues, topics or secrets: one empty listing per region each.
        "kms:ListKeys": (len(regions), len(regions), "per region (then 1 GetKeyPolicy per customer key)"),
        "kms:ListAliases": (len(regions), len(regions), "per region: tells AWS managed keys apart in 1 call"),
        "sqs:ListQueues": (len(regions), len(regions), "per region (then 1 GetQueueAttributes per queue)"),
        "sns:ListTopics": (len(regions), len(regions), "per region (then 1 GetTopicAttributes per topic)"),
        "secretsmanager:ListSecrets": (len(regions), len(regions), "per region, tags included"),
        "budgets:DescribeBudgets": (1, 1, ""),
        "budgets:DescribeNotificationsForBudget": (account.budgets, account.budgets, "per budget"),
        # Workloads that run with a role (auditor/collect/compute.py); the benchmark seeds none: one empty
        # listing per Region where AWS offers the service. moto's server lacks App Runner and AgentCore code
        # interpreters (HTTP 500): after two accounts fail, the others skip them (0 or 1 here).
        **{operation: (len(regions), len(regions), "per region (then per-resource reads where no bulk answer "
                                                   "names the role)")
           for operation in WORKLOAD_LISTINGS},
    }


WORKLOAD_LISTINGS = (
    "ec2:DescribeLaunchTemplateVersions", "ecs:ListClusters", "ecs:ListTaskDefinitionFamilies",
    "codebuild:ListProjects", "cloudformation:DescribeStacks", "cloudformation:ListStackSets", "glue:GetJobs",
    "glue:GetDevEndpoints", "sagemaker:ListNotebookInstances", "apprunner:ListServices",
    "stepfunctions:ListStateMachines", "bedrock-agent:ListAgents", "bedrock-agentcore-control:ListCodeInterpreters",
    "datapipeline:ListPipelines",
)


# ------------------------------------------------------------------------------------- printing

def _total(api_calls: dict[str, dict[str, int]]) -> int:
    return sum(n for ops in api_calls.values() for n in ops.values())


def print_run(run: Run) -> None:
    result = run.result
    api_calls: dict[str, dict[str, int]] = result["api_calls"]
    total, http, wall = _total(api_calls), sum(run.http.values()), result["wall"]
    per_member = sorted(sum(ops.values()) for account, ops in api_calls.items() if account != MANAGEMENT)
    errors = sum(n for status, n in run.http.items() if status.startswith("5") or status == "429")
    title = "tracemalloc run (figures slowed by tracing)" if run.traced else "collect"
    print(f"\n== {title}, concurrency {run.concurrency}, {result.get('processes', 1)} process(es) ==")
    if result.get("processes", 1) > 1:
        print("  (worker processes: collector CPU includes them; RSS and per-step thread-seconds are the main "
              "process's only)")
    print(f"  wall time                 {wall:8.2f} s   {result['accounts'] / wall:.2f} accounts/s "
          f"({result['audited']} of {result['accounts']} accounts audited)")
    server = "; includes the moto server's (same process)" if run.server_cpu is None else \
        f"; moto server (this process): {run.server_cpu:.2f} s"
    print(f"  collector CPU             {result['cpu']:8.2f} s   {os.cpu_count()} CPUs, load average "
          f"{run.load[0]:.1f} before, {run.load[1]:.1f} after{server}")
    print(f"  API calls (manifest)      {total:8d}   {total / wall:.0f}/s")
    print(f"  HTTP requests (server)    {http:8d}   {http - total:+d} vs manifest; by status "
          f"{dict(sorted(run.http.items()))}; 5xx/429 answers (retried): {errors}")
    if per_member:
        print(f"  calls per member account  min {per_member[0]}, median {statistics.median(per_member):g}, "
              f"max {per_member[-1]} (AssumeRole included)")
    caller = api_calls.get(MANAGEMENT, {})
    print(f"  calls of the caller       {sum(caller.values()):8d}   (organisation-wide reads and its own account)")
    for step, services in PRE_POOL_STEPS.items():
        if step in result["steps"]:
            calls = sum(n for op, n in caller.items() if op.split(":")[0] in services)
            where = "before the account pool" if step == "collect_organization" else "beside the account pool"
            print(f"  {step:<26}{result['steps'][step]:8.2f} s   {calls} calls ({', '.join(services)}); {where}")
    print(f"  peak RSS (ru_maxrss)      {result['rss_after']:8.1f} MB   ({result['rss_before']:.1f} MB "
          f"before collect)")
    if result["traced_peak"] is not None:
        print(f"  tracemalloc peak          {result['traced_peak']:8.1f} MB   (Python allocations during collect)")
    steps = ", ".join(f"{name} {seconds:.1f}" for name, seconds in result["steps"].items()
                      if name not in PRE_POOL_STEPS)
    print(f"  thread-seconds per step   {steps} (summed over the account threads)")
    print(f"  collected                 {result['roles']} roles, {result['policies']} managed policies, "
          f"{result['resources']} resources ({result['tagged_resources']} tagged), {result['budgets']} budgets")
    waits = result.get("rate_cap_waits") or {}
    waited = ", ".join(f"{op} {w['waits']:.0f}x {w['seconds']:.2f} s" for op, w in waits.items())
    print(f"  rate-cap waits            {waited or 'none (no documented rate was reached)'}")
    gaps = result["gaps"]
    print(f"  coverage gaps             {sum(gaps.values()):8d}" + (f"   {dict(gaps.most_common(5))}" if gaps else ""))


def print_breakdown(
    api_calls: dict[str, dict[str, int]], account: SeededAccount, regions: tuple[str, ...],
    report_exists: bool,
) -> None:
    measured = dict(api_calls.get(account.account_id, {}))
    expected = expected_calls(account, regions, report_exists)
    per_region = {kind: dict(account.count.get(kind, {})) for kind in ("ec2", "dynamodb", "lambda")}
    print(f"\n== API calls of one member account ({account.account_id}, first run) ==")
    print(f"  it holds {account.roles} roles, {account.users} users, {account.policies} customer-managed "
          f"policies, {account.budgets} budget(s), {account.total('s3')} buckets "
          f"({sum(account.tagged.get('s3', {}).values())} tagged); volumes, tables, functions per region "
          f"{per_region}")
    print(f"  {'service:Operation':<40}{'measured':>9}{'design':>7}{'minimum':>8}  why")
    for operation in sorted(set(measured) | set(expected)):
        design, minimum, why = expected.get(operation, (0, 0, "not in the formula"))
        print(f"  {operation:<40}{measured.get(operation, 0):>9}{design:>7}{minimum:>8}  {why}")
    total_measured = sum(measured.values())
    total_minimum = sum(v[1] for v in expected.values())
    print(f"  {'total':<40}{total_measured:>9}{sum(v[0] for v in expected.values()):>7}{total_minimum:>8}")
    print("\n  minimum arguable API calls per account = 1 AssumeRole + 1 DescribeRegions"
          " + GAAD pages (1,000 items/page) + 2 credential report + GetAccountSummary + GetAccountPasswordPolicy"
          f" + {len(regions)} regions x (DescribeInstances + DescribeVolumes + DescribeDBInstances"
          " + ListFunctions pages + ListTables pages + GetResources pages at 100 + ListKeys + ListAliases"
          " + ListQueues + ListTopics + ListSecrets) + ListBuckets"
          " + 1 GetBucketPolicy per bucket + 1 GetPolicy per function + DescribeBudgets"
          f" + 1 DescribeNotificationsForBudget per budget = {total_minimum}; measured {total_measured}")
    why = {  # short reasons for the calls above the minimum, by operation
        "GetBucketTagging": "tag reads", "ListTags": "tag reads", "ListTagsOfResource": "tag reads",
        "DescribeTable": "DescribeTable for an ARN", "GetBucketLocation": "GetBucketLocation",
        "GenerateCredentialReport": "credential-report poll", "GetResources": "GetResources at 50/page",
        "GetAccountAuthorizationDetails": "GAAD page size", "ListFunctions": "ListFunctions page size",
    }
    extra: Counter[str] = Counter()
    for op, (design, minimum, _) in expected.items():
        if design > minimum:
            extra[why.get(op.split(":")[1], op)] += design - minimum
    parts = ", ".join(f"{reason} +{n}" for reason, n in extra.most_common())
    print(f"  difference {total_measured - total_minimum:+d} = {parts or 'none'} (see the why column)")


def print_summary(runs: list[Run]) -> None:
    print("\n== summary ==")
    print(f"  {'concurrency':>11}{'wall s':>9}{'acct/s':>8}{'API calls':>11}{'HTTP req':>10}"
          f"{'CPU s':>8}{'maxrss MB':>11}{'traced MB':>11}")
    for run in runs:
        result = run.result
        traced = "-" if result["traced_peak"] is None else f"{result['traced_peak']:.1f}"
        label = f"{run.concurrency}{' (traced)' if run.traced else ''}"
        print(f"  {label:>11}{result['wall']:>9.2f}{result['accounts'] / result['wall']:>8.2f}"
              f"{_total(result['api_calls']):>11}{sum(run.http.values()):>10}{result['cpu']:>8.2f}"
              f"{result['rss_after']:>11.1f}{traced:>11}")


# ---------------------------------------------------------------------------------------- main

def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _ints(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in _csv(value))


def _start_server(requests: RequestCounter) -> tuple[str, Callable[[], None]]:
    from moto.server import ThreadedMotoServer

    logger = logging.getLogger("werkzeug")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(requests)  # werkzeug then adds no stderr handler of its own
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}", server.stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=50, help="member accounts (default 50)")
    parser.add_argument("--roles", type=int, default=100, help="IAM roles per account (default 100)")
    parser.add_argument("--resources", type=int, default=200, help="resources per account (default 200)")
    parser.add_argument("--concurrency", type=_ints, default=(1, 8), help="comma list (default 1,8)")
    parser.add_argument("--processes", type=int, default=1,
                        help="worker processes of collect() (CPU and step times then include or miss them, see the "
                             "output)")
    parser.add_argument("--regions", type=_csv, default=("us-east-1", "eu-west-1"), help="comma list")
    parser.add_argument("--policies", type=int, default=10, help="customer-managed policies per account")
    parser.add_argument("--users", type=int, default=5, help="IAM users with an access key per account")
    parser.add_argument("--kinds", type=_csv, default=KINDS, help=f"resource kinds ({','.join(KINDS)})")
    parser.add_argument("--seed-workers", type=int, default=4, help="seeding processes (default 4)")
    parser.add_argument("--in-process", action="store_true",
                        help="run collect() in this process, sharing the GIL and memory with moto")
    parser.add_argument("--no-tracemalloc", dest="tracemalloc", action="store_false",
                        help="skip the extra traced run")
    parser.add_argument("--stream", action="store_true",
                        help="write each account's shard as it finishes (a streaming snapshot, as `auditor collect`)")
    parser.add_argument("--subsets", type=_ints, default=(),
                        help="also collect only the first N accounts (management first), for each N of this comma "
                             "list, at the highest concurrency: peak RSS against the number of accounts")
    args = parser.parse_args()
    if unknown := set(args.kinds) - set(KINDS):
        parser.error(f"unknown kinds {sorted(unknown)}: choose from {','.join(KINDS)}")
    if not args.concurrency or not args.regions:
        parser.error("--concurrency and --regions need at least one value")

    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # progress is visible when the output goes to a file
    multiprocessing.forkserver.ensure_running()  # while this process is still small
    requests = RequestCounter()
    endpoint, stop = _start_server(requests)
    try:
        _env(endpoint)
        with urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/seed?a=42", method="POST")):
            pass  # deterministic ids (account ids; resource ids vary with the seeding workers' order)
        requests.take()
        print(f"moto server {endpoint} in this process; {args.accounts} member accounts + management, each with "
              f"{args.roles} roles, {args.policies} policies, {args.users} users, {args.resources} resources "
              f"({','.join(args.kinds)}); regions {','.join(args.regions)}")
        started, load = time.perf_counter(), os.getloadavg()[0]
        seeded, seed_calls = seed(args)
        seconds = time.perf_counter() - started
        print(f"seed: {seconds:.1f} s, {seed_calls} API calls ({seed_calls / seconds:.0f}/s, {args.seed_workers} "
              f"worker processes; server saw {sum(requests.take().values())} requests; load average "
              f"{load:.1f} before, {os.getloadavg()[0]:.1f} after); server process ru_maxrss {_maxrss_mb():.0f} MB")
        print(f"collect() runs {'in this process' if args.in_process else 'in a fresh child process per run'}")

        runs: list[Run] = []
        for concurrency in args.concurrency:
            runs.append(collect_once(args, concurrency, requests, trace=False))
            print_run(runs[-1])
        if args.tracemalloc:
            runs.append(collect_once(args, max(args.concurrency), requests, trace=True))
            print_run(runs[-1])
        if args.subsets:
            ordered = [MANAGEMENT, *sorted(account.account_id for account in seeded)]
            kept = "streaming" if args.stream else "whole snapshot in memory"
            print(f"peak RSS against accounts collected ({kept}):")
            for size in args.subsets:
                run = collect_once(args, max(args.concurrency), requests, trace=False,
                                   accounts=tuple(ordered[:size]))
                result = run.result
                print(f"  {result['accounts']:>5} accounts: wall {result['wall']:6.1f} s  collector CPU "
                      f"{result['cpu']:6.1f} s ({result['cpu'] / max(1, result['accounts']):.2f} s/account)  "
                      f"API calls {_total(result['api_calls'])} "
                      f"({_total(result['api_calls']) / max(1, result['accounts']):.0f}/account)  "
                      f"peak RSS {result['rss_after']:.0f} MB (before collect {result['rss_before']:.0f} MB)  "
                      f"load {run.load[0]:.1f}")
        if seeded:
            # The first run generates the credential reports; later runs find them (AWS keeps one 4 h).
            print_breakdown(runs[0].result["api_calls"], seeded[0], args.regions, False)
        print_summary(runs)
    finally:
        stop()


if __name__ == "__main__":
    main()
