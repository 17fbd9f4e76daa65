"""What an evaluation answers: a ``Decision`` with the statements behind it, and input problems as events."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from auditor.iam.conditions import Tri
from auditor.iam.policy import Policy, Statement

# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementRef:
    """A statement as evidence: the policy's name or ARN, how it applies, and the raw statement."""

    policy: str
    policy_kind: str
    statement: dict[str, Any] = field(hash=False)
    effect: str = "Allow"
    owner_arn: str | None = None

    @classmethod
    def of(cls, policy: Policy, statement: Statement) -> StatementRef:
        refs = _REFS.get(policy)
        if refs is None:
            refs = _REFS[policy] = {}
        ref = refs.get(statement.index)
        if ref is None:
            ref = refs[statement.index] = cls(
                policy=policy.source.label,
                policy_kind=policy.source.kind,
                statement=statement.raw,
                effect=statement.effect,
                owner_arn=policy.source.owner_arn,
            )
        return ref


# evidence objects are built once per statement; the cache goes away with the policy
_REFS: weakref.WeakKeyDictionary[Policy, dict[int, StatementRef]] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class GrantEvidence:
    """A granting statement as rules show it (re-exported by ``auditor.graph``)."""

    policy: str  # name (inline) or ARN (managed)
    policy_kind: str  # inline | managed | aws-managed | group-inline | group-managed
    statement: dict[str, Any] = field(hash=False)

    @classmethod
    def of(cls, ref: StatementRef) -> GrantEvidence:
        return cls(ref.policy, ref.policy_kind, ref.statement)


IDENTITY_KINDS = frozenset({"inline", "managed", "aws-managed", "group-inline", "group-managed"})
RESOURCE_KINDS = frozenset({"trust", "resource"})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    conditional: bool  # allowed only under undecided conditions
    # allowed | explicit-deny | scp | rcp | permission-boundary | no-identity-allow | no-resource-allow
    reason: str
    allowed_by: tuple[StatementRef, ...] = ()
    denied_by: tuple[StatementRef, ...] = ()
    undecided_conditions: tuple[str, ...] = ()
    decided_conditions: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    # What stopped a refused request, beyond ``denied_by`` (explicit denies): the SCP/RCP level with no allow
    # (its target: root, OU or account id) and the policies attached there, or the permission boundary; and
    # ``unmet``: allows that covered the request but whose conditions are false for it (a trust's
    # aws:PrincipalOrgID, an identity policy's aws:ResourceTag...).
    blocked_at: str | None = None
    blocked_policies: tuple[str, ...] = ()
    unmet: tuple[StatementRef, ...] = ()

    @property
    def tri(self) -> Tri:
        return Tri.NO if not self.allowed else Tri.MAYBE if self.conditional else Tri.YES

    def identity_statements(self) -> tuple[StatementRef, ...]:
        return tuple(r for r in self.allowed_by if r.policy_kind in IDENTITY_KINDS)

    def resource_statements(self) -> tuple[StatementRef, ...]:
        return tuple(r for r in self.allowed_by if r.policy_kind in RESOURCE_KINDS)


@dataclass(frozen=True)
class EvaluationEvent:
    """Something about the input that limits confidence: recorded, reported as coverage, never fatal."""

    kind: str  # parse-error | unknown-action | missing-policy | assumption
    account_id: str | None
    subject: str  # policy name/ARN or principal ARN
    message: str
    pattern: str = ""  # the action pattern of an unknown-action event (folded per service for coverage)

