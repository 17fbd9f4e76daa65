"""Who can assume which role: every role's trust policy against the callers it names, decided by
``evaluate.can`` (trust policy, the caller's identity policies and boundary, SCPs and RCPs, conditions).

Callers are not asked one by one against every role: a trust naming an account asks only that account's
principals whose identity policies allow sts:AssumeRole* on the role (same-account ``"*"`` and a named ARN
need no identity permission), and decisions are shared between callers that no evaluation can tell apart.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, cast

from auditor.graph.access_graph import AccessGraph
from auditor.graph.controls import stopped_by
from auditor.graph.kinds import NodeKind
from auditor.graph.records import AssumeEdge, BlockedAssume
from auditor.iam.conditions import ConditionContext, ConditionOutcome, statement_fact_names
from auditor.iam.evaluate import (
    Decision,
    Evaluator,
    PolicyLevel,
    PrincipalPolicies,
    PrincipalType,
    ResourceRef,
    can,
    principal_match,
    statement_outcome,
)
from auditor.iam.policy import Policy, Statement, arn_account
from auditor.model import Snapshot

ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")
# Identity Center's own SAML provider in each account (the trust of its AWSReservedSSO_* roles)
IDENTITY_CENTER_SAML_PROVIDER = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:saml-provider/AWSSSO_[0-9A-Za-z]+_DO_NOT_DELETE$"
)
# How a trust's source type names the node of a principal outside the snapshot
_OUTSIDE_KINDS = {
    "account": NodeKind.ACCOUNT_PRINCIPAL,
    "anyone": NodeKind.ANYONE,
    "user": NodeKind.USER,
    "role": NodeKind.ROLE,
    "service": NodeKind.SERVICE,
    "federated": NodeKind.FEDERATED,
}


def add_trusts(
    graph: AccessGraph, snapshot: Snapshot, evaluator: Evaluator, principals: list[PrincipalPolicies]
) -> None:
    """A can-assume edge for every caller that may assume each role (the best decision per caller)."""
    _Trusts(graph, snapshot, evaluator, principals).add()


@dataclass
class _Candidate:
    principal: PrincipalPolicies
    statements: tuple[Statement, ...] | None  # identity allows covering sts:AssumeRole*; None: no prefilter
    resource_class: int = -1  # equal for candidates whose statements name the same Resource patterns


_Conditional = tuple[tuple[Policy, Statement, tuple[str, ...]], ...]


@dataclass(frozen=True)
class _CallerClass:
    id: int  # equal for callers whose policies, guardrails and notes an evaluation cannot tell apart
    conditional: _Conditional  # their statements with conditions, with the facts each reads
    conditions: ConditionContext  # what is known about this caller's requests (before the resource's facts)


class _RoleSide:
    """One role as the resource of sts:AssumeRole*: its trust policy, its account's facts, decisions made."""

    def __init__(self, evaluator: Evaluator, ref: ResourceRef, account_id: str) -> None:
        self.ref = ref
        self.account_id = account_id
        self.facts = evaluator.resource_facts(account_id)
        self._rcp_levels = evaluator.rcp_levels(account_id)
        self._statements: dict[str, tuple[Statement, ...]] = {}
        self._conditional: dict[str, _Conditional] = {}
        self.decisions: dict[tuple[object, ...], Decision] = {}
        # per action, when every statement's Principal is "*": how they name any caller, without asking each
        self.anyone: dict[str, tuple[str | None, ...]] = {}

    def _matches(self, action: str) -> list[tuple[Policy, Statement]]:
        rcp = [m for level in self._rcp_levels or () for m in level.for_action(action)]
        policy = self.ref.policy
        return [*rcp, *((policy, st) for st in policy.for_action(action))] if policy is not None else rcp

    def statements(self, action: str) -> tuple[Statement, ...]:
        """The RCP and trust statements whose Principal element ``can`` matches against the caller."""
        found = self._statements.get(action)
        if found is None:
            found = self._statements[action] = tuple(st for _, st in self._matches(action))
            if found and all(_names_anyone(st) for st in found):
                self.anyone[action] = ("anyone",) * len(found)
        return found

    def principal_matches(self, action: str, principal: PrincipalPolicies) -> tuple[str | None, ...]:
        """How each of those statements names the caller (``can`` tells callers apart by this)."""
        constant = self.anyone.get(action)
        if constant is not None:
            return constant
        return tuple([principal_match(st, principal) for st in self.statements(action)])

    def conditional(self, action: str) -> _Conditional:
        found = self._conditional.get(action)
        if found is None:
            found = self._conditional[action] = _conditional(self._matches(action))
        return found


def _names_anyone(statement: Statement) -> bool:
    """``principal_match`` is "anyone" for every caller: no Principal element, or exactly ``"AWS": "*"``."""
    if statement.not_principals is not None:
        return False
    return statement.principals is None or statement.principals == {"AWS": ("*",)}


def _conditional(matches: Iterable[tuple[Policy, Statement]]) -> _Conditional:
    """Statements with conditions or Resource policy variables, each with the (lower-case) context keys its
    evaluation reads (``${aws:username}`` resolves per caller)."""
    return tuple(
        (policy, st, tuple(n.lower() for n in statement_fact_names(st)))
        for policy, st in matches
        if st.conditions or st.resource_variables
    )


def _levels_signature(levels: tuple[PolicyLevel, ...]) -> tuple[object, ...]:
    return tuple((level.policies, level.assumed_default and level.target_id) for level in levels)


class _Trusts:
    def __init__(
        self, graph: AccessGraph, snapshot: Snapshot, evaluator: Evaluator, principals: list[PrincipalPolicies]
    ) -> None:
        self.result = graph
        self.snapshot = snapshot
        self.evaluator = evaluator
        self.principals = principals
        self._caller_classes: dict[tuple[str, str], _CallerClass] = {}
        self._class_ids: dict[tuple[object, ...], int] = {}
        self._outcomes: dict[tuple[object, ...], ConditionOutcome] = {}
        self._resource_classes: dict[tuple[tuple[tuple[str, ...], tuple[str, ...]], ...], int] = {}
        self._resource_class_statements: dict[int, tuple[Statement, ...]] = {}
        self._edge_statements: dict[int, tuple[Decision, dict[str, Any] | None, dict[str, Any] | None]] = {}
        self._same_account: dict[str, list[_Candidate]] = defaultdict(list)
        self._policy_names = (
            {p.arn: p.name for p in snapshot.organization.policies} if snapshot.organization else {}
        )

    def _candidates(self) -> tuple[dict[str, list[_Candidate]], list[_Candidate]]:
        by_account: dict[str, list[_Candidate]] = defaultdict(list)
        everyone: list[_Candidate] = []
        for principal in self.principals:
            statements = tuple(
                st
                for policy in principal.identity
                for st in policy.allows()
                if any(st.matches_action(a) for a in ASSUME_ACTIONS)
            )
            if statements:
                patterns = tuple((st.resources, st.not_resources) for st in statements)
                resource_class = self._resource_classes.setdefault(patterns, len(self._resource_classes))
                self._resource_class_statements.setdefault(resource_class, statements)
                candidate = _Candidate(principal, statements, resource_class)
                by_account[principal.account_id or ""].append(candidate)
                everyone.append(candidate)
        return by_account, everyone

    def add(self) -> None:
        by_account, everyone = self._candidates()
        for principal in self.principals:
            self._same_account[principal.account_id or ""].append(_Candidate(principal, None))
        for role_arn, (role_account, _role) in sorted(self.evaluator.roles.items()):
            trust = self.evaluator.trust_policy(role_arn)
            if trust is None:
                continue
            role_side = _RoleSide(self.evaluator, self.evaluator.resource(role_arn), role_account)
            # which candidates' sts:AssumeRole* allows name this role: once per resource class, not per caller
            names_role = [
                any(st.matches_resource(role_arn) for st in statements)
                for statements in self._resource_class_statements.values()
            ]
            seen: dict[str, AssumeEdge] = {}
            refused: dict[str, BlockedAssume] = {}
            for st in trust.allows():
                action = next((a for a in ASSUME_ACTIONS if st.matches_action(a)), None)
                if action is None:
                    continue
                entries = st.principals or ({"AWS": ("*",)} if st.not_principals is not None else {})
                for kind, values in entries.items():
                    for value in values:
                        for source_type, source, source_account, concrete in self._sources(
                            kind, value, role_account, by_account, everyone, names_role
                        ):
                            if source == role_arn:
                                continue
                            if concrete is not None:
                                decision = self._concrete_decision(concrete.principal, action, role_side)
                            else:
                                decision = self._outsider_decision(
                                    source, source_type, source_account, action, role_side
                                )
                            if not decision.allowed:
                                if source not in refused:
                                    refused[source] = self._blocked(
                                        source, source_type, source_account, role_side, action, st, decision
                                    )
                                continue
                            edge = self._assume_edge(
                                source, source_type, source_account, role_arn, role_account, st, decision, action
                            )
                            best = seen.get(source)
                            if best is None or (best.conditional and not edge.conditional):
                                seen[source] = edge
            for source, edge in seen.items():
                if source not in self.result.graph:
                    self._outside_node(source, edge.source_type, edge.source_account_id)
                self.result.add_assume_edge(edge)
            for source, blocked in refused.items():
                if source not in seen:  # another action or statement let it in: no control holds here
                    self.result.add_blocked_assume(blocked)

    def _blocked(
        self,
        source: str,
        source_type: str,
        source_account: str | None,
        role_side: _RoleSide,
        action: str,
        trust_statement: Statement,
        decision: Decision,
    ) -> BlockedAssume:
        """The refused candidate edge with the guardrails that stopped it."""
        governed = source_type in ("user", "role", "account") and source_account is not None
        guardrails = stopped_by(
            decision,
            source=source,
            role_arn=role_side.ref.arn,
            scp_levels=self.evaluator.scp_levels(source_account) if governed else None,
            rcp_levels=self.evaluator.rcp_levels(role_side.account_id),
            names=self._policy_names,
        )
        return BlockedAssume(
            source=source,
            source_type=source_type,
            source_account_id=source_account,
            target_role_arn=role_side.ref.arn,
            target_account_id=role_side.account_id,
            action=action,
            trust_statement=trust_statement.raw,
            reason=decision.reason,
            stopped_by=guardrails,
        )

    def _outside_node(self, source: str, source_type: str, account_id: str | None) -> None:
        audited = False
        if source_type == "account" and account_id:
            acct = self.snapshot.account(account_id)
            audited = bool(acct and acct.audited and acct.iam is not None)
        self.result.add_outside_principal(source, _OUTSIDE_KINDS[source_type], account_id, audited=audited)

    def _outsider_decision(
        self, source: str, source_type: str, source_account: str | None, action: str, role_side: _RoleSide
    ) -> Decision:
        """``can`` for a caller whose identity policies are not in the snapshot (assumed to allow).

        An account principal stands for whichever of the account's principals is granted the action: they are
        all under the account's SCPs, so those apply (an administrator of a member account cannot lift them).
        """
        principal = self.evaluator.outsider(source, _principal_type(source_type))
        context = self.evaluator.request_context(principal, role_side.account_id)
        if source_type == "account" and source_account is not None:
            scp_levels = self.evaluator.scp_levels(source_account)
            if scp_levels is not None:
                context = replace(context, scp_levels=scp_levels)
        return can(principal, action, role_side.ref, context)

    def _concrete_decision(self, principal: PrincipalPolicies, action: str, role_side: _RoleSide) -> Decision:
        """``can`` for a user or role of the snapshot, reused across callers that the decision cannot tell apart.

        Within one role, a decision reads the caller only through its class (``_CallerClass``), whether it is
        cross-account, how the trust (and RCP) statements name it, and the outcomes of the conditions of the
        statements that apply; equal keys mean equal inputs, so the first evaluation serves the rest.
        """
        caller = self._caller_class(principal, action)
        base = caller.conditions
        facts = role_side.facts
        outcomes: list[ConditionOutcome] = []
        for policy, st, names in (*caller.conditional, *role_side.conditional(action)):
            values = tuple(facts[n] if n in facts else base.lookup(n) for n in names)
            outcome_key = (policy, st.index, values, base.assumptions)
            outcome = self._outcomes.get(outcome_key)
            if outcome is None:
                outcome = self._outcomes[outcome_key] = statement_outcome(st, base.merged(facts))
            outcomes.append(outcome)
        key = (
            caller.id,
            action,
            principal.account_id is not None and principal.account_id != role_side.account_id,
            role_side.principal_matches(action, principal),
            tuple(outcomes),
        )
        decision = role_side.decisions.get(key)
        if decision is None:
            context = self.evaluator.request_context(principal, role_side.account_id)
            decision = can(principal, action, role_side.ref, context)
            if decision.reason != "scp":  # its note names the caller's blocking OU or account: not shared
                role_side.decisions[key] = decision
        return decision

    def _caller_class(self, principal: PrincipalPolicies, action: str) -> _CallerClass:
        cache_key = (principal.arn, action)
        found = self._caller_classes.get(cache_key)
        if found is not None:
            return found
        scp_levels = None
        if principal.type in ("user", "role", "group") and not principal.service_linked:
            scp_levels = self.evaluator.scp_levels(principal.account_id)
        matches = [
            *principal.identity_for(action),
            *principal.boundary_for(action),
            *(m for level in scp_levels or () for m in level.for_action(action)),
        ]
        signature = (
            principal.type,
            principal.identity_known or principal.arn,
            principal.boundary is not None,
            tuple((p, st.index) for p, st in principal.identity_for(action)),
            tuple((p, st.index) for p, st in principal.boundary_for(action)),
            None if scp_levels is None else _levels_signature(scp_levels),
            self.evaluator.condition_context(principal).assumptions,
        )
        class_id = self._class_ids.setdefault(signature, len(self._class_ids))
        conditions = self.evaluator.condition_context(principal)
        found = self._caller_classes[cache_key] = _CallerClass(class_id, _conditional(matches), conditions)
        return found

    def _sources(
        self,
        kind: str,
        value: str,
        role_account: str,
        by_account: Mapping[str, list[_Candidate]],
        everyone: list[_Candidate],
        names_role: list[bool],
    ) -> list[tuple[str, str, str | None, _Candidate | None]]:
        """(source type, id, account, concrete candidate or None) named by one principal value."""
        if kind == "Service":
            return [("service", value, None, None)]
        if kind == "Federated":
            if IDENTITY_CENTER_SAML_PROVIDER.match(value):
                return []  # Identity Center's own provider: its access is modelled through permission sets
            return [("federated", value, None, None)]
        if kind != "AWS":
            return []
        if value == "*":
            # "*" names every caller directly: in the role's own account the trust alone suffices, so every
            # principal there is a candidate; elsewhere only those whose identity policies allow the call
            return [
                ("anyone", "*", None, None),
                *(
                    (c.principal.type, c.principal.arn, c.principal.account_id, c)
                    for c in everyone
                    if names_role[c.resource_class] and c.principal.account_id != role_account
                ),
                *(
                    (c.principal.type, c.principal.arn, c.principal.account_id, c)
                    for c in self._same_account.get(role_account, ())
                ),
            ]
        account = arn_account(value)
        if value.endswith(":root") and account:
            return [
                ("account", value, account, None),
                *(
                    (c.principal.type, c.principal.arn, account, c)
                    for c in by_account.get(account, [])
                    if names_role[c.resource_class]
                ),
            ]
        known = self.evaluator.principal(value)
        if known is not None and known.type in ("user", "role"):
            # named directly: a same-account trust may suffice without any identity allow
            return [(known.type, value, known.account_id, _Candidate(known, None))]
        if ":assumed-role/" in value or ":role/" in value:
            return [("role", value, account, None)]
        if ":user/" in value:
            return [("user", value, account, None)]
        return [("account", value, account, None)]

    def _assume_edge(
        self,
        source: str,
        source_type: str,
        source_account: str | None,
        role_arn: str,
        role_account: str,
        trust_statement: Statement,
        decision: Decision,
        action: str = "sts:AssumeRole",
    ) -> AssumeEdge:
        found = self._edge_statements.get(id(decision))
        if found is None or found[0] is not decision:  # the decision is kept in the value: ids stay unique
            identity = decision.identity_statements()
            trust = decision.resource_statements()
            found = (decision, identity[0].statement if identity else None, trust[0].statement if trust else None)
            self._edge_statements[id(decision)] = found
        _, identity_statement, trust_of_decision = found
        internal = source_account is not None and source_account in self.result.internal_accounts
        return AssumeEdge(
            source=source,
            source_type=source_type,
            source_account_id=source_account,
            target_role_arn=role_arn,
            target_account_id=role_account,
            trust_statement=trust_of_decision if trust_of_decision is not None else trust_statement.raw,
            identity_statement=identity_statement,
            in_organization=internal,
            conditional=decision.conditional,
            undecided_conditions=decision.undecided_conditions,
            decided_conditions=decision.decided_conditions,
            action=action,
        )


def _principal_type(source_type: str) -> PrincipalType:
    return cast(PrincipalType, source_type)  # the AssumeEdge vocabulary is the evaluator's for outsiders
