"""Privilege-escalation techniques: one row per technique, each with a benign twin that looks risky."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from auditor.graph import build_access_graph
from auditor.iam.escalation import TECHNIQUES, TECHNIQUES_BY_ID, Technique
from auditor.model import CredentialReportRow, Snapshot
from tests.iam_helpers import (
    DEV,
    ENVIRONMENTS,
    account,
    allow,
    deny,
    doc,
    group,
    managed,
    mfa_row,
    organization,
    policy_arn,
    resource,
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
BOUNDARY = policy_arn(DEV, "boundary")
SERVICES = sorted({t.passrole_service for t in TECHNIQUES if t.passrole_service})
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


def _resource_arn(technique: Technique) -> str:
    service, kind = (technique.resource_type or "x:y").split(":")
    return f"arn:aws:{service}:us-east-1:{DEV}:{kind}/target"


def _service_trust() -> dict[str, Any]:
    return trust({"Service": SERVICES})


@dataclass(frozen=True)
class Scenario:
    snapshot: Snapshot
    attacker: str
    expected_target: str
    twin: str  # how the benign twin neutralises the technique


def scenario(technique: Technique, benign: bool) -> Scenario:
    """A DEV account where ``attacker`` holds exactly the technique's actions (or its benign twin)."""
    kind = technique.target
    first, rest = technique.actions[0], technique.actions[1:]
    attacker_type = technique.principal_types[0]
    attacker = user_arn(DEV, "attacker") if attacker_type == "user" else role_arn(DEV, "attacker")
    target_resource = {
        "self": attacker,
        "own-group": TEAM,
        "own-managed-policy": OWN_POLICY,
        "group": ADMINS,
        "other-user": BOSS,
        "role-trust": POWER,
        "passed-role": POWER,
        "resource-role": _resource_arn(technique),
    }[kind]
    expected = {
        "self": DEV,
        "own-group": DEV,
        "own-managed-policy": DEV,
        "group": ADMINS,
        "other-user": BOSS,
    }.get(kind, POWER)
    statements = [allow(first, target_resource), *(allow(a) for a in rest)]
    boundary: str | None = None
    twin = ""
    scps: list[Any] = []
    resource_role = POWER
    if "permissions-boundary" in technique.id:
        statements.append(allow("*"))
        boundary = BOUNDARY
    if benign:
        if kind == "passed-role":
            statements[0] = allow(first, WEAK)
            twin = "iam:PassRole limited to a weak role"
        elif kind == "other-user":
            boundary, twin = BOUNDARY, "permission boundary without the action"
        elif kind == "group":
            scps, twin = [("deny", doc(deny(first)), ["ou-ab12-nonp"])], "SCP on the caller's OU denies it"
        elif kind == "role-trust":
            statements[0] = allow(first, target_resource, Condition=MFA)
            twin = "allowed only with MFA; the credential report shows the user has no MFA device"
        elif kind == "resource-role":
            resource_role, twin = WEAK, "the resource runs with a weak role"
        else:
            statements.append(deny(first))
            twin = "explicit Deny"
    attacker_policy = doc(*statements)
    inline = {"grant": attacker_policy} if kind != "own-managed-policy" else None
    attached = [OWN_POLICY] if kind == "own-managed-policy" else []
    boundary_doc = doc(allow(["s3:*", first])) if "permissions-boundary" in technique.id else doc(allow("s3:*"))
    if attacker_type == "user":
        attackers = [user(DEV, "attacker", inline=inline, attached=attached, boundary=boundary, groups=["team"])]
        attacker_roles = []
    else:
        attackers = []
        attacker_roles = [role(DEV, "attacker", trust(root(DEV)), inline=inline, attached=attached, boundary=boundary)]
    report = [mfa_row(DEV, "attacker", False)] if benign and kind == "role-trust" else None
    acct = account(
        DEV,
        credential_report=report,
        users=[*attackers, user(DEV, "boss", inline={"admin": doc(allow("*"))})],
        groups=[
            group(DEV, "admins", inline={"admin": doc(allow("*"))}),
            group(DEV, "team", inline={"read": doc(allow("s3:GetObject"))}),
        ],
        roles=[
            *attacker_roles,
            role(DEV, "power", _service_trust(), inline={"admin": doc(allow("*"))}),
            role(DEV, "weak", _service_trust(), inline={"read": doc(allow("s3:GetObject"))}),
        ],
        policies=[managed(DEV, "attacker-policy", attacker_policy), managed(DEV, "boundary", boundary_doc)],
        resources=[
            resource(_resource_arn(t), t.resource_type or "", role=resource_role) for t in TECHNIQUES if t.resource_type
        ],
    )
    return Scenario(snapshot(acct, org=organization(scps=scps)), attacker, expected, twin)


def _edges(snap: Snapshot, attacker: str) -> set[tuple[str, str]]:
    g = build_access_graph(snap, ENVIRONMENTS)
    return {(e.technique_id, e.target) for e in g.escalation_edges() if e.source == attacker}


@pytest.mark.parametrize("technique", TECHNIQUES, ids=[t.id for t in TECHNIQUES])
def test_technique_detected(technique: Technique) -> None:
    s = scenario(technique, benign=False)
    g = build_access_graph(s.snapshot, ENVIRONMENTS)
    edges = [e for e in g.escalation_edges() if e.source == s.attacker and e.technique_id == technique.id]
    assert [e.target for e in edges] == [s.expected_target]
    (edge,) = edges
    assert edge.statements, "the edge carries the granting statements"
    assert edge.conditional is (technique.caveat is not None)
    if technique.needs_passable_role:
        assert edge.passed_role == POWER
    (path,) = [p for p in g.escalation_paths() if p.source == s.attacker and technique.id in str(p.hops)]
    assert path.nodes[-1] == DEV
    assert path.hops[0].kind == "can-escalate-to"


@pytest.mark.parametrize("technique", TECHNIQUES, ids=[t.id for t in TECHNIQUES])
def test_benign_twin_not_detected(technique: Technique) -> None:
    s = scenario(technique, benign=True)
    assert s.twin
    assert {t for t, _ in _edges(s.snapshot, s.attacker)} & {technique.id} == set(), s.twin


def test_at_least_thirty_documented_techniques() -> None:
    assert len(TECHNIQUES) >= 30
    assert len(TECHNIQUES_BY_ID) == len(TECHNIQUES)
    for required in (
        "iam-create-policy-version",
        "iam-set-default-policy-version",
        "iam-attach-user-policy",
        "iam-attach-group-policy",
        "iam-attach-role-policy",
        "iam-put-user-policy",
        "iam-put-group-policy",
        "iam-put-role-policy",
        "iam-create-access-key",
        "iam-create-login-profile",
        "iam-update-login-profile",
        "iam-add-user-to-group",
        "iam-update-assume-role-policy",
        "passrole-ec2-run-instances",
        "passrole-lambda-invoke",
        "passrole-lambda-event-source",
        "passrole-glue-dev-endpoint",
        "glue-update-dev-endpoint",
        "passrole-cloudformation",
        "passrole-codebuild",
        "passrole-sagemaker-notebook",
        "passrole-sagemaker-training",
        "passrole-sagemaker-processing",
        "passrole-datapipeline",
        "passrole-ecs-run-task",
        "lambda-update-function-code",
        "ssm-send-command",
        "ssm-start-session",
    ):
        assert required in TECHNIQUES_BY_ID


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
    s = scenario(TECHNIQUES_BY_ID["iam-create-login-profile"], benign=False)
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
