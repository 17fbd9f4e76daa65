"""What the access graph answers with: admin grants, trust edges, and paths made of hops."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.graph.kinds import EdgeKind, GrantLevel
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
