"""The isolation plan as the terminal shows it, and plan.json staged with the other outputs."""

from __future__ import annotations

from pathlib import Path

from auditor.console import printable
from auditor.outputs import OutputSet
from auditor.plan.document import PLAN_FILE, IsolationPlan, render_plan_json


def stage_plan(plan: IsolationPlan, out_dir: Path, outputs: OutputSet) -> Path:
    path = out_dir / PLAN_FILE
    outputs.stage_text(path, render_plan_json(plan))
    return path


def render_plan_text(plan: IsolationPlan, *, commands: bool = True) -> str:
    sources = ", ".join(plan.source_environments)
    targets = ", ".join(plan.target_environments)
    lines = [
        f"Isolation plan: {len(plan.steps)} step(s) cut {plan.paths_before - plan.paths_after} of "
        f"{plan.paths_before} path(s) from {sources} principals to {targets} administrator "
        f"(cost {plan.cost / 10:g} change(s)).",
    ]
    for step in plan.steps:
        lines.append(
            f"{step.rank:>3}. {printable(step.description)}"
            f"\n     cuts {step.paths_cut} path(s), closes {len(step.closes)} finding(s)  [{step.id}]"
        )
        if commands:
            lines.append(f"     $ {printable(step.cli)}")
    for path in plan.remaining:
        lines.append(f"  remaining: {printable(path.source)} -> administrator of {path.target_account_id}: "
                     f"{printable(path.reason)}")
    if not plan.steps and not plan.remaining:
        lines.append("  Nothing to cut: no such path was found.")
    return "\n".join(lines)
