"""Building the access graph of a snapshot: who is in what, who can assume what, who is admin of what.

Nodes: the organisation, its root and OUs, accounts (with their environment), IAM users, groups and
roles, account principals (``arn:aws:iam::A:root``), AWS service principals, federated providers,
principals of accounts outside the snapshot, and ``"*"`` (anyone). Edges carry a ``kind`` and evidence:

* contains / member-of: organisation structure, account -> principal, user -> group;
* can-assume: trust policy AND the caller's identity permission AND the caller's SCPs (``evaluate.can``);
* is-admin-of: effective ``*`` on ``*`` (after boundaries and SCP denies), or ``iam:*`` on ``*``;
* can-escalate-to: privilege-escalation techniques (``auditor.iam.escalation``).

With IAM Identity Center (``organization.identity_center``), its users, groups and permission sets are nodes
too: user -member-of-> group; user/group -assigned-> permission set (one edge per account, evidence
``account_id``); permission set -provisions-> its ``AWSReservedSSO_<name>_<id>`` role when that account's
IAM data has it (the role's own edges then say what it can do), else permission set -is-admin-of-> account
(full admin: ``permission_set_admin_sources``) or -can-access-> account. ``assigned`` and ``provisions`` are
not path kinds, so the existing path questions never start from Identity Center
(``AccessGraph.identity_center_access`` does).
"""

from __future__ import annotations

import gc
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, cast

import networkx as nx

from auditor.graph.questions import (
    ASSIGNED,
    CAN_ACCESS,
    CAN_ASSUME,
    CAN_ESCALATE_TO,
    CONTAINS,
    CONTROLS,
    IS_ADMIN_OF,
    MEMBER_OF,
    PATH_KINDS,
    PROVISIONS,
    AccessGraph,
    AdminGrant,
    AssumeEdge,
)
from auditor.iam import actions as catalogue
from auditor.iam.conditions import ConditionContext, ConditionOutcome, statement_fact_names
from auditor.iam.escalation import escalation_edges
from auditor.iam.evaluate import (
    Decision,
    Evaluator,
    GrantEvidence,
    PolicyLevel,
    PrincipalPolicies,
    PrincipalType,
    ResourceRef,
    StatementRef,
    can,
    principal_match,
    statement_outcome,
)
from auditor.iam.policy import Policy, PolicyParseError, PolicySource, Statement, arn_account, parse_policy
from auditor.model import IamRole, PermissionSet, PolicyDocument, Snapshot

ASSUME_ACTIONS = ("sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML")

# Representative actions an effective administrator must be able to perform on "*". Guardrail targets
# (cloudtrail:StopLogging, organizations:LeaveOrganization...) are left out on purpose: an admin whose SCPs
# deny those is still an admin.
FULL_ADMIN_PROBES = (
    "iam:CreateRole",
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
    "iam:CreateUser",
    "iam:CreateAccessKey",
    "iam:CreatePolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:PassRole",
    "sts:AssumeRole",
    "ec2:RunInstances",
    "s3:GetObject",
    "s3:PutBucketPolicy",
    "kms:Decrypt",
    "lambda:CreateFunction",
)
IAM_ADMIN_PROBES = (
    "iam:*",
    "iam:CreateUser",
    "iam:AttachUserPolicy",
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
    "iam:CreatePolicyVersion",
    "iam:UpdateAssumeRolePolicy",
)
# Services whose full control over every resource is administrative over the account.
ADMIN_EDGE_SERVICES = frozenset({"iam"})
WRITE_LEVELS = frozenset({"Write", "Permissions management"})

# What makes an Identity Center permission set full admin (the test ADMIN-006 applies): an AWS managed policy
# matching one of these, an inline policy allowing * on *, or a customer managed policy reference that
# resolves, in the assigned account, to a policy allowing * on *.
FULL_ADMIN_AWS_MANAGED_POLICIES = (re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/AdministratorAccess$"),)
# Identity Center's own SAML provider in each account (the trust of its AWSReservedSSO_* roles)
IDENTITY_CENTER_SAML_PROVIDER = re.compile(
    r"^arn:aws[a-z-]*:iam::\d{12}:saml-provider/AWSSSO_[0-9A-Za-z]+_DO_NOT_DELETE$"
)
# The role Identity Center provisions for a permission set in each assigned account.
SSO_ROLE_PATH_PREFIX = "/aws-reserved/sso.amazonaws.com/"
SSO_ROLE_NAME = "AWSReservedSSO_{name}_"  # followed by an id without underscores


def build_access_graph(
    snapshot: Snapshot,
    environments: Mapping[str, str],
    *,
    assume_mfa: bool | None = None,
    escalation: bool = True,
) -> AccessGraph:
    """Build the graph; ``environments`` maps account id -> prod | non-prod | sandbox | security | unknown.

    ``assume_mfa``: what to assume about aws:MultiFactorAuthPresent for users with an MFA device
    (None: undecided, which makes MFA-gated access conditional).
    """
    with _cyclic_gc_paused():
        builder = _Builder(snapshot, environments, Evaluator(snapshot, assume_mfa=assume_mfa))
        builder.structure()
        builder.admins()
        builder.trusts()
        if escalation:
            builder.escalations()
        builder.identity_center()  # last: no edge it adds is one the steps above may follow or start from
    return builder.result


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """The build allocates millions of long-lived, acyclic objects; the cycle collector would re-scan them
    all many times over (a third of the build time at 20,000 principals) to find nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


class _Builder:
    def __init__(self, snapshot: Snapshot, environments: Mapping[str, str], evaluator: Evaluator) -> None:
        self.snapshot = snapshot
        self.evaluator = evaluator
        org = snapshot.organization
        internal = frozenset(a.id for a in org.accounts) if org else frozenset(a.account_id for a in snapshot.accounts)
        self.graph = nx.MultiDiGraph()
        self.result = AccessGraph(
            graph=self.graph,
            environments=dict(environments),
            internal_accounts=internal,
            events=evaluator.events,
        )
        self.principals: list[PrincipalPolicies] = []
        self.admin_arns: set[str] = set()
        self._caller_classes: dict[tuple[str, str], _CallerClass] = {}
        self._class_ids: dict[tuple[object, ...], int] = {}
        self._outcomes: dict[tuple[object, ...], ConditionOutcome] = {}
        self._resource_classes: dict[tuple[tuple[tuple[str, ...], tuple[str, ...]], ...], int] = {}
        self._resource_class_statements: dict[int, tuple[Statement, ...]] = {}
        self._edge_statements: dict[int, tuple[Decision, dict[str, Any] | None, dict[str, Any] | None]] = {}
        self._same_account: dict[str, list[_Candidate]] = defaultdict(list)

    # --- nodes -----------------------------------------------------------------------------------
    def _account_node(self, account_id: str, **attrs: object) -> str:
        if account_id not in self.graph:
            internal = account_id in self.result.internal_accounts
            self.graph.add_node(
                account_id,
                kind="account",
                account_id=account_id,
                environment=self.result.environment_of(account_id),
                in_organization=internal,
                audited=False,
                name="",
            )
        self.graph.nodes[account_id].update(attrs)
        return account_id

    def _source_node(self, source: str, source_type: str, account_id: str | None) -> str:
        if source in self.graph:
            return source
        kind = {"account": "account-principal", "anyone": "anyone"}.get(source_type, source_type)
        audited = False
        if source_type == "account" and account_id:
            acct = self.snapshot.account(account_id)
            audited = bool(acct and acct.audited and acct.iam is not None)
        self.graph.add_node(source, kind=kind, account_id=account_id, in_snapshot=False, audited=audited)
        if account_id:
            self._account_node(account_id)
            self.graph.add_edge(account_id, source, key=CONTAINS, kind=CONTAINS)
            if kind == "account-principal":
                # an administrator of the account can grant itself whatever a trust in the account's name
                # delegates to the account's identity policies (e.g. sts:AssumeRole); the trust edge decides
                details = {"account_id": account_id, "account_principal": source}
                self.graph.add_edge(account_id, source, key=CONTROLS, kind=CONTROLS, conditional=False, details=details)
        return source

    def _edge(self, u: str, v: str, kind: str, key: str, conditional: bool, evidence: object) -> None:
        self.graph.add_edge(u, v, key=key, kind=kind, conditional=conditional, evidence=evidence)

    def structure(self) -> None:
        org = self.snapshot.organization
        if org is not None:
            self.graph.add_node(org.id, kind="organization", arn=org.arn, account_id=org.management_account_id)
            self.graph.add_node(org.root_id, kind="root", name="Root")
            self.graph.add_edge(org.id, org.root_id, key=CONTAINS, kind=CONTAINS)
            for ou in org.organizational_units:
                self.graph.add_node(ou.id, kind="ou", name=ou.name, arn=ou.arn)
            for ou in org.organizational_units:
                self.graph.add_edge(ou.parent_id, ou.id, key=CONTAINS, kind=CONTAINS)
            for member in org.accounts:
                self._account_node(member.id, name=member.name, is_management=member.id == org.management_account_id)
                self.graph.add_edge(member.parent_id or org.root_id, member.id, key=CONTAINS, kind=CONTAINS)
        for account in self.snapshot.accounts:
            self._account_node(
                account.account_id,
                audited=account.audited and account.iam is not None,
                name=account.name or self.graph.nodes.get(account.account_id, {}).get("name", ""),
            )
            if account.iam is None:
                continue
            acct = account.account_id
            for group in account.iam.groups:
                self.graph.add_node(group.arn, kind="group", account_id=acct, name=group.name, in_snapshot=True)
                self.graph.add_edge(acct, group.arn, key=CONTAINS, kind=CONTAINS)
            for user in account.iam.users:
                self.graph.add_node(user.arn, kind="user", account_id=acct, name=user.name, in_snapshot=True)
                self.graph.add_edge(acct, user.arn, key=CONTAINS, kind=CONTAINS)
                for group_name in user.group_names:
                    match = next((g.arn for g in account.iam.groups if g.name == group_name), None)
                    if match is not None:
                        self.graph.add_edge(user.arn, match, key=MEMBER_OF, kind=MEMBER_OF)
            for role in account.iam.roles:
                self.graph.add_node(role.arn, kind="role", account_id=acct, name=role.name, in_snapshot=True)
                self.graph.add_edge(acct, role.arn, key=CONTAINS, kind=CONTAINS)
            for arn in [*(u.arn for u in account.iam.users), *(r.arn for r in account.iam.roles)]:
                principal = self.evaluator.principal(arn)
                if principal is not None:
                    self.principals.append(principal)
                    self.graph.nodes[arn]["write"] = _has_write(principal)

    # --- admins ----------------------------------------------------------------------------------
    def admins(self) -> None:
        groups = [self.evaluator.principal(arn) for arn in self.evaluator.groups]
        for principal in [*self.principals, *(g for g in groups if g is not None)]:
            for grant in admin_grants_of(self.evaluator, principal):
                # a user admin only through its groups is reported on the group; the edge still exists
                if not all(e.policy_kind.startswith("group-") for e in grant.evidence) or principal.type == "group":
                    self.result._admin_grants.append(grant)
                if grant.level == "full-admin" or set(grant.services) & ADMIN_EDGE_SERVICES:
                    self.admin_arns.add(grant.principal_arn)
                    self._edge(
                        grant.principal_arn,
                        grant.account_id,
                        IS_ADMIN_OF,
                        f"{IS_ADMIN_OF}:{grant.level}",
                        grant.conditional,
                        grant,
                    )

    # --- trusts ----------------------------------------------------------------------------------
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

    def trusts(self) -> None:
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
                                continue
                            edge = self._assume_edge(
                                source, source_type, source_account, role_arn, role_account, st, decision
                            )
                            best = seen.get(source)
                            if best is None or (best.conditional and not edge.conditional):
                                seen[source] = edge
            for source, edge in seen.items():
                if source not in self.graph:
                    self._source_node(source, edge.source_type, edge.source_account_id)
                self.result._assume_edges.append(edge)
                self._edge(source, role_arn, CAN_ASSUME, CAN_ASSUME, edge.conditional, edge)

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
        )

    # --- escalation -----------------------------------------------------------------------------
    def escalations(self) -> None:
        """Add escalation edges whose target leads to admin, iterating until no new target becomes useful.

        An edge to a target that reaches no admin (e.g. CreateAccessKey for a read-only user) adds nothing
        to any path, so such targets are not even evaluated; chains (A -> B -> admin) are found because
        each round asks only about the targets that became useful in the previous one.
        """
        accounts = {n for n, d in self.graph.nodes(data=True) if d.get("kind") == "account"}
        asked: set[str] = set()
        while True:
            useful = (self._reaches_admin() | accounts) - asked
            if not useful:
                break
            asked |= useful
            edges = escalation_edges(self.evaluator, self.admin_arns, self.principals, useful.__contains__)
            for edge in edges:
                self._account_node(edge.account_id)
                self.result._escalation_edges.append(edge)
                self._edge(
                    edge.source,
                    edge.target,
                    CAN_ESCALATE_TO,
                    f"{CAN_ESCALATE_TO}:{edge.technique_id}",
                    edge.conditional,
                    edge,
                )
            if not edges:
                break

    def _reaches_admin(self) -> set[str]:
        seen: set[str] = set()
        stack = [n for n, d in self.graph.nodes(data=True) if d.get("kind") == "account"]
        while stack:
            node = stack.pop()
            for u, keyed in self.graph.pred[node].items():
                for data in keyed.values():
                    if data.get("kind") in PATH_KINDS and u not in seen:
                        seen.add(u)
                        stack.append(u)
        return seen

    # --- IAM Identity Center --------------------------------------------------------------------------
    def identity_center(self) -> None:
        org = self.snapshot.organization
        center = org.identity_center if org else None
        if center is None:
            return
        store = center.identity_store_id
        users = {u.user_id: u.user_name for u in center.users}

        def user_node(user_id: str) -> str:
            node = identity_center_user_node(store, user_id)
            if node not in self.graph:
                name = users.get(user_id, user_id)
                self.graph.add_node(
                    node,
                    kind="identity-center-user",
                    account_id=None,
                    identity_store_id=store,
                    user_id=user_id,
                    name=name,
                    label=name,
                    in_snapshot=user_id in users,
                )
            return node

        def group_node(group_id: str, name: str | None) -> str:
            node = identity_center_group_node(store, group_id)
            if node not in self.graph:
                label = name if name is not None else group_id
                self.graph.add_node(
                    node,
                    kind="identity-center-group",
                    account_id=None,
                    identity_store_id=store,
                    group_id=group_id,
                    name=label,
                    label=label,
                    in_snapshot=name is not None,
                )
            return node

        for user in center.users:
            user_node(user.user_id)
        for group in center.groups:
            node = group_node(group.group_id, group.display_name)
            for user_id in group.member_user_ids:
                member = user_node(user_id)
                details = {
                    "identity_store_id": store,
                    "user_id": user_id,
                    "user_name": users.get(user_id, user_id),
                    "group_id": group.group_id,
                    "group_name": group.display_name,
                }
                self.graph.add_edge(member, node, key=MEMBER_OF, kind=MEMBER_OF, conditional=False, details=details)
        for known_set in center.permission_sets:
            self._permission_set_node(known_set)
        for assignment in center.assignments:
            permission_set = center.permission_set(assignment.permission_set_arn)
            if assignment.principal_type == "GROUP":
                known = center.group(assignment.principal_id)
                principal = group_node(assignment.principal_id, known.display_name if known else None)
            else:
                principal = user_node(assignment.principal_id)
            ps_node = assignment.permission_set_arn
            if ps_node not in self.graph:  # assigned, but not among the collected permission sets
                self.graph.add_node(
                    ps_node, kind="permission-set", account_id=None, arn=ps_node, name="", in_snapshot=False
                )
            ps_name = permission_set.name if permission_set else ""
            details = {
                "account_id": assignment.account_id,
                "permission_set_arn": ps_node,
                "permission_set_name": ps_name,
                "principal_type": assignment.principal_type,
                "principal_id": assignment.principal_id,
            }
            self.graph.add_edge(
                principal,
                ps_node,
                key=f"{ASSIGNED}:{assignment.account_id}",
                kind=ASSIGNED,
                conditional=False,
                details=details,
            )
            if permission_set is not None:
                self._permission_set_access(permission_set, assignment.account_id)

    def _permission_set_node(self, permission_set: PermissionSet) -> str:
        node = permission_set.arn
        if node not in self.graph:
            self.graph.add_node(
                node,
                kind="permission-set",
                account_id=None,
                arn=permission_set.arn,
                name=permission_set.name,
                label=permission_set.name,
                session_duration=permission_set.session_duration,
                permissions_boundary=permission_set.permissions_boundary is not None,
                in_snapshot=True,
            )
        return node

    def _permission_set_access(self, permission_set: PermissionSet, account_id: str) -> None:
        """The edge from a permission set to what it gives in one account (once per permission set and account)."""
        ps_node = permission_set.arn
        base: dict[str, Any] = {
            "account_id": account_id,
            "permission_set_arn": ps_node,
            "permission_set_name": permission_set.name,
        }
        role = provisioned_role(self.snapshot, permission_set, account_id)
        self._account_node(account_id)
        if role is not None:
            key = f"{PROVISIONS}:{account_id}"
            if not self.graph.has_edge(ps_node, role.arn, key):
                provisions = {**base, "role_arn": role.arn}
                self.graph.add_edge(ps_node, role.arn, key=key, kind=PROVISIONS, conditional=False, details=provisions)
            return
        sources = permission_set_admin_sources(self.snapshot, permission_set, account_id)
        kind = IS_ADMIN_OF if sources else CAN_ACCESS
        key = f"{IS_ADMIN_OF}:permission-set" if sources else CAN_ACCESS
        if self.graph.has_edge(ps_node, account_id, key):
            return
        details = dict(base)
        if sources:
            details.update(
                level="full-admin",
                admin_through=sources,
                permissions_boundary=permission_set.permissions_boundary,
                session_duration=permission_set.session_duration,
            )
        self.graph.add_edge(ps_node, account_id, key=key, kind=kind, conditional=False, details=details)


def identity_center_user_node(identity_store_id: str, user_id: str) -> str:
    return f"identitystore:{identity_store_id}:user/{user_id}"


def identity_center_group_node(identity_store_id: str, group_id: str) -> str:
    return f"identitystore:{identity_store_id}:group/{group_id}"


def provisioned_role(snapshot: Snapshot, permission_set: PermissionSet, account_id: str) -> IamRole | None:
    """The ``AWSReservedSSO_<name>_<id>`` role Identity Center created for the permission set in the account,
    when the account's IAM data has it."""
    account = snapshot.account(account_id)
    if account is None or account.iam is None:
        return None
    prefix = SSO_ROLE_NAME.format(name=permission_set.name)
    return next(
        (
            r
            for r in account.iam.roles
            if r.path.startswith(SSO_ROLE_PATH_PREFIX)
            and r.name.startswith(prefix)
            and r.name[len(prefix) :]
            and "_" not in r.name[len(prefix) :]
        ),
        None,
    )


def _allows_everything(document: PolicyDocument, source: PolicySource) -> bool:
    try:
        policy = parse_policy(document, source)
    except PolicyParseError:
        return False  # not a policy: the collector kept it raw and recorded it
    return any(
        s.is_allow and s.grants_all_actions() and not s.not_resources and any(r.strip() == "*" for r in s.resources)
        for s in policy.statements
    )


def permission_set_admin_sources(snapshot: Snapshot, permission_set: PermissionSet, account_id: str) -> list[str]:
    """What makes the permission set full admin in ``account_id`` (empty when nothing does): the ADMIN-006 test."""
    sources = [
        f"AWS managed policy {arn}"
        for arn in permission_set.managed_policy_arns
        if any(p.match(arn) for p in FULL_ADMIN_AWS_MANAGED_POLICIES)
    ]
    if permission_set.inline_policy is not None and _allows_everything(
        permission_set.inline_policy,
        PolicySource(name=f"{permission_set.name} inline policy", kind="inline", owner_arn=permission_set.arn),
    ):
        sources.append("inline policy allows * on *")
    account = snapshot.account(account_id)
    policies = {p.arn: p for p in account.iam.policies} if account and account.iam else {}
    partition = permission_set.arn.split(":")[1] if permission_set.arn.count(":") >= 5 else "aws"
    for ref in permission_set.customer_managed_policy_refs:
        # a reference names a policy that must exist, with that path and name, in each assigned account
        arn = f"arn:{partition}:iam::{account_id}:policy{ref.path}{ref.name}"
        found = policies.get(arn)
        if found is not None and _allows_everything(
            found.document,
            PolicySource(name=found.name, kind="managed", arn=arn, owner_arn=permission_set.arn, account_id=account_id),
        ):
            sources.append(f"customer managed policy {ref.path}{ref.name} allows * on *")
    return sources


def is_full_admin_permission_set(snapshot: Snapshot, permission_set: PermissionSet, account_id: str) -> bool:
    return bool(permission_set_admin_sources(snapshot, permission_set, account_id))


def _principal_type(source_type: str) -> PrincipalType:
    return cast(PrincipalType, source_type)  # the AssumeEdge vocabulary is the evaluator's for outsiders


def _evidence(refs: tuple[StatementRef, ...]) -> tuple[GrantEvidence, ...]:
    return tuple(GrantEvidence.of(r) for r in refs)


def _has_write(principal: PrincipalPolicies) -> bool:
    """Any allow statement covering a Write or Permissions-management action (catalogue levels)."""
    for policy in principal.identity:
        for st in policy.allows():
            if st.not_actions:
                return True
            if any(catalogue.pattern_access_levels(p) & WRITE_LEVELS for p in st.actions):
                return True
    return False


def admin_grants_of(evaluator: Evaluator, principal: PrincipalPolicies) -> list[AdminGrant]:
    """Full-admin, or service-admin per service (``svc:*`` on ``*``), effective after denies/boundary/SCPs."""
    if principal.account_id is None:
        return []
    ctx = evaluator.request_context(principal, principal.account_id)
    full_statements = [
        st
        for policy in principal.identity
        for st in policy.allows()
        if (
            st.grants_all_actions() or (st.not_actions and not any(not st.matches_action(a) for a in FULL_ADMIN_PROBES))
        )
        and st.matches_resource("*")
    ]
    grants: list[AdminGrant] = []
    if full_statements:
        decisions = [can(principal, probe, "*", ctx) for probe in FULL_ADMIN_PROBES]
        if all(d.allowed for d in decisions):
            grants.append(_grant(principal, "full-admin", (), decisions))
            return grants
    services = sorted(
        {
            p.split(":", 1)[0].lower()
            for policy in principal.identity
            for st in policy.allows()
            for p in st.actions
            if p.endswith(":*") and ":" in p and "*" not in p.split(":", 1)[0] and st.matches_resource("*")
        }
    )
    for service in services:
        probes = IAM_ADMIN_PROBES if service == "iam" else (f"{service}:*",)
        decisions = [can(principal, probe, "*", ctx) for probe in probes]
        if all(d.allowed for d in decisions):
            grants.append(_grant(principal, "service-admin", (service,), decisions))
    return grants


def _grant(
    principal: PrincipalPolicies, level: str, services: tuple[str, ...], decisions: list[Decision]
) -> AdminGrant:
    refs = tuple(dict.fromkeys(r for d in decisions for r in d.identity_statements()))
    undecided = tuple(dict.fromkeys(k for d in decisions for k in d.undecided_conditions))
    return AdminGrant(
        principal_arn=principal.arn,
        principal_type=principal.type,
        account_id=principal.account_id or "",
        level=level,
        services=services,
        evidence=_evidence(refs),
        conditional=any(d.conditional for d in decisions),
        undecided_conditions=undecided,
    )
