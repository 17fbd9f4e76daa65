"""Privilege-escalation techniques as DATA: what each one asks AWS to do, on which resource, and what it yields.

A ``Technique`` is a list of ``Step`` requests (action + which resource the request names) and a ``Target``
kind that says what the technique acts on; ``auditor.iam.escalation_targets`` holds one strategy per
target kind, and ``auditor.iam.escalation`` judges every step with the evaluator.

Rows are our own, written from the public facts of DataDog's pathfinding.cloud catalogue
(``pathfinding`` ids, e.g. ``iam-001``), Rhino Security Labs' "AWS IAM privilege escalation methods"
(``rhino-N``) and Bishop Fox's iam-vulnerable scenarios (``iam-vulnerable:<name>``), plus HackTricks
where noted. Adding a technique is one row here plus one case in ``tests/test_escalation_catalogue.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Target(StrEnum):
    """What a technique acts on; one strategy per kind in ``escalation_targets``."""

    INLINE_POLICY = "inline-policy"  # write an inline policy on a user, role or group
    ATTACH_POLICY = "attach-policy"  # attach an existing managed policy (iam:PolicyARN) to a user, role or group
    POLICY_VERSION = "policy-version"  # new default version of a customer managed policy attached to someone
    BOUNDARY_DELETE = "boundary-delete"  # remove a permission boundary
    BOUNDARY_PUT = "boundary-put"  # replace a permission boundary by a broader managed policy
    DENY_REMOVAL = "deny-removal"  # delete/detach a policy (or leave a group) whose Deny guards the principal
    GROUP_JOIN = "group-join"  # add a user to a group
    USER_CREDENTIALS = "user-credentials"  # access key / console password of another user
    ROLE_TRUST = "role-trust"  # rewrite a role's trust policy
    PASSED_ROLE = "passed-role"  # pass a role to a service that runs attacker code with it
    RESOURCE_ROLE = "resource-role"  # take over an existing resource that runs with a role


class On(StrEnum):
    """Which resource a step's request names (what its action is judged against)."""

    TARGET = "target"  # the technique's target: principal, group, policy, passed role or existing resource
    NEW = "new"  # a resource the request creates: ARN from NEW_RESOURCE_ARNS (name chosen by the attacker)
    EXISTING = "existing"  # any collected resource of ``Step.resource_type`` in the account
    ROLE = "role"  # the role the target resource runs with (the request passes it again)
    ANY = "any"  # the action supports no resource-level permissions: judged on "*"


class Family(StrEnum):
    """For counting and reporting: how the technique gains power."""

    MODIFY = "modify-principal"
    CREDENTIALS = "principal-access"
    PASSROLE = "new-passrole"
    RESOURCE = "existing-resource"


@dataclass(frozen=True)
class Step:
    action: str
    on: On = On.TARGET
    resource_type: str | None = None  # On.EXISTING: the Resource.type of the resource acted on


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    steps: tuple[Step, ...]
    target: Target
    family: Family
    subjects: tuple[str, ...] = ()  # principal modifications: "user" / "role" / "group" acted on
    service: str | None = None  # passed-role: the service the role is passed to (iam:PassedToService)
    also_trusted: tuple[str, ...] = ()  # passed-role: other service principals whose trust makes the role usable
    resource_type: str | None = None  # resource-role: the Resource.type whose role is gained
    caveat: str | None = None  # a fact we cannot see that the technique also needs (-> conditional edge)
    pathfinding: tuple[str, ...] = ()  # pathfinding.cloud ids of the direct form
    via: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # access -> ids of "modify then use" forms
    sources: tuple[str, ...] = ()  # rhino-N, iam-vulnerable:<scenario>, hacktricks

    actions: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "actions", tuple(s.action for s in self.steps))

    @property
    def all_pathfinding(self) -> tuple[str, ...]:
        return (*self.pathfinding, *(i for ids in self.via.values() for i in ids))


# The resource a creating request names. {name}: chosen by the attacker; other identifiers are chosen by
# AWS and stand here as one representative value (a Deny on a pattern still matches it, an Allow naming
# one existing id does not).
NEW_RESOURCE_ARNS: dict[str, str] = {
    "ec2:RunInstances": "arn:{partition}:ec2:{region}:{account}:instance/i-0a1b2c3d4e5f60718",
    "ec2:RequestSpotInstances": "arn:{partition}:ec2:{region}:{account}:spot-instances-request/sir-0a1b2c3d",
    "autoscaling:CreateLaunchConfiguration": (
        "arn:{partition}:autoscaling:{region}:{account}:launchConfiguration:"
        "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9:launchConfigurationName/{name}"
    ),
    "autoscaling:CreateAutoScalingGroup": (
        "arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:"
        "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9:autoScalingGroupName/{name}"
    ),
    "lambda:CreateFunction": "arn:{partition}:lambda:{region}:{account}:function:{name}",
    "lambda:InvokeFunction": "arn:{partition}:lambda:{region}:{account}:function:{name}",
    "lambda:AddPermission": "arn:{partition}:lambda:{region}:{account}:function:{name}",
    "glue:CreateDevEndpoint": "arn:{partition}:glue:{region}:{account}:devEndpoint/{name}",
    "glue:CreateJob": "arn:{partition}:glue:{region}:{account}:job/{name}",
    "glue:StartJobRun": "arn:{partition}:glue:{region}:{account}:job/{name}",
    "glue:CreateTrigger": "arn:{partition}:glue:{region}:{account}:trigger/{name}",
    "cloudformation:CreateStack": (
        "arn:{partition}:cloudformation:{region}:{account}:stack/{name}/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    ),
    "cloudformation:CreateStackSet": (
        "arn:{partition}:cloudformation:{region}:{account}:stackset/{name}:0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    ),
    "cloudformation:CreateStackInstances": (
        "arn:{partition}:cloudformation:{region}:{account}:stackset/{name}:0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
    ),
    "codebuild:CreateProject": "arn:{partition}:codebuild:{region}:{account}:project/{name}",
    "codebuild:StartBuild": "arn:{partition}:codebuild:{region}:{account}:project/{name}",
    "codebuild:StartBuildBatch": "arn:{partition}:codebuild:{region}:{account}:project/{name}",
    "sagemaker:CreateNotebookInstance": "arn:{partition}:sagemaker:{region}:{account}:notebook-instance/{name}",
    "sagemaker:CreatePresignedNotebookInstanceUrl": (
        "arn:{partition}:sagemaker:{region}:{account}:notebook-instance/{name}"
    ),
    "sagemaker:CreateTrainingJob": "arn:{partition}:sagemaker:{region}:{account}:training-job/{name}",
    "sagemaker:CreateProcessingJob": "arn:{partition}:sagemaker:{region}:{account}:processing-job/{name}",
    "sagemaker:CreateNotebookInstanceLifecycleConfig": (
        "arn:{partition}:sagemaker:{region}:{account}:notebook-instance-lifecycle-config/{name}"
    ),
    "ecs:CreateCluster": "arn:{partition}:ecs:{region}:{account}:cluster/{name}",
    "ecs:RegisterTaskDefinition": "arn:{partition}:ecs:{region}:{account}:task-definition/{name}:1",
    "ecs:RunTask": "arn:{partition}:ecs:{region}:{account}:task-definition/{name}:1",
    "ecs:StartTask": "arn:{partition}:ecs:{region}:{account}:task-definition/{name}:1",
    "ecs:CreateService": "arn:{partition}:ecs:{region}:{account}:service/{name}/{name}",
    "apprunner:CreateService": (
        "arn:{partition}:apprunner:{region}:{account}:service/{name}/0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    ),
    "states:CreateStateMachine": "arn:{partition}:states:{region}:{account}:stateMachine:{name}",
    "states:StartExecution": "arn:{partition}:states:{region}:{account}:stateMachine:{name}",
    "bedrock-agentcore:CreateCodeInterpreter": (
        "arn:{partition}:bedrock-agentcore:{region}:{account}:code-interpreter-custom/{name}"
    ),
    "bedrock-agentcore:StartCodeInterpreterSession": (
        "arn:{partition}:bedrock-agentcore:{region}:{account}:code-interpreter-custom/{name}"
    ),
    "bedrock-agentcore:InvokeCodeInterpreter": (
        "arn:{partition}:bedrock-agentcore:{region}:{account}:code-interpreter-custom/{name}"
    ),
}

_S = Step
_N = On.NEW
_A = On.ANY


def _principal_change(
    tid: str,
    name: str,
    action: str,
    target: Target,
    subject: str,
    *,
    pathfinding: tuple[str, ...] = (),
    via: Mapping[str, tuple[str, ...]] | None = None,
    sources: tuple[str, ...] = (),
    caveat: str | None = None,
) -> Technique:
    return Technique(
        tid,
        name,
        (Step(action),),
        target,
        Family.MODIFY,
        subjects=(subject,),
        caveat=caveat,
        pathfinding=pathfinding,
        via=via or {},
        sources=sources,
    )


def _passrole(
    tid: str,
    name: str,
    service: str,
    *steps: Step,
    pathfinding: tuple[str, ...] = (),
    sources: tuple[str, ...] = (),
    caveat: str | None = None,
    also_trusted: tuple[str, ...] = (),
) -> Technique:
    return Technique(
        tid,
        name,
        (Step("iam:PassRole"), *steps),
        Target.PASSED_ROLE,
        Family.PASSROLE,
        service=service,
        also_trusted=also_trusted,
        caveat=caveat,
        pathfinding=pathfinding,
        sources=sources,
    )


def _resource(
    tid: str,
    name: str,
    resource_type: str,
    *steps: Step,
    pathfinding: tuple[str, ...] = (),
    sources: tuple[str, ...] = (),
    caveat: str | None = None,
    service: str | None = None,
) -> Technique:
    return Technique(
        tid,
        name,
        steps,
        Target.RESOURCE_ROLE,
        Family.RESOURCE,
        resource_type=resource_type,
        service=service,
        caveat=caveat,
        pathfinding=pathfinding,
        sources=sources,
    )


# Access methods a "modify then use" edge names in ``via``: how the attacker gets to act as the principal it
# changed. "self" and "assume-role" need no technique; the others are the USER_CREDENTIALS / ROLE_TRUST rows.
ACCESS_SELF = "self"
ACCESS_ASSUME = "assume-role"

TECHNIQUES: tuple[Technique, ...] = (
    # --- changing a principal's own policies (oneself, or a principal one can act as) ----------------------
    _principal_change(
        "iam-put-user-policy",
        "Write an admin inline policy on a user",
        "iam:PutUserPolicy",
        Target.INLINE_POLICY,
        "user",
        pathfinding=("iam-007",),
        via={"iam-create-access-key": ("iam-018",)},
        sources=("rhino-10", "iam-vulnerable:privesc10-PutUserPolicy"),
    ),
    _principal_change(
        "iam-put-role-policy",
        "Write an admin inline policy on a role",
        "iam:PutRolePolicy",
        Target.INLINE_POLICY,
        "role",
        pathfinding=("iam-005",),
        via={ACCESS_ASSUME: ("iam-017",), "iam-update-assume-role-policy": ("iam-021",)},
        sources=("rhino-12", "iam-vulnerable:privesc12-PutRolePolicy"),
    ),
    _principal_change(
        "iam-put-group-policy",
        "Write an admin inline policy on a group",
        "iam:PutGroupPolicy",
        Target.INLINE_POLICY,
        "group",
        pathfinding=("iam-011",),
        sources=("rhino-11", "iam-vulnerable:privesc11-PutGroupPolicy"),
    ),
    _principal_change(
        "iam-attach-user-policy",
        "Attach an admin managed policy to a user",
        "iam:AttachUserPolicy",
        Target.ATTACH_POLICY,
        "user",
        pathfinding=("iam-008",),
        via={"iam-create-access-key": ("iam-015",)},
        sources=("rhino-7", "iam-vulnerable:privesc7-AttachUserPolicy"),
    ),
    _principal_change(
        "iam-attach-role-policy",
        "Attach an admin managed policy to a role",
        "iam:AttachRolePolicy",
        Target.ATTACH_POLICY,
        "role",
        pathfinding=("iam-009",),
        via={ACCESS_ASSUME: ("iam-014",), "iam-update-assume-role-policy": ("iam-019",)},
        sources=("rhino-9", "iam-vulnerable:privesc9-AttachRolePolicy"),
    ),
    _principal_change(
        "iam-attach-group-policy",
        "Attach an admin managed policy to a group",
        "iam:AttachGroupPolicy",
        Target.ATTACH_POLICY,
        "group",
        pathfinding=("iam-010",),
        sources=("rhino-8", "iam-vulnerable:privesc8-AttachGroupPolicy"),
    ),
    _principal_change(
        "iam-create-policy-version",
        "Make an admin document the default version of a customer managed policy attached to a principal",
        "iam:CreatePolicyVersion",
        Target.POLICY_VERSION,
        "policy",
        pathfinding=("iam-001",),
        via={ACCESS_ASSUME: ("iam-016",), "iam-update-assume-role-policy": ("iam-020",)},
        sources=("rhino-1", "iam-vulnerable:privesc1-CreateNewPolicyVersion"),
    ),
    _principal_change(
        "iam-set-default-policy-version",
        "Switch a customer managed policy attached to a principal to another of its versions",
        "iam:SetDefaultPolicyVersion",
        Target.POLICY_VERSION,
        "policy",
        caveat="a more privileged non-default policy version exists (versions are not collected)",
        sources=("rhino-2", "iam-vulnerable:privesc2-SetExistingDefaultPolicyVersion"),
    ),
    _principal_change(
        "iam-delete-user-permissions-boundary",
        "Remove a user's permission boundary",
        "iam:DeleteUserPermissionsBoundary",
        Target.BOUNDARY_DELETE,
        "user",
        sources=("hacktricks",),
    ),
    _principal_change(
        "iam-delete-role-permissions-boundary",
        "Remove a role's permission boundary",
        "iam:DeleteRolePermissionsBoundary",
        Target.BOUNDARY_DELETE,
        "role",
        sources=("hacktricks",),
    ),
    _principal_change(
        "iam-put-user-permissions-boundary",
        "Replace a user's permission boundary by a broader managed policy",
        "iam:PutUserPermissionsBoundary",
        Target.BOUNDARY_PUT,
        "user",
        sources=("hacktricks",),
    ),
    _principal_change(
        "iam-put-role-permissions-boundary",
        "Replace a role's permission boundary by a broader managed policy",
        "iam:PutRolePermissionsBoundary",
        Target.BOUNDARY_PUT,
        "role",
        sources=("hacktricks",),
    ),
    _principal_change(
        "iam-delete-user-policy",
        "Delete an inline policy whose Deny guards a user",
        "iam:DeleteUserPolicy",
        Target.DENY_REMOVAL,
        "user",
    ),
    _principal_change(
        "iam-delete-role-policy",
        "Delete an inline policy whose Deny guards a role",
        "iam:DeleteRolePolicy",
        Target.DENY_REMOVAL,
        "role",
    ),
    _principal_change(
        "iam-delete-group-policy",
        "Delete an inline group policy whose Deny guards its members",
        "iam:DeleteGroupPolicy",
        Target.DENY_REMOVAL,
        "group",
    ),
    _principal_change(
        "iam-detach-user-policy",
        "Detach a managed policy whose Deny guards a user",
        "iam:DetachUserPolicy",
        Target.DENY_REMOVAL,
        "user",
    ),
    _principal_change(
        "iam-detach-role-policy",
        "Detach a managed policy whose Deny guards a role",
        "iam:DetachRolePolicy",
        Target.DENY_REMOVAL,
        "role",
    ),
    _principal_change(
        "iam-detach-group-policy",
        "Detach a managed policy whose Deny guards a group's members",
        "iam:DetachGroupPolicy",
        Target.DENY_REMOVAL,
        "group",
    ),
    _principal_change(
        "iam-remove-user-from-group",
        "Leave a group whose policies Deny what the user's own policies allow",
        "iam:RemoveUserFromGroup",
        Target.DENY_REMOVAL,
        "group-membership",
    ),
    _principal_change(
        "iam-add-user-to-group",
        "Add a user to a more privileged group",
        "iam:AddUserToGroup",
        Target.GROUP_JOIN,
        "user",
        pathfinding=("iam-013",),
        sources=("rhino-13", "iam-vulnerable:privesc13-AddUserToGroup"),
    ),
    # --- acting as another principal ---------------------------------------------------------------------
    Technique(
        "iam-create-access-key",
        "Create an access key for another user",
        (Step("iam:CreateAccessKey"),),
        Target.USER_CREDENTIALS,
        Family.CREDENTIALS,
        subjects=("user",),
        pathfinding=("iam-002",),
        sources=("rhino-4", "iam-vulnerable:privesc4-CreateAccessKey"),
    ),
    Technique(
        "iam-delete-and-create-access-key",
        "Delete one of a user's two access keys, then create a new one",
        (Step("iam:CreateAccessKey"), Step("iam:DeleteAccessKey")),
        Target.USER_CREDENTIALS,
        Family.CREDENTIALS,
        subjects=("user",),
        pathfinding=("iam-003",),
    ),
    Technique(
        "iam-create-login-profile",
        "Set a console password for a user that has none",
        (Step("iam:CreateLoginProfile"),),
        Target.USER_CREDENTIALS,
        Family.CREDENTIALS,
        subjects=("user",),
        pathfinding=("iam-004",),
        sources=("rhino-5", "iam-vulnerable:privesc5-CreateLoginProfile"),
    ),
    Technique(
        "iam-update-login-profile",
        "Reset another user's console password",
        (Step("iam:UpdateLoginProfile"),),
        Target.USER_CREDENTIALS,
        Family.CREDENTIALS,
        subjects=("user",),
        pathfinding=("iam-006",),
        sources=("rhino-6", "iam-vulnerable:privesc6-UpdateLoginProfile"),
    ),
    Technique(
        "iam-update-assume-role-policy",
        "Rewrite a role's trust policy to trust oneself, then assume it",
        (Step("iam:UpdateAssumeRolePolicy"),),
        Target.ROLE_TRUST,
        Family.CREDENTIALS,
        subjects=("role",),
        pathfinding=("iam-012",),
        sources=("rhino-14", "iam-vulnerable:privesc14-UpdatingAssumeRolePolicy"),
    ),
    # --- passing a role to a service that runs attacker-chosen code with it --------------------------------
    _passrole(
        "passrole-ec2-run-instances",
        "Launch an EC2 instance with a privileged instance profile",
        "ec2.amazonaws.com",
        _S("ec2:RunInstances", _N),
        pathfinding=("ec2-001",),
        sources=("rhino-3", "iam-vulnerable:privesc3-CreateEC2WithExistingIP"),
    ),
    _passrole(
        "passrole-ec2-spot-instances",
        "Request a spot instance with a privileged instance profile",
        "ec2.amazonaws.com",
        _S("ec2:RequestSpotInstances", _N),
        pathfinding=("ec2-003",),
    ),
    _passrole(
        "passrole-autoscaling",
        "Create a launch configuration and Auto Scaling group with a role",
        "ec2.amazonaws.com",
        _S("autoscaling:CreateLaunchConfiguration", _N),
        _S("autoscaling:CreateAutoScalingGroup", _N),
        sources=("hacktricks",),
    ),
    _passrole(
        "passrole-lambda-invoke",
        "Create a Lambda function with a role and invoke it",
        "lambda.amazonaws.com",
        _S("lambda:CreateFunction", _N),
        _S("lambda:InvokeFunction", _N),
        pathfinding=("lambda-001",),
        sources=("rhino-15", "iam-vulnerable:privesc15-PassExistingRoleToNewLambdaThenInvoke"),
    ),
    _passrole(
        "passrole-lambda-event-source",
        "Create a Lambda function with a role and an event source mapping that triggers it",
        "lambda.amazonaws.com",
        _S("lambda:CreateFunction", _N),
        _S("lambda:CreateEventSourceMapping", _A),
        pathfinding=("lambda-002",),
        sources=("rhino-16", "iam-vulnerable:privesc16-PassRoleToNewLambdaThenTriggerWithNewDynamo"),
    ),
    _passrole(
        "passrole-lambda-add-permission",
        "Create a Lambda function with a role and open its invocation to oneself",
        "lambda.amazonaws.com",
        _S("lambda:CreateFunction", _N),
        _S("lambda:AddPermission", _N),
        pathfinding=("lambda-006",),
    ),
    _passrole(
        "passrole-glue-dev-endpoint",
        "Create a Glue development endpoint with a role",
        "glue.amazonaws.com",
        _S("glue:CreateDevEndpoint", _N),
        pathfinding=("glue-001",),
        sources=("rhino-18", "iam-vulnerable:privesc18-PassExistingRoleToNewGlueDevEndpoint"),
    ),
    _passrole(
        "passrole-glue-job",
        "Create and run a Glue job with a role",
        "glue.amazonaws.com",
        _S("glue:CreateJob", _N),
        _S("glue:StartJobRun", _N),
        pathfinding=("glue-003",),
    ),
    _passrole(
        "passrole-glue-job-trigger",
        "Create a Glue job with a role and a trigger that runs it",
        "glue.amazonaws.com",
        _S("glue:CreateJob", _N),
        _S("glue:CreateTrigger", _N),
        pathfinding=("glue-004",),
    ),
    _passrole(
        "passrole-glue-update-job",
        "Give an existing Glue job a role and new script, then run it",
        "glue.amazonaws.com",
        _S("glue:UpdateJob", On.EXISTING, "glue:job"),
        _S("glue:StartJobRun", On.EXISTING, "glue:job"),
        pathfinding=("glue-005",),
    ),
    _passrole(
        "passrole-glue-update-job-trigger",
        "Give an existing Glue job a role and new script, then trigger it",
        "glue.amazonaws.com",
        _S("glue:UpdateJob", On.EXISTING, "glue:job"),
        _S("glue:CreateTrigger", _N),
        pathfinding=("glue-006",),
    ),
    _passrole(
        "passrole-cloudformation",
        "Create a CloudFormation stack with a service role",
        "cloudformation.amazonaws.com",
        _S("cloudformation:CreateStack", _N),
        pathfinding=("cloudformation-001",),
        sources=("rhino-20", "iam-vulnerable:privesc20-PassExistingRoleToCloudFormation"),
    ),
    _passrole(
        "passrole-cloudformation-stackset",
        "Create a self-managed stack set with an administration role and deploy an instance",
        "cloudformation.amazonaws.com",
        _S("cloudformation:CreateStackSet", _N),
        _S("cloudformation:CreateStackInstances", _N),
        pathfinding=("cloudformation-003",),
    ),
    _passrole(
        "passrole-cloudformation-update-stackset",
        "Update an existing stack set with another administration role and template",
        "cloudformation.amazonaws.com",
        _S("cloudformation:UpdateStackSet", On.EXISTING, "cloudformation:stackset"),
        pathfinding=("cloudformation-004",),
    ),
    _passrole(
        "passrole-codebuild",
        "Create and start a CodeBuild project with a service role",
        "codebuild.amazonaws.com",
        _S("codebuild:CreateProject", _N),
        _S("codebuild:StartBuild", _N),
        pathfinding=("codebuild-001",),
        sources=("iam-vulnerable:privesc-codeBuildCreateProjectPassRole",),
    ),
    _passrole(
        "passrole-codebuild-batch",
        "Create a CodeBuild project with a service role and start a batch build",
        "codebuild.amazonaws.com",
        _S("codebuild:CreateProject", _N),
        _S("codebuild:StartBuildBatch", _N),
        pathfinding=("codebuild-004",),
    ),
    _passrole(
        "passrole-sagemaker-notebook",
        "Create a SageMaker notebook instance with a role and open it",
        "sagemaker.amazonaws.com",
        _S("sagemaker:CreateNotebookInstance", _N),
        _S("sagemaker:CreatePresignedNotebookInstanceUrl", _N),
        pathfinding=("sagemaker-001",),
        sources=("iam-vulnerable:privesc-sageMakerCreateNotebookPassRole",),
    ),
    _passrole(
        "passrole-sagemaker-training",
        "Create a SageMaker training job with a role",
        "sagemaker.amazonaws.com",
        _S("sagemaker:CreateTrainingJob", _N),
        pathfinding=("sagemaker-002",),
        sources=("iam-vulnerable:privesc-sageMakerCreateTrainingJob",),
    ),
    _passrole(
        "passrole-sagemaker-processing",
        "Create a SageMaker processing job with a role",
        "sagemaker.amazonaws.com",
        _S("sagemaker:CreateProcessingJob", _N),
        pathfinding=("sagemaker-003",),
        sources=("iam-vulnerable:privesc-sageMakerCreateProcessingJob",),
    ),
    _passrole(
        "passrole-datapipeline",
        "Create and activate a Data Pipeline with a role",
        "datapipeline.amazonaws.com",
        _S("datapipeline:CreatePipeline", _A),
        _S("datapipeline:PutPipelineDefinition", _A),
        _S("datapipeline:ActivatePipeline", _A),
        pathfinding=("datapipeline-001",),
        sources=("rhino-21", "iam-vulnerable:privesc21-PassExistingRoleToNewDataPipeline"),
        # the pipeline's commands run on EC2 resources with its resourceRole, a role trusting EC2
        also_trusted=("ec2.amazonaws.com",),
    ),
    _passrole(
        "passrole-ecs-run-task",
        "Register an ECS task definition with a task role and run it",
        "ecs-tasks.amazonaws.com",
        _S("ecs:RegisterTaskDefinition", _N),
        _S("ecs:RunTask", _N),
        pathfinding=("ecs-004",),
    ),
    _passrole(
        "passrole-ecs-create-cluster-run-task",
        "Create an ECS cluster, register a task definition with a task role and run it",
        "ecs-tasks.amazonaws.com",
        _S("ecs:CreateCluster", _N),
        _S("ecs:RegisterTaskDefinition", _N),
        _S("ecs:RunTask", _N),
        pathfinding=("ecs-002",),
    ),
    _passrole(
        "passrole-ecs-create-service",
        "Register an ECS task definition with a task role and start a service",
        "ecs-tasks.amazonaws.com",
        _S("ecs:RegisterTaskDefinition", _N),
        _S("ecs:CreateService", _N),
        pathfinding=("ecs-003",),
    ),
    _passrole(
        "passrole-ecs-create-cluster-service",
        "Create an ECS cluster, register a task definition with a task role and start a service",
        "ecs-tasks.amazonaws.com",
        _S("ecs:CreateCluster", _N),
        _S("ecs:RegisterTaskDefinition", _N),
        _S("ecs:CreateService", _N),
        pathfinding=("ecs-001",),
    ),
    _passrole(
        "passrole-ecs-start-task",
        "Register an ECS task definition with a task role and start it on a container instance",
        "ecs-tasks.amazonaws.com",
        _S("ecs:RegisterTaskDefinition", _N),
        _S("ecs:StartTask", _N),
        pathfinding=("ecs-005",),
        caveat="a cluster with EC2 container instances exists (container instances are not collected)",
    ),
    _passrole(
        "passrole-apprunner",
        "Create an App Runner service with an instance role",
        "tasks.apprunner.amazonaws.com",
        _S("apprunner:CreateService", _N),
        pathfinding=("apprunner-001",),
    ),
    _passrole(
        "passrole-stepfunctions",
        "Create and start a Step Functions state machine with a role",
        "states.amazonaws.com",
        _S("states:CreateStateMachine", _N),
        _S("states:StartExecution", _N),
        sources=("hacktricks",),
    ),
    _passrole(
        "passrole-bedrock-code-interpreter",
        "Create a Bedrock AgentCore code interpreter with an execution role and run code in it",
        "bedrock-agentcore.amazonaws.com",
        _S("bedrock-agentcore:CreateCodeInterpreter", _N),
        _S("bedrock-agentcore:StartCodeInterpreterSession", _N),
        _S("bedrock-agentcore:InvokeCodeInterpreter", _N),
        pathfinding=("bedrock-001",),
    ),
    # --- taking over an existing resource that runs with a role ----------------------------------------------
    _resource(
        "lambda-update-function-code",
        "Replace the code of a Lambda function with a privileged role (runs at its next invocation)",
        "lambda:function",
        _S("lambda:UpdateFunctionCode"),
        pathfinding=("lambda-003",),
        sources=("rhino-17", "iam-vulnerable:privesc17-EditExistingLambdaFunctionWithRole"),
    ),
    _resource(
        "lambda-update-function-code-invoke",
        "Replace the code of a Lambda function with a privileged role and invoke it",
        "lambda:function",
        _S("lambda:UpdateFunctionCode"),
        _S("lambda:InvokeFunction"),
        pathfinding=("lambda-004",),
    ),
    _resource(
        "lambda-update-function-code-add-permission",
        "Replace the code of a Lambda function with a privileged role and open its invocation",
        "lambda:function",
        _S("lambda:UpdateFunctionCode"),
        _S("lambda:AddPermission"),
        pathfinding=("lambda-005",),
    ),
    _resource(
        "ssm-send-command",
        "Run a command on an EC2 instance with a privileged instance profile",
        "ec2:instance",
        _S("ssm:SendCommand"),
        pathfinding=("ssm-002",),
        sources=("iam-vulnerable:privesc-ssmSendCommand",),
    ),
    _resource(
        "ssm-start-session",
        "Open a Session Manager shell on an instance with a privileged profile",
        "ec2:instance",
        _S("ssm:StartSession"),
        pathfinding=("ssm-001",),
        sources=("iam-vulnerable:privesc-ssmStartSession",),
    ),
    _resource(
        "ec2-instance-connect",
        "Push an SSH key to an instance with a privileged profile and log in",
        "ec2:instance",
        _S("ec2-instance-connect:SendSSHPublicKey"),
        pathfinding=("ec2instanceconnect-003",),
        sources=("iam-vulnerable:privesc-ec2InstanceConnect",),
    ),
    _resource(
        "ec2-modify-user-data",
        "Stop an instance with a privileged profile, replace its user data and start it",
        "ec2:instance",
        _S("ec2:ModifyInstanceAttribute"),
        _S("ec2:StopInstances"),
        _S("ec2:StartInstances"),
        pathfinding=("ec2-002",),
    ),
    _resource(
        "ec2-launch-template-version",
        "Make a new default version of a launch template with a privileged profile",
        "ec2:launch-template",
        _S("ec2:CreateLaunchTemplateVersion"),
        _S("ec2:ModifyLaunchTemplate"),
        pathfinding=("ec2-004",),
        caveat="something launches instances from the template (Auto Scaling groups are not collected)",
    ),
    _resource(
        "glue-update-dev-endpoint",
        "Add an SSH key to an existing Glue development endpoint",
        "glue:devEndpoint",
        _S("glue:UpdateDevEndpoint"),
        pathfinding=("glue-002",),
        sources=("rhino-19", "iam-vulnerable:privesc19-UpdateExistingGlueDevEndpoint"),
    ),
    _resource(
        "codebuild-start-build-override",
        "Start a build of a privileged CodeBuild project with a buildspec override",
        "codebuild:project",
        _S("codebuild:StartBuild"),
        pathfinding=("codebuild-002",),
    ),
    _resource(
        "codebuild-start-build-batch-override",
        "Start a batch build of a privileged CodeBuild project with a buildspec override",
        "codebuild:project",
        _S("codebuild:StartBuildBatch"),
        pathfinding=("codebuild-003",),
    ),
    _resource(
        "cloudformation-update-stack",
        "Update a CloudFormation stack that runs with a privileged service role",
        "cloudformation:stack",
        _S("cloudformation:UpdateStack"),
        pathfinding=("cloudformation-002",),
        sources=("iam-vulnerable:privesc-cloudFormationUpdateStack",),
    ),
    _resource(
        "cloudformation-change-set",
        "Create and execute a change set on a stack that runs with a privileged service role",
        "cloudformation:stack",
        _S("cloudformation:CreateChangeSet"),
        _S("cloudformation:ExecuteChangeSet"),
        pathfinding=("cloudformation-005",),
    ),
    _resource(
        "sagemaker-notebook-url",
        "Open an existing SageMaker notebook with a privileged role",
        "sagemaker:notebook-instance",
        _S("sagemaker:CreatePresignedNotebookInstanceUrl"),
        pathfinding=("sagemaker-004",),
        sources=("iam-vulnerable:privesc-sageMakerCreatePresignedNotebookURL",),
    ),
    _resource(
        "sagemaker-notebook-lifecycle",
        "Give an existing SageMaker notebook a lifecycle script and restart it",
        "sagemaker:notebook-instance",
        _S("sagemaker:CreateNotebookInstanceLifecycleConfig", _N),
        _S("sagemaker:StopNotebookInstance"),
        _S("sagemaker:UpdateNotebookInstance"),
        _S("sagemaker:StartNotebookInstance"),
        pathfinding=("sagemaker-005",),
    ),
    _resource(
        "apprunner-update-service",
        "Point an existing App Runner service with a privileged instance role at attacker code",
        "apprunner:service",
        _S("apprunner:UpdateService"),
        pathfinding=("apprunner-002",),
    ),
    _resource(
        "bedrock-code-interpreter-session",
        "Run code in an existing Bedrock AgentCore code interpreter with a privileged execution role",
        "bedrock-agentcore:code-interpreter",
        _S("bedrock-agentcore:StartCodeInterpreterSession"),
        _S("bedrock-agentcore:InvokeCodeInterpreter"),
        pathfinding=("bedrock-002",),
    ),
    _resource(
        "ecs-run-task-existing-definition",
        "Run an existing ECS task definition with a privileged task role and a command override",
        "ecs:task-definition",
        _S("ecs:RunTask"),
        sources=("hacktricks",),
    ),
    _resource(
        "ecs-execute-command",
        "Open a shell in a running task of an ECS service with a privileged task role",
        "ecs:service",
        _S("ecs:ExecuteCommand"),
        sources=("hacktricks",),
        caveat="ECS Exec is enabled on the service's tasks (not collected)",
    ),
    _resource(
        "stepfunctions-update-state-machine",
        "Rewrite an existing state machine with a privileged role and start it",
        "states:stateMachine",
        _S("states:UpdateStateMachine"),
        _S("states:StartExecution"),
        sources=("hacktricks",),
    ),
    _resource(
        "datapipeline-redefine-pipeline",
        "Redefine and activate an existing Data Pipeline with its privileged role",
        "datapipeline:pipeline",
        _S("datapipeline:PutPipelineDefinition", _A),
        _S("datapipeline:ActivatePipeline", _A),
        _S("iam:PassRole", On.ROLE),
        sources=("hacktricks",),
        service="datapipeline.amazonaws.com",
    ),
)
TECHNIQUES_BY_ID: dict[str, Technique] = {t.id: t for t in TECHNIQUES}
# Every action a technique (or an access method) asks for: what the cheap prefilter looks for in policies.
TECHNIQUE_ACTIONS: tuple[str, ...] = tuple(sorted({a for t in TECHNIQUES for a in t.actions} | {"sts:AssumeRole"}))

# Resource types of the shared vocabulary that no technique takes over, and why (kept as data so the
# vocabulary test can tell a deliberate gap from a forgotten one).
NO_TECHNIQUE: dict[str, str] = {
    "ecs:cluster": "a cluster runs with no role of its own; tasks on it are covered by ecs:task-definition",
    "bedrock:agent": (
        "an agent's role is used by Bedrock itself for model and knowledge-base calls; no public technique "
        "runs attacker-chosen API calls with it (AgentCore code interpreters are covered)"
    ),
}
