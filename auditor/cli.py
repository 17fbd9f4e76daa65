"""The ``auditor`` command line: demo, audit, collect, analyze, rules, role-template.

Exit codes: 0 audit complete and no finding at or above ``--fail-on``; 1 findings at or above
``--fail-on``; 2 usage error, bad input or nothing could be collected; 3 audit complete but
collection was partial (some account or service could not be read) and no ``--fail-on`` hit.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click
from click.shell_completion import CompletionItem

from auditor import __version__
from auditor.cli_options import AnalysisOptions, CollectionFlags, Flags
from auditor.console import printable
from auditor.errors import UserError
from auditor.findings import SEVERITIES, SEVERITY_RANK
from auditor.outputs import PRIVATE_FILE_MODE, make_private_dirs
from auditor.report.formats import FORMATS, choose_formats, format_help

if TYPE_CHECKING:
    import boto3

    from auditor.analyze import RuleSelection
    from auditor.collect import CollectOptions
    from auditor.config import AuditorConfig
    from auditor.history import PendingRun
    from auditor.model import Snapshot
    from auditor.outputs import OutputSet
    from auditor.result import AuditResult, HistoryInfo
    from auditor.snapshot_writer import SnapshotSink

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_PARTIAL = 0, 1, 2, 3
DEFAULT_ROLE_NAME = "SecurityAuditRole"
PROGRESS_LINE_ACCOUNTS = 10  # without a terminal, one progress line every this many accounts

F = TypeVar("F", bound=Callable[..., None])
Analysis = Callable[["Snapshot", "AuditorConfig", "RuleSelection"], "AuditResult"]
V = TypeVar("V")


def _split(values: Sequence[str]) -> tuple[str, ...]:
    """Accept repeated flags and comma-separated lists alike."""
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def _formats(values: Sequence[str]) -> tuple[str, ...]:
    return choose_formats(_split(values))


def _complete_formats(
    context: click.Context, parameter: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """Shell completion of --format: the registered formats (after any comma-separated ones already typed)."""
    done, _, last = incomplete.rpartition(",")
    prefix = f"{done}," if done else ""
    return [CompletionItem(prefix + name, help=f.files)
            for name, f in FORMATS.items() if name.startswith(last)]


def analysis_options(function: F) -> F:
    """Options shared by every command that analyses and reports."""
    options = [
        click.option(
            "--out",
            "out",
            type=click.Path(path_type=Path),
            default=None,
            help="Directory for report.html, findings.json, findings.csv.",
        ),
        click.option(
            "--format",
            "formats",
            multiple=True,
            shell_complete=_complete_formats,
            help=format_help(),
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(path_type=Path),
            default=None,
            help="auditor.yaml (default: ./auditor.yaml if present).",
        ),
        click.option("--rules", "only_rules", multiple=True, help="Run only these rule ids."),
        click.option("--skip-rules", "skip_rules", multiple=True, help="Do not run these rule ids."),
        click.option(
            "--rules-dir",
            "rules_dirs",
            multiple=True,
            type=click.Path(path_type=Path),
            help="Directory of extra rule modules written like the built-in ones. They are Python run with your "
            "credentials in reach: use only directories you trust as you trust this tool.",
        ),
        click.option(
            "--history",
            "history_path",
            type=click.Path(path_type=Path),
            default=None,
            help="SQLite history store: record this run and mark findings new / persisting / resolved.",
        ),
        click.option(
            "--fail-on-new",
            is_flag=True,
            help="With --fail-on and --history: exit 1 only for findings new since the previous run.",
        ),
        click.option(
            "--suppressions",
            "suppressions_path",
            type=click.Path(path_type=Path),
            default=None,
            help="Suppressions file (default: the suppressions: list of auditor.yaml).",
        ),
        click.option(
            "--fail-on",
            "fail_on",
            type=click.Choice(SEVERITIES),
            default=None,
            help="Exit 1 when a finding of this severity or higher exists.",
        ),
        click.option("--quiet", is_flag=True, help="Print nothing but errors."),
        click.option(
            "--no-plan",
            "no_plan",
            is_flag=True,
            help="Do not compute the isolation plan (plan.json): it re-analyses the snapshot once per step.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def collection_options(function: F) -> F:
    options = [
        click.option(
            "--profile", default=None, help="AWS profile (standard boto3 credential chain otherwise)."
        ),
        click.option(
            "--region", default=None, help="Region for API endpoints (default: profile or us-east-1)."
        ),
        click.option(
            "--role-name",
            default=DEFAULT_ROLE_NAME,
            show_default=True,
            help="Read-only audit role assumed in every member account.",
        ),
        click.option(
            "--external-id", default=None, envvar="AUDITOR_EXTERNAL_ID", show_envvar=True,
            help="ExternalId the audit role's trust policy requires. Prefer the environment variable (an "
            "environment file): a command-line argument is visible to other users in the process list.",
        ),
        click.option(
            "--regions", "regions", multiple=True,
            help="Regions to inventory (default: every region enabled in each account).",
        ),
        click.option("--accounts", "accounts", multiple=True, help="Audit only these account ids."),
        click.option("--exclude-accounts", "exclude_accounts", multiple=True, help="Skip these account ids."),
        click.option(
            "--concurrency",
            type=click.IntRange(1, 64),
            default=8,
            show_default=True,
            help="Accounts collected in parallel.",
        ),
        click.option(
            "--verbose", is_flag=True,
            help="Log every AWS call, retry and coverage gap (AccessDenied...) on stderr.",
        ),
        click.option(
            "--log-file", type=click.Path(path_type=Path), default=None,
            help="Write that log to this file (0600) instead of, or with --verbose as well as, stderr.",
        ),
        click.option(
            "--processes",
            type=click.IntRange(1, 64),
            default=1,
            show_default=True,
            help="Worker processes sharing the accounts: collection is CPU-bound in Python, so use up to one "
            "per CPU core for large organisations.",
        ),
        click.option(
            "--resume",
            is_flag=True,
            help="Continue an interrupted collection into the same --out (or re-collect an earlier snapshot's failed "
            "accounts): accounts whose shard is complete are not collected again.",
        ),
        click.option(
            "--executor",
            type=click.Choice(("local", "dask")),
            default="local",
            show_default=True,
            help="Where accounts are collected: on this machine, or one task per account on a Dask cluster "
            '(needs pip install "aws-org-auditor[dask]" here and on the workers).',
        ),
        click.option(
            "--scheduler",
            default=None,
            help="With --executor dask: the Dask scheduler's address, e.g. tcp://dask-scheduler:8786.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="auditor")
def cli() -> None:
    """Multi-account AWS security posture auditor: are your environments isolated, who can reach production?"""


def _report_lines(result: AuditResult, written: dict[str, Path], quiet: bool) -> None:
    from auditor.report import render_summary

    if not quiet:
        click.echo(render_summary(result))
        if result.plan is not None:  # the isolation plan (issue 12 §3)
            from auditor.report.plan_report import render_plan_text

            click.echo(render_plan_text(result.plan, commands=False))
        for kind, path in written.items():
            click.echo(f"{kind:>5}: {path}")


def _exit_code(result: AuditResult, options: AnalysisOptions, snapshot: Snapshot) -> int:
    """The exit code, with its reason on stderr when it is not 0 (a CI log or cron mail says why)."""
    fail_on = options.fail_on
    gated = result.findings
    new_only = options.fail_on_new and result.history is not None
    if result.history is not None and options.fail_on_new:
        # the first recorded run is the baseline: nothing is "new" against nothing
        new = set(result.history.new) if result.history.previous_run_id is not None else set()
        gated = tuple(f for f in gated if f.id in new)
    if fail_on is not None:
        hits = [f for f in gated if SEVERITY_RANK[f.severity] >= SEVERITY_RANK[fail_on]]
        if hits:
            what = "new finding" if new_only else "finding"
            _exit_reason(EXIT_FINDINGS, f"{_count(len(hits), what)} at or above {fail_on}")
            return EXIT_FINDINGS
    reason = _partial_reason(snapshot)
    if reason:
        _exit_reason(EXIT_PARTIAL, reason)
        return EXIT_PARTIAL
    return EXIT_OK


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _exit_reason(code: int, reason: str) -> None:
    click.echo(f"exit {code}: {reason}", err=True)


def _partial_reason(snapshot: Snapshot) -> str:
    """Why a collection is partial ("1 account not audited, 2 partial (5 coverage gaps)"), or ""."""
    not_audited = {a.account_id for a in snapshot.accounts if not a.audited}
    gapped = {g.account_id for g in snapshot.coverage} - not_audited
    partial = gapped & {a.account_id for a in snapshot.accounts}
    if not (not_audited or snapshot.coverage):
        return ""
    parts = []
    if not_audited:
        parts.append(f"{_count(len(not_audited), 'account')} not audited")
    if partial:
        parts.append(f"{len(partial)} partial")
    gaps = f"{_count(len(snapshot.coverage), 'coverage gap')}"
    return (", ".join(parts) + f" ({gaps})") if parts else gaps


def _check_analysis_inputs(out: Path, options: AnalysisOptions, snapshot_dir: Path | None = None) -> None:
    """Everything about the flags, the config and the output places that can be checked before a long
    collection: a mistake found here costs the user nothing."""
    from auditor.config import load_config, resolve_config_path
    from auditor.outputs import check_output_directory
    from auditor.snapshot import check_snapshot_target
    from auditor.suppressions import load_suppressions

    _formats(options.formats)
    if options.fail_on_new and not (options.history_path and options.fail_on):
        raise UserError("--fail-on-new needs --history DB and --fail-on SEVERITY")
    load_config(options.config_path)
    suppressions_file = options.suppressions_path or resolve_config_path(options.config_path)
    if suppressions_file:
        load_suppressions(suppressions_file)
    if snapshot_dir is not None:
        check_snapshot_target(snapshot_dir, force=options.force, flag=_snapshot_flag())
    check_output_directory(out)


def _snapshot_flag() -> str:
    return "--snapshot-out" if click.get_current_context().info_name == "demo" else "--out"


def _analyze_and_report(
    snapshot: Snapshot,
    out: Path,
    options: AnalysisOptions,
    snapshot_dir: Path | None = None,
    place_snapshot: Callable[[OutputSet], None] | None = None,
    analysis: Analysis | None = None,
) -> AuditResult:
    """Analyse, then write every output (the snapshot when ``snapshot_dir`` is given, the reports) and
    record the run in the history store: all of it, or (on any failure or Ctrl-C) none of it.
    ``place_snapshot`` stages a snapshot already written (streamed) instead of writing ``snapshot`` out."""
    from dataclasses import replace

    from auditor.analyze import RuleSelection
    from auditor.config import load_config, resolve_config_path
    from auditor.history import begin_run
    from auditor.outputs import OutputSet
    from auditor.report import stage_reports
    from auditor.snapshot import check_snapshot_target, fill_snapshot_directory
    from auditor.suppressions import load_suppressions

    _check_analysis_inputs(out, options, snapshot_dir)
    config = load_config(options.config_path)
    suppressions_file = options.suppressions_path or resolve_config_path(options.config_path)
    selection = RuleSelection(
        only=_split(options.only_rules),
        skip=_split(options.skip_rules),
        rules_dirs=options.rules_dirs,
        suppressions=load_suppressions(suppressions_file) if suppressions_file else (),
    )
    if analysis is None:
        analysis = _plan_analysis if options.plan else _plain_analysis
    result = analysis(snapshot, config, selection)
    for gap in result.coverage:  # a rule that crashed: named here, not only in the report's coverage view
        if gap.service == "auditor" and gap.operation.startswith("rule ") and gap.error_code != "Undetermined":
            click.echo(f"warning: {gap.operation} failed and reported nothing: {gap.error_code}: "
                       f"{printable(gap.message)}", err=True)
    pending: PendingRun | None = None
    if options.history_path:
        pending = begin_run(options.history_path, result.findings_document())
        result = replace(result, history=_history_info(pending))
    try:
        with OutputSet() as outputs:
            if snapshot_dir is not None:
                target = snapshot_dir.resolve()
                check_snapshot_target(target, force=options.force, flag=_snapshot_flag())
                if place_snapshot is not None:
                    place_snapshot(outputs)
                else:
                    fill_snapshot_directory(snapshot, outputs.stage_directory(target))
            written = stage_reports(result, out, _formats(options.formats), outputs)
            if result.plan is not None:  # plan.json beside the findings (issue 12 §3)
                from auditor.report.plan_report import stage_plan

                written["plan"] = stage_plan(result.plan, out, outputs)
            # the history store is committed last, after every output is in place
            outputs.commit(finalize=pending.commit if pending else None)
    except BaseException:
        if pending is not None:
            pending.rollback()
        raise
    _report_lines(result, written, options.quiet)
    return result


def _plain_analysis(snapshot: Snapshot, config: AuditorConfig, selection: RuleSelection) -> AuditResult:
    from auditor.analyze import analyze

    return analyze(snapshot, config, selection)


def _plan_analysis(snapshot: Snapshot, config: AuditorConfig, selection: RuleSelection) -> AuditResult:
    from auditor.plan.isolation import analyze_with_plan

    return analyze_with_plan(snapshot, config, selection)


def _history_info(pending: PendingRun) -> HistoryInfo:
    from auditor.result import HistoryInfo

    delta = pending.delta
    assert delta is not None  # begin_run computes the delta before it returns
    return HistoryInfo(
        previous_run_id=delta.previous_run_id,
        new=delta.new,
        resolved=delta.resolved,
        persisting=delta.persisting,
        first_seen=dict(delta.first_seen),
        trend=tuple((point.generated_at, point.total, point.by_severity["critical"] + point.by_severity["high"])
                    for point in delta.trend),
    )


# Loggers --verbose / --log-file turn on: the auditor's own (AWS calls, coverage gaps) and botocore's retry
# decisions. Never botocore.endpoint: it logs request bodies, and AssumeRole's holds the ExternalId.
VERBOSE_LOGGERS = ("auditor", "botocore.retries", "botocore.retryhandler")


class _PrintableFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def _setup_logging(verbose: bool, log_file: Path | None) -> None:
    """Handlers for --verbose (stderr) and --log-file, removed again when the command ends."""
    handlers: list[logging.Handler] = []
    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))
    if log_file is not None:
        try:
            make_private_dirs(log_file.parent)
            handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
            os.chmod(log_file, PRIVATE_FILE_MODE)
        except OSError as exc:
            raise UserError(f"--log-file {log_file}: cannot write it ({exc.strerror or exc})") from None
    if not handlers:
        return
    formatter = _PrintableFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    loggers = [logging.getLogger(name) for name in VERBOSE_LOGGERS]
    previous = [logger.level for logger in loggers]
    for handler in handlers:
        handler.setFormatter(formatter)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        for handler in handlers:
            logger.addHandler(handler)

    def remove() -> None:
        for logger, level in zip(loggers, previous, strict=True):
            logger.setLevel(level)
            for handler in handlers:
                logger.removeHandler(handler)
        for handler in handlers:
            handler.close()

    click.get_current_context().call_on_close(remove)


def _collection_setup(flags: CollectionFlags) -> tuple[boto3.Session, CollectOptions]:
    """The caller's session and the validated collection options (flags, else auditor.yaml)."""
    import boto3
    import botocore.exceptions

    from auditor.collect import CollectOptions
    from auditor.config import load_config

    configured = load_config(flags.config_path).collection
    _setup_logging(flags.verbose, flags.log_file)

    def flag_or_config(name: str, flag: V, value: V | None) -> V:
        """The flag when it was given on the command line, else auditor.yaml's ``collection`` value, else the flag's
        default."""
        return flag if name in flags.given or value is None else value

    try:
        session = boto3.Session(profile_name=flags.profile, region_name=flags.region)
    except botocore.exceptions.ProfileNotFound as exc:
        raise UserError(str(exc)) from None
    at_terminal = sys.stdout.isatty() and sys.stderr.isatty()
    options = CollectOptions(
        role_name=_role_name(flag_or_config("role_name", flags.role_name, configured.role_name)),
        external_id=flag_or_config("external_id", flags.external_id, configured.external_id),
        regions=_regions(session, _split(flags.regions) or configured.regions),
        accounts=_account_ids("--accounts", _split(flags.accounts)) or configured.accounts,
        exclude_accounts=_account_ids("--exclude-accounts", _split(flags.exclude_accounts))
        or configured.exclude_accounts,
        concurrency=flag_or_config("concurrency", flags.concurrency, configured.concurrency),
        processes=flag_or_config("processes", flags.processes, configured.processes),
        executor=flag_or_config("executor", flags.executor, configured.executor),
        scheduler=flag_or_config("scheduler", flags.scheduler, configured.scheduler),
        profile=flags.profile,
        # A bar only for a person at a terminal; plain lines for a CI log or cron mail; nothing with --quiet.
        progress=not flags.quiet and at_terminal,
        progress_lines_every=0 if flags.quiet or at_terminal else PROGRESS_LINE_ACCOUNTS,
    )
    return session, options


def _collect(flags: CollectionFlags, sink: SnapshotSink | None = None) -> Snapshot:
    from auditor.collect import collect

    session, options = _collection_setup(flags)
    return collect(session, options, sink)


# IAM role names (with an optional path): letters, digits and +=,.@_- , at most 64 characters for the name.
_ROLE_NAME = re.compile(r"(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}", re.ASCII)


def _role_name(name: str) -> str:
    if not _ROLE_NAME.fullmatch(name):
        raise UserError(
            f"--role-name {printable(name)!r} is not an IAM role name (letters, digits and +=,.@_- only, "
            "at most 64 characters; a path goes before it as path/Name)"
        )
    return name


def _account_ids(flag: str, values: tuple[str, ...]) -> tuple[str, ...]:
    from auditor.config import account_id

    try:
        return tuple(account_id(value) for value in values)
    except ValueError as exc:
        raise UserError(f"{flag}: {printable(exc)}") from None


def _regions(session: boto3.Session, regions: tuple[str, ...]) -> tuple[str, ...]:
    """Each region is one of the partition's (the partition of the endpoint region), else a one-line error
    with the closest names; caught here, before a long collection meets it in every account."""
    import difflib

    home = session.region_name or "us-east-1"
    try:
        partition = session.get_partition_for_region(home)
    except Exception:  # an unknown home region: botocore cannot say which partition
        raise UserError(f"--region {printable(home)!r} is not a known AWS region") from None
    known = set(session.get_available_regions("ec2", partition))
    for region in regions:
        if region not in known:
            close = difflib.get_close_matches(region, sorted(known), n=2, cutoff=0.6)
            hint = f"; did you mean {' or '.join(close)}?" if close else f" ({len(known)} regions known)"
            raise UserError(
                f"--regions: {printable(region)!r} is not a region of the {partition} partition{hint} "
                "(a region newer than this install needs an upgraded botocore)"
            )
    return regions


FORCE_HELP = "Replace the snapshot directory even when it is not empty and not an earlier snapshot."


@cli.command()
@collection_options
@analysis_options
@click.option("--force", is_flag=True, help=FORCE_HELP)
def audit(**params: object) -> None:
    """Collect from AWS, then analyse and write the reports (collect + analyze in one step)."""
    from auditor.snapshot import read_snapshot
    from auditor.snapshot_writer import DirectorySnapshotWriter

    flags = Flags.of_current_command(params)
    options, collection = AnalysisOptions.read(flags), CollectionFlags.read(flags)
    out = options.out or Path("out/audit")
    _check_analysis_inputs(out, options, out / "snapshot")
    # each account's shard is written as it is collected; the snapshot moves into place with the reports
    sink = DirectorySnapshotWriter(out / "snapshot", force=options.force, resume=collection.resume)
    summary = _collect(collection, sink)
    if not any(a.audited for a in summary.accounts):
        raise UserError(
            "no account could be audited; see the coverage section: "
            + "; ".join(
                f"{g.account_id} {g.service}:{g.operation} {g.error_code}" for g in summary.coverage[:3]
            )
        )
    snapshot = read_snapshot(sink.complete(summary.manifest, summary.organization, summary.coverage))
    result = _analyze_and_report(snapshot, out, options, snapshot_dir=out / "snapshot", place_snapshot=sink.place)
    sys.exit(_exit_code(result, options, snapshot))


@cli.command()
@collection_options
@click.option(
    "--out", "out", required=True,
    help="Snapshot directory to write, or s3://BUCKET/PREFIX (written with a separate, write-only sink session).",
)
@click.option("--sink-profile", default=None,
              help="With --out s3://...: the AWS profile of the sink session that writes the snapshot (default: the "
              "standard credential chain). It needs s3:PutObject on the prefix only.")
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default=None,
    help="auditor.yaml, for its collection settings (default: ./auditor.yaml if present).",
)
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("--force", is_flag=True, help=FORCE_HELP)
def collect(**params: object) -> None:
    """Collect an offline snapshot (no analysis); analyse it later with `auditor analyze`."""
    from auditor.config import load_config
    from auditor.snapshot_writer import snapshot_sink

    flags = Flags.of_current_command(params)
    collection, force = CollectionFlags.read(flags), flags.flag("force")
    load_config(collection.config_path)
    # each account's shard is written as soon as it is collected; the manifest last
    sink = snapshot_sink(flags.text("out"), force=force, resume=collection.resume,
                         sink_profile=flags.optional_text("sink_profile"))
    snapshot = _collect(collection, sink)
    path = sink.finish(snapshot.manifest, snapshot.organization, snapshot.coverage)
    if not collection.quiet:
        audited = sum(a.audited for a in snapshot.accounts)
        click.echo(
            f"snapshot: {path} ({audited}/{len(snapshot.accounts)} accounts audited, "
            f"{len(snapshot.coverage)} coverage gap(s))"
        )
    reason = _partial_reason(snapshot)
    if reason:
        _exit_reason(EXIT_PARTIAL, reason)
    sys.exit(EXIT_PARTIAL if reason else EXIT_OK)


@cli.command()
@click.argument("snapshot_dir", type=click.Path(path_type=Path))
@analysis_options
@click.option(
    "--what-if",
    "what_if",
    type=click.Path(path_type=Path),
    default=None,
    help="plan.json: apply its steps to the snapshot, analyse the result (the reports describe the changed "
    "organisation) and print which findings and paths to production admin close and which remain.",
)
def analyze(snapshot_dir: Path, **params: object) -> None:
    """Analyse a snapshot offline (no AWS access) and write the reports."""
    from auditor.snapshot import read_snapshot

    options = AnalysisOptions.read(Flags.of_current_command(params))
    steps = None
    if options.what_if is not None:
        from auditor.plan.document import load_plan_steps

        steps = load_plan_steps(options.what_if)  # a bad plan fails before the snapshot is read
    snapshot = read_snapshot(snapshot_dir)
    out = options.out or snapshot_dir.parent / f"{snapshot_dir.name}-report"
    if steps is None:
        result = _analyze_and_report(snapshot, out, options)
        sys.exit(_exit_code(result, options, snapshot))
    from auditor.plan.changes import ChangeError
    from auditor.plan.whatif import WhatIf, apply_steps, render_what_if, what_if

    try:
        apply_steps(snapshot, steps)  # a step that does not apply is a one-line error before any analysis
    except ChangeError as exc:
        raise UserError(f"--what-if {options.what_if}: {exc}") from None
    compared: list[WhatIf] = []

    def analysis(snap: Snapshot, config: AuditorConfig, selection: RuleSelection) -> AuditResult:
        _, after, comparison = what_if(snap, config, steps, selection, plan=options.plan)
        compared.append(comparison)
        return after

    result = _analyze_and_report(snapshot, out, options, analysis=analysis)
    if not options.quiet:
        click.echo(render_what_if(compared[0], result))
    sys.exit(_exit_code(result, options, snapshot))


@cli.command()
@analysis_options
@click.option(
    "--snapshot-out",
    type=click.Path(path_type=Path),
    default=None,
    help="Also write the demo's snapshot here (default: OUT/snapshot).",
)
@click.option("--force", is_flag=True, help=FORCE_HELP)
def demo(snapshot_out: Path | None, **params: object) -> None:
    """Audit a built-in demo organisation simulated with moto (no AWS account needed)."""
    from auditor.demo_run import check_demo_available, collect_demo

    options = AnalysisOptions.read(Flags.of_current_command(params))
    check_demo_available()
    out = options.out or Path("out/demo")
    snapshot_dir = snapshot_out or out / "snapshot"
    _check_analysis_inputs(out, options, snapshot_dir)
    if not options.quiet:
        click.echo("Building the demo organisation (simulated with moto) and auditing it...")
    snapshot = collect_demo()
    result = _analyze_and_report(snapshot, out, options, snapshot_dir=snapshot_dir)
    sys.exit(_exit_code(result, options, snapshot))  # the same codes as analyze on its snapshot


@cli.command()
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--fail-on-new", "fail_on", type=click.Choice(SEVERITIES), default=None,
              help="Exit 1 when a new finding of this severity or higher appears.")
def diff(old: Path, new: Path, fail_on: str | None) -> None:
    """Compare two runs (findings.json files or report directories): new, resolved, persisting."""
    from auditor.history import diff_documents, load_document, render_diff

    result = diff_documents(load_document(old), load_document(new))
    click.echo(render_diff(result), nl=False)
    hits = [f for f in result.new if SEVERITY_RANK.get(str(f["severity"]), -1) >= SEVERITY_RANK[fail_on or "info"]]
    if fail_on and hits:
        _exit_reason(EXIT_FINDINGS, f"{_count(len(hits), 'new finding')} at or above {fail_on}")
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_OK)


@cli.group()
def rules() -> None:
    """List and describe the rule catalogue."""


@rules.command("list")
@click.option("--rules-dir", "rules_dirs", multiple=True, type=click.Path(path_type=Path))
def rules_list(rules_dirs: tuple[Path, ...]) -> None:
    """Every rule: id, severity, category, title and compliance mappings."""
    from auditor.engine import load_rules

    for current in load_rules(rules_dirs):
        mappings = "; ".join(f"{fw} {','.join(ids)}" for fw, ids in current.compliance.items())
        click.echo(f"{current.id:<12} {current.severity:<8} {current.category:<26} {current.title}")
        if mappings:
            click.echo(f"{'':<12} {'':<8} {'':<26} {mappings}")


@rules.command("show")
@click.argument("rule_id")
@click.option("--rules-dir", "rules_dirs", multiple=True, type=click.Path(path_type=Path))
def rules_show(rule_id: str, rules_dirs: tuple[Path, ...]) -> None:
    """Everything about one rule."""
    from auditor.engine import load_rules

    found = load_rules(rules_dirs, only=(rule_id,))
    current = found[0]
    click.echo(f"{current.id}: {current.title}")
    click.echo(f"severity: {current.severity}    category: {current.category}")
    click.echo(f"\nWhy it matters:\n  {current.rationale}\n\nRemediation:\n  {current.remediation}")
    if current.compliance:
        click.echo("\nCompliance:")
        for framework, ids in current.compliance.items():
            click.echo(f"  {framework}: {', '.join(ids)}")


# --- isolation plan (issue 12 §3) ---


@cli.command("plan")
@click.argument("snapshot_dir", type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Directory for plan.json (default: SNAPSHOT_DIR-report, beside analyze's findings).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="auditor.yaml, for its environments (default: ./auditor.yaml if present).")
@click.option("--rules-dir", "rules_dirs", multiple=True, type=click.Path(path_type=Path),
              help="Extra rule directories (their findings count in each step's 'closes').")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
def plan_command(snapshot_dir: Path, out: Path | None, config_path: Path | None, rules_dirs: tuple[Path, ...],
                 quiet: bool) -> None:
    """The fewest changes that cut every path from non-production, sandbox and external principals to
    production admin: write plan.json and print the plan with its AWS CLI commands."""
    from auditor.analyze import RuleSelection
    from auditor.config import load_config
    from auditor.outputs import OutputSet, check_output_directory
    from auditor.plan.isolation import analyze_with_plan
    from auditor.report.plan_report import render_plan_text, stage_plan
    from auditor.snapshot import read_snapshot

    out = out or snapshot_dir.parent / f"{snapshot_dir.name}-report"
    config = load_config(config_path)
    check_output_directory(out)
    snapshot = read_snapshot(snapshot_dir)
    result = analyze_with_plan(snapshot, config, RuleSelection(rules_dirs=rules_dirs))
    assert result.plan is not None
    with OutputSet() as outputs:
        path = stage_plan(result.plan, out, outputs)
        outputs.commit()
    if not quiet:
        click.echo(render_plan_text(result.plan))
        click.echo(f" plan: {path}")
    reason = _partial_reason(snapshot)
    if reason:
        _exit_reason(EXIT_PARTIAL, reason)
    sys.exit(EXIT_PARTIAL if reason else EXIT_OK)


# --- compliance (issue 13) ---


@cli.command("compliance")
@click.argument("snapshot_dir", type=click.Path(path_type=Path))
@click.option("--framework", "frameworks", multiple=True,
              help="Framework id or alias (cis-3.0, cis-7.0, fsbp, soc2, iso27001, nist, wa-cost); repeatable. "
              "Default cis-3.0.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="auditor.yaml (default: ./auditor.yaml if present).")
@click.option("--rules-dir", "rules_dirs", multiple=True, type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Also write compliance.csv and the evidence JSON files into this directory.")
def compliance(snapshot_dir: Path, frameworks: tuple[str, ...], config_path: Path | None,
               rules_dirs: tuple[Path, ...], out: Path | None) -> None:
    """Print each control x account status (pass / FAIL / incomplete / not collected / manual) of a snapshot."""
    from auditor.analyze import RuleSelection, analyze
    from auditor.assessment import assess, framework_id
    from auditor.config import load_config
    from auditor.report.compliance_report import render_compliance_table, write_compliance
    from auditor.snapshot import read_snapshot

    chosen = []
    for name in _split(frameworks) or ("cis-3.0",):
        known = framework_id(name)
        if known is None:
            from auditor.compliance import FRAMEWORKS

            raise UserError(f"unknown framework {name!r}; choose from {', '.join(FRAMEWORKS)} (or cis-3.0, cis-7.0)")
        chosen.append(known)
    if out is not None:
        from auditor.outputs import check_output_directory

        check_output_directory(out)
    snapshot = read_snapshot(snapshot_dir)
    result = analyze(snapshot, load_config(config_path), RuleSelection(rules_dirs=rules_dirs))
    rows = assess(result)
    for framework in chosen:
        click.echo(render_compliance_table(result, framework, rows))
    if out is not None:
        for path in write_compliance(result, out, rows):
            click.echo(f"wrote {path}")


@cli.command("check-access")
@collection_options
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), default=None,
    help="auditor.yaml, for its collection settings (default: ./auditor.yaml if present).",
)
@click.option("--quiet", is_flag=True, help="Print only the accounts that cannot be audited.")
def check_access_command(**params: object) -> None:
    """Preflight: assume the audit role in every account and read one thing there; list what fails and why."""
    from auditor.check_access import check_access

    collection = CollectionFlags.read(Flags.of_current_command(params))
    session, options = _collection_setup(collection)
    checks = check_access(session, options)
    id_width = max(len(c.account_id) for c in checks)
    name_width = max((len(printable(c.name)) for c in checks), default=0)
    for c in checks:
        if c.ok and collection.quiet:
            continue
        click.echo(f"{c.account_id:<{id_width}}  {printable(c.name):<{name_width}}  "
                   f"{'ok' if c.ok else 'FAILED':<6}  {printable(c.detail)}")
    failed = [c for c in checks if not c.ok]
    if not collection.quiet:
        click.echo(f"{len(checks) - len(failed)} of {len(checks)} accounts can be audited "
                   f"with role {options.role_name}")
    if failed:
        _exit_reason(EXIT_PARTIAL, f"{_count(len(failed), 'account')} cannot be audited")
        sys.exit(EXIT_PARTIAL)
    sys.exit(EXIT_OK)


@cli.command("role-template")
@click.option(
    "--trusted-account-id", required=True, help="Account the auditor runs from (trusted by the role)."
)
@click.option("--role-name", default=DEFAULT_ROLE_NAME, show_default=True)
def role_template(trusted_account_id: str, role_name: str) -> None:
    """Print the CloudFormation template of the read-only audit role (deploy it as a StackSet)."""
    from auditor.role_template import render_role_template

    if not (trusted_account_id.isdigit() and len(trusted_account_id) == 12):
        raise UserError(f"--trusted-account-id must be a 12-digit account id, not {trusted_account_id!r}")
    _role_name(role_name)
    click.echo(render_role_template(trusted_account_id, role_name), nl=False)


def _exit_now(code: int) -> None:
    """Exit without waiting for collector threads still reading AWS (they would finish their accounts first)."""
    from auditor.collect.session import COLLECTOR_THREAD_PREFIXES

    if multiprocessing.active_children() or any(
        thread.name.startswith(COLLECTOR_THREAD_PREFIXES) for thread in threading.enumerate()
    ):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # every finally block of the main thread has run: nothing is left half-written
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and exit code 2, never a traceback."""
    from auditor.outputs import PRIVATE_UMASK

    previous_umask = os.umask(PRIVATE_UMASK)  # whatever the auditor creates is its operator's only
    try:
        _main(argv)
    finally:
        os.umask(previous_umask)


def _main(argv: Sequence[str] | None) -> None:
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="auditor", standalone_mode=False)
    except UserError as exc:
        click.echo(f"error: {printable(exc)}", err=True)  # may quote AWS text: one line, no escapes
        sys.exit(EXIT_ERROR)
    except (click.exceptions.Abort, KeyboardInterrupt):  # click turns Ctrl-C into Abort
        click.echo("interrupted: no snapshot or report was left half-written", err=True)
        _exit_now(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # a bug, not a user mistake: one line by default, traceback on request
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        click.echo(
            f"internal error: {type(exc).__name__}: {printable(exc)} "
            "(set AUDITOR_DEBUG=1 for the traceback, and please report it)",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_OK)


if __name__ == "__main__":
    main()
