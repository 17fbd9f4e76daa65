"""Analysis: snapshot -> environments -> access graph -> rules -> AuditResult. No AWS calls here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from auditor.config import AuditorConfig
from auditor.engine import RuleContext, load_rules, run_rules
from auditor.environment import classify_accounts
from auditor.findings import Finding
from auditor.graph import AccessGraph, build_access_graph
from auditor.iam import actions as catalogue
from auditor.iam.evaluate import EvaluationEvent
from auditor.model import CoverageGap, Snapshot
from auditor.result import AccountView, AuditResult, MatrixCell, SuppressedFinding
from auditor.suppressions import Suppression, apply_suppressions, resource_tag_index, suppression_json


@dataclass(frozen=True)
class RuleSelection:
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    rules_dirs: tuple[Path, ...] = ()
    suppressions: tuple[Suppression, ...] = ()


def analyze(
    snapshot: Snapshot,
    config: AuditorConfig,
    selection: RuleSelection = RuleSelection(),
    now: datetime | None = None,
    *,
    on_graph: Callable[[AccessGraph], None] | None = None,
) -> AuditResult:
    """``on_graph``: called with the access graph once built (the isolation plan reads it; it is not kept)."""
    now = now or datetime.now(UTC)
    environments = classify_accounts(snapshot, config)
    graph = build_access_graph(snapshot, {k: v.environment for k, v in environments.items()})
    if on_graph is not None:
        on_graph(graph)
    # What limited the evaluation (unparseable policies, unknown actions) is coverage, visible to rules too.
    snapshot = snapshot.model_copy(update={"coverage": (*snapshot.coverage, *_evaluation_gaps(graph.events))})
    rules = load_rules(selection.rules_dirs, selection.only, selection.skip)
    context = RuleContext(snapshot=snapshot, config=config, environments=environments, graph=graph, now=now)
    all_findings, rule_gaps = run_rules(rules, context)
    outcome = apply_suppressions(all_findings, selection.suppressions, now.date(), resource_tag_index(snapshot))
    findings = list(outcome.active)
    org = snapshot.organization
    accounts = tuple(
        AccountView(
            id=account.account_id,
            name=_account_name(snapshot, account.account_id) or account.name,
            ou_path=org.ou_path_names(account.account_id) if org else "",
            environment=environments[account.account_id].environment,
            environment_source=environments[account.account_id].source,
            audited=account.audited,
            is_management=bool(org and org.management_account_id == account.account_id),
        )
        for account in snapshot.accounts
    )
    counts = {**graph.reachability_matrix(), **_identity_center_counts(graph)}
    sources = sorted({info.environment for info in environments.values()} | {"external"})
    if snapshot.organization and snapshot.organization.identity_center:
        sources.append(IDENTITY_CENTER)
    matrix = _matrix(counts, findings_by_target(findings), sources, [a.id for a in accounts])
    return AuditResult(
        generated_at=now.isoformat(timespec="milliseconds"),
        snapshot=snapshot,
        accounts=accounts,
        findings=tuple(findings),
        coverage=(*snapshot.coverage, *rule_gaps),
        rules=tuple(r.info() for r in rules),
        matrix=matrix,
        suppressed=tuple(SuppressedFinding(f, suppression_json(entry)) for f, entry in outcome.suppressed),
        expired_suppressions=tuple(
            {**suppression_json(entry), "would_hide": [f.id for f, e in outcome.expired_matches if e == entry]}
            for entry in outcome.expired
        ),
        stale_suppressions=tuple(suppression_json(entry) for entry in outcome.stale),
        controls=tuple(graph.controls()),
        action_catalogue=tuple(catalogue.catalogue_versions().items()),
    )


IDENTITY_CENTER = "identity-center"


def _identity_center_counts(graph: AccessGraph) -> dict[tuple[str, str], dict[str, int]]:
    """The matrix row for people who sign in through IAM Identity Center: users reaching admin per account."""
    users: dict[str, set[str]] = {}
    for path in graph.identity_center_access():
        users.setdefault(path.target_account_id, set()).add(path.source)
    return {(IDENTITY_CENTER, account): {"admin": len(s), "write": len(s)} for account, s in users.items()}


def _evaluation_gaps(events: Iterable[EvaluationEvent]) -> list[CoverageGap]:
    gaps: dict[tuple[str, ...], CoverageGap] = {}
    unknown: list[catalogue.UnknownActionUse] = []
    for event in events:
        if event.kind == "assumption":
            continue  # stated in the finding's evidence, not a gap in what was seen
        if event.kind == "unknown-action" and event.pattern:
            unknown.append(catalogue.UnknownActionUse(event.pattern, event.subject, event.account_id))
            continue
        gap = CoverageGap(
            account_id=event.account_id or "*",
            service="auditor",
            operation=f"policy evaluation ({event.kind})",
            error_code=event.kind,
            message=f"{event.subject}: {event.message}",
        )
        gaps.setdefault((gap.account_id, gap.error_code, gap.message), gap)
    return [*gaps.values(), *unknown_action_gaps(unknown)]


def unknown_action_gaps(uses: Iterable[catalogue.UnknownActionUse]) -> list[CoverageGap]:
    """One gap per unknown service (or known service with unknown actions) per analysis, not one per pattern."""
    return [
        CoverageGap(
            account_id=summary.accounts[0] if len(summary.accounts) == 1 else "*",
            service="auditor",
            operation="policy evaluation (action catalogue)",
            error_code="unknown-action",
            message=summary.message,
        )
        for summary in catalogue.summarise_unknown(uses)
    ]


def _account_name(snapshot: Snapshot, account_id: str) -> str:
    member = snapshot.organization.account(account_id) if snapshot.organization else None
    return member.name if member else ""


def findings_by_target(findings: Iterable[Finding]) -> dict[tuple[str, str], list[str]]:
    """(source environment, target account) -> ids of reachability findings, for matrix click-through."""
    index: dict[tuple[str, str], list[str]] = {}
    for finding in findings:
        if finding.category == "external-access":
            source_env = "external"
        elif finding.category in ("cross-environment-access", "privilege-escalation"):
            source_env = finding.evidence.get("source_environment") or finding.environment
        elif finding.evidence.get("source_environment"):  # e.g. Identity Center admin on an account
            source_env = finding.evidence["source_environment"]
        else:
            continue
        index.setdefault((str(source_env), finding.account_id), []).append(finding.id)
    return index


def _matrix(
    counts: dict[tuple[str, str], dict[str, int]],
    finding_ids: dict[tuple[str, str], list[str]],
    sources: list[str],
    targets: list[str],
) -> tuple[MatrixCell, ...]:
    """Every (source environment, target account) cell, zeros included: a zero is evidence of isolation."""
    keys = {(source, target) for source in sources for target in targets} | set(counts)
    return tuple(
        MatrixCell(
            source_environment=source,
            target_account_id=target,
            admin=counts.get((source, target), {}).get("admin", 0),
            write=counts.get((source, target), {}).get("write", 0),
            finding_ids=tuple(finding_ids.get((source, target), ())),
        )
        for source, target in sorted(keys)
    )
