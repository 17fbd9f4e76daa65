"""Privilege-escalation defects and request-scoping conditions, each a risky case beside its benign twin.

The catalogue-wide table (one case per technique and access method) is ``test_escalation_catalogue.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from auditor.graph import build_access_graph
from auditor.iam.escalation import TECHNIQUES_BY_ID
from auditor.model import AccountSnapshot, CredentialReportRow, IamGroup, Resource, Snapshot
from tests.escalation_scenarios import BOSS, scenario
from tests.iam_helpers import (
    DEV,
    ENVIRONMENTS,
    account,
    allow,
    deny,
    doc,
    group,
    managed,
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


def _edges(snap: Snapshot, attacker: str | None = None) -> set[tuple[str, str]]:
    g = build_access_graph(snap, ENVIRONMENTS)
    return {(e.technique_id, e.target) for e in g.escalation_edges() if attacker is None or e.source == attacker}


def _passrole_snapshot(
    pass_statement: dict[str, Any],
    power_inline: dict[str, Any] | None = None,
    power_boundary: str | None = None,
) -> Snapshot:
    acct = account(
        DEV,
        users=[user(DEV, "dev", inline={"p": doc(pass_statement, allow("ec2:RunInstances"))})],
        roles=[
            role(
                DEV,
                "power",
                trust({"Service": "ec2.amazonaws.com"}),
                inline=power_inline or {"admin": doc(allow("*"))},
                boundary=power_boundary,
            )
        ],
        policies=[managed(DEV, "b", doc(allow("s3:*")))],
    )
    return snapshot(acct)


@pytest.mark.parametrize(
    ("pass_statement", "power_boundary", "expected"),
    [
        (allow("iam:PassRole", POWER), None, True),
        (
            allow("iam:PassRole", "*", Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
            None,
            True,
        ),
        (
            allow(
                "iam:PassRole",
                "*",
                Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            ),
            None,
            False,
        ),
        (allow("iam:PassRole", role_arn(DEV, "app-*")), None, False),
        (allow("iam:PassRole", POWER), policy_arn(DEV, "b"), False),  # the passed role is not really admin
    ],
    ids=["exact-role", "passed-to-ec2", "passed-to-lambda-only", "other-roles-only", "role-bounded"],
)
def test_passrole_counts_only_passable_powerful_roles(
    pass_statement: dict[str, Any], power_boundary: str | None, expected: bool
) -> None:
    g = build_access_graph(_passrole_snapshot(pass_statement, power_boundary=power_boundary), ENVIRONMENTS)
    found = {(e.technique_id, e.target) for e in g.escalation_edges()}
    assert (("passrole-ec2-run-instances", POWER) in found) is expected
    assert bool(g.escalation_paths()) is expected


def test_login_profile_techniques_follow_the_credential_report() -> None:
    s = scenario(TECHNIQUES_BY_ID["iam-create-login-profile"], "self", benign=False)
    acct = s.snapshot.accounts[0]
    assert acct.iam is not None
    with_password = acct.model_copy(
        update={
            "iam": acct.iam.model_copy(
                update={"credential_report": (CredentialReportRow(user="boss", arn=BOSS, password_enabled=True),)}
            )
        }
    )
    snap = s.snapshot.model_copy(update={"accounts": (with_password,)})
    assert ("iam-create-login-profile", BOSS) not in _edges(snap, s.attacker)


def test_chained_escalation_through_another_user() -> None:
    acct = account(
        DEV,
        users=[
            user(DEV, "intern", inline={"p": doc(allow("iam:CreateAccessKey", user_arn(DEV, "ci")))}),
            user(
                DEV,
                "ci",
                inline={
                    "p": doc(
                        allow("iam:PassRole", POWER),
                        allow("lambda:CreateFunction"),
                        allow("lambda:InvokeFunction"),
                    )
                },
            ),
        ],
        roles=[role(DEV, "power", trust({"Service": "lambda.amazonaws.com"}), inline={"a": doc(allow("*"))})],
    )
    g = build_access_graph(snapshot(acct), ENVIRONMENTS)
    paths = {p.source: p for p in g.escalation_paths()}
    assert paths[user_arn(DEV, "intern")].nodes == (user_arn(DEV, "intern"), user_arn(DEV, "ci"), POWER, DEV)
    assert paths[user_arn(DEV, "ci")].nodes == (user_arn(DEV, "ci"), POWER, DEV)


def test_unknown_action_leaves_escalation_unchanged() -> None:
    def edges(extra: list[str]) -> set[tuple[str, str, str]]:
        acct = account(
            DEV,
            users=[
                user(
                    DEV,
                    "dev",
                    inline={
                        "p": doc(
                            allow(["iam:PassRole", *extra], POWER),
                            allow(["ec2:RunInstances", "codestar:CreateProject", *extra]),
                        )
                    },
                )
            ],
            roles=[role(DEV, "power", trust({"Service": "ec2.amazonaws.com"}), inline={"a": doc(allow("*"))})],
        )
        g = build_access_graph(snapshot(acct), ENVIRONMENTS)
        return {(e.source, e.technique_id, e.target) for e in g.escalation_edges()}

    assert (
        edges([])
        == edges(["madeup:DoThing", "notaservice:*"])
        == {(user_arn(DEV, "dev"), "passrole-ec2-run-instances", POWER)}
    )


# --- defect 5: "modify then use" --------------------------------------------------------------------------
TARGET = role_arn(DEV, "target")
GUARD = policy_arn(DEV, "guard")
SHARED_POLICY = policy_arn(DEV, "shared")


def _dev(
    attacker: list[dict[str, Any]],
    *,
    target_trust: dict[str, Any] | None = None,
    target_inline: dict[str, Any] | None = None,
    target_attached: tuple[str, ...] = (),
    target_boundary: str | None = None,
    attacker_boundary: str | None = None,
    attacker_inline: dict[str, Any] | None = None,
    attacker_attached: tuple[str, ...] = (),
    attacker_groups: tuple[str, ...] = (),
    groups: tuple[IamGroup, ...] = (),
    policies: tuple[Any, ...] = (),
    resources: tuple[Resource, ...] = (),
    extra_roles: tuple[Any, ...] = (),
) -> AccountSnapshot:
    return account(
        DEV,
        users=[
            user(
                DEV,
                "attacker",
                inline={"grant": doc(*attacker), **(attacker_inline or {})},
                attached=attacker_attached,
                boundary=attacker_boundary,
                groups=attacker_groups,
            )
        ],
        roles=[
            role(
                DEV,
                "target",
                target_trust or trust(root(DEV)),
                inline=target_inline or {"read": doc(allow("s3:GetObject"))},
                attached=target_attached,
                boundary=target_boundary,
            ),
            *extra_roles,
        ],
        groups=groups,
        policies=(
            managed(DEV, "boundary", doc(allow("s3:*"))),
            managed(DEV, "iam-boundary", doc(allow("iam:*"))),
            managed(DEV, "join-boundary", doc(allow(["iam:AddUserToGroup", "s3:*"]))),
            managed(DEV, "guard", doc(deny("*"))),
            managed(DEV, "self-service", doc(allow(["s3:*", "iam:DeleteUserPermissionsBoundary"]))),
            managed(DEV, "shared", doc(allow("s3:GetObject"))),
            *policies,
        ),
        resources=resources,
    )


ATTACKER = user_arn(DEV, "attacker")
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


@pytest.mark.parametrize(
    ("acct", "expected"),
    [
        # attach AdministratorAccess to a role the attacker can assume (iam-014)
        (
            _dev([allow("iam:AttachRolePolicy", TARGET), allow("sts:AssumeRole", TARGET)]),
            {("iam-attach-role-policy", "assume-role")},
        ),
        # ... a role it may change but cannot assume: nothing to use
        (_dev([allow("iam:AttachRolePolicy", TARGET)], target_trust=trust({"Service": "ec2.amazonaws.com"})), set()),
        # inline policy on an assumable role (iam-017), whose trust names the account
        (
            _dev([allow("iam:PutRolePolicy", TARGET), allow("sts:AssumeRole", TARGET)]),
            {("iam-put-role-policy", "assume-role")},
        ),
        # ... but the role's boundary caps whatever is written
        (
            _dev(
                [allow("iam:PutRolePolicy", TARGET), allow("sts:AssumeRole", TARGET)],
                target_boundary=policy_arn(DEV, "boundary"),
            ),
            set(),
        ),
        # new default version of a customer managed policy attached to an assumable role (iam-016)
        (
            _dev(
                [allow("iam:CreatePolicyVersion", SHARED_POLICY), allow("sts:AssumeRole", TARGET)],
                target_attached=(SHARED_POLICY,),
            ),
            {("iam-create-policy-version", "assume-role")},
        ),
        # ... the policy is attached to nobody the attacker can act as
        (_dev([allow("iam:CreatePolicyVersion", SHARED_POLICY)], target_attached=(SHARED_POLICY,)), set()),
        # removing the attacker's own boundary when its identity policies grant iam:* (not "*" on "*")
        (
            _dev(
                [allow("iam:DeleteUserPermissionsBoundary", ATTACKER), allow("iam:*")],
                attacker_boundary=policy_arn(DEV, "self-service"),
            ),
            {("iam-delete-user-permissions-boundary", "self")},
        ),
        # ... identity policies no broader than the boundary
        (
            _dev(
                [allow("iam:DeleteUserPermissionsBoundary", ATTACKER), allow("s3:*")],
                attacker_boundary=policy_arn(DEV, "self-service"),
            ),
            set(),
        ),
        # detaching the Deny that guards an admin role the attacker can assume
        (
            _dev(
                [allow("iam:DetachRolePolicy", TARGET), allow("sts:AssumeRole", TARGET)],
                target_inline={"admin": doc(allow("*"))},
                target_attached=(GUARD,),
            ),
            {("iam-detach-role-policy", "assume-role")},
        ),
        # ... detaching only other policies (iam:PolicyARN)
        (
            _dev(
                [
                    allow("iam:DetachRolePolicy", TARGET, Condition={"ArnNotEquals": {"iam:PolicyARN": GUARD}}),
                    allow("sts:AssumeRole", TARGET),
                ],
                target_inline={"admin": doc(allow("*"))},
                target_attached=(GUARD,),
            ),
            set(),
        ),
        # adding oneself to an admin group
        (
            _dev(
                [allow("iam:AddUserToGroup", f"arn:aws:iam::{DEV}:group/admins")],
                groups=(group(DEV, "admins", inline={"a": doc(allow("*"))}),),
            ),
            {("iam-add-user-to-group", "self")},
        ),
        # ... while a boundary caps what any group grants (an iam:* boundary would not: iam:* is admin)
        (
            _dev(
                [allow("iam:AddUserToGroup", f"arn:aws:iam::{DEV}:group/admins")],
                groups=(group(DEV, "admins", inline={"a": doc(allow("*"))}),),
                attacker_boundary=policy_arn(DEV, "join-boundary"),
            ),
            set(),
        ),
    ],
    ids=[
        "attach-assumable",
        "attach-unassumable",
        "put-assumable",
        "put-bounded",
        "version-assumable",
        "version-unreachable",
        "boundary-iam-star",
        "boundary-no-broader",
        "detach-deny",
        "detach-other-only",
        "join-admin-group",
        "join-while-bounded",
    ],
)
def test_modify_then_use(acct: AccountSnapshot, expected: set[tuple[str, str | None]]) -> None:
    g = build_access_graph(snapshot(acct), ENVIRONMENTS)
    found = {(e.technique_id, e.via) for e in g.escalation_edges() if e.source == ATTACKER and e.target == DEV}
    assert found == expected
    assert {p.source for p in g.escalation_paths()} == ({ATTACKER} if expected else set())


# --- defect 6: the group a user is in, with its real ARN (path) -------------------------------------------
def _group_with_path(allowed_group: str) -> Snapshot:
    team = IamGroup(arn=f"arn:aws:iam::{DEV}:group/teams/eng/team", name="team", path="/teams/eng/")
    acct = account(
        DEV,
        users=[user(DEV, "attacker", inline={"p": doc(allow("iam:PutGroupPolicy", allowed_group))}, groups=["team"])],
        groups=[team],
    )
    return snapshot(acct)


@pytest.mark.parametrize(
    ("allowed_group", "expected"),
    [
        (f"arn:aws:iam::{DEV}:group/teams/eng/team", True),
        (f"arn:aws:iam::{DEV}:group/teams/eng/*", True),
        (f"arn:aws:iam::{DEV}:group/team", False),  # the ARN a name-only guess would make: not this group
    ],
    ids=["exact", "path-wildcard", "made-up-arn"],
)
def test_own_group_technique_names_the_real_group_arn(allowed_group: str, expected: bool) -> None:
    found = _edges(_group_with_path(allowed_group), ATTACKER)
    assert (("iam-put-group-policy", DEV) in found) is expected


# --- defect 7: partitions ----------------------------------------------------------------------------------
GOV = "arn:aws-us-gov"


def _gov_snapshot(pass_resource: str, run_resource: str, attach_condition: str | None = None) -> Snapshot:
    power = f"{GOV}:iam::{DEV}:role/power"
    statements = [allow("iam:PassRole", pass_resource), allow("ec2:RunInstances", run_resource)]
    if attach_condition is not None:
        statements.append(
            allow(
                "iam:AttachUserPolicy",
                f"{GOV}:iam::{DEV}:user/attacker",
                Condition={"ArnEquals": {"iam:PolicyARN": attach_condition}},
            )
        )
    acct = AccountSnapshot(
        account_id=DEV,
        iam=account(DEV).iam.model_copy(  # type: ignore[union-attr]
            update={
                "users": (
                    user(DEV, "attacker", inline={"p": doc(*statements)}).model_copy(
                        update={"arn": f"{GOV}:iam::{DEV}:user/attacker"}
                    ),
                ),
                "roles": (
                    role(
                        DEV, "power", trust({"Service": "ec2.amazonaws.com"}), inline={"a": doc(allow("*"))}
                    ).model_copy(update={"arn": power}),
                ),
            }
        ),
    )
    return snapshot(acct)


GOV_ATTACKER = f"{GOV}:iam::{DEV}:user/attacker"
GOV_POWER = f"{GOV}:iam::{DEV}:role/power"


@pytest.mark.parametrize(
    ("snap", "expected"),
    [
        (_gov_snapshot(GOV_POWER, f"{GOV}:ec2:*:{DEV}:instance/*"), {("passrole-ec2-run-instances", GOV_POWER)}),
        (_gov_snapshot(GOV_POWER, f"arn:aws:ec2:*:{DEV}:instance/*"), set()),  # commercial-partition scope
        (
            _gov_snapshot("", "", attach_condition=f"{GOV}:iam::aws:policy/AdministratorAccess"),
            {("iam-attach-user-policy", DEV)},
        ),
        (_gov_snapshot("", "", attach_condition="arn:aws:iam::aws:policy/AdministratorAccess"), set()),
    ],
    ids=["gov-passrole", "gov-wrong-partition-scope", "gov-attach-admin", "gov-attach-commercial-arn-only"],
)
def test_techniques_follow_the_partition(snap: Snapshot, expected: set[tuple[str, str]]) -> None:
    assert _edges(snap, GOV_ATTACKER) == expected


# --- defect 8: EC2 techniques on collected data (role_arn is the instance profile's ROLE) ------------------
INSTANCE = f"arn:aws:ec2:us-east-1:{DEV}:instance/i-0123456789abcdef0"
PROFILE = f"arn:aws:iam::{DEV}:instance-profile/power-profile"


def _instance_snapshot(role_field: str, role_name: str = "power") -> Snapshot:
    power = role(DEV, "power", trust({"Service": "ec2.amazonaws.com"}), inline={"a": doc(allow("*"))})
    weak = role(DEV, "weak", trust({"Service": "ec2.amazonaws.com"}), inline={"a": doc(allow("s3:GetObject"))})
    roles = [
        r.model_copy(update={"instance_profile_arns": (f"arn:aws:iam::{DEV}:instance-profile/{r.name}-profile",)})
        for r in (power, weak)
    ]
    acct = account(
        DEV,
        users=[user(DEV, "attacker", inline={"p": doc(allow("ssm:SendCommand", INSTANCE))})],
        roles=roles,
        resources=[Resource(arn=INSTANCE, type="ec2:instance", region="us-east-1", name="i-0123", role_arn=role_field)],
    )
    return snapshot(acct)


@pytest.mark.parametrize(
    ("role_field", "expected"),
    [
        (POWER, {("ssm-send-command", POWER)}),  # what the collector records: the role
        (PROFILE, {("ssm-send-command", POWER)}),  # an older snapshot holding the profile: resolved to its role
        (role_arn(DEV, "weak"), set()),
        (f"arn:aws:iam::{DEV}:instance-profile/weak-profile", set()),
    ],
    ids=["role-arn", "profile-arn", "weak-role", "weak-profile"],
)
def test_instance_techniques_fire_on_collected_role_arns(role_field: str, expected: set[tuple[str, str]]) -> None:
    assert _edges(_instance_snapshot(role_field), ATTACKER) == expected


# --- defect 15: each request judged against the resource it names -------------------------------------------
def _lambda_snapshot(*statements: dict[str, Any]) -> Snapshot:
    acct = account(
        DEV,
        users=[user(DEV, "attacker", inline={"p": doc(allow("iam:PassRole", POWER), *statements)})],
        roles=[role(DEV, "power", trust({"Service": "lambda.amazonaws.com"}), inline={"a": doc(allow("*"))})],
    )
    return snapshot(acct)


FUNCTIONS = "arn:aws:lambda:*:*:function:*"


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([allow(["lambda:CreateFunction", "lambda:InvokeFunction"], FUNCTIONS)], (True, False)),
        ([allow(["lambda:CreateFunction", "lambda:InvokeFunction"]), deny("lambda:*", FUNCTIONS)], (False, False)),
        (
            [
                allow(["lambda:CreateFunction", "lambda:InvokeFunction"], f"arn:aws:lambda:*:{DEV}:function:app-*"),
                deny("lambda:*", f"arn:aws:lambda:*:{DEV}:function:app-admin*"),
            ],
            (True, False),  # the attacker names its function app-something
        ),
        (
            [
                allow(["lambda:CreateFunction", "lambda:InvokeFunction"], f"arn:aws:lambda:*:{DEV}:function:app-*"),
                deny("lambda:*", f"arn:aws:lambda:*:{DEV}:function:app-*"),
            ],
            (False, False),
        ),
        (
            [
                allow("lambda:CreateFunction", f"arn:aws:lambda:us-west-2:{DEV}:function:*"),
                allow("lambda:InvokeFunction", f"arn:aws:lambda:*:{DEV}:function:*"),
                deny("lambda:*", f"arn:aws:lambda:us-east-1:{DEV}:function:*"),
            ],
            (True, False),  # the attacker picks the region its allow names
        ),
        (
            [
                allow("lambda:CreateFunction", FUNCTIONS),
                allow("lambda:InvokeFunction", f"arn:aws:lambda:*:{DEV}:function:x"),
            ],
            (True, False),  # the attacker names its new function x, the one it may invoke
        ),
        (
            [
                allow("lambda:CreateFunction", FUNCTIONS),
                allow("lambda:InvokeFunction", f"arn:aws:lambda:*:{DEV}:function:x"),
                deny("lambda:CreateFunction", f"arn:aws:lambda:*:{DEV}:function:x"),
            ],
            (False, False),  # ... but may not create x: no name serves both requests
        ),
    ],
    ids=[
        "scoped-allow",
        "scoped-deny",
        "name-outside-deny",
        "all-names-denied",
        "region-choice",
        "name-from-narrow-allow",
        "names-disagree",
    ],
)
def test_requests_are_judged_on_the_resource_they_name(
    statements: list[dict[str, Any]], expected: tuple[bool, bool]
) -> None:
    g = build_access_graph(_lambda_snapshot(*statements), ENVIRONMENTS)
    edges = [e for e in g.escalation_edges() if e.technique_id == "passrole-lambda-invoke"]
    assert (bool(edges), any(e.conditional for e in edges)) == expected


def test_a_deny_on_the_existing_resource_arn_blocks_its_takeover() -> None:
    base = _instance_snapshot(POWER)
    acct = base.accounts[0]
    assert acct.iam is not None
    denied = acct.iam.users[0].model_copy(
        update={
            "inline_policies": (
                *acct.iam.users[0].inline_policies,
                *user(DEV, "x", inline={"d": doc(deny("ssm:*", "arn:aws:ec2:*:*:instance/*"))}).inline_policies,
            )
        }
    )
    snap = base.model_copy(
        update={"accounts": (acct.model_copy(update={"iam": acct.iam.model_copy(update={"users": (denied,)})}),)}
    )
    assert _edges(base, ATTACKER) == {("ssm-send-command", POWER)}
    assert _edges(snap, ATTACKER) == set()


# --- request-scoping condition keys --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("policy_arn_allowed", "expected"),
    [(ADMIN_POLICY, True), (READ_ONLY, False), ("arn:aws:iam::aws:policy/*Access", True)],
    ids=["admin-access", "read-only-only", "pattern-admits-admin"],
)
def test_iam_policy_arn_scopes_attach(policy_arn_allowed: str, expected: bool) -> None:
    condition = {"ArnLike": {"iam:PolicyARN": policy_arn_allowed}}
    acct = _dev([allow("iam:AttachUserPolicy", ATTACKER, Condition=condition)])
    assert (("iam-attach-user-policy", DEV) in _edges(snapshot(acct), ATTACKER)) is expected


@pytest.mark.parametrize(
    ("target_boundary", "expected"),
    [("iam-boundary", True), ("boundary", False), (None, False)],
    ids=["role-has-required-boundary", "role-has-another-boundary", "role-has-no-boundary"],
)
def test_iam_permissions_boundary_scopes_put_role_policy(target_boundary: str | None, expected: bool) -> None:
    """Delegated admins may write policies only on roles bounded by iam-boundary (which still allows iam:*)."""
    condition = {"StringEquals": {"iam:PermissionsBoundary": policy_arn(DEV, "iam-boundary")}}
    acct = _dev(
        [allow("iam:PutRolePolicy", TARGET, Condition=condition), allow("sts:AssumeRole", TARGET)],
        target_boundary=policy_arn(DEV, target_boundary) if target_boundary else None,
    )
    assert (("iam-put-role-policy", DEV) in _edges(snapshot(acct), ATTACKER)) is expected


@pytest.mark.parametrize(
    ("service", "condition", "expected"),
    [
        ("ec2", {"ArnLike": {"iam:AssociatedResourceArn": f"arn:aws:ec2:*:{DEV}:instance/*"}}, (True, False)),
        ("ec2", {"ArnLike": {"iam:AssociatedResourceArn": "arn:aws:ec2:*:999999999999:instance/*"}}, (False, False)),
        # Lambda does not document the key for PassRole: the edge stays, marked conditional
        ("lambda", {"ArnLike": {"iam:AssociatedResourceArn": f"arn:aws:lambda:*:{DEV}:function:*"}}, (True, True)),
    ],
    ids=["ec2-own-instances", "ec2-other-account-only", "lambda-undecided"],
)
def test_iam_associated_resource_arn_scopes_passrole(
    service: str, condition: dict[str, Any], expected: tuple[bool, bool]
) -> None:
    actions = {"ec2": ["ec2:RunInstances"], "lambda": ["lambda:CreateFunction", "lambda:InvokeFunction"]}[service]
    technique = {"ec2": "passrole-ec2-run-instances", "lambda": "passrole-lambda-invoke"}[service]
    acct = account(
        DEV,
        users=[
            user(DEV, "attacker", inline={"p": doc(allow("iam:PassRole", POWER, Condition=condition), allow(actions))})
        ],
        roles=[role(DEV, "power", trust({"Service": f"{service}.amazonaws.com"}), inline={"a": doc(allow("*"))})],
    )
    g = build_access_graph(snapshot(acct), ENVIRONMENTS)
    edges = [e for e in g.escalation_edges() if e.technique_id == technique]
    assert (bool(edges), any(e.conditional for e in edges)) == expected


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [("datapipeline.amazonaws.com", True), ("ec2.amazonaws.com", True), ("lambda.amazonaws.com", False)],
    ids=["pipeline-role", "resource-role", "unrelated-service"],
)
def test_datapipeline_passes_roles_its_resources_run_with(trusted: str, expected: bool) -> None:
    actions = ["datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition", "datapipeline:ActivatePipeline"]
    acct = account(
        DEV,
        users=[user(DEV, "attacker", inline={"p": doc(allow("iam:PassRole", POWER), allow(actions))})],
        roles=[role(DEV, "power", trust({"Service": trusted}), inline={"a": doc(allow("*"))})],
    )
    assert (("passrole-datapipeline", POWER) in _edges(snapshot(acct), ATTACKER)) is expected


@pytest.mark.parametrize("middle_may_assume", [True, False], ids=["chain", "chain-broken"])
def test_modify_a_role_reached_through_another_role(middle_may_assume: bool) -> None:
    """The attacker may attach policies to TARGET, which it reaches only through a middle role that cannot
    change TARGET itself."""
    middle_trust = trust(user_arn(DEV, "attacker"))
    target_trust = trust(role_arn(DEV, "middle") if middle_may_assume else role_arn(DEV, "other"))
    acct = _dev(
        [allow("iam:AttachRolePolicy", TARGET), allow("sts:AssumeRole", role_arn(DEV, "middle"))],
        target_trust=target_trust,
        extra_roles=(role(DEV, "middle", middle_trust, inline={"p": doc(allow("sts:AssumeRole", TARGET))}),),
    )
    g = build_access_graph(snapshot(acct), ENVIRONMENTS)
    found = {(e.technique_id, e.via) for e in g.escalation_edges() if e.source == ATTACKER and e.target == DEV}
    assert found == ({("iam-attach-role-policy", "assume-role")} if middle_may_assume else set())
    assert not [e for e in g.escalation_edges() if e.source == role_arn(DEV, "middle")]
