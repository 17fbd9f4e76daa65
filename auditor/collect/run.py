"""Runs a whole collection: who is calling, the organisation (with its Identity Center), then every
audited account in parallel (IAM, resources, budgets), and assembles the ``Snapshot`` with its manifest.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

from auditor import __version__
from auditor.collect.budgets import collect_budgets
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


@dataclass(frozen=True)
class _Target:
    account_id: str
    name: str
    status: str = "ACTIVE"


def collect(session: boto3.Session, options: CollectOptions) -> Snapshot:
    """Collect a snapshot of the caller's organisation (or of the caller's account alone)."""
    # Global services (IAM, Organizations, STS, Budgets...) are called in the home region.
    home_region = session.region_name or (options.regions[0] if options.regions else DEFAULT_REGION)
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
    audited = [t for t in targets if t.status == "ACTIVE"]
    for target in targets:
        if target.status != "ACTIVE":
            org_gaps.add("organizations", "ListAccountsForParent", f"Account{target.status.title()}",
                         f"account {target.account_id} is {target.status}: not audited")

    results: dict[str, tuple[AccountSnapshot, list[CoverageGap]]] = {}
    waits: dict[str, WaitStats] = {}
    processes = max(1, min(options.processes, len(audited)))
    # Identity Center is read beside the accounts rather than before them: it needs only the account list.
    beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix=IDENTITY_CENTER_THREADS)
    pool: Executor = (
        ThreadPoolExecutor(max_workers=max(1, options.concurrency), thread_name_prefix=ACCOUNT_THREADS)
        if processes == 1
        else ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"))
    )
    try:
        with _progress(options.progress, len(audited)) as advance:
            identity_center = None if organization is None else beside.submit(
                lambda: collect_identity_center(
                    caller, _identity_center_regions(caller, home_region, org_gaps),
                    [t.account_id for t in audited], org_gaps, options.concurrency))
            if processes == 1:
                collect_one = _account_collector(session, caller_account, sts, options, home_region, partition,
                                                 counter, limiter)
                futures = {pool.submit(collect_one, t): t for t in audited}
                for future in as_completed(futures):
                    snapshot, gaps = future.result()
                    results[futures[future].account_id] = (snapshot, gaps)
                    advance(snapshot, len(gaps))
            else:
                chunks = _chunks(audited, max(1, options.concurrency // processes))
                jobs = [pool.submit(_collect_chunk, _Chunk(chunk, options, home_region, partition, caller_account))
                        for chunk in chunks]
                for job in as_completed(jobs):
                    chunk_results, calls, chunk_waits = job.result()
                    counter.merge(calls)
                    _add_waits(waits, chunk_waits)
                    for snapshot, gaps in chunk_results:
                        results[snapshot.account_id] = (snapshot, gaps)
                        advance(snapshot, len(gaps))
            if organization is not None and identity_center is not None:
                organization = organization.model_copy(update={"identity_center": identity_center.result()})
    except BaseException:
        # Ctrl-C (or a bug): drop the accounts not started yet rather than collect them all before stopping.
        for executor in (pool, beside):
            executor.shutdown(wait=False, cancel_futures=True)
        raise
    for executor in (pool, beside):
        executor.shutdown()
    _add_waits(waits, limiter.stats())

    accounts: list[AccountSnapshot] = []
    coverage: list[CoverageGap] = list(org_gaps.items)
    for target in targets:
        if target.account_id in results:
            snapshot, gaps = results[target.account_id]
            accounts.append(snapshot)
            coverage.extend(gaps)
        else:
            accounts.append(AccountSnapshot(account_id=target.account_id, name=target.name, audited=False))

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
) -> list[_Target]:
    """The accounts to put in the snapshot, in order (management/caller first, then by id)."""
    if organization is None:
        candidates = [_Target(caller_account, "")]
    else:
        candidates = [_Target(a.id, a.name, a.status) for a in organization.accounts]
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


@dataclass(frozen=True)
class _Chunk:
    """Accounts one worker process collects together (threads inside it), with what it needs to start."""

    targets: tuple[_Target, ...]
    options: CollectOptions
    home_region: str
    partition: str
    caller_account: str


_ChunkResult = tuple[list[tuple[AccountSnapshot, list[CoverageGap]]], dict[str, dict[str, int]], dict[str, WaitStats]]


def _chunks(targets: list[_Target], size: int) -> list[tuple[_Target, ...]]:
    return [tuple(targets[start:start + size]) for start in range(0, len(targets), size)]


def _collect_chunk(chunk: _Chunk) -> _ChunkResult:
    """Runs in a worker process: the chunk's accounts in parallel threads, from a session rebuilt the way
    the caller's was (profile or environment); returns their snapshots, API call counts and rate-cap waits."""
    session = boto3.Session(profile_name=chunk.options.profile, region_name=chunk.home_region)
    counter, limiter = ApiCallCounter(), RateLimiter()
    sts = ClientFactory(session, chunk.caller_account, counter, limiter).client("sts", chunk.home_region)
    collect_one = _account_collector(session, chunk.caller_account, sts, chunk.options, chunk.home_region,
                                     chunk.partition, counter, limiter)
    with ThreadPoolExecutor(max_workers=len(chunk.targets), thread_name_prefix=ACCOUNT_THREADS) as pool:
        results = list(pool.map(collect_one, chunk.targets))
    return results, counter.snapshot(), limiter.stats()


def _account_collector(
    caller_session: boto3.Session, caller_account: str, sts: Client, options: CollectOptions, home_region: str,
    partition: str, counter: ApiCallCounter, limiter: RateLimiter,
) -> Callable[[_Target], tuple[AccountSnapshot, list[CoverageGap]]]:
    """Collects one account at a time, from any thread: the caller's own account with the caller's session,
    every other one through the audit role."""
    sessions = SessionMaker()

    def collect_one(target: _Target) -> tuple[AccountSnapshot, list[CoverageGap]]:
        own = caller_session if target.account_id == caller_account else None
        return _collect_account(own, sessions, sts, target, options, home_region, partition, counter, limiter)

    return collect_one


def _add_waits(total: dict[str, WaitStats], more: dict[str, WaitStats]) -> None:
    for operation, stats in more.items():
        known = total.get(operation, WaitStats(0, 0.0))
        total[operation] = WaitStats(known.waits + stats.waits, known.seconds + stats.seconds)


def _collect_account(
    caller_session: boto3.Session | None,
    sessions: SessionMaker,
    sts: Client,
    target: _Target,
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
    snapshot = AccountSnapshot(
        account_id=target.account_id,
        name=target.name,
        audited=True,
        regions=regions,
        iam=iam.model_copy(update={"credential_report": credential_report.rows(),
                                   "credential_report_generated_at": credential_report.generated_at}),
        resources=resources,
        budgets=budgets,
    )
    return snapshot, gaps.items


@contextlib.contextmanager
def _progress(enabled: bool, total: int) -> Iterator[_Advance]:
    if not enabled:
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
