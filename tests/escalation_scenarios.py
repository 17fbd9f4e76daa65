"""One DEV account per (technique, access method), shaped like collected data, with its benign twin.

``scenario(technique, via, benign)`` gives the attacker exactly the requests the technique needs, each
scoped to the resource it names (a service- and account-scoped pattern for resources the attacker creates),
and says which edge must (or must not) appear. Each target kind has its own benign mechanism, so every
technique's twin looks risky but is not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.iam.techniques import ACCESS_ASSUME, ACCESS_SELF, NEW_RESOURCE_ARNS, On, Target, Technique
from auditor.model import CredentialReportRow, Resource, Snapshot
from tests.iam_helpers import (
    DEV,
    account,
    allow,
    deny,
    doc,
    group,
    managed,
    organization,
    policy_arn,
    role,
    role_arn,
    root,
    snapshot,
    trust,
    user,
    user_arn,
)

POWER = role_arn(DEV, "power")
WEAK = role_arn(DEV, "weak")
BOSS = user_arn(DEV, "boss")
ADMINS = f"arn:aws:iam::{DEV}:group/admins"
TEAM = f"arn:aws:iam::{DEV}:group/team"
OWN_POLICY = policy_arn(DEV, "attacker-policy")
GUARD_POLICY = policy_arn(DEV, "guard")
BOUNDARY = policy_arn(DEV, "boundary")
TARGET_ROLE = role_arn(DEV, "target")
TARGET_USER = user_arn(DEV, "target")
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"

# Existing resources as the collectors record them: the ARN AWS gives, the type of the shared vocabulary,
# and role_arn = the IAM ROLE the resource runs with (never an instance profile).
RESOURCE_ARNS = {
    "ec2:instance": f"arn:aws:ec2:us-east-1:{DEV}:instance/i-0123456789abcdef0",
    "ec2:launch-template": f"arn:aws:ec2:us-east-1:{DEV}:launch-template/lt-0123456789abcdef0",
    "lambda:function": f"arn:aws:lambda:us-east-1:{DEV}:function:target",
    "ecs:task-definition": f"arn:aws:ecs:us-east-1:{DEV}:task-definition/target:3",
    "ecs:service": f"arn:aws:ecs:us-east-1:{DEV}:service/main/target",
    "codebuild:project": f"arn:aws:codebuild:us-east-1:{DEV}:project/target",
    "cloudformation:stack": f"arn:aws:cloudformation:us-east-1:{DEV}:stack/target/1f2e3d4c-0000-1111-2222-333344445555",
    "cloudformation:stackset": f"arn:aws:cloudformation:us-east-1:{DEV}:stackset/target:1f2e3d4c-0000-1111",
    "glue:job": f"arn:aws:glue:us-east-1:{DEV}:job/target",
    "glue:devEndpoint": f"arn:aws:glue:us-east-1:{DEV}:devEndpoint/target",
    "sagemaker:notebook-instance": f"arn:aws:sagemaker:us-east-1:{DEV}:notebook-instance/target",
    "apprunner:service": f"arn:aws:apprunner:us-east-1:{DEV}:service/target/0123456789abcdef0123456789abcdef",
    "states:stateMachine": f"arn:aws:states:us-east-1:{DEV}:stateMachine:target",
    "datapipeline:pipeline": f"arn:aws:datapipeline:us-east-1:{DEV}:pipeline/df-0123456789ABCDEFGHIJ",
    "bedrock-agentcore:code-interpreter": (
        f"arn:aws:bedrock-agentcore:us-east-1:{DEV}:code-interpreter-custom/target-0123456789"
    ),
}
# Every service principal a passed role may need to trust.
SERVICES = (
    "apprunner.amazonaws.com",
    "tasks.apprunner.amazonaws.com",
    "bedrock-agentcore.amazonaws.com",
    "cloudformation.amazonaws.com",
    "codebuild.amazonaws.com",
    "datapipeline.amazonaws.com",
    "ec2.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "glue.amazonaws.com",
    "lambda.amazonaws.com",
    "sagemaker.amazonaws.com",
    "states.amazonaws.com",
)


def service_scope(action: str) -> str:
    """The pattern a careful admin would write for resources the attacker creates: service and account."""
    service = NEW_RESOURCE_ARNS[action].split(":")[2]
    return f"arn:aws:{service}:*:{DEV}:*"


def collected_resource(resource_type: str, role: str | None) -> Resource:
    arn = RESOURCE_ARNS[resource_type]
    return Resource(arn=arn, type=resource_type, region="us-east-1", name="target", role_arn=role)


@dataclass(frozen=True)
class Scenario:
    snapshot: Snapshot
    attacker: str
    expected: tuple[str, str]  # (technique id, target) that must appear (or, in the twin, must not)
    via: str | None
    twin: str  # how the benign twin neutralises the technique


def vias(technique: Technique) -> list[str]:
    """The access methods a test exercises for a technique (every "modify then use" form it names)."""
    if technique.family.value != "modify-principal":
        return [ACCESS_SELF]
    subject = technique.subjects[0]
    forms = [ACCESS_SELF, *technique.via]
    if subject == "role" and ACCESS_ASSUME not in forms:
        forms.append(ACCESS_ASSUME)
    return forms


def _step_resource(technique: Technique, index: int, subject: str) -> str:
    step = technique.steps[index]
    if step.on is On.TARGET:
        return subject
    if step.on is On.NEW:
        return service_scope(step.action)
    if step.on is On.EXISTING:
        return RESOURCE_ARNS[step.resource_type or ""]
    if step.on is On.ROLE:
        return POWER
    return "*"


def scenario(technique: Technique, via: str, benign: bool) -> Scenario:
    kind = technique.target
    subject_kind = technique.subjects[0] if technique.subjects else ""
    attacker_is_role = subject_kind == "role" and via == ACCESS_SELF
    attacker = role_arn(DEV, "attacker") if attacker_is_role else user_arn(DEV, "attacker")
    name = "attacker"
    # who the technique changes or acts on, and what the request names
    subject_principal = attacker
    if via == ACCESS_ASSUME or via == "iam-update-assume-role-policy":
        subject_principal = TARGET_ROLE
    elif via in ("iam-create-access-key",):
        subject_principal = TARGET_USER
    request_subject = {
        Target.USER_CREDENTIALS: BOSS,
        Target.ROLE_TRUST: POWER,
        Target.PASSED_ROLE: POWER,
        Target.RESOURCE_ROLE: RESOURCE_ARNS.get(technique.resource_type or "", ""),
        Target.POLICY_VERSION: OWN_POLICY,
        Target.GROUP_JOIN: ADMINS,
    }.get(kind, subject_principal)
    if subject_kind == "group" and kind is not Target.GROUP_JOIN:
        request_subject = TEAM
    if technique.id == "iam-remove-user-from-group":
        request_subject = TEAM
    expected_target = {
        Target.USER_CREDENTIALS: BOSS,
        Target.ROLE_TRUST: POWER,
        Target.PASSED_ROLE: POWER,
        Target.RESOURCE_ROLE: POWER,
    }.get(kind, DEV)

    statements: list[dict[str, Any]] = [
        allow(step.action, _step_resource(technique, i, request_subject)) for i, step in enumerate(technique.steps)
    ]
    # how the attacker acts as the changed principal
    if via == ACCESS_ASSUME:
        statements.append(allow("sts:AssumeRole", TARGET_ROLE))
    elif via == "iam-update-assume-role-policy":
        statements.append(allow("iam:UpdateAssumeRolePolicy", TARGET_ROLE))
    elif via == "iam-create-access-key":
        statements.append(allow("iam:CreateAccessKey", TARGET_USER))

    subject_inline: dict[str, Any] = {"read": doc(allow("s3:GetObject"))}
    subject_attached: list[str] = []
    subject_boundary: str | None = None
    boundary_doc = doc(allow(["s3:*", *technique.actions]))
    team_inline: dict[str, Any] = {"read": doc(allow("s3:GetObject"))}
    team_attached: list[str] = []
    scps: list[Any] = []
    report: list[CredentialReportRow] | None = None
    resource_role = POWER
    guard_doc = doc({"Effect": "Deny", "NotAction": list(technique.actions), "Resource": "*"})
    twin = ""

    if kind in (Target.BOUNDARY_DELETE, Target.BOUNDARY_PUT):
        subject_inline = {"iam": doc(allow("iam:*"))}  # broader than the boundary, yet not "*" on "*"
        subject_boundary = BOUNDARY
    if kind is Target.POLICY_VERSION:
        subject_attached = [OWN_POLICY]
    if kind is Target.DENY_REMOVAL:
        subject_inline = {"power": doc(allow("*"))}
        if technique.id in ("iam-delete-user-policy", "iam-delete-role-policy"):
            subject_inline["guard"] = guard_doc
        elif technique.id in ("iam-detach-user-policy", "iam-detach-role-policy"):
            subject_attached = [GUARD_POLICY]
        elif technique.id in ("iam-delete-group-policy", "iam-remove-user-from-group"):
            team_inline = {"guard": guard_doc}
        elif technique.id == "iam-detach-group-policy":
            team_attached = [GUARD_POLICY]

    if benign:
        if via != ACCESS_SELF:
            # the attacker can change the principal but can never act as it
            statements = statements[:-1]
            twin = "the changed principal is one the attacker cannot act as"
        elif kind is Target.INLINE_POLICY:
            subject_boundary, twin = BOUNDARY, "a permission boundary caps the policy the attacker writes"
            boundary_doc = doc(allow(["s3:*", *technique.actions]))
        elif kind is Target.ATTACH_POLICY:
            statements[0] = allow(
                technique.actions[0], request_subject, Condition={"ArnEquals": {"iam:PolicyARN": READ_ONLY}}
            )
            twin = "iam:PolicyARN only admits ReadOnlyAccess"
        elif kind is Target.POLICY_VERSION:
            statements[0] = allow(technique.actions[0], policy_arn(DEV, "other-*"))
            twin = "allowed only on other customer managed policies"
        elif kind is Target.BOUNDARY_DELETE:
            subject_inline, twin = {"s3": doc(allow("s3:*"))}, "identity policies are no broader than the boundary"
        elif kind is Target.BOUNDARY_PUT:
            only_current = {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY}}
            boundary_doc = doc(allow("s3:*"), allow(technique.actions[0], Condition=only_current))
            twin = "the boundary lets the user set only the current boundary (iam:PermissionsBoundary)"
        elif kind is Target.DENY_REMOVAL:
            scps, twin = [("guard", guard_doc, ["ou-ab12-nonp"])], "the same Deny is also an SCP"
        elif kind is Target.GROUP_JOIN:
            subject_boundary, twin = BOUNDARY, "the attacker's boundary caps what the group grants"
        elif kind is Target.USER_CREDENTIALS:
            subject_boundary, twin = BOUNDARY, "permission boundary without the action"
            boundary_doc = doc(allow("s3:*"))
        elif kind is Target.ROLE_TRUST:
            statements[0] = allow(
                technique.actions[0], request_subject, Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}
            )
            report = [CredentialReportRow(user=name, arn=attacker, mfa_active=False)]
            twin = "allowed only with MFA; the user has no MFA device (a role attacker: only a service assumes it)"
        elif kind is Target.PASSED_ROLE:
            statements[0] = allow("iam:PassRole", WEAK)
            twin = "iam:PassRole limited to a weak role"
        elif kind is Target.RESOURCE_ROLE:
            resource_role, twin = WEAK, "the resource runs with a weak role"
    if technique.id == "iam-delete-and-create-access-key":
        report = [*(report or []), CredentialReportRow(user="boss", arn=BOSS, access_key_1_active=True,
                                                        access_key_2_active=True)]  # fmt: skip
    elif technique.id == "iam-create-access-key":
        report = [*(report or []), CredentialReportRow(user="boss", arn=BOSS, access_key_1_active=True)]
    elif technique.id == "iam-update-login-profile":
        report = [*(report or []), CredentialReportRow(user="boss", arn=BOSS, password_enabled=True)]

    attacker_doc = doc(*statements)
    attacker_is_subject = subject_principal == attacker
    attacker_inline: dict[str, Any] = {"grant": attacker_doc}
    attacker_attached: list[str] = []
    attacker_boundary: str | None = None
    if attacker_is_subject:
        attacker_inline = {**subject_inline, "grant": attacker_doc}
        attacker_attached = list(subject_attached)
        attacker_boundary = subject_boundary
        if kind is Target.POLICY_VERSION:  # the grant lives in the policy the attacker rewrites
            attacker_inline = {k: v for k, v in subject_inline.items() if k != "read"}
    elif kind is Target.GROUP_JOIN or kind is Target.USER_CREDENTIALS:
        attacker_boundary = subject_boundary
    policies = [
        managed(DEV, "attacker-policy", attacker_doc if attacker_is_subject else doc(allow("s3:GetObject"))),
        managed(DEV, "boundary", boundary_doc),
        managed(DEV, "guard", guard_doc),
    ]
    in_team = ["team"]
    users = [user(DEV, "boss", inline={"admin": doc(allow("*"))})]
    roles = [
        role(DEV, "power", trust({"Service": list(SERVICES)}), inline={"admin": doc(allow("*"))}),
        role(DEV, "weak", trust({"Service": list(SERVICES)}), inline={"read": doc(allow("s3:GetObject"))}),
    ]
    # a role session has MFA only if its caller used it: for the MFA twin, a role only a service assumes
    mfa_twin = benign and kind is Target.ROLE_TRUST
    attacker_trust = trust({"Service": "ec2.amazonaws.com"}) if mfa_twin else trust(root(DEV))
    if attacker_is_role:
        roles.append(
            role(DEV, name, attacker_trust, inline=attacker_inline, attached=attacker_attached,
                 boundary=attacker_boundary)
        )  # fmt: skip
    else:
        users.append(
            user(DEV, name, inline=attacker_inline, attached=attacker_attached, boundary=attacker_boundary,
                 groups=in_team)
        )  # fmt: skip
    if subject_principal == TARGET_ROLE:
        target_trust = trust(root(DEV)) if via == ACCESS_ASSUME else trust({"Service": "ec2.amazonaws.com"})
        roles.append(
            role(DEV, "target", target_trust, inline=subject_inline, attached=subject_attached,
                 boundary=subject_boundary)
        )  # fmt: skip
    elif subject_principal == TARGET_USER:
        users.append(
            user(DEV, "target", inline=subject_inline, attached=subject_attached, boundary=subject_boundary,
                 groups=in_team)
        )  # fmt: skip
    resources = [collected_resource(t, resource_role) for t in RESOURCE_ARNS]
    acct = account(
        DEV,
        credential_report=report,
        users=users,
        groups=[
            group(DEV, "admins", inline={"admin": doc(allow("*"))}),
            group(DEV, "team", inline=team_inline, attached=team_attached),
        ],
        roles=roles,
        policies=policies,
        resources=resources,
    )
    return Scenario(
        snapshot(acct, org=organization(scps=scps)),
        attacker,
        (technique.id, expected_target),
        via if technique.family.value == "modify-principal" else None,
        twin,
    )


__all__ = ["Scenario", "deny", "scenario", "vias"]
