"""Privilege-escalation techniques: publicly documented AWS IAM techniques as DATA, and their detection.

Each ``Technique`` says which actions it needs, on what (the principal itself, another user, a group, a
role's trust policy, a role passed to a service, or an existing resource running with a role) and what
it grants. ``escalation_candidates`` walks the table with ``evaluate.can`` (so explicit denies, permission
boundaries, SCPs and conditions all apply) and returns one ``EscalationEdge`` per (principal, target,
technique). ``iam:PassRole`` counts only for roles the principal can actually pass to the technique's
service (resource match, ``iam:PassedToService`` decided) and whose trust policy admits that service;
the edge points at the role, so what the principal gains is that role's real power in the graph.

Adding a technique is one entry in ``TECHNIQUES`` plus one row in ``tests/test_escalation.py``.
Sources: Rhino Security Labs' "AWS IAM privilege escalation methods", Bishop Fox's iam-vulnerable,
PMapper's edge checkers, HackTricks cloud.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Set
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from auditor.iam.evaluate import Decision, Evaluator, GrantEvidence, PrincipalPolicies
from auditor.iam.policy import action_matches

Target = Literal[
    "self",
    "own-group",
    "own-managed-policy",
    "group",
    "other-user",
    "role-trust",
    "passed-role",
    "resource-role",
]


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    actions: tuple[str, ...]  # all required; the first acts on the target, the rest on "*" (or the resource)
    target: Target
    grants: str
    principal_types: tuple[str, ...] = ("user", "role")
    passrole_service: str | None = None  # passed-role: the service principal the role must trust
    resource_type: str | None = None  # resource-role: the Resource.type whose role_arn is gained
    caveat: str | None = None  # a fact we cannot see that the technique also needs (-> conditional edge)

    @property
    def needs_passable_role(self) -> bool:
        return self.target == "passed-role"


def _passrole(tid: str, name: str, service: str, *actions: str, caveat: str | None = None) -> Technique:
    return Technique(
        tid,
        name,
        ("iam:PassRole", *actions),
        "passed-role",
        f"the permissions of a role that trusts {service}",
        passrole_service=service,
        caveat=caveat,
    )


def _resource(tid: str, name: str, resource_type: str, *actions: str) -> Technique:
    return Technique(
        tid,
        name,
        actions,
        "resource-role",
        f"the permissions of the role of an existing {resource_type}",
        resource_type=resource_type,
    )


TECHNIQUES: tuple[Technique, ...] = (
    # --- changing one's own permissions ------------------------------------------------------
    Technique(
        "iam-create-policy-version",
        "Create a new default version of an attached managed policy",
        ("iam:CreatePolicyVersion",),
        "own-managed-policy",
        "any permission (new policy version)",
    ),
    Technique(
        "iam-set-default-policy-version",
        "Switch an attached managed policy to another version",
        ("iam:SetDefaultPolicyVersion",),
        "own-managed-policy",
        "the permissions of an older policy version",
        caveat="a more privileged non-default policy version exists (versions are not collected)",
    ),
    Technique(
        "iam-attach-user-policy",
        "Attach a managed policy to oneself (user)",
        ("iam:AttachUserPolicy",),
        "self",
        "any managed policy, e.g. AdministratorAccess",
        principal_types=("user",),
    ),
    Technique(
        "iam-attach-group-policy",
        "Attach a managed policy to one's own group",
        ("iam:AttachGroupPolicy",),
        "own-group",
        "any managed policy, e.g. AdministratorAccess",
        principal_types=("user",),
    ),
    Technique(
        "iam-attach-role-policy",
        "Attach a managed policy to oneself (role)",
        ("iam:AttachRolePolicy",),
        "self",
        "any managed policy, e.g. AdministratorAccess",
        principal_types=("role",),
    ),
    Technique(
        "iam-put-user-policy",
        "Write an inline policy on oneself (user)",
        ("iam:PutUserPolicy",),
        "self",
        "any permission (inline policy)",
        principal_types=("user",),
    ),
    Technique(
        "iam-put-group-policy",
        "Write an inline policy on one's own group",
        ("iam:PutGroupPolicy",),
        "own-group",
        "any permission (inline policy)",
        principal_types=("user",),
    ),
    Technique(
        "iam-put-role-policy",
        "Write an inline policy on oneself (role)",
        ("iam:PutRolePolicy",),
        "self",
        "any permission (inline policy)",
        principal_types=("role",),
    ),
    Technique(
        "iam-delete-user-permissions-boundary",
        "Remove one's own permission boundary (user)",
        ("iam:DeleteUserPermissionsBoundary",),
        "self",
        "the full power of one's identity policies",
        principal_types=("user",),
    ),
    Technique(
        "iam-delete-role-permissions-boundary",
        "Remove one's own permission boundary (role)",
        ("iam:DeleteRolePermissionsBoundary",),
        "self",
        "the full power of one's identity policies",
        principal_types=("role",),
    ),
    # --- becoming someone else -------------------------------------------------------------------
    Technique(
        "iam-add-user-to-group",
        "Add oneself to a more privileged group",
        ("iam:AddUserToGroup",),
        "group",
        "the permissions of the group",
        principal_types=("user",),
    ),
    Technique(
        "iam-create-access-key",
        "Create an access key for another user",
        ("iam:CreateAccessKey",),
        "other-user",
        "the permissions of that user",
    ),
    Technique(
        "iam-create-login-profile",
        "Set a console password for a user that has none",
        ("iam:CreateLoginProfile",),
        "other-user",
        "the permissions of that user (console)",
    ),
    Technique(
        "iam-update-login-profile",
        "Reset another user's console password",
        ("iam:UpdateLoginProfile",),
        "other-user",
        "the permissions of that user (console)",
    ),
    Technique(
        "iam-update-assume-role-policy",
        "Rewrite a role's trust policy to trust oneself",
        ("iam:UpdateAssumeRolePolicy",),
        "role-trust",
        "the permissions of that role",
    ),
    # --- passing a role to a service ----------------------------------------------------------------
    _passrole(
        "passrole-ec2-run-instances",
        "Launch an EC2 instance with a privileged instance profile",
        "ec2.amazonaws.com",
        "ec2:RunInstances",
    ),
    _passrole(
        "passrole-autoscaling",
        "Create a launch configuration and Auto Scaling group with a role",
        "ec2.amazonaws.com",
        "autoscaling:CreateLaunchConfiguration",
        "autoscaling:CreateAutoScalingGroup",
    ),
    _passrole(
        "passrole-lambda-invoke",
        "Create a Lambda function with a role and invoke it",
        "lambda.amazonaws.com",
        "lambda:CreateFunction",
        "lambda:InvokeFunction",
    ),
    _passrole(
        "passrole-lambda-event-source",
        "Create a Lambda function with a role and an event source mapping",
        "lambda.amazonaws.com",
        "lambda:CreateFunction",
        "lambda:CreateEventSourceMapping",
    ),
    _passrole(
        "passrole-lambda-add-permission",
        "Create a Lambda function with a role and open its invocation",
        "lambda.amazonaws.com",
        "lambda:CreateFunction",
        "lambda:AddPermission",
    ),
    _passrole(
        "passrole-glue-dev-endpoint",
        "Create a Glue development endpoint with a role",
        "glue.amazonaws.com",
        "glue:CreateDevEndpoint",
    ),
    _passrole(
        "passrole-glue-job",
        "Create and run a Glue job with a role",
        "glue.amazonaws.com",
        "glue:CreateJob",
        "glue:StartJobRun",
    ),
    _passrole(
        "passrole-cloudformation",
        "Create a CloudFormation stack with a service role",
        "cloudformation.amazonaws.com",
        "cloudformation:CreateStack",
    ),
    _passrole(
        "passrole-codebuild",
        "Create and start a CodeBuild project with a service role",
        "codebuild.amazonaws.com",
        "codebuild:CreateProject",
        "codebuild:StartBuild",
    ),
    _passrole(
        "passrole-sagemaker-notebook",
        "Create a SageMaker notebook instance with a role and open it",
        "sagemaker.amazonaws.com",
        "sagemaker:CreateNotebookInstance",
        "sagemaker:CreatePresignedNotebookInstanceUrl",
    ),
    _passrole(
        "passrole-sagemaker-training",
        "Create a SageMaker training job with a role",
        "sagemaker.amazonaws.com",
        "sagemaker:CreateTrainingJob",
    ),
    _passrole(
        "passrole-sagemaker-processing",
        "Create a SageMaker processing job with a role",
        "sagemaker.amazonaws.com",
        "sagemaker:CreateProcessingJob",
    ),
    _passrole(
        "passrole-datapipeline",
        "Create and activate a Data Pipeline with a role",
        "datapipeline.amazonaws.com",
        "datapipeline:CreatePipeline",
        "datapipeline:PutPipelineDefinition",
        "datapipeline:ActivatePipeline",
    ),
    _passrole(
        "passrole-ecs-run-task",
        "Register an ECS task definition with a task role and run it",
        "ecs-tasks.amazonaws.com",
        "ecs:RegisterTaskDefinition",
        "ecs:RunTask",
    ),
    _passrole(
        "passrole-ecs-create-service",
        "Register an ECS task definition with a task role and start a service",
        "ecs-tasks.amazonaws.com",
        "ecs:RegisterTaskDefinition",
        "ecs:CreateService",
    ),
    _passrole(
        "passrole-apprunner",
        "Create an App Runner service with an instance role",
        "tasks.apprunner.amazonaws.com",
        "apprunner:CreateService",
    ),
    _passrole(
        "passrole-stepfunctions",
        "Create and start a Step Functions state machine with a role",
        "states.amazonaws.com",
        "states:CreateStateMachine",
        "states:StartExecution",
    ),
    # --- taking over an existing resource that runs with a role ---------------------------------
    _resource(
        "lambda-update-function-code",
        "Replace the code of a Lambda function with a privileged role",
        "lambda:function",
        "lambda:UpdateFunctionCode",
    ),
    _resource(
        "ssm-send-command",
        "Run a command on an EC2 instance with a privileged instance profile",
        "ec2:instance",
        "ssm:SendCommand",
    ),
    _resource(
        "ssm-start-session",
        "Open a Session Manager shell on an instance with a privileged profile",
        "ec2:instance",
        "ssm:StartSession",
    ),
    _resource(
        "ec2-instance-connect",
        "Push an SSH key to an instance with a privileged profile",
        "ec2:instance",
        "ec2-instance-connect:SendSSHPublicKey",
    ),
    _resource(
        "glue-update-dev-endpoint",
        "Add an SSH key to an existing Glue development endpoint",
        "glue:devendpoint",
        "glue:UpdateDevEndpoint",
    ),
    _resource(
        "codebuild-start-build-override",
        "Start a build of a privileged CodeBuild project with a buildspec override",
        "codebuild:project",
        "codebuild:StartBuild",
    ),
    _resource(
        "cloudformation-update-stack",
        "Update a CloudFormation stack that runs with a privileged role",
        "cloudformation:stack",
        "cloudformation:UpdateStack",
    ),
    _resource(
        "sagemaker-notebook-url",
        "Open an existing SageMaker notebook with a privileged role",
        "sagemaker:notebook-instance",
        "sagemaker:CreatePresignedNotebookInstanceUrl",
    ),
)
TECHNIQUES_BY_ID = {t.id: t for t in TECHNIQUES}


@dataclass(frozen=True)
class EscalationEdge:
    """``source`` can gain ``target``'s power (a role, user, group, or the account itself) by a technique."""

    source: str
    target: str  # principal ARN, or the account id when the technique makes the source admin directly
    account_id: str
    technique_id: str
    technique_name: str
    statements: tuple[GrantEvidence, ...]
    passed_role: str | None
    conditional: bool
    undecided_conditions: tuple[str, ...]


# --- detection ---------------------------------------------------------------------------------------


class _Checker:
    def __init__(self, evaluator: Evaluator, principal: PrincipalPolicies) -> None:
        self.evaluator = evaluator
        self.principal = principal
        self._allowed: frozenset[str] | None = None

    def may(self, action: str) -> bool:
        """Cheap prefilter: some allow statement names the action at all (resource/conditions ignored)."""
        if self._allowed is None:
            self._allowed = frozenset(
                a
                for policy in self.principal.identity
                for st in policy.allows()
                for a in _technique_actions_of(st.actions, st.not_actions)
            )
        return action in self._allowed

    def may_on(self, action: str, resource: str) -> bool:
        """Cheap prefilter before a full evaluation: an allow statement covers the action on the resource."""
        return any(
            st.matches_action(action) and st.matches_resource(resource)
            for policy in self.principal.identity
            for st in policy.allows()
        )

    def can(self, action: str, resource: str, extra: dict[str, tuple[str, ...]] | None = None) -> Decision:
        return self.evaluator.can(self.principal, action, resource, extra)

    def service_actions(self, actions: Iterable[str]) -> list[Decision] | None:
        """The non-target actions of a technique, on "*"; a resource-scoped allow counts as conditional."""
        out: list[Decision] = []
        for action in actions:
            decision = self.can(action, "*")
            if not decision.allowed:
                scoped = _scoped_allow(self.principal, action)
                if scoped is None:
                    return None
                decision = self.can(action, scoped)
                if not decision.allowed:
                    return None
                decision = Decision(
                    allowed=True,
                    conditional=True,
                    reason=decision.reason,
                    allowed_by=decision.allowed_by,
                    undecided_conditions=(*decision.undecided_conditions, f"resource scope of {action}"),
                    decided_conditions=decision.decided_conditions,
                    assumptions=decision.assumptions,
                )
            out.append(decision)
        return out


ALL_TECHNIQUE_ACTIONS = tuple(sorted({a for t in TECHNIQUES for a in t.actions}))


@lru_cache(maxsize=65536)
def _technique_actions_of(actions: tuple[str, ...], not_actions: tuple[str, ...]) -> frozenset[str]:
    """Which technique actions a statement's Action/NotAction covers (cached: policies repeat a lot)."""
    if not_actions:
        return frozenset(a for a in ALL_TECHNIQUE_ACTIONS if not any(action_matches(p, a) for p in not_actions))
    return frozenset(a for a in ALL_TECHNIQUE_ACTIONS if any(action_matches(p, a) for p in actions))


def _scoped_allow(principal: PrincipalPolicies, action: str) -> str | None:
    """A resource pattern some allow statement grants ``action`` on (for resource-scoped service actions)."""
    for policy in principal.identity:
        for st in policy.allows():
            if st.matches_action(action) and st.resources:
                return st.resources[0]
    return None


def _edge(
    principal: PrincipalPolicies,
    target: str,
    technique: Technique,
    decisions: list[Decision],
    passed_role: str | None = None,
) -> EscalationEdge:
    refs = tuple(dict.fromkeys(r for d in decisions for r in d.identity_statements()))
    undecided = [k for d in decisions for k in d.undecided_conditions]
    if technique.caveat:
        undecided.append(technique.caveat)
    return EscalationEdge(
        source=principal.arn,
        target=target,
        account_id=principal.account_id or "",
        technique_id=technique.id,
        technique_name=technique.name,
        statements=tuple(GrantEvidence.of(r) for r in refs),
        passed_role=passed_role,
        conditional=technique.caveat is not None or any(d.conditional for d in decisions),
        undecided_conditions=tuple(dict.fromkeys(undecided)),
    )


def escalation_candidates(
    evaluator: Evaluator,
    principal: PrincipalPolicies,
    techniques: Iterable[Technique] = TECHNIQUES,
    target_filter: Callable[[str], bool] | None = None,
) -> Iterator[EscalationEdge]:
    """Every (target, technique) by which ``principal`` can gain more power within its own account."""
    if principal.type not in ("user", "role") or principal.account_id is None:
        return
    checker = _Checker(evaluator, principal)
    for technique in techniques:
        if principal.type not in technique.principal_types:
            continue
        if not all(checker.may(a) for a in technique.actions):
            continue
        rest = checker.service_actions(technique.actions[1:])
        if rest is None:
            continue
        extra: dict[str, tuple[str, ...]] | None = (
            {"iam:PassedToService": (technique.passrole_service,)} if technique.passrole_service else None
        )
        for target, resource, passed in _targets(evaluator, principal, technique):
            if target_filter is not None and not target_filter(target):
                continue
            if not checker.may_on(technique.actions[0], resource):
                continue
            first = checker.can(technique.actions[0], resource, extra)
            if first.allowed:
                yield _edge(principal, target, technique, [first, *rest], passed)


def _targets(
    evaluator: Evaluator, principal: PrincipalPolicies, technique: Technique
) -> Iterator[tuple[str, str, str | None]]:
    """(graph target, resource the first action acts on, passed role) for one technique."""
    account = principal.account_id or ""
    kind = technique.target
    user = evaluator.users.get(principal.arn)
    if kind == "self":
        if "permissions-boundary" in technique.id and not _boundary_hides_admin(principal):
            return
        yield account, principal.arn, None
    elif kind == "own-group":
        for name in user[1].group_names if user else ():
            yield account, f"arn:aws:iam::{account}:group/{name}", None
    elif kind == "own-managed-policy":
        for policy in principal.identity:
            arn = policy.source.arn
            if arn and policy.source.kind in ("managed", "group-managed") and ":aws:policy/" not in arn:
                yield account, arn, None
    elif kind == "group":
        for arn in evaluator.account_groups.get(account, ()):
            if user and arn.rsplit("/", 1)[-1] not in user[1].group_names:
                yield arn, arn, None
    elif kind == "other-user":
        for arn in evaluator.account_users.get(account, ()):
            if arn != principal.arn and _login_state_fits(evaluator, arn, technique):
                yield arn, arn, None
    elif kind == "role-trust":
        for arn in evaluator.account_roles.get(account, ()):
            if arn != principal.arn and not evaluator.roles[arn][1].path.startswith("/aws-service-role/"):
                yield arn, arn, None
    elif kind == "passed-role":
        service = technique.passrole_service or ""
        for arn in evaluator.account_roles.get(account, ()):
            if arn == principal.arn or evaluator.roles[arn][1].path.startswith("/aws-service-role/"):
                continue
            if _trusts_service(evaluator, arn, service):
                yield arn, arn, arn
    elif kind == "resource-role":
        for arn in evaluator.account_resources.get(account, ()):
            res = evaluator.resources[arn][1]
            if (
                res.type == technique.resource_type
                and res.role_arn
                and res.role_arn != principal.arn
                and res.role_arn in evaluator.roles
            ):
                yield res.role_arn, arn, res.role_arn


def _boundary_hides_admin(principal: PrincipalPolicies) -> bool:
    """Removing the boundary only helps when the identity policies alone grant every action."""
    return principal.boundary is not None and any(
        st.grants_all_actions() and st.matches_resource("*") for p in principal.identity for st in p.allows()
    )


def _login_state_fits(evaluator: Evaluator, user_arn: str, technique: Technique) -> bool:
    """CreateLoginProfile needs a user without a password, UpdateLoginProfile one with (unknown: both)."""
    if technique.id not in ("iam-create-login-profile", "iam-update-login-profile"):
        return True
    has_password = evaluator.password_enabled(user_arn)
    if has_password is None:
        return True
    return has_password == (technique.id == "iam-update-login-profile")


def _trusts_service(evaluator: Evaluator, role_arn: str, service: str) -> bool:
    trust = evaluator.trust_policy(role_arn)
    if trust is None:
        return False
    for st in trust.allows():
        if st.matches_action("sts:AssumeRole") and st.principal_match("Service", service, None) == "direct":
            return True
    return False


def escalation_edges(
    evaluator: Evaluator,
    admin_arns: Set[str],
    principals: Iterable[PrincipalPolicies] | None = None,
    target_filter: Callable[[str], bool] | None = None,
) -> list[EscalationEdge]:
    """Edges for every user and role that is not already an admin of its account.

    ``target_filter`` restricts the targets evaluated (the graph asks only about targets that lead to admin).
    """
    pool = (
        principals
        if principals is not None
        else (p for p in (evaluator.principal(a) for a in [*evaluator.users, *evaluator.roles]) if p is not None)
    )
    out: list[EscalationEdge] = []
    for principal in pool:
        if principal.arn in admin_arns:
            continue
        out.extend(escalation_candidates(evaluator, principal, target_filter=target_filter))
    return out
