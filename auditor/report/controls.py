"""``controls`` in findings.json: each guardrail that stops a path to administrator, with the paths it blocks
and their sources (``auditor.graph.controls`` answers; this module only shapes the answer as JSON)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from auditor.graph.controls import guardrail_key
from auditor.graph.records import BlockedPath, Control, Hop

# A control that blocks thousands of paths lists the first of them (holding ones last, bypassed ones first)
# and counts the rest: findings.json stays readable at organisation scale.
MAX_PATHS = 5
MAX_SOURCES = 50


def control_id(control: Control) -> str:
    """Stable across runs for the same guardrail (kind, policy, attachment, statement)."""
    digest = hashlib.sha256("\x1f".join(guardrail_key(control.guardrail)).encode("utf-8")).hexdigest()
    return f"CTL-{digest[:12]}"


def _hop(hop: Hop) -> dict[str, Any]:
    return {"source": hop.source, "target": hop.target, "kind": str(hop.kind), "evidence": hop.evidence}


def _path(path: BlockedPath) -> dict[str, Any]:
    edge = path.blocked
    return {
        "source": edge.source,
        "source_type": edge.source_type,
        "source_account_id": edge.source_account_id,
        "source_environment": path.source_environment,
        "role_arn": edge.target_role_arn,
        "target_account_id": path.target_account_id,
        "target_environment": path.target_environment,
        "action": edge.action,
        "reason": edge.reason,
        "trust_statement": edge.trust_statement,
        "nodes": list(path.nodes),
        "hops": [_hop(h) for h in path.hops],
        "bypassed": path.bypassed,
    }


def control_json(control: Control) -> dict[str, Any]:
    guardrail = control.guardrail
    paths = control.paths
    # bypassed paths first: they are what a reviewer must see; then production targets
    shown = sorted(paths, key=lambda p: (not p.bypassed, p.target_environment != "prod"))[:MAX_PATHS]
    sources: dict[str, dict[str, Any]] = {}
    for path in paths:
        sources.setdefault(
            path.source,
            {
                "arn": path.source,
                "type": path.blocked.source_type,
                "account_id": path.blocked.source_account_id,
                "environment": path.source_environment,
            },
        )
    targets = {p.target_account_id: p.target_environment for p in paths}
    return {
        "id": control_id(control),
        "kind": str(guardrail.kind),
        "ref": guardrail.ref,
        "name": guardrail.name,
        "attached_to": guardrail.attached_to,
        "statement": guardrail.statement,
        "lifted_by": str(guardrail.lifted_by),
        "holds": control.holds,
        "paths_blocked": len(paths),
        "paths_bypassed": sum(1 for p in paths if p.bypassed),
        "source_count": len(sources),
        "sources": list(sources.values())[:MAX_SOURCES],
        "source_environments": sorted({p.source_environment for p in paths}),
        "target_accounts": [{"account_id": a, "environment": e} for a, e in sorted(targets.items())],
        "paths": [_path(p) for p in shown],
    }


def controls_json(controls: Iterable[Control]) -> list[dict[str, Any]]:
    return [control_json(c) for c in controls]
