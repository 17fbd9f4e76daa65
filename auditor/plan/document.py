"""plan.json: the isolation plan as a versioned contract (``auditor/report/schema/plan.schema.json``), written
by ``auditor plan``, ``audit`` and ``analyze`` and read back by ``analyze --what-if``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from auditor.console import printable
from auditor.errors import UserError
from auditor.plan.changes import Change, change_from_json

PLAN_SCHEMA_VERSION = "1.0"
PLAN_FILE = "plan.json"
GUARANTEE = (
    "Every step is checked by re-analysing the snapshot with the steps before it applied: 'closes' and "
    "'paths_cut' are what that re-analysis found. The steps are a minimum-cost cut of the access graph's paths "
    "from the source environments to administrator of a target account (networkx minimum s-t cut; a trust "
    "principal or a principal's own statement, attachment or group membership is one arc shared by every edge "
    "it removes), exact when each change's edges share their head or their tail; SCPs, which remove edges with "
    "many heads and tails at once, are added by greedy improvement of that cut. No step can be dropped without "
    "reopening a path. 'remaining' lists the paths the plan could not cut, and why."
)


@dataclass(frozen=True)
class PlanStep:
    id: str
    rank: int
    change: Change
    description: str
    cli: str
    closes: tuple[str, ...]  # finding ids present before the step and absent after it (by re-analysis)
    opens: tuple[str, ...]  # finding ids the step made appear (an SCP is itself reviewed by the rules)
    paths_cut: int  # (source, target account) pairs with a path to admin before the step and none after
    cost: int  # tenths of a change (auditor.plan.model.COST)
    # access-graph edges (source, target) the step removes, as the cut saw them (the organisation picture)
    cut_edges: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "rank": self.rank,
            "kind": self.change.kind,
            **self.change.fields(),
            "description": self.description,
            "cli": self.cli,
            "closes": list(self.closes),
            "opens": list(self.opens),
            "paths_cut": self.paths_cut,
            "cost": self.cost,
            "cut_edges": [{"source": source, "target": target} for source, target in self.cut_edges],
        }


@dataclass(frozen=True)
class RemainingPath:
    source: str
    target_account_id: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "target_account_id": self.target_account_id, "reason": self.reason}


@dataclass(frozen=True)
class IsolationPlan:
    generated_at: str
    source_environments: tuple[str, ...]
    target_environments: tuple[str, ...]
    steps: tuple[PlanStep, ...]
    paths_before: int
    paths_after: int
    remaining: tuple[RemainingPath, ...] = ()

    @property
    def cost(self) -> int:
        return sum(step.cost for step in self.steps)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": PLAN_SCHEMA_VERSION,
            "generated_at": self.generated_at,
            "source_environments": list(self.source_environments),
            "target_environments": list(self.target_environments),
            "summary": {
                "steps": len(self.steps),
                "cost": self.cost,
                "paths_before": self.paths_before,
                "paths_after": self.paths_after,
                "findings_closed": sum(len(s.closes) for s in self.steps),
            },
            "guarantee": GUARANTEE,
            "steps": [step.to_json() for step in self.steps],
            "remaining": [path.to_json() for path in self.remaining],
        }


def render_plan_json(plan: IsolationPlan) -> str:
    document = plan.to_json()
    validate_plan_document(document)
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


@cache
def plan_schema() -> dict[str, Any]:
    text = resources.files("auditor.report").joinpath("schema", "plan.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    Draft202012Validator.check_schema(plan_schema())
    return Draft202012Validator(plan_schema())


def validate_plan_document(document: Any) -> None:
    """Raise ``jsonschema.ValidationError`` when ``document`` breaks the plan.json contract."""
    error = next(iter(sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))), None)
    if error is not None:
        raise error


def load_plan_steps(path: Path) -> list[tuple[str, Change]]:
    """(step id, change) of each step of a plan.json, in rank order; a bad file is a one-line UserError."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_constant=_no_constant)
    except FileNotFoundError:
        raise UserError(f"--what-if {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"--what-if {path}: cannot read it ({exc})") from None
    except (json.JSONDecodeError, ValueError) as exc:
        raise UserError(f"--what-if {path}: not JSON ({printable(exc)})") from None
    if isinstance(document, dict) and str(document.get("schema_version", "")).split(".")[0] not in ("", "1"):
        raise UserError(f"--what-if {path}: plan schema {printable(document['schema_version'])} is not supported "
                        f"(this auditor reads {PLAN_SCHEMA_VERSION})")
    errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "document"
        raise UserError(f"--what-if {path}: not a plan.json ({where}: {printable(errors[0].message)[:200]})")
    steps = sorted(document["steps"], key=lambda s: s["rank"])
    return [(str(step["id"]), change_from_json(step)) for step in steps]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
