"""Guardrail evidence: which controls hold. A trust that names a principal is a candidate edge; when evaluation
refuses it, the evaluator's ``Decision`` says what stopped it (an explicit Deny, the SCP or RCP level with no
allow, the permission boundary, a false condition, a missing allow). ``stopped_by`` turns that into the
guardrails a reviewer can name (kind, ARN or id, statement); ``controls`` groups the refused edges that lead
on to an administrator by guardrail, each with the paths it blocks and whether a source gets there anyway.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from auditor.graph.kinds import ControlKind, Environment, LiftedBy
from auditor.graph.records import AccessPath, BlockedPath, Control, Guardrail
from auditor.iam.decision import IDENTITY_KINDS, Decision, StatementRef
from auditor.iam.request import PolicyLevel

if TYPE_CHECKING:
    from auditor.graph.access_graph import AccessGraph

_ARN_TYPES = {"scp": ControlKind.SCP, "rcp": ControlKind.RCP}


def _statement_key(statement: Mapping[str, object] | None) -> str:
    return json.dumps(statement, sort_keys=True, default=str) if statement is not None else ""


def _attached(levels: Iterable[PolicyLevel] | None, label: str) -> str | None:
    """The root/OU/account ids where the SCP or RCP ``label`` is attached above an account."""
    targets = [level.target_id for level in levels or () if any(p.source.label == label for p in level.policies)]
    return ", ".join(targets) or None


def _guardrail(
    kind: ControlKind,
    ref: str,
    name: str,
    attached_to: str | None,
    lifted_by: LiftedBy,
    statement: StatementRef | None = None,
) -> Guardrail:
    raw = dict(statement.statement) if statement is not None else None
    return Guardrail(kind, ref, name, attached_to, raw, _statement_key(raw), lifted_by)


def stopped_by(
    decision: Decision,
    *,
    source: str,
    role_arn: str,
    scp_levels: tuple[PolicyLevel, ...] | None,
    rcp_levels: tuple[PolicyLevel, ...] | None,
    names: Mapping[str, str],
) -> tuple[Guardrail, ...]:
    """The guardrails behind a refused ``decision`` of ``source`` calling sts:AssumeRole* on ``role_arn``.

    ``scp_levels``: the caller's (root to account), ``rcp_levels``: the role account's; ``names``: policy
    ARN -> name for SCPs and RCPs. Each explicit Deny is a guardrail of its own (any one suffices).
    """
    reason = decision.reason
    if reason == "explicit-deny":
        out: list[Guardrail] = []
        for ref in decision.denied_by:
            name = names.get(ref.policy, ref.policy.rsplit("/", 1)[-1])
            if ref.policy_kind in _ARN_TYPES:
                levels = scp_levels if ref.policy_kind == "scp" else rcp_levels
                out.append(_guardrail(_ARN_TYPES[ref.policy_kind], ref.policy, name,
                                      _attached(levels, ref.policy), LiftedBy.ORGANIZATION, ref))
            elif ref.policy_kind == "boundary":
                out.append(_guardrail(ControlKind.PERMISSIONS_BOUNDARY, ref.policy, name, ref.owner_arn or source,
                                      LiftedBy.SOURCE_ACCOUNT, ref))
            elif ref.policy_kind in IDENTITY_KINDS:
                owner = ref.owner_arn or source
                policy_ref = ref.policy if ref.policy.startswith("arn:") else owner
                out.append(_guardrail(ControlKind.IDENTITY_DENY, policy_ref, ref.policy, owner,
                                      LiftedBy.SOURCE_ACCOUNT, ref))
            else:  # the trust policy (or a resource policy) of the role
                out.append(_guardrail(ControlKind.RESOURCE_DENY, role_arn, ref.policy, role_arn,
                                      LiftedBy.TARGET_ACCOUNT, ref))
        return tuple(dict.fromkeys(out))
    unmet = decision.unmet[0] if decision.unmet else None
    if reason in ("scp", "rcp") and decision.blocked_at is not None:
        kind = ControlKind.SCP if reason == "scp" else ControlKind.RCP
        policies = decision.blocked_policies
        level_ref = policies[0] if len(policies) == 1 else decision.blocked_at
        name = ", ".join(names.get(p, p.rsplit("/", 1)[-1]) for p in policies) or f"no {reason.upper()} attached"
        return (_guardrail(kind, level_ref, name, decision.blocked_at, LiftedBy.ORGANIZATION, unmet),)
    if reason == "permission-boundary":
        boundary = decision.blocked_policies[0] if decision.blocked_policies else source
        return (_guardrail(ControlKind.PERMISSIONS_BOUNDARY, boundary, boundary.rsplit("/", 1)[-1], source,
                           LiftedBy.SOURCE_ACCOUNT, unmet),)
    if reason == "no-resource-allow":
        if decision.unmet:
            kind, lifted = ControlKind.TRUST_CONDITION, LiftedBy.TARGET_ACCOUNT
            return tuple(dict.fromkeys(
                _guardrail(kind, role_arn, ref.policy, role_arn, lifted, ref) for ref in decision.unmet
            ))
        return (_guardrail(ControlKind.MISSING_ALLOW, role_arn, "trust policy", role_arn, LiftedBy.TARGET_ACCOUNT),)
    # no-identity-allow: the caller's policies do not allow the call (or their condition is false here)
    return (_guardrail(ControlKind.MISSING_ALLOW, source, "identity policies", source, LiftedBy.SOURCE_ACCOUNT,
                       unmet),)


def guardrail_key(guardrail: Guardrail) -> tuple[str, str, str, str]:
    return (guardrail.kind, guardrail.ref, guardrail.attached_to or "", guardrail.statement_key)


def controls(graph: AccessGraph, max_hops: int = 5) -> list[Control]:
    """Each guardrail that stops a trust from leading on to administrator of an account, with the paths it
    blocks: the refused hop, then the role's own best path to admin (the same search as every other path
    question). A path is ``bypassed`` when its source reaches that admin another way."""
    blocked = graph.blocked_assumes()
    if not blocked:
        return []
    onward: dict[str, list[AccessPath]] = defaultdict(list)
    reaches: set[tuple[str, str]] = set()
    for path in graph.effective_admins(max_hops=max_hops):
        onward[path.source].append(path)
        reaches.update((node, path.target_account_id) for node in path.nodes)
    grouped: dict[tuple[str, str, str, str], tuple[Guardrail, list[BlockedPath]]] = {}
    for edge in blocked:
        for path in onward.get(edge.target_role_arn, ()):
            if len(path.hops) + 1 > max_hops:
                continue
            external = edge.source_type in ("anyone", "federated", "service")
            blocked_path = BlockedPath(
                blocked=edge,
                source_environment=Environment.EXTERNAL if external else graph.environment_of(edge.source_account_id),
                target_account_id=path.target_account_id,
                target_environment=path.target_environment,
                hops=path.hops,
                bypassed=(edge.source, path.target_account_id) in reaches,
            )
            for guardrail in edge.stopped_by:
                key = guardrail_key(guardrail)
                grouped.setdefault(key, (guardrail, []))[1].append(blocked_path)
    out = [
        Control(guardrail, tuple(sorted(paths, key=_path_order)))
        for guardrail, paths in grouped.values()
    ]
    out.sort(key=lambda c: (_KIND_ORDER.get(c.guardrail.kind, 9), -len(c.paths), guardrail_key(c.guardrail)))
    return out


# Organisation-wide controls first: they are the ones a compromised member account cannot lift.
_KIND_ORDER = {kind: n for n, kind in enumerate(ControlKind)}


def _path_order(path: BlockedPath) -> tuple[bool, bool, int, str, str]:
    return (
        path.bypassed,
        path.target_environment != "prod",
        len(path.hops),
        path.target_account_id,
        path.source,
    )
