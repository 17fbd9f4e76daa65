"""What the access graph answers with: admin grants, trust edges, and paths made of hops."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.graph.kinds import ControlKind, EdgeKind, GrantLevel, LiftedBy
from auditor.iam.evaluate import GrantEvidence


@dataclass(frozen=True)
class AdminGrant:
    principal_arn: str
    principal_type: str  # user | group | role
    account_id: str
    level: GrantLevel
    services: tuple[str, ...]  # for service-admin, e.g. ("iam",) for iam:*
    evidence: tuple[GrantEvidence, ...]
    conditional: bool
    undecided_conditions: tuple[str, ...]
    recipe: str | None = None  # creates-admin: the id of the AdminRecipe (auditor.graph.admin) it follows


@dataclass(frozen=True)
class AssumeEdge:
    source: str  # principal ARN, arn:aws:iam::ACCT:root, service principal, federated provider, or "*"
    source_type: str  # user | role | account | service | federated | anyone
    source_account_id: str | None
    target_role_arn: str
    target_account_id: str
    trust_statement: dict[str, Any]
    identity_statement: dict[str, Any] | None
    in_organization: bool  # the source account is a member of the organisation (or the audited account)
    conditional: bool
    undecided_conditions: tuple[str, ...]
    decided_conditions: tuple[str, ...]
    action: str = "sts:AssumeRole"  # the sts:AssumeRole* action the trust and identity statements allow


@dataclass(frozen=True)
class Guardrail:
    """One control that stops a request: an SCP or RCP (its statement, or the level with no allow), a permission
    boundary, a Deny statement, a trust condition, or a missing allow."""

    kind: ControlKind
    ref: str  # ARN of the policy (SCP, RCP, boundary, managed), else the principal or role it belongs to
    name: str
    attached_to: str | None  # root/OU/account ids (SCP, RCP), the principal (identity, boundary), the role
    statement: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    statement_key: str = ""  # the statement as canonical JSON: tells statements of one policy apart
    lifted_by: LiftedBy = LiftedBy.ORGANIZATION


@dataclass(frozen=True)
class BlockedAssume:
    """A trust names ``source`` (by ARN, account or "*") but evaluation refused sts:AssumeRole*: the edge
    that is not in the graph, with what stopped it (each guardrail alone suffices)."""

    source: str
    source_type: str  # user | role | account | service | federated | anyone
    source_account_id: str | None
    target_role_arn: str
    target_account_id: str
    action: str
    trust_statement: dict[str, Any] = field(hash=False, compare=False)
    reason: str  # the evaluator's: explicit-deny | scp | rcp | permission-boundary | no-*-allow
    stopped_by: tuple[Guardrail, ...]


@dataclass(frozen=True)
class Hop:
    source: str
    target: str
    kind: EdgeKind
    evidence: dict[str, Any]


@dataclass(frozen=True)
class AccessPath:
    source: str
    source_account_id: str | None
    source_environment: str
    target_account_id: str
    target_environment: str
    hops: tuple[Hop, ...]
    conditional: bool

    @property
    def nodes(self) -> tuple[str, ...]:
        return (self.hops[0].source, *(h.target for h in self.hops)) if self.hops else (self.source,)


@dataclass(frozen=True)
class BlockedPath:
    """A path to administrator of ``target_account_id`` that a control cuts at its first hop (``blocked``);
    ``hops`` lead on from the refused role. ``bypassed``: the source reaches that admin another way."""

    blocked: BlockedAssume
    source_environment: str
    target_account_id: str
    target_environment: str
    hops: tuple[Hop, ...]
    bypassed: bool

    @property
    def source(self) -> str:
        return self.blocked.source

    @property
    def nodes(self) -> tuple[str, ...]:
        return (self.blocked.source, self.blocked.target_role_arn, *(h.target for h in self.hops))


@dataclass(frozen=True)
class Control:
    """A guardrail with the paths to admin it blocks (``auditor.graph.controls``)."""

    guardrail: Guardrail
    paths: tuple[BlockedPath, ...]

    @property
    def holds(self) -> bool:
        """Every source it blocks stays blocked (none reaches the same admin another way)."""
        return not any(p.bypassed for p in self.paths)
