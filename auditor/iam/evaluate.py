"""Effective permissions: ``can(principal, action, resource, context) -> Decision``.

The evaluator is split by question; this module re-exports the public names so callers keep importing
from ``auditor.iam.evaluate``:

* ``decide``: may this request be made? (AWS's policy evaluation logic, ``can``);
* ``statements``: does one statement apply to one request? (conditions, Resource variables, Principal);
* ``request``: what a request is made of (caller, resource, guardrail levels, condition facts);
* ``memo``: which decisions can be reused across requests;
* ``decision``: what an evaluation answers (``Decision``, evidence, ``EvaluationEvent``);
* ``snapshot_index``: the ``Evaluator`` built once from a snapshot (policies, SCP chains, facts).
"""

from __future__ import annotations

from auditor.iam.decide import can
from auditor.iam.decision import (
    IDENTITY_KINDS,
    RESOURCE_KINDS,
    Decision,
    EvaluationEvent,
    GrantEvidence,
    StatementRef,
)
from auditor.iam.request import (
    POLICY_REQUIRED_TYPES,
    RCP_SERVICES,
    PolicyLevel,
    PrincipalPolicies,
    PrincipalType,
    RequestContext,
    ResourceRef,
)
from auditor.iam.snapshot_index import FULL_AWS_ACCESS, KNOWN_AWS_MANAGED, Evaluator
from auditor.iam.statements import principal_match, statement_outcome

__all__ = [
    "FULL_AWS_ACCESS",
    "IDENTITY_KINDS",
    "KNOWN_AWS_MANAGED",
    "POLICY_REQUIRED_TYPES",
    "RCP_SERVICES",
    "RESOURCE_KINDS",
    "Decision",
    "EvaluationEvent",
    "Evaluator",
    "GrantEvidence",
    "PolicyLevel",
    "PrincipalPolicies",
    "PrincipalType",
    "RequestContext",
    "ResourceRef",
    "StatementRef",
    "can",
    "principal_match",
    "statement_outcome",
]
