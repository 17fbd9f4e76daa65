"""The snapshot index: parsed policies of every principal, SCP/RCP chains per account, trust and resource
policies, and the condition facts of each caller, built once from a ``Snapshot`` and asked many times
(``Evaluator.can``). Input problems become ``EvaluationEvent``s, never exceptions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from auditor.iam import actions as catalogue
from auditor.iam.conditions import ConditionContext, Opaque
from auditor.iam.decide import can
from auditor.iam.decision import Decision, EvaluationEvent
from auditor.iam.facts import principal_facts
from auditor.iam.policy import (
    DEFAULT_PARTITION,
    Policy,
    PolicyParseError,
    PolicySource,
    arn_account,
    arn_partition,
    parse_policy,
)
from auditor.iam.request import (
    POLICY_REQUIRED_TYPES,
    PolicyLevel,
    PrincipalPolicies,
    PrincipalType,
    RequestContext,
    ResourceRef,
)
from auditor.model import IamGroup, IamRole, IamUser, Resource, Snapshot

# Documents of AWS managed policies used when a snapshot lacks them (recorded as an assumption).
KNOWN_AWS_MANAGED: dict[str, dict[str, Any]] = {
    "arn:aws:iam::aws:policy/AdministratorAccess": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    },
    "arn:aws:iam::aws:policy/IAMFullAccess": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "iam:*",
                    "organizations:DescribeAccount",
                    "organizations:DescribeOrganization",
                    "organizations:DescribeOrganizationalUnit",
                    "organizations:DescribePolicy",
                    "organizations:ListChildren",
                    "organizations:ListParents",
                    "organizations:ListPoliciesForTarget",
                    "organizations:ListRoots",
                    "organizations:ListPolicies",
                    "organizations:ListTargetsForPolicy",
                ],
                "Resource": "*",
            }
        ],
    },
    "arn:aws:iam::aws:policy/PowerUserAccess": {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": [
                    "iam:CreateServiceLinkedRole",
                    "iam:DeleteServiceLinkedRole",
                    "iam:ListRoles",
                    "organizations:DescribeOrganization",
                    "account:ListRegions",
                    "account:GetAccountInformation",
                ],
                "Resource": "*",
            },
        ],
    },
}
FULL_AWS_ACCESS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _commercial(arn: str) -> str:
    """An AWS managed policy ARN in any partition, written in the commercial one (the table's key)."""
    partition = arn_partition(arn)
    return f"arn:{DEFAULT_PARTITION}:{arn[len(partition) + 5 :]}" if partition else arn


def _is_s3_object(arn: str) -> bool:
    partition = arn_partition(arn)
    return partition is not None and arn.startswith(f"arn:{partition}:s3:::") and "/" in arn


class Evaluator:
    """Parsed policies, SCP/RCP chains and condition facts of one snapshot, built once, asked many times."""

    def __init__(self, snapshot: Snapshot, *, assume_mfa: bool | None = None) -> None:
        self.snapshot = snapshot
        self.assume_mfa = assume_mfa
        self.events: list[EvaluationEvent] = []
        self._event_keys: set[tuple[str, str, str]] = set()
        org = snapshot.organization
        self.org_id = org.id if org else None
        self.management_account_id = org.management_account_id if org else None
        self.org_accounts: frozenset[str] = frozenset(a.id for a in org.accounts) if org else frozenset()
        self.known_accounts: frozenset[str] = self.org_accounts | {a.account_id for a in snapshot.accounts}
        self._managed: dict[str, tuple[dict[str, Any], bool, str]] = {}
        self.users: dict[str, tuple[str, IamUser]] = {}
        self.roles: dict[str, tuple[str, IamRole]] = {}
        self.groups: dict[str, tuple[str, IamGroup]] = {}
        self._group_by_name: dict[tuple[str, str], IamGroup] = {}
        self.resources: dict[str, tuple[str, Resource]] = {}
        self._mfa_active: dict[str, bool] = {}
        self._password: dict[str, bool] = {}
        self.account_users: dict[str, list[str]] = defaultdict(list)
        self.account_roles: dict[str, list[str]] = defaultdict(list)
        self.account_groups: dict[str, list[str]] = defaultdict(list)
        self.account_resources: dict[str, list[str]] = defaultdict(list)
        for account in snapshot.accounts:
            for res in account.resources:
                if res.arn not in self.resources:
                    self.account_resources[account.account_id].append(res.arn)
                self.resources[res.arn] = (account.account_id, res)
            if account.iam is None:
                continue
            iam = account.iam
            for mp in iam.policies:
                self._managed.setdefault(mp.arn, (mp.document, mp.aws_managed, mp.name))
            for user in iam.users:
                self.users[user.arn] = (account.account_id, user)
                self.account_users[account.account_id].append(user.arn)
            for role in iam.roles:
                self.roles[role.arn] = (account.account_id, role)
                self.account_roles[account.account_id].append(role.arn)
            for group in iam.groups:
                self.groups[group.arn] = (account.account_id, group)
                self.account_groups[account.account_id].append(group.arn)
                self._group_by_name[(account.account_id, group.name)] = group
            for row in iam.credential_report or ():
                self._mfa_active[row.arn] = row.mfa_active
                self._password[row.arn] = row.password_enabled
        # the partitions the snapshot's principals live in (aws, aws-us-gov, aws-cn...)
        self.partitions: frozenset[str] = frozenset(
            arn_partition(arn) or DEFAULT_PARTITION for arn in (*self.users, *self.roles)
        ) or frozenset({DEFAULT_PARTITION})
        self._principals: dict[str, PrincipalPolicies] = {}
        self._scp_levels: dict[str, tuple[PolicyLevel, ...] | None] = {}
        self._rcp_levels: dict[str, tuple[PolicyLevel, ...] | None] = {}
        self._org_paths: dict[str, str] = {}
        self._scps: list[Policy] = []
        self._rcps: list[Policy] = []
        self._trust: dict[str, Policy | None] = {}
        self._resource_policies: dict[str, Policy | None] = {}
        self._shared: dict[tuple[str, str], Policy | None] = {}
        self._shared_callers: dict[Any, Any] = {}
        self._group_policies: dict[str, list[Policy]] = {}
        self._contexts: dict[tuple[str, str, str | None], RequestContext] = {}
        self._conditions: dict[tuple[str, str], ConditionContext] = {}
        self._resource_facts: dict[str, dict[str, tuple[str, ...] | Opaque]] = {}
        self._default_guardrails: dict[str, Policy] = {}
        self._targets: dict[str, tuple[str, ...]] = {}
        self._guardrails_collected = {"SERVICE_CONTROL_POLICY": False, "RESOURCE_CONTROL_POLICY": False}
        if org is not None:
            for op in org.policies:
                if op.type not in self._guardrails_collected:
                    continue
                self._guardrails_collected[op.type] = True
                kind = "scp" if op.type == "SERVICE_CONTROL_POLICY" else "rcp"
                parsed = self.parse(op.document, PolicySource(op.name, kind, op.arn, None, self.management_account_id))
                if parsed is not None:
                    (self._scps if kind == "scp" else self._rcps).append(parsed)
            self._targets = {op.arn: op.target_ids for op in org.policies}
            for acct in org.accounts:
                path = org.ou_path(acct.id)
                self._org_paths[acct.id] = "/".join([org.id, org.root_id, *(ou.id for ou in path)]) + "/"
            if not self._guardrails_collected["SERVICE_CONTROL_POLICY"]:
                self.event(
                    "assumption",
                    self.management_account_id,
                    org.id,
                    "no SCPs in the snapshot: SCPs treated as not enabled (no restriction)",
                )

    # events ------------------------------------------------------------------------------
    def event(self, kind: str, account_id: str | None, subject: str, message: str, pattern: str = "") -> None:
        key = (kind, subject, message)
        if key not in self._event_keys:
            self._event_keys.add(key)
            self.events.append(EvaluationEvent(kind, account_id, subject, message, pattern))

    def parse(self, document: dict[str, Any] | str, source: PolicySource) -> Policy | None:
        """Parse and record problems; a malformed policy becomes an event, never an exception."""
        try:
            policy = parse_policy(document, source)
        except PolicyParseError as exc:
            self.event("parse-error", source.account_id, source.label, exc.reason)
            return None
        for st in policy.statements:
            for pattern in (*st.actions, *st.not_actions):
                unknown = catalogue.classify(pattern)
                if unknown is not None:
                    self.event("unknown-action", source.account_id, source.label, unknown.message, pattern)
        return policy

    # principals ------------------------------------------------------------------------------
    def _managed_policy(self, arn: str, kind_prefix: str, account_id: str, owner: str) -> Policy | None:
        found = self._managed.get(arn)
        known = KNOWN_AWS_MANAGED.get(_commercial(arn)) if found is None else None
        if known is not None:
            self.event("assumption", account_id, arn, "document not in snapshot; AWS's published document used")
            found = (known, True, arn.rsplit("/", 1)[-1])
        if found is None:
            self.event("missing-policy", account_id, arn, f"attached to {owner} but its document was not collected")
            return None
        document, aws_managed, name = found
        if kind_prefix:
            kind = f"{kind_prefix}-managed"
        else:
            kind = "aws-managed" if aws_managed or ":aws:policy/" in arn else "managed"
        # parsed once and shared by every principal it is attached to (owner_arn stays None)
        key = (arn, kind)
        if key not in self._shared:
            self._shared[key] = self.parse(document, PolicySource(name, kind, arn, None, arn_account(arn)))
        return self._shared[key]

    def _policies(
        self, account_id: str, owner: str, inline: Iterable[Any], attached: Iterable[str], prefix: str = ""
    ) -> list[Policy]:
        out: list[Policy] = []
        for ip in inline:
            kind = f"{prefix}-inline" if prefix else "inline"
            parsed = self.parse(ip.document, PolicySource(ip.name, kind, None, owner, account_id))
            if parsed:
                out.append(parsed)
        for arn in attached:
            parsed = self._managed_policy(arn, prefix, account_id, owner)
            if parsed:
                out.append(parsed)
        return out

    def _boundary(self, account_id: str, owner: str, arn: str | None) -> Policy | None:
        if arn is None:
            return None
        found = self._managed_policy(arn, "", account_id, owner)
        if found is None:
            # an unknown boundary cannot be intersected: deny nothing extra, but say so
            self.event("assumption", account_id, owner, f"permission boundary {arn} not collected: ignored")
            return None
        return Policy(PolicySource(found.source.name, "boundary", arn, owner, account_id), found.statements, found.raw)

    def password_enabled(self, user_arn: str) -> bool | None:
        """From the credential report; None when it was not collected."""
        return self._password.get(user_arn)

    def principal(self, arn: str) -> PrincipalPolicies | None:
        """The user, role or group with its applicable policies (cached)."""
        cached = self._principals.get(arn)
        if cached is not None:
            return cached
        built: PrincipalPolicies | None = None
        if arn in self.users:
            account_id, user = self.users[arn]
            policies = self._policies(account_id, arn, user.inline_policies, user.attached_policy_arns)
            for group_name in user.group_names:
                group = self._group_by_name.get((account_id, group_name))
                if group is None:
                    self.event("missing-policy", account_id, arn, f"group {group_name} not collected")
                    continue
                if group.arn not in self._group_policies:
                    self._group_policies[group.arn] = self._policies(
                        account_id, group.arn, group.inline_policies, group.attached_policy_arns, "group"
                    )
                policies += self._group_policies[group.arn]
            built = PrincipalPolicies(
                arn,
                "user",
                account_id,
                tuple(policies),
                self._boundary(account_id, arn, user.permission_boundary_arn),
                name=user.name,
                tags=user.tags,
                unique_id=user.user_id,
            )
        elif arn in self.roles:
            account_id, role = self.roles[arn]
            policies = self._policies(account_id, arn, role.inline_policies, role.attached_policy_arns)
            built = PrincipalPolicies(
                arn,
                "role",
                account_id,
                tuple(policies),
                self._boundary(account_id, arn, role.permission_boundary_arn),
                service_linked=role.path.startswith("/aws-service-role/"),
                name=role.name,
                tags=role.tags,
                unique_id=role.role_id,
            )
        elif arn in self.groups:
            account_id, group = self.groups[arn]
            policies = self._policies(account_id, arn, group.inline_policies, group.attached_policy_arns, "group")
            built = PrincipalPolicies(arn, "group", account_id, tuple(policies), name=group.name)
        if built is not None:
            self._principals[arn] = built
        return built

    def outsider(self, arn: str, type_: PrincipalType) -> PrincipalPolicies:
        """A caller whose identity policies we cannot see: an account, a service, a provider, anyone."""
        return PrincipalPolicies(
            arn,
            type_,
            arn_account(arn) if type_ in ("account", "user", "role") else None,
            identity_known=False,
        )

    # organisation guardrails --------------------------------------------------------------
    def in_organization(self, account_id: str | None) -> bool:
        return account_id is not None and account_id in self.org_accounts

    def _levels(self, account_id: str, policies: list[Policy], kind: str) -> tuple[PolicyLevel, ...] | None:
        org = self.snapshot.organization
        if org is None or account_id not in self.org_accounts or account_id == self.management_account_id:
            return None
        if not policies:
            return None
        target_ids = [org.root_id, *(ou.id for ou in org.ou_path(account_id)), account_id]
        levels: list[PolicyLevel] = []
        for target in target_ids:
            attached = tuple(p for p in policies if target in self._targets.get(p.source.arn or "", ()))
            if attached:
                levels.append(PolicyLevel(target, attached))
            else:
                default = self._default_guardrails.get(kind)
                if default is None:  # one shared object: equal levels then share cached evaluations
                    default = parse_policy(FULL_AWS_ACCESS, PolicySource(f"default-{kind}", kind))
                    self._default_guardrails[kind] = default
                levels.append(PolicyLevel(target, (default,), assumed_default=True))
        return tuple(levels)

    def scp_levels(self, account_id: str | None) -> tuple[PolicyLevel, ...] | None:
        if account_id is None:
            return None
        if account_id not in self._scp_levels:
            self._scp_levels[account_id] = self._levels(account_id, self._scps, "scp")
        return self._scp_levels[account_id]

    def rcp_levels(self, account_id: str | None) -> tuple[PolicyLevel, ...] | None:
        if account_id is None:
            return None
        if account_id not in self._rcp_levels:
            self._rcp_levels[account_id] = self._levels(account_id, self._rcps, "rcp")
        return self._rcp_levels[account_id]

    # condition facts -------------------------------------------------------------------------
    def condition_context(self, principal: PrincipalPolicies) -> ConditionContext:
        key = (principal.arn, principal.type)
        cached = self._conditions.get(key)
        if cached is None:
            cached = self._conditions[key] = self._condition_context(principal)
        return cached

    def _condition_context(self, principal: PrincipalPolicies) -> ConditionContext:
        return principal_facts(self, principal)

    def mfa_device(self, user_arn: str) -> bool | None:
        """The user has an active MFA device (credential report); None when the report was not collected."""
        return self._mfa_active.get(user_arn)

    def org_path(self, account_id: str) -> str:
        return self._org_paths[account_id]

    def resource_facts(self, resource_account: str) -> Mapping[str, tuple[str, ...] | Opaque]:
        """Condition facts of a request to a resource of ``resource_account`` (lower-case keys; cached)."""
        found = self._resource_facts.get(resource_account)
        if found is None:
            facts: dict[str, tuple[str, ...] | Opaque] = {"aws:resourceaccount": (resource_account,)}
            if self.in_organization(resource_account) and self.org_id:
                facts["aws:resourceorgid"] = (self.org_id,)
                facts["aws:resourceorgpaths"] = (self._org_paths[resource_account],)
            found = self._resource_facts[resource_account] = facts
        return found

    def request_context(
        self,
        principal: PrincipalPolicies,
        resource_account: str | None,
        extra: Mapping[str, tuple[str, ...]] | None = None,
    ) -> RequestContext:
        key = (principal.arn, principal.type, resource_account)
        if not extra and key in self._contexts:
            return self._contexts[key]
        conditions = self.condition_context(principal)
        if resource_account is not None:
            conditions = conditions.merged(self.resource_facts(resource_account))
        if extra:
            conditions = conditions.merged(extra)
        scp = self.scp_levels(principal.account_id) if principal.type in ("user", "role", "group") else None
        context = RequestContext(
            conditions=conditions,
            scp_levels=scp,
            rcp_levels=self.rcp_levels(resource_account),
            shared=self._shared_callers,
        )
        if not extra:
            if len(self._contexts) > 50_000:
                self._contexts.clear()  # bounded: contexts are cheap to rebuild, the memory is not free
            self._contexts[key] = context
        return context

    # resources ------------------------------------------------------------------------------------
    def trust_policy(self, role_arn: str) -> Policy | None:
        found = self.roles.get(role_arn)
        if found is None:
            return None
        account_id, role = found
        if role_arn not in self._trust:
            self._trust[role_arn] = self.parse(
                role.trust_policy,
                PolicySource(f"{role.name} trust policy", "trust", role_arn, role_arn, account_id),
            )
        return self._trust[role_arn]

    def resource(self, arn: str, action: str = "sts:AssumeRole") -> ResourceRef:
        """The resource and its resource policy for ``action`` (a role's trust policy governs sts:*)."""
        if arn in self.roles:
            if not action.lower().startswith("sts:"):
                return ResourceRef(arn, self.roles[arn][0])  # e.g. iam:PassRole: IAM has no resource policies
            return ResourceRef(arn, self.roles[arn][0], self.trust_policy(arn), policy_required=True)
        found = self.resources.get(arn)
        if found is None and _is_s3_object(arn):
            found = self.resources.get(arn.split("/", 1)[0])  # an object is governed by its bucket's policy
        if found is None:
            return ResourceRef(arn, arn_account(arn))
        account_id, res = found
        policy = None
        if res.policy is not None:
            if arn not in self._resource_policies:  # parsed once per ARN asked: decisions are cached per policy
                self._resource_policies[arn] = self.parse(
                    res.policy,
                    PolicySource(f"{res.name or arn} resource policy", "resource", arn, arn, account_id),
                )
            policy = self._resource_policies[arn]
        return ResourceRef(arn, account_id, policy, policy_required=res.type in POLICY_REQUIRED_TYPES)

    def can(
        self,
        principal: str | PrincipalPolicies,
        action: str,
        resource_arn: str = "*",
        extra: Mapping[str, tuple[str, ...]] | None = None,
        *,
        request: Mapping[str, str | Iterable[str] | None] | None = None,
    ) -> Decision:
        """Convenience: evaluate by ARN against this snapshot's policies and guardrails.

        ``request``: the request's own facts (see ``decide.can``), e.g. ``{"iam:PolicyARN": arn}``.
        """
        p = self.principal(principal) if isinstance(principal, str) else principal
        if p is None:
            raise KeyError(f"principal {principal} not in snapshot")
        res = self.resource(resource_arn, action)
        return can(p, action, res, self.request_context(p, res.owner_account, extra), request=request)
