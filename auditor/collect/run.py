"""Runs a whole collection: who is calling, the organisation (with its Identity Center), then every
audited account in parallel (IAM, resources, budgets), and assembles the ``Snapshot`` with its manifest.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

from auditor import __version__
from auditor.collect.budgets import collect_budgets
from auditor.collect.foundations import collect_foundations
from auditor.collect.iam import collect_iam, start_credential_report
from auditor.collect.identity_center import collect_identity_center
from auditor.collect.organizations import collect_organization
from auditor.collect.ratelimit import RateLimiter, WaitStats
from auditor.collect.regions import enabled_regions, regions_to_inventory
from auditor.collect.resources import collect_resources
from auditor.collect.session import (
    ACCOUNT_THREADS,
    AWS_ERRORS,
    IDENTITY_CENTER_THREADS,
    ApiCallCounter,
    Client,
    ClientFactory,
    Gaps,
    SessionMaker,
    error_code_and_message,
)
from auditor.errors import UserError
from auditor.model import AccountSnapshot, CoverageGap, Manifest, Organization, Snapshot

if TYPE_CHECKING:
    from auditor.collect.dask_executor import DaskExecutor
    from auditor.snapshot_writer import SnapshotSink

DEFAULT_REGION = "us-east-1"
_Advance = Callable[[AccountSnapshot, int], None]  # (finished account, its number of gaps)
NO_CREDENTIALS = (
    "no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) "
    "or use --profile"
)


@dataclass(frozen=True)
class CollectOptions:
    role_name: str = "SecurityAuditRole"  # read-only role assumed in every member account
    external_id: str | None = None
    regions: tuple[str, ...] = ()  # regions to inventory; empty: every region enabled for each account
    accounts: tuple[str, ...] = ()  # only these account ids (empty = all)
    exclude_accounts: tuple[str, ...] = ()
    concurrency: int = 8  # accounts collected at the same time, over all processes
    # Worker processes sharing the accounts (botocore is CPU-bound under the GIL: one process uses one core).
    # Above 1, each process rebuilds the caller's session from ``profile`` (or the environment).
    processes: int = 1
    profile: str | None = None
    progress: bool = False  # rich progress bar on stderr when True
    # plain progress lines on stderr (CI, cron: no terminal) every this many accounts and at the end; 0: none
    progress_lines_every: int = 0
    # "local": threads (and --processes) on this machine; "dask": one task per account on a Dask cluster.
    executor: Literal["local", "dask"] = "local"
    scheduler: str | None = None  # the Dask scheduler's address (tcp://HOST:8786) with executor "dask"


@dataclass(frozen=True)
class Target:
    """An account to put in the snapshot."""

    account_id: str
    name: str
    status: str = "ACTIVE"


@dataclass(frozen=True)
class AccountJob:
    """One account to collect, with everything a worker needs to start on its own: a thread here, a worker
    process, or a task on a Dask worker that builds its own session from its environment."""

    target: Target
    options: CollectOptions
    home_region: str
    partition: str
    caller_account: str


@dataclass(frozen=True)
class AccountOutcome:
    """One collected account as it comes back to the run: its snapshot and gaps, and the API calls and rate-cap
    waits it cost when they were counted away from the run's own counter (worker processes, Dask tasks)."""

    snapshot: AccountSnapshot
    gaps: tuple[CoverageGap, ...]
    api_calls: dict[str, dict[str, int]] = field(default_factory=dict)
    waits: dict[str, WaitStats] = field(default_factory=dict)


def lost_account(job: AccountJob, code: str, message: str, service: str = "auditor") -> AccountOutcome:
    """The outcome of an account whose collection never came back (its worker was lost): not audited, one gap."""
    gap = CoverageGap(account_id=job.target.account_id, service=service, operation="collect account",
                      error_code=code, message=message)
    return AccountOutcome(AccountSnapshot(account_id=job.target.account_id, name=job.target.name, audited=False),
                          (gap,))


def collect(session: boto3.Session, options: CollectOptions, sink: SnapshotSink | None = None) -> Snapshot:
    """Collect a snapshot of the caller's organisation (or of the caller's account alone).

    With a ``sink``, each account's shard is written to it as soon as the account is done and dropped from memory:
    the snapshot returned then holds each account's id, name, audited flag and regions only, with the manifest,
    organisation and coverage that ``sink.finish`` writes last. Accounts the sink already holds (``--resume``) are
    not collected again."""
    # Global services (IAM, Organizations, STS, Budgets...) are called in the home region.
    home_region = session.region_name or (options.regions[0] if options.regions else DEFAULT_REGION)
    with contextlib.ExitStack() as stack:
        dask = None
        if options.executor == "dask":
            from auditor.collect.dask_executor import DaskExecutor  # the optional extra, imported only here

            dask = stack.enter_context(DaskExecutor(options.scheduler or ""))
        return _collect(session, options, home_region, dask, sink)


def _summary(account: AccountSnapshot) -> AccountSnapshot:
    """What the run keeps of an account once its shard is written."""
    return AccountSnapshot(account_id=account.account_id, name=account.name, audited=account.audited,
                           regions=account.regions, iam=None, budgets=None)


def _collect(
    session: boto3.Session, options: CollectOptions, home_region: str, dask: DaskExecutor | None,
    sink: SnapshotSink | None,
) -> Snapshot:
    counter = ApiCallCounter()
    limiter = RateLimiter()  # one set of token buckets per run, shared by every account's clients
    caller = ClientFactory(session, "", counter, limiter)
    sts = caller.client("sts", home_region)
    caller_arn, caller_account = _caller_identity(sts)
    counter.rename("", caller_account)
    caller.account_id = caller_account
    partition = caller_arn.split(":")[1] if caller_arn.count(":") >= 5 else "aws"

    org_gaps = Gaps(caller_account)
    organization = collect_organization(caller, home_region, org_gaps, concurrency=options.concurrency)
    targets = _targets(organization, caller_account, options)
    kept = sink.kept() if sink is not None else {}
    audited = [t for t in targets if t.status == "ACTIVE" and t.account_id not in kept]
    for target in targets:
        if target.status != "ACTIVE":
            org_gaps.add("organizations", "ListAccountsForParent", f"Account{target.status.title()}",
                         f"account {target.account_id} is {target.status}: not audited")

    results: dict[str, tuple[AccountSnapshot, tuple[CoverageGap, ...]]] = {}
    shards: dict[str, str] = {account: record.sha256 for account, record in kept.items()}
    waits: dict[str, WaitStats] = {}
    processes = max(1, min(options.processes, len(audited)))
    jobs = [AccountJob(target, options, home_region, partition, caller_account) for target in audited]
    # Identity Center is read beside the accounts rather than before them: it needs only the account list.
    beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix=IDENTITY_CENTER_THREADS)
    try:
        with _progress(options.progress, len(audited), options.progress_lines_every) as advance:
            identity_center = None if organization is None else beside.submit(
                lambda: collect_identity_center(
                    caller, _identity_center_regions(caller, home_region, org_gaps),
                    [t.account_id for t in audited], org_gaps, options.concurrency))

            def done(outcome: AccountOutcome) -> None:
                counter.merge(outcome.api_calls)
                _add_waits(waits, outcome.waits)
                snapshot = outcome.snapshot
                if sink is not None:
                    record = sink.write_account(snapshot, outcome.gaps, counter.account(snapshot.account_id))
                    shards[snapshot.account_id] = record.sha256
                    snapshot = _summary(snapshot)
                results[snapshot.account_id] = (snapshot, outcome.gaps)
                advance(snapshot, len(outcome.gaps))

            if dask is not None:
                dask.run(jobs, done)
            elif processes == 1:
                _run_threads(jobs, done, session, sts, counter, limiter)
            else:
                _run_processes(jobs, done, processes)
            if organization is not None and identity_center is not None:
                organization = organization.model_copy(update={"identity_center": identity_center.result()})
    except BaseException:
        # Ctrl-C (or a bug): stop reading Identity Center rather than finish it before stopping.
        beside.shutdown(wait=False, cancel_futures=True)
        raise
    beside.shutdown()
    _add_waits(waits, limiter.stats())

    accounts: list[AccountSnapshot] = []
    coverage: list[CoverageGap] = list(org_gaps.items)
    for target in targets:
        if target.account_id in results:
            snapshot, gaps = results[target.account_id]
            accounts.append(snapshot)
            coverage.extend(gaps)
        elif target.account_id in kept:
            record = kept[target.account_id]
            accounts.append(AccountSnapshot(account_id=target.account_id, name=target.name, audited=True,
                                            regions=record.regions))
            coverage.extend(record.gaps)
            counter.merge({target.account_id: record.api_calls})
        else:
            skipped = AccountSnapshot(account_id=target.account_id, name=target.name, audited=False)
            if sink is not None:
                shards[target.account_id] = sink.write_account(skipped, (), {}).sha256
            accounts.append(skipped)

    manifest = Manifest(
        tool_version=__version__,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        mode="organization" if organization else "single-account",
        caller_arn=caller_arn,
        caller_account_id=caller_account,
        role_name=options.role_name,
        regions=tuple(sorted({region for account in accounts for region in account.regions})),
        regions_requested=options.regions,
        concurrency=options.concurrency,
        processes=processes,
        account_ids=tuple(a.account_id for a in accounts),
        api_calls=counter.snapshot(),
        rate_cap_waits={operation: {"waits": float(stats.waits), "seconds": round(stats.seconds, 3)}
                        for operation, stats in sorted(waits.items())},
        executor=options.executor,
        shard_sha256=dict(sorted(shards.items())),
    )
    return Snapshot(manifest=manifest, organization=organization, accounts=tuple(accounts),
                    coverage=tuple(coverage))


def _identity_center_regions(caller: ClientFactory, home_region: str, gaps: Gaps) -> tuple[str, ...]:
    """Where to look for the IAM Identity Center instance: the home region first, then every other
    region enabled for the caller's account (the instance lives in one region, whatever --regions says)."""
    try:
        enabled = enabled_regions(caller, home_region)
    except AWS_ERRORS as exc:
        gaps.record("ec2", "DescribeRegions", exc, region=home_region,
                    context="cannot list the enabled regions; looking for IAM Identity Center in the home region only")
        return (home_region,)
    return (home_region, *(region for region in enabled if region != home_region))


def _caller_identity(sts: Client) -> tuple[str, str]:
    try:
        identity = sts.get_caller_identity()
    except (NoCredentialsError, PartialCredentialsError):
        raise UserError(NO_CREDENTIALS) from None
    except ClientError as exc:
        code, message = error_code_and_message(exc)
        raise UserError(f"{NO_CREDENTIALS} (the credentials found were refused: {code}: {message})") from None
    except BotoCoreError as exc:
        raise UserError(f"cannot reach AWS STS to identify the caller: {exc}") from None
    return str(identity["Arn"]), str(identity["Account"])


def _targets(
    organization: Organization | None, caller_account: str, options: CollectOptions
) -> list[Target]:
    """The accounts to put in the snapshot, in order (management/caller first, then by id)."""
    if organization is None:
        candidates = [Target(caller_account, "")]
    else:
        candidates = [Target(a.id, a.name, a.status) for a in organization.accounts]
        first = organization.management_account_id
        candidates.sort(key=lambda t: (t.account_id != first, t.account_id))
    known = {t.account_id for t in candidates}
    unknown = [account for account in options.accounts if account not in known]
    if unknown:
        where = "in the organisation" if organization else f"the caller's account ({caller_account})"
        raise UserError(f"account {', '.join(unknown)} is not {where}: check --accounts")
    selected = [
        t for t in candidates
        if (not options.accounts or t.account_id in options.accounts)
        and t.account_id not in options.exclude_accounts
    ]
    if not selected:
        raise UserError("no account left to audit after applying the account filters")
    return selected


def _run_threads(
    jobs: list[AccountJob], done: Callable[[AccountOutcome], None], session: boto3.Session, sts: Client,
    counter: ApiCallCounter, limiter: RateLimiter,
) -> None:
    """The accounts in this process's threads, with the caller's session and the run's own counter and limiter."""
    if not jobs:
        return
    sessions = SessionMaker()

    def collect_one(job: AccountJob) -> AccountOutcome:
        # The caller's own account with the caller's session, every other one through the audit role.
        own = session if job.target.account_id == job.caller_account else None
        snapshot, gaps = _collect_account(own, sessions, sts, job.target, job.options, job.home_region,
                                          job.partition, counter, limiter)
        return AccountOutcome(snapshot, tuple(gaps))

    pool = ThreadPoolExecutor(max_workers=max(1, jobs[0].options.concurrency), thread_name_prefix=ACCOUNT_THREADS)
    try:
        futures = [pool.submit(collect_one, job) for job in jobs]
        for future in as_completed(futures):
            done(future.result())
    except BaseException:
        # Ctrl-C (or a bug): drop the accounts not started yet rather than collect them all before stopping.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _run_processes(jobs: list[AccountJob], done: Callable[[AccountOutcome], None], processes: int) -> None:
    """The accounts spread over worker processes, in chunks collected by threads inside each process."""
    per_process = max(1, jobs[0].options.concurrency // processes) if jobs else 1
    pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"))
    try:
        chunks = [pool.submit(_collect_chunk, tuple(jobs[start:start + per_process]))
                  for start in range(0, len(jobs), per_process)]
        for chunk in as_completed(chunks):
            for outcome in chunk.result():
                done(outcome)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def _collect_chunk(jobs: tuple[AccountJob, ...]) -> list[AccountOutcome]:
    """Runs in a worker process: the chunk's accounts in parallel threads, from a session rebuilt the way
    the caller's was (profile or environment); each outcome carries the API calls and waits it cost."""
    first = jobs[0]
    session = boto3.Session(profile_name=first.options.profile, region_name=first.home_region)
    sessions = SessionMaker()

    def collect_one(job: AccountJob) -> AccountOutcome:
        counter, limiter = ApiCallCounter(), RateLimiter()
        sts = ClientFactory(session, job.caller_account, counter, limiter).client("sts", job.home_region)
        own = session if job.target.account_id == job.caller_account else None
        snapshot, gaps = _collect_account(own, sessions, sts, job.target, job.options, job.home_region,
                                          job.partition, counter, limiter)
        return AccountOutcome(snapshot, tuple(gaps), counter.snapshot(), limiter.stats())

    with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix=ACCOUNT_THREADS) as pool:
        return list(pool.map(collect_one, jobs))


class WorkerContext:
    """What one worker (a Dask worker, or any process collecting accounts for a client elsewhere) keeps between
    accounts: its own session, built from its environment (instance role, IRSA, profile), the account that session
    belongs to, and the shared service models. Built on the worker, never sent to it."""

    def __init__(self, home_region: str, profile: str | None = None) -> None:
        self.session = boto3.Session(profile_name=profile, region_name=home_region)
        self.sessions = SessionMaker()
        self.setup_calls = ApiCallCounter()
        self._lock = threading.Lock()
        sts = ClientFactory(self.session, "", self.setup_calls, RateLimiter()).client("sts", home_region)
        try:
            self.account_id: str | None = str(sts.get_caller_identity()["Account"])
            self.setup_calls.rename("", self.account_id)
        except AWS_ERRORS:
            # Not fatal here: every account is then reached through AssumeRole, whose failure is a coverage gap.
            self.account_id = None

    def take_setup_calls(self) -> dict[str, dict[str, int]]:
        """The calls made to set the worker up, handed over once (with the first account's outcome)."""
        with self._lock:
            calls = self.setup_calls.snapshot()
            self.setup_calls = ApiCallCounter()
        return calls


def collect_account_job(job: AccountJob, context: WorkerContext) -> AccountOutcome:
    """Collect one account on a worker, the same way the local executor does: the worker's own account with its
    own session, every other one by assuming the audit role from the worker's own credentials."""
    counter, limiter = ApiCallCounter(), RateLimiter()
    own = context.session if context.account_id == job.target.account_id else None
    sts = ClientFactory(context.session, context.account_id or "", counter, limiter).client("sts", job.home_region)
    snapshot, gaps = _collect_account(own, context.sessions, sts, job.target, job.options, job.home_region,
                                      job.partition, counter, limiter)
    calls = counter.snapshot()
    for account, operations in context.take_setup_calls().items():
        for operation, count in operations.items():
            calls.setdefault(account, {})[operation] = calls.get(account, {}).get(operation, 0) + count
    return AccountOutcome(snapshot, tuple(gaps), calls, limiter.stats())


def _add_waits(total: dict[str, WaitStats], more: dict[str, WaitStats]) -> None:
    for operation, stats in more.items():
        known = total.get(operation, WaitStats(0, 0.0))
        total[operation] = WaitStats(known.waits + stats.waits, known.seconds + stats.seconds)


def _collect_account(
    caller_session: boto3.Session | None,
    sessions: SessionMaker,
    sts: Client,
    target: Target,
    options: CollectOptions,
    home_region: str,
    partition: str,
    counter: ApiCallCounter,
    limiter: RateLimiter,
) -> tuple[AccountSnapshot, list[CoverageGap]]:
    """One account's snapshot and gaps; runs in a worker thread with its own ``boto3.Session``."""
    gaps = Gaps(target.account_id)
    session = caller_session
    if session is None:
        try:
            session = sessions.assume_role(sts, target.account_id, options.role_name, options.external_id,
                                           home_region, partition)
        except AWS_ERRORS as exc:
            gaps.record("sts", "AssumeRole", exc, context=(
                f"cannot assume {options.role_name} in {target.account_id}; account not audited"))
            return AccountSnapshot(account_id=target.account_id, name=target.name, audited=False), gaps.items
    factory = ClientFactory(session, target.account_id, counter, limiter)
    # Asked for first and read last: IAM builds the report while the account's other reads go on.
    credential_report = start_credential_report(factory, home_region, gaps)
    regions = regions_to_inventory(factory, home_region, options.regions, gaps)
    iam = collect_iam(factory, home_region, gaps, credential_report)
    resources = collect_resources(factory, regions, partition, gaps, home_region, iam)
    budgets = collect_budgets(factory, target.account_id, home_region, gaps)
    foundations = collect_foundations(factory, regions, home_region, partition, gaps, resources)
    snapshot = AccountSnapshot(
        account_id=target.account_id,
        name=target.name,
        audited=True,
        regions=regions,
        iam=iam.model_copy(update={"credential_report": credential_report.rows(),
                                   "credential_report_generated_at": credential_report.generated_at}),
        resources=resources,
        budgets=budgets,
        logging=foundations.logging,
        storage=foundations.storage,
        network=foundations.network,
        iam_extras=foundations.iam_extras,
    )
    return snapshot, gaps.items


PROGRESS_LINE_SECONDS = 60.0  # a slow run still shows it is alive at least this often


def _progress_lines(total: int, every: int) -> _Advance:
    """One plain line on stderr every ``every`` accounts (or a minute), and when the last one is done."""
    import sys
    import time

    started = last = time.monotonic()
    done = not_audited = gap_count = 0

    def advance(snapshot: AccountSnapshot, gaps: int) -> None:
        nonlocal done, not_audited, gap_count, last
        done += 1
        not_audited += 0 if snapshot.audited else 1
        gap_count += gaps
        now = time.monotonic()
        if done % every == 0 or done == total or now - last >= PROGRESS_LINE_SECONDS:
            last = now
            print(f"collecting accounts: {done}/{total} done, {not_audited} not audited, {gap_count} coverage gaps, "
                  f"{now - started:.0f} s", file=sys.stderr, flush=True)

    return advance


@contextlib.contextmanager
def _progress(enabled: bool, total: int, lines_every: int = 0) -> Iterator[_Advance]:
    if not enabled:
        if lines_every > 0:
            yield _progress_lines(total, lines_every)
        else:
            yield lambda snapshot, gaps: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    not_audited = gap_count = 0
    with Progress(
        TextColumn("[bold]collecting accounts"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[errors]}"), TimeElapsedColumn(),
        console=Console(stderr=True), transient=False,
    ) as progress:
        task = progress.add_task("accounts", total=total, errors="")

        def advance(snapshot: AccountSnapshot, gaps: int) -> None:
            nonlocal not_audited, gap_count
            not_audited += 0 if snapshot.audited else 1
            gap_count += gaps
            progress.update(task, advance=1, errors=f"{not_audited} not audited, {gap_count} coverage gaps")

        yield advance
