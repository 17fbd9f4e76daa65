"""The isolation plan of a snapshot: the cut (``auditor.plan.cut``), then each step applied in rank order and the
snapshot re-analysed, so that what a step closes is what the analysis really stops reporting.

When re-analysis still finds a path after the last step (the cut's picture of what a change removes was
incomplete), the plan is cut again on the changed snapshot and the new steps appended, at most
``REPAIR_ROUNDS`` times; whatever is left is reported as remaining, with the reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from auditor.analyze import RuleSelection, analyze
from auditor.config import AuditorConfig
from auditor.graph import AccessGraph
from auditor.model import Snapshot
from auditor.plan.changes import (
    AttachScp,
    Change,
    DeleteAccountAssignment,
    DetachManagedPolicy,
    RemoveGroupMember,
    RemovePolicyStatement,
    RemoveTrustPrincipal,
    change_key,
)
from auditor.plan.cut import SOURCE_ENVIRONMENTS, TARGET_ENVIRONMENTS, CutResult, Edge, plan_cut
from auditor.plan.document import IsolationPlan, PlanStep, RemainingPath
from auditor.plan.model import PlanModel
from auditor.result import AuditResult

REPAIR_ROUNDS = 2
Pair = tuple[str, str]
Reanalyze = Callable[[Snapshot, Callable[[AccessGraph], None]], AuditResult]


@dataclass
class GraphObserver:
    """What one analysis showed: its findings, its source-target pairs and (kept only until read) its graph."""

    graph: AccessGraph | None = None
    pairs: set[Pair] = field(default_factory=set)
    sources: frozenset[str] = SOURCE_ENVIRONMENTS
    targets: frozenset[str] = TARGET_ENVIRONMENTS

    def __call__(self, graph: AccessGraph) -> None:
        self.graph = graph
        self.pairs = {
            (p.source, p.target_account_id)
            for p in graph.paths_to_admin()
            if p.source_environment in self.sources and p.target_environment in self.targets
        }

    def cut(self, snapshot: Snapshot, costs: dict[Change, int]) -> CutResult:
        """The plan's cut of this analysis's graph; records each change's cost in ``costs``."""
        assert self.graph is not None, "the analysis calls on_graph before it returns"
        model = PlanModel(snapshot, self.graph)
        result = plan_cut(model, self.graph.environments, source_environments=self.sources,
                          target_environments=self.targets)
        costs.update((c, model.cost(c)) for c in result.changes)
        return result

    def release(self) -> None:
        self.graph = None  # a graph of a large organisation is hundreds of MiB: never two alive at once


def analyze_with_plan(
    snapshot: Snapshot,
    config: AuditorConfig,
    selection: RuleSelection | None = None,
    now: datetime | None = None,
    *,
    observed: GraphObserver | None = None,
) -> AuditResult:
    """``analyze`` with the isolation plan on the result (one more analysis per step). ``observed``, when given,
    holds afterwards the (source, target account) pairs of the snapshot as given."""
    now = now or datetime.now(UTC)
    selection = selection or RuleSelection()

    def reanalyze(snap: Snapshot, hook: Callable[[AccessGraph], None]) -> AuditResult:
        return analyze(snap, config, selection, now, on_graph=hook)

    observed = observed or GraphObserver()
    before = reanalyze(snapshot, observed)
    plan = build_plan(snapshot, before, observed, reanalyze, now)
    return replace(before, plan=plan)


def build_plan(
    snapshot: Snapshot, before: AuditResult, observed: GraphObserver, reanalyze: Reanalyze, now: datetime
) -> IsolationPlan:
    pairs_before = set(observed.pairs)
    costs: dict[Change, int] = {}
    cut = observed.cut(snapshot, costs)
    edges_of = dict(cut.edges_of)
    pending = list(cut.changes)
    uncut: tuple[Edge, ...] = cut.uncut
    observed.release()
    done: list[Change] = []
    steps: list[PlanStep] = []
    current, ids, pairs = snapshot, {f.id for f in before.findings}, pairs_before
    rounds = 0
    while pending:
        change = pending.pop(0)
        changed = change.apply(current)
        step_view = GraphObserver(sources=observed.sources, targets=observed.targets)
        result = reanalyze(changed, step_view)
        after_ids = {f.id for f in result.findings}
        steps.append(
            PlanStep(
                id=step_id(change),
                rank=len(steps) + 1,
                change=change,
                description=describe(change, current),
                cli=change.cli(current, changed),
                closes=tuple(sorted(ids - after_ids)),
                opens=tuple(sorted(after_ids - ids)),
                paths_cut=len(pairs - step_view.pairs),
                cost=costs[change],
                cut_edges=edges_of.get(change, ()),
            )
        )
        done.append(change)
        current, ids, pairs = changed, after_ids, step_view.pairs
        if not pending and pairs and rounds < REPAIR_ROUNDS:
            rounds += 1
            repair = step_view.cut(current, costs)
            pending = [c for c in repair.changes if c not in done]
            edges_of.update(repair.edges_of)
            uncut = repair.uncut
        step_view.release()
    remaining = tuple(
        RemainingPath(source, target, _reason(source, target, uncut)) for source, target in sorted(pairs)
    )
    return IsolationPlan(
        generated_at=now.isoformat(timespec="milliseconds"),
        source_environments=tuple(sorted(observed.sources)),
        target_environments=tuple(sorted(observed.targets)),
        steps=tuple(steps),
        paths_before=len(pairs_before),
        paths_after=len(pairs),
        remaining=remaining,
    )


def _reason(source: str, target: str, uncut: tuple[Edge, ...]) -> str:
    if uncut:
        named = "; ".join(f"{e.kind} {e.source} -> {e.target}" for e in uncut[:3])
        return f"no change the plan knows removes: {named}" + (" ..." if len(uncut) > 3 else "")
    return "re-analysis still finds this path after every step (the plan's model of a change was incomplete)"


def step_id(change: Change) -> str:
    return "PLAN-" + hashlib.sha256(change_key(change).encode()).hexdigest()[:12]


def _account_label(snapshot: Snapshot, account_id: str) -> str:
    org = snapshot.organization
    member = org.account(account_id) if org else None
    collected = snapshot.account(account_id)
    name = member.name if member else collected.name if collected else ""
    return f"{name} ({account_id})" if name else account_id


def _target_label(snapshot: Snapshot, target_id: str) -> str:
    org = snapshot.organization
    ou = next((o for o in org.organizational_units if o.id == target_id), None) if org else None
    if ou is not None:
        return f"OU {ou.name} ({ou.id})"
    return f"account {_account_label(snapshot, target_id)}"


def describe(change: Change, snapshot: Snapshot) -> str:
    """One sentence saying what the change does, in AWS's words."""
    if isinstance(change, RemoveTrustPrincipal):
        return f"Remove {change.principal} from the trust policy of role {change.role_arn}"
    if isinstance(change, RemovePolicyStatement):
        where = (f"customer managed policy {change.policy_arn}" if change.policy_arn
                 else f"inline policy {change.policy_name} of {change.principal_arn}")
        return f"Remove statement {change.label()} from {where}"
    if isinstance(change, DetachManagedPolicy):
        return f"Detach managed policy {change.policy_arn} from {change.principal_arn}"
    if isinstance(change, RemoveGroupMember):
        return f"Remove user {change.user_arn} from group {change.group_arn}"
    if isinstance(change, DeleteAccountAssignment):
        return (f"Delete the assignment of permission set {change.permission_set_arn} to {change.principal_type} "
                f"{change.principal_id} in account {_account_label(snapshot, change.account_id)}")
    accounts = _scp_accounts(change)
    labels = ", ".join(_account_label(snapshot, a) for a in accounts)
    return (f"Attach an SCP to {_target_label(snapshot, change.target_id)} that denies sts:AssumeRole into the "
            f"production account{'s' if len(accounts) != 1 else ''} {labels}")


def _scp_accounts(change: AttachScp) -> list[str]:
    accounts: list[str] = []
    for statement in change.policy_document.get("Statement", []):
        condition: Mapping[str, Mapping[str, object]] = statement.get("Condition", {})
        value = condition.get("StringEquals", {}).get("aws:ResourceAccount", [])
        accounts += [value] if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else []
    return accounts
