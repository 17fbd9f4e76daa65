"""``analyze --what-if plan.json``: the snapshot with a plan's steps applied, re-analysed, compared with the
snapshot as collected: which findings close, which remain, which appear, and which paths to production admin
are left."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from auditor.analyze import RuleSelection, analyze
from auditor.config import AuditorConfig
from auditor.console import printable
from auditor.model import Snapshot
from auditor.plan.changes import Change, ChangeError
from auditor.plan.cut import SOURCE_ENVIRONMENTS, TARGET_ENVIRONMENTS
from auditor.plan.isolation import GraphObserver, Pair, analyze_with_plan
from auditor.result import AuditResult


def apply_steps(snapshot: Snapshot, steps: Sequence[tuple[str, Change]]) -> Snapshot:
    """The snapshot model with every step applied in order; a step that does not apply is a one-line error."""
    for step_id, change in steps:
        try:
            snapshot = change.apply(snapshot)
        except ChangeError as exc:
            raise ChangeError(f"plan step {step_id} ({change.kind}) does not apply to this snapshot: {exc}") from None
    return snapshot


@dataclass(frozen=True)
class WhatIf:
    steps: tuple[str, ...]  # the ids of the steps applied, in order
    closed: tuple[str, ...]  # finding ids before and not after
    remaining: tuple[str, ...]  # finding ids before and after
    opened: tuple[str, ...]  # finding ids after and not before
    paths_before: tuple[Pair, ...]  # (source, target account) with a path to admin
    paths_after: tuple[Pair, ...]


def what_if(
    snapshot: Snapshot,
    config: AuditorConfig,
    steps: Sequence[tuple[str, Change]],
    selection: RuleSelection | None = None,
    now: datetime | None = None,
    *,
    plan: bool = False,
) -> tuple[Snapshot, AuditResult, WhatIf]:
    """(changed snapshot, its analysis, the comparison with the snapshot as given); with ``plan`` the changed
    snapshot's analysis carries its own isolation plan (what is left to cut)."""
    now = now or datetime.now(UTC)
    selection = selection or RuleSelection()
    changed = apply_steps(snapshot, steps)
    seen_before, seen_after = GraphObserver(), GraphObserver()
    before = analyze(snapshot, config, selection, now, on_graph=seen_before)
    seen_before.release()
    if plan:
        after = analyze_with_plan(changed, config, selection, now, observed=seen_after)
    else:
        after = analyze(changed, config, selection, now, on_graph=seen_after)
        seen_after.release()
    ids_before, ids_after = {f.id for f in before.findings}, {f.id for f in after.findings}
    comparison = WhatIf(
        steps=tuple(step_id for step_id, _ in steps),
        closed=tuple(sorted(ids_before - ids_after)),
        remaining=tuple(sorted(ids_before & ids_after)),
        opened=tuple(sorted(ids_after - ids_before)),
        paths_before=tuple(sorted(seen_before.pairs)),
        paths_after=tuple(sorted(seen_after.pairs)),
    )
    return changed, after, comparison


def render_what_if(result: WhatIf, after: AuditResult) -> str:
    envs = ", ".join(sorted(SOURCE_ENVIRONMENTS))
    lines = [
        f"What-if: {len(result.steps)} plan step(s) applied to the snapshot model.",
        f"  findings closed: {len(result.closed)}, remaining: {len(result.remaining)}, new: {len(result.opened)}",
        f"  paths from {envs} to {', '.join(sorted(TARGET_ENVIRONMENTS))} admin: "
        f"{len(result.paths_before)} before, {len(result.paths_after)} after",
    ]
    by_id = {f.id: f for f in after.findings}
    for source, target in result.paths_after:
        lines.append(f"  still open: {printable(source)} -> administrator of {target}")
    for finding_id in result.opened:
        finding = by_id.get(finding_id)
        if finding is not None:
            lines.append(f"  new: {finding.id} {printable(finding.message)}")
    return "\n".join(lines)
