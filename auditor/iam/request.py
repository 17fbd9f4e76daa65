"""What a request is made of: the caller with its policies, the resource with its policy, the guardrail
levels (SCPs, RCPs) and the request's condition facts. Per-action statement lookups are cached here."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from auditor.iam.conditions import ConditionContext
from auditor.iam.policy import Policy, Statement, arn_account

PrincipalType = Literal["user", "role", "group", "account", "service", "federated", "anyone"]

# Services whose resources RCPs govern (AWS, 2025).
RCP_SERVICES = frozenset({"s3", "sts", "sqs", "secretsmanager", "kms", "ecr", "logs", "dynamodb", "cognito-identity"})
# Resource types whose resource policy is required even within the account.
POLICY_REQUIRED_TYPES = frozenset({"iam:role", "kms:key"})


@dataclass(frozen=True)
class PrincipalPolicies:
    """A caller with every policy that applies to it (user: own + its groups'; role: own)."""

    arn: str
    type: PrincipalType
    account_id: str | None
    identity: tuple[Policy, ...] = ()
    boundary: Policy | None = None
    identity_known: bool = True  # False for outsiders whose identity policies we cannot see
    service_linked: bool = False
    name: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    unique_id: str = ""  # AIDA... / AROA...: aws:userid is this (a user) or "this:<session name>" (a role)
    _by_action: dict[tuple[bool, str], _Matches] = field(default_factory=dict, init=False, repr=False, compare=False)
    # decide._CallerSide per request shape
    _caller: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _memo_sig: dict[str, tuple[Any, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def signature(self) -> tuple[Any, ...]:
        """What the caller's half of an evaluation depends on (besides conditions): shared policy objects."""
        return (self.type, self.identity, self.boundary, self.service_linked, self.identity_known or self.arn)

    @property
    def match_kind(self) -> str:
        return {"service": "Service", "federated": "Federated"}.get(self.type, "AWS")

    def identity_for(self, action: str) -> _Matches:
        """Identity-policy statements (allow and deny) whose Action/NotAction covers ``action`` (cached)."""
        return _cached(self._by_action, (False, action), self.identity)

    def boundary_for(self, action: str) -> _Matches:
        return _cached(self._by_action, (True, action), (self.boundary,) if self.boundary else ())


@dataclass(frozen=True)
class ResourceRef:
    arn: str
    account_id: str | None = None
    policy: Policy | None = None
    policy_required: bool = False  # role trust policies, KMS key policies

    @property
    def owner_account(self) -> str | None:
        return self.account_id or arn_account(self.arn)


@dataclass(frozen=True)
class PolicyLevel:
    """The SCPs (or RCPs) attached to one target: the root, an OU or the account."""

    target_id: str
    policies: tuple[Policy, ...]
    assumed_default: bool = False  # nothing collected for this level: FullAWSAccess assumed
    _by_action: dict[tuple[bool, str], _Matches] = field(default_factory=dict, init=False, repr=False, compare=False)

    def for_action(self, action: str) -> _Matches:
        return _cached(self._by_action, (False, action), self.policies)


_Matches = tuple[tuple[Policy, Statement], ...]


def _cached(cache: dict[tuple[bool, str], _Matches], key: tuple[bool, str], policies: Iterable[Policy]) -> _Matches:
    hit = cache.get(key)
    if hit is None:
        action = key[1]
        hit = cache[key] = tuple((p, st) for p in policies for st in p.statements if st.matches_action(action))
    return hit


@dataclass(frozen=True, eq=False)  # compared by identity: the evaluator caches one per caller and account
class RequestContext:
    conditions: ConditionContext = field(default_factory=ConditionContext)
    scp_levels: tuple[PolicyLevel, ...] | None = None  # None: the caller is not governed by SCPs
    rcp_levels: tuple[PolicyLevel, ...] | None = None  # None: the resource is not governed by RCPs
    shared: dict[Any, Any] | None = field(default=None, repr=False)  # the evaluator's cache of caller halves
    # requests derived from this one (the caller's picks, see ``picks``), built once and reused
    # (not an init field: a copy made with dataclasses.replace gets its own, its conditions may differ)
    derived: dict[Any, RequestContext] = field(default_factory=dict, init=False, repr=False)

    def with_request(self, request: Mapping[str, str | Iterable[str] | None]) -> RequestContext:
        """This request with concrete facts of its own (``iam:PolicyARN`` ...): a value or values per key,
        ``None`` for a key the request is known not to carry."""
        values = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in request.items() if v is not None}
        absent = [k for k, v in request.items() if v is None]
        return RequestContext(self.conditions.merged(values, absent), self.scp_levels, self.rcp_levels, self.shared)

