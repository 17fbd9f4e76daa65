"""Who is administrator of an account: the one admin test that the graph, the admin rules and Identity Center
share.

A principal is administrator of its account when, after explicit denies, its permissions boundary and the
account's SCPs, it may

* do everything (``*`` on ``*``: full admin);
* administer IAM (``iam:*`` on ``*``, as IAMFullAccess does): it can grant itself anything; or
* create a principal with any policy and use it (e.g. iam:CreateUser + iam:AttachUserPolicy +
  iam:CreateAccessKey): it can make itself an administrator without iam:*.

Other service-wide grants (``s3:*`` on ``*``) are recorded as service admin, not as account admin.
Techniques that act on existing principals (passing a role, rewriting a policy version) are escalation edges
(``auditor.iam.escalation``), not this test. Identity Center permission sets are judged by the same test: the
``AWSReservedSSO_*`` role the set provisions when the account's IAM data has it, else a principal made of the
permission set's policies and boundary, under the account's SCPs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from auditor.graph.kinds import GrantLevel
from auditor.graph.records import AdminGrant
from auditor.iam import actions as catalogue
from auditor.iam.evaluate import (
    KNOWN_AWS_MANAGED,
    Decision,
    Evaluator,
    GrantEvidence,
    PrincipalPolicies,
    can,
)
from auditor.iam.policy import Policy, PolicySource, Statement
from auditor.model import IamRole, PermissionSet

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
WRITE_LEVELS = frozenset({"Write", "Permissions management"})

# The policy a principal created by a recipe gets attached (its ARN is the iam:PolicyARN of the request).
ADMINISTRATOR_ACCESS = "arn:{partition}:iam::aws:policy/AdministratorAccess"


@dataclass(frozen=True)
class AdminRecipe:
    """A way to make a new administrator with no power over existing principals: every step is allowed."""

    id: str
    name: str
    kind: str  # user | role: what the first step creates
    steps: tuple[str, ...]  # actions on the new principal (the first creates it)
    attaches: str | None = None  # the step whose request names the attached policy (iam:PolicyARN)


RECIPES: tuple[AdminRecipe, ...] = (
    AdminRecipe(
        "new-user-managed-policy-keys",
        "create a user, attach AdministratorAccess to it and create its access key",
        "user",
        ("iam:CreateUser", "iam:AttachUserPolicy", "iam:CreateAccessKey"),
        attaches="iam:AttachUserPolicy",
    ),
    AdminRecipe(
        "new-user-managed-policy-password",
        "create a user, attach AdministratorAccess to it and give it a console password",
        "user",
        ("iam:CreateUser", "iam:AttachUserPolicy", "iam:CreateLoginProfile"),
        attaches="iam:AttachUserPolicy",
    ),
    AdminRecipe(
        "new-user-inline-policy-keys",
        "create a user, write an allow-all inline policy on it and create its access key",
        "user",
        ("iam:CreateUser", "iam:PutUserPolicy", "iam:CreateAccessKey"),
    ),
    AdminRecipe(
        "new-role-managed-policy",
        "create a role trusting oneself, attach AdministratorAccess to it and assume it",
        "role",
        ("iam:CreateRole", "iam:AttachRolePolicy", "sts:AssumeRole"),
        attaches="iam:AttachRolePolicy",
    ),
    AdminRecipe(
        "new-role-inline-policy",
        "create a role trusting oneself, write an allow-all inline policy on it and assume it",
        "role",
        ("iam:CreateRole", "iam:PutRolePolicy", "sts:AssumeRole"),
    ),
)


def is_account_admin(grant: AdminGrant) -> bool:
    """Whether the grant makes its holder administrator of the account (an is-admin-of edge)."""
    return grant.level != GrantLevel.SERVICE_ADMIN or "iam" in grant.services


def admin_grants_of(evaluator: Evaluator, principal: PrincipalPolicies) -> list[AdminGrant]:
    """Full admin, admin by recipe, or service admin per service (``svc:*`` on ``*``): effective after
    denies, the permissions boundary and SCPs."""
    if principal.account_id is None:
        return []
    allows = [st for policy in principal.identity for st in policy.allows()]
    full_statements = [
        st
        for st in allows
        if (
            st.grants_all_actions() or (st.not_actions and not any(not st.matches_action(a) for a in FULL_ADMIN_PROBES))
        )
        and st.matches_resource("*")
    ]
    ctx = evaluator.request_context(principal, principal.account_id)
    if full_statements:
        decisions = [can(principal, probe, "*", ctx) for probe in FULL_ADMIN_PROBES]
        if all(d.allowed for d in decisions):
            return [_grant(principal, GrantLevel.FULL_ADMIN, (), decisions)]
    grants: list[AdminGrant] = []
    services = sorted(
        {
            p.split(":", 1)[0].lower()
            for st in allows
            for p in st.actions
            if p.endswith(":*") and ":" in p and "*" not in p.split(":", 1)[0] and st.matches_resource("*")
        }
    )
    for service in services:
        probes = IAM_ADMIN_PROBES if service == "iam" else (f"{service}:*",)
        decisions = [can(principal, probe, "*", ctx) for probe in probes]
        if all(d.allowed for d in decisions):
            grants.append(_grant(principal, GrantLevel.SERVICE_ADMIN, (service,), decisions))
    if not any(is_account_admin(g) for g in grants):
        grants.extend(_recipe_grants(evaluator, principal, allows))
    return grants


def _recipe_grants(evaluator: Evaluator, principal: PrincipalPolicies, allows: list[Statement]) -> list[AdminGrant]:
    """The first recipe the principal may follow (unconditionally, if any recipe allows that), as a grant."""
    found: list[AdminGrant] = []
    partition = _partition(principal.arn)
    for recipe in RECIPES:
        if not all(any(st.matches_action(a) for st in allows) for a in recipe.steps):
            continue  # cheap prefilter: some allow names every step
        for resource in _new_principal_arns(principal, recipe, allows):
            decisions = []
            for action in recipe.steps:
                extra = (
                    {"iam:PolicyARN": (ADMINISTRATOR_ACCESS.format(partition=partition),)}
                    if action == recipe.attaches
                    else None
                )
                decision = evaluator.can(principal, action, resource, extra)
                if not decision.allowed:
                    break
                decisions.append(decision)
            else:
                found.append(_grant(principal, GrantLevel.CREATES_ADMIN, (), decisions, recipe=recipe.id))
                if not found[-1].conditional:
                    return [found[-1]]
                break
    return found[:1]


def _new_principal_arns(principal: PrincipalPolicies, recipe: AdminRecipe, allows: list[Statement]) -> list[str]:
    """ARNs the new principal could get: its creator picks the name, so every Resource pattern of an allow
    covering the creating action, its wildcards filled in, is a candidate (plus a plain name)."""
    account = principal.account_id or ""
    prefix = f"arn:{_partition(principal.arn)}:iam::{account}:{recipe.kind}/"
    candidates = [f"{prefix}auditor-new-{recipe.kind}"]
    for st in allows:
        if st.matches_action(recipe.steps[0]):
            for pattern in st.resources:
                if pattern.startswith(prefix) or pattern.startswith(f"arn:{_partition(principal.arn)}:iam::*:"):
                    filled = re.sub(r"[*?]", "x", pattern.split(":", 5)[-1])
                    candidates.append(f"arn:{_partition(principal.arn)}:iam::{account}:{filled}")
    return list(dict.fromkeys(candidates))


def _partition(arn: str) -> str:
    parts = arn.split(":", 2)
    return parts[1] if len(parts) > 2 and parts[0] == "arn" and parts[1] else "aws"


def has_write(principal: PrincipalPolicies) -> bool:
    """Any allow statement covering a Write or Permissions-management action (catalogue levels)."""
    for policy in principal.identity:
        for st in policy.allows():
            if st.not_actions:
                return True
            if any(catalogue.pattern_access_levels(p) & WRITE_LEVELS for p in st.actions):
                return True
    return False


def _grant(
    principal: PrincipalPolicies,
    level: GrantLevel,
    services: tuple[str, ...],
    decisions: list[Decision],
    recipe: str | None = None,
) -> AdminGrant:
    refs = tuple(dict.fromkeys(r for d in decisions for r in d.identity_statements()))
    undecided = tuple(dict.fromkeys(k for d in decisions for k in d.undecided_conditions))
    return AdminGrant(
        principal_arn=principal.arn,
        principal_type=principal.type,
        account_id=principal.account_id or "",
        level=level,
        services=services,
        evidence=tuple(GrantEvidence.of(r) for r in refs),
        conditional=any(d.conditional for d in decisions),
        undecided_conditions=undecided,
        recipe=recipe,
    )


# --- IAM Identity Center permission sets -----------------------------------------------------------------
# The role Identity Center provisions for a permission set in each assigned account.
SSO_ROLE_PATH_PREFIX = "/aws-reserved/sso.amazonaws.com/"
SSO_ROLE_NAME = "AWSReservedSSO_{name}_"  # followed by an id without underscores


@dataclass(frozen=True)
class PermissionSetAdmin:
    """A permission set that makes its holders administrators of one account, and why."""

    permission_set_arn: str
    account_id: str
    grants: tuple[AdminGrant, ...]  # the admin grants (of the provisioned role, or of the set's policies)
    sources: tuple[str, ...]  # the policies that grant it, as ADMIN-006 names them
    role_arn: str | None  # the provisioned role judged, when the account's IAM data has it

    @property
    def conditional(self) -> bool:
        return all(g.conditional for g in self.grants)


def provisioned_role(evaluator: Evaluator, permission_set: PermissionSet, account_id: str) -> IamRole | None:
    """The ``AWSReservedSSO_<name>_<id>`` role Identity Center created for the permission set in the account,
    when the account's IAM data has it."""
    prefix = SSO_ROLE_NAME.format(name=permission_set.name)
    for arn in evaluator.account_roles.get(account_id, ()):
        role = evaluator.roles[arn][1]
        suffix = role.name[len(prefix) :]
        if role.path.startswith(SSO_ROLE_PATH_PREFIX) and role.name.startswith(prefix) and suffix and "_" not in suffix:
            return role
    return None


def permission_set_admin(
    evaluator: Evaluator, permission_set: PermissionSet, account_id: str
) -> PermissionSetAdmin | None:
    """The admin test for a permission set assigned to an account (None: it does not make admins there)."""
    role = provisioned_role(evaluator, permission_set, account_id)
    described: dict[str, str] = {}
    if role is not None:
        principal = evaluator.principal(role.arn)
    else:
        principal, described = permission_set_principal(evaluator, permission_set, account_id)
    if principal is None:
        return None
    grants = tuple(g for g in admin_grants_of(evaluator, principal) if is_account_admin(g))
    if not grants:
        return None
    sources = tuple(
        dict.fromkeys(_describe(e, described.get(e.policy, e.policy), g) for g in grants for e in g.evidence)
    )
    return PermissionSetAdmin(permission_set.arn, account_id, grants, sources, role.arn if role else None)


def _describe(evidence: GrantEvidence, name: str, grant: AdminGrant) -> str:
    if evidence.policy_kind == "aws-managed":
        return f"AWS managed policy {name}"
    what = {
        GrantLevel.FULL_ADMIN: "* on *",
        GrantLevel.SERVICE_ADMIN: ", ".join(f"{s}:*" for s in grant.services) + " on *",
        GrantLevel.CREATES_ADMIN: next((f"what it takes to {r.name}" for r in RECIPES if r.id == grant.recipe), ""),
    }[grant.level]
    kind = "inline policy" if evidence.policy_kind == "inline" else f"{evidence.policy_kind} policy {name}"
    if evidence.policy_kind == "managed":
        kind = f"customer managed policy {name}"
    return f"{kind} allows {what}"


def permission_set_principal(
    evaluator: Evaluator, permission_set: PermissionSet, account_id: str
) -> tuple[PrincipalPolicies, dict[str, str]]:
    """The permission set as the role it would provision in the account: its inline, AWS managed and
    customer managed policies (resolved by path and name in the account) and its permissions boundary.

    Returns the principal and, per policy label, the name ADMIN-006 shows (path and name for references).
    """
    partition = _partition(permission_set.arn)
    role_arn = (
        f"arn:{partition}:iam::{account_id}:role{SSO_ROLE_PATH_PREFIX}{SSO_ROLE_NAME.format(name=permission_set.name)}*"
    )
    owner = permission_set.arn
    policies: list[Policy] = []
    described: dict[str, str] = {}
    if permission_set.inline_policy is not None:
        source = PolicySource(f"{permission_set.name} inline policy", "inline", None, owner, account_id)
        parsed = evaluator.parse(permission_set.inline_policy, source)
        if parsed is not None:
            policies.append(parsed)
    for arn in permission_set.managed_policy_arns:
        parsed = _managed(evaluator, arn, account_id, owner, "aws-managed")
        if parsed is not None:
            policies.append(parsed)
    for ref in permission_set.customer_managed_policy_refs:
        arn = f"arn:{partition}:iam::{account_id}:policy{ref.path}{ref.name}"
        parsed = _managed(evaluator, arn, account_id, owner, "managed")
        if parsed is not None:
            policies.append(parsed)
            described[arn] = f"{ref.path}{ref.name}"
    boundary = _boundary(evaluator, permission_set, account_id, partition)
    principal = PrincipalPolicies(
        role_arn, "role", account_id, tuple(policies), boundary, name=SSO_ROLE_NAME.format(name=permission_set.name)
    )
    return principal, described


def _boundary(evaluator: Evaluator, permission_set: PermissionSet, account_id: str, partition: str) -> Policy | None:
    """The permission set's boundary: an AWS managed policy, or a customer managed one by path and name."""
    spec = permission_set.permissions_boundary
    if not spec:
        return None
    arn = spec.get("ManagedPolicyArn")
    reference = spec.get("CustomerManagedPolicyReference")
    if arn is None and isinstance(reference, Mapping):
        arn = f"arn:{partition}:iam::{account_id}:policy{reference.get('Path') or '/'}{reference.get('Name', '')}"
    found = _managed(evaluator, str(arn), account_id, permission_set.arn, "boundary") if arn else None
    if found is None:
        # an unknown boundary cannot be intersected: deny nothing extra, but say so
        evaluator.event(
            "assumption", account_id, permission_set.arn, f"permissions boundary {spec} not collected: ignored"
        )
    return found


def _managed(evaluator: Evaluator, arn: str, account_id: str, owner: str, kind: str) -> Policy | None:
    """A managed policy's document: the account's copy, any account's copy of an AWS managed policy, or
    AWS's published document for the few the evaluator knows (recorded as an assumption)."""
    document = None
    name = arn.rsplit("/", 1)[-1]
    account = evaluator.snapshot.account(account_id)
    for policy in account.iam.policies if account and account.iam else ():
        if policy.arn == arn:
            document = policy.document
    if document is None and ":iam::aws:policy/" in arn:
        for other in evaluator.snapshot.accounts:
            for policy in other.iam.policies if other.iam else ():
                if policy.arn == arn:
                    document = policy.document
        if document is None:
            known = KNOWN_AWS_MANAGED.get("arn:aws:" + arn.split(":", 2)[2])
            if known is not None:
                evaluator.event(
                    "assumption", account_id, arn, "document not in snapshot; AWS's published document used"
                )
                document = known
    if document is None and ":iam::aws:policy/" in arn:
        # AWS publishes its managed policies; IAM data lists only those attached in the account
        evaluator.event("assumption", account_id, arn, f"document not in snapshot; {owner} judged without it")
        return None
    if document is None:
        evaluator.event("missing-policy", account_id, arn, f"attached to {owner} but its document was not collected")
        return None
    return evaluator.parse(document, PolicySource(name, kind, arn, owner, account_id))
