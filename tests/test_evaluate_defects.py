"""Issue 11, evaluator half: one row per defect case, each risky case with its benign twin.

Each row is judged against AWS's documented policy evaluation logic (policy variables, partitions,
condition set operators, MFA context, caller-chosen keys, request-scoping keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from auditor.iam.evaluate import Evaluator
from auditor.iam.facts import trust_requires_mfa
from auditor.iam.policy import PolicySource, parse_policy
from auditor.model import (
    AccountSnapshot,
    IamData,
    IamRole,
    IamUser,
    InlinePolicy,
    Snapshot,
)
from tests.iam_helpers import (
    DEV,
    PROD,
    ROOT_ID,
    account,
    allow,
    deny,
    doc,
    mfa_row,
    organization,
    role,
    role_arn,
    root,
    snapshot,
    trust,
    user,
    user_arn,
)

BUCKET = "arn:aws:s3:::home-bucket"
ALICE = user_arn(DEV, "alice")
BOB = user_arn(DEV, "bob")

# AWS's documented "allows IAM users to manage their own credentials" policy, abridged to the actions
# that matter for escalation (the document as published scopes every statement to ${aws:username})
MANAGE_OWN_CREDENTIALS = doc(
    {
        "Sid": "AllowManageOwnAccessKeys",
        "Effect": "Allow",
        "Action": [
            "iam:CreateAccessKey",
            "iam:DeleteAccessKey",
            "iam:ListAccessKeys",
            "iam:UpdateAccessKey",
            "iam:GetAccessKeyLastUsed",
        ],
        "Resource": "arn:aws:iam::*:user/${aws:username}",
    },
    {
        "Sid": "AllowManageOwnPasswords",
        "Effect": "Allow",
        "Action": ["iam:ChangePassword", "iam:GetUser", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"],
        "Resource": "arn:aws:iam::*:user/${aws:username}",
    },
)


def _users(*users: IamUser, roles: tuple[IamRole, ...] = ()) -> Snapshot:
    return snapshot(account(DEV, users=list(users), roles=list(roles)))


@dataclass(frozen=True)
class Case:
    id: str
    snapshot: Snapshot
    principal: str
    action: str
    resource: str
    allowed: bool
    conditional: bool = False
    reason: str | None = None
    twin: bool = False
    request: dict[str, Any] = field(default_factory=dict)


# --- defect 10: known policy variables are substituted from the principal's facts ------------------


def _alice(pattern: str, action: str = "s3:*", **kw: Any) -> Snapshot:
    """Alice with one Allow of ``action`` on ``pattern``."""
    return _users(user(DEV, "alice", inline={"p": doc(allow(action, pattern))}, **kw))


_OWN = _users(user(DEV, "alice", inline={"own": MANAGE_OWN_CREDENTIALS}), user(DEV, "bob"))
_HOME = _alice(f"{BUCKET}/home/${{aws:username}}/*")
_TEAM = _alice(f"{BUCKET}/teams/${{aws:PrincipalTag/team}}/*", tags={"team": "data"})
_TEAM_UNTAGGED = _alice(f"{BUCKET}/teams/${{aws:PrincipalTag/team}}/*")
_TEAM_DEFAULT = _alice(f"{BUCKET}/teams/${{aws:PrincipalTag/team, 'shared'}}/*")
_OWN_ACCOUNT = _alice("arn:aws:iam::${aws:PrincipalAccount}:role/*", "iam:PassRole")
_USERID = _users(
    IamUser(
        arn=ALICE,
        name="alice",
        user_id="AIDAALICE0000000000",
        inline_policies=(InlinePolicy(name="p", document=doc(allow("s3:*", f"{BUCKET}/${{aws:userid}}/*"))),),
    )
)
_ESCAPED = _alice(f"{BUCKET}/literal${{*}}name")
_APP = role_arn(DEV, "app")
_ROLE_HOME = snapshot(
    account(
        DEV, roles=[role(DEV, "app", inline={"p": doc(allow("s3:GetObject", f"{BUCKET}/home/${{aws:username}}/*"))})]
    )
)

_VARIABLE_CASES = [
    Case("own-credentials-on-self", _OWN, ALICE, "iam:CreateAccessKey", ALICE, True),
    Case(
        "own-credentials-on-another-user",
        _OWN,
        ALICE,
        "iam:CreateAccessKey",
        BOB,
        False,
        reason="no-identity-allow",
        twin=True,
    ),
    Case("home-prefix-own", _HOME, ALICE, "s3:GetObject", f"{BUCKET}/home/alice/notes.txt", True),
    Case("home-prefix-other", _HOME, ALICE, "s3:GetObject", f"{BUCKET}/home/bob/notes.txt", False, twin=True),
    Case("principal-tag-variable", _TEAM, ALICE, "s3:PutObject", f"{BUCKET}/teams/data/x", True),
    Case("principal-tag-other-team", _TEAM, ALICE, "s3:PutObject", f"{BUCKET}/teams/finance/x", False, twin=True),
    Case("untagged-takes-the-default", _TEAM_DEFAULT, ALICE, "s3:PutObject", f"{BUCKET}/teams/shared/x", True),
    Case(
        "untagged-without-default-matches-nothing",
        _TEAM_UNTAGGED,
        ALICE,
        "s3:PutObject",
        f"{BUCKET}/teams/data/x",
        False,
        twin=True,
    ),
    Case("principal-account-variable", _OWN_ACCOUNT, ALICE, "iam:PassRole", role_arn(DEV, "app"), True),
    Case("principal-account-other", _OWN_ACCOUNT, ALICE, "iam:PassRole", role_arn(PROD, "app"), False, twin=True),
    Case("userid-variable", _USERID, ALICE, "s3:GetObject", f"{BUCKET}/AIDAALICE0000000000/x", True),
    Case("userid-other-id", _USERID, ALICE, "s3:GetObject", f"{BUCKET}/AIDABOB000000000000/x", False, twin=True),
    Case("escaped-wildcards-are-literal", _ESCAPED, ALICE, "s3:GetObject", f"{BUCKET}/literal*name", True),
    Case("escaped-star-is-no-wildcard", _ESCAPED, ALICE, "s3:GetObject", f"{BUCKET}/literalXname", False, twin=True),
    Case(
        "unknown-variable-is-undecided",
        _alice(f"{BUCKET}/${{aws:SourceIdentity}}/*"),
        ALICE,
        "s3:GetObject",
        f"{BUCKET}/someone/x",
        True,
        conditional=True,
    ),
    Case("username-absent-for-a-role", _ROLE_HOME, _APP, "s3:GetObject", f"{BUCKET}/home/app/x", False, twin=True),
]

# --- defect 9: a policy variable under NotResource leaves a Deny undecided, never dropped -------------

_ALLOW_S3 = {"s3": doc(allow("s3:*"))}


def _deny_outside(variable: str) -> dict[str, Any]:
    return doc({"Effect": "Deny", "Action": "s3:*", "NotResource": f"{BUCKET}/${{{variable}}}/*"})


_NOT_RESOURCE_CASES = [
    Case(
        "not-resource-unknown-variable-deny-undecided",
        _users(user(DEV, "alice", inline={**_ALLOW_S3, "fence": _deny_outside("aws:SourceIdentity")})),
        ALICE,
        "s3:GetObject",
        f"{BUCKET}/other/x",
        True,
        conditional=True,
    ),
    Case(
        "not-resource-own-username-deny-applies-elsewhere",
        _users(user(DEV, "alice", inline={**_ALLOW_S3, "fence": _deny_outside("aws:username")})),
        ALICE,
        "s3:GetObject",
        f"{BUCKET}/bob/x",
        False,
        reason="explicit-deny",
        twin=True,
    ),
    Case(
        "not-resource-own-username-inside-fence",
        _users(user(DEV, "alice", inline={**_ALLOW_S3, "fence": _deny_outside("aws:username")})),
        ALICE,
        "s3:GetObject",
        f"{BUCKET}/alice/x",
        True,
    ),
]

# --- defect 7: the partition comes from the ARNs ---------------------------------------------------

GOV_DEV_USER = f"arn:aws-us-gov:iam::{DEV}:user/gov-alice"
GOV_PROD_ROLE = f"arn:aws-us-gov:iam::{PROD}:role/deploy"


def _gov(trust_principal: str, *, identity: dict[str, Any] | None = None, attached: tuple[str, ...] = ()) -> Snapshot:
    dev = AccountSnapshot(
        account_id=DEV,
        iam=IamData(
            users=(
                IamUser(
                    arn=GOV_DEV_USER,
                    name="gov-alice",
                    inline_policies=(InlinePolicy(name="assume", document=identity or doc(allow("sts:AssumeRole"))),),
                    attached_policy_arns=attached,
                ),
            )
        ),
    )
    prod = AccountSnapshot(
        account_id=PROD,
        iam=IamData(
            roles=(
                IamRole(
                    arn=GOV_PROD_ROLE,
                    name="deploy",
                    trust_policy=trust(trust_principal),
                    inline_policies=(InlinePolicy(name="admin", document=doc(allow("*"))),),
                ),
            )
        ),
    )
    return snapshot(dev, prod)


_PARTITION_CASES = [
    Case(
        "govcloud-root-trust",
        _gov(f"arn:aws-us-gov:iam::{DEV}:root"),
        GOV_DEV_USER,
        "sts:AssumeRole",
        GOV_PROD_ROLE,
        True,
    ),
    Case(
        "govcloud-bare-account-trust",
        _gov(DEV),
        GOV_DEV_USER,
        "sts:AssumeRole",
        GOV_PROD_ROLE,
        True,
    ),
    Case(
        "commercial-root-does-not-admit-govcloud-caller",
        _gov(f"arn:aws:iam::{DEV}:root"),
        GOV_DEV_USER,
        "sts:AssumeRole",
        GOV_PROD_ROLE,
        False,
        twin=True,
    ),
    Case(
        "govcloud-aws-managed-admin-not-collected",
        _gov(
            DEV,
            identity=doc(allow("s3:ListAllMyBuckets")),
            attached=("arn:aws-us-gov:iam::aws:policy/AdministratorAccess",),
        ),
        GOV_DEV_USER,
        "iam:CreateUser",
        "*",
        True,
    ),
    Case(
        "govcloud-unknown-aws-managed-policy-grants-nothing",
        _gov(
            DEV, identity=doc(allow("s3:ListAllMyBuckets")), attached=("arn:aws-us-gov:iam::aws:policy/NoSuchPolicy",)
        ),
        GOV_DEV_USER,
        "iam:CreateUser",
        "*",
        False,
        twin=True,
    ),
]

# --- defect 2: a user's requests signed with access keys carry no aws:MultiFactorAuthPresent ----------

_ADMIN = {"admin": doc(allow("*"))}
# AWS's textbook "deny unless MFA" statement: Bool (not BoolIfExists) misses requests signed with access keys
_BOOL_FALSE = doc(
    deny(
        "*",
        Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}},
    )
)
_BOOL_IF_EXISTS_FALSE = doc(deny("*", Condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}))
_DENY_ACCESS_KEYS = doc(deny("*", Condition={"Null": {"aws:MultiFactorAuthPresent": "true"}}))


def _mfa_user(guard: dict[str, Any], *more: dict[str, Any], mfa_device: bool | None = False) -> Snapshot:
    inline = {**_ADMIN, "guard": guard, **{f"more{i}": d for i, d in enumerate(more)}}
    report = None if mfa_device is None else [mfa_row(DEV, "alice", mfa_device)]
    return snapshot(account(DEV, users=[user(DEV, "alice", inline=inline)], credential_report=report))


_USER_MFA_CASES = [
    Case("bool-false-deny-misses-access-keys", _mfa_user(_BOOL_FALSE), ALICE, "ec2:RunInstances", "*", True),
    Case(
        "bool-if-exists-false-deny-holds",
        _mfa_user(_BOOL_IF_EXISTS_FALSE),
        ALICE,
        "ec2:RunInstances",
        "*",
        False,
        reason="explicit-deny",
        twin=True,
    ),
    Case(
        "bool-false-deny-misses-access-keys-report-not-collected",
        _mfa_user(_BOOL_FALSE, mfa_device=None),
        ALICE,
        "ec2:RunInstances",
        "*",
        True,
    ),
    Case("denying-access-keys-leaves-the-console", _mfa_user(_DENY_ACCESS_KEYS), ALICE, "iam:CreateUser", "*", True),
    Case(
        "denying-access-keys-and-console-without-mfa",
        _mfa_user(_DENY_ACCESS_KEYS, _BOOL_FALSE),
        ALICE,
        "iam:CreateUser",
        "*",
        False,
        reason="explicit-deny",
        twin=True,
    ),
    Case(
        "bool-if-exists-false-deny-user-with-device-needs-the-device",
        _mfa_user(_BOOL_IF_EXISTS_FALSE, mfa_device=True),
        ALICE,
        "ec2:RunInstances",
        "*",
        True,
        conditional=True,
        twin=True,
    ),
]

# --- defect 3: a role session has MFA when its trust policy admits only MFA callers --------------------

_MFA_TRUE = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
_OPS = role_arn(PROD, "ops")


def _mfa_role(trust_policy: dict[str, Any], guard: dict[str, Any]) -> Snapshot:
    return snapshot(account(PROD, roles=[role(PROD, "ops", trust_policy, inline={**_ADMIN, "guard": guard})]))


_ROLE_MFA_CASES = [
    Case(
        "trust-requires-mfa-session-has-mfa",
        _mfa_role(trust(root(DEV), condition=_MFA_TRUE), _BOOL_IF_EXISTS_FALSE),
        _OPS,
        "iam:CreateUser",
        "*",
        True,
    ),
    Case(
        "trust-requires-mfa-age-session-has-mfa",
        _mfa_role(
            trust(root(DEV), condition={"NumericLessThan": {"aws:MultiFactorAuthAge": "3600"}}),
            _BOOL_IF_EXISTS_FALSE,
        ),
        _OPS,
        "iam:CreateUser",
        "*",
        True,
    ),
    Case(
        "trust-without-mfa-session-mfa-undecided",
        _mfa_role(trust(root(DEV)), _BOOL_IF_EXISTS_FALSE),
        _OPS,
        "iam:CreateUser",
        "*",
        True,
        conditional=True,
        twin=True,
    ),
    Case(
        "trust-mfa-if-exists-admits-access-keys",
        _mfa_role(
            trust(root(DEV), condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}), _BOOL_IF_EXISTS_FALSE
        ),
        _OPS,
        "iam:CreateUser",
        "*",
        True,
        conditional=True,
        twin=True,
    ),
]

# --- defect 11: aws:RequestedRegion is picked by the caller (global services: their one endpoint) -----


def _region_lock(allowed_regions: list[str], *, not_action: list[str] | None = None, identity: Any = None) -> Snapshot:
    statement: dict[str, Any] = {
        "Effect": "Deny",
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": allowed_regions}},
    }
    statement.update({"NotAction": not_action} if not_action else {"Action": "*"})
    prod = account(PROD, roles=[role(PROD, "r", inline={"p": identity or doc(allow("*"))})])
    return snapshot(prod, org=organization(scps=[("regions", doc(statement), [ROOT_ID])]))


_R = role_arn(PROD, "r")
_REGION_CASES = [
    Case("region-lock-regional-service", _region_lock(["eu-west-1"]), _R, "ec2:RunInstances", "*", True),
    Case(
        "region-lock-iam-is-in-us-east-1",
        _region_lock(["eu-west-1"]),
        _R,
        "iam:CreateUser",
        "*",
        False,
        reason="explicit-deny",
        twin=True,
    ),
    Case("region-lock-allowing-us-east-1", _region_lock(["eu-west-1", "us-east-1"]), _R, "iam:CreateUser", "*", True),
    Case(
        "region-lock-exempting-iam", _region_lock(["eu-west-1"], not_action=["iam:*"]), _R, "iam:CreateUser", "*", True
    ),
    Case(
        "region-lock-against-identity-region",
        _region_lock(
            ["eu-west-1"],
            identity=doc(allow("*", Condition={"StringEquals": {"aws:RequestedRegion": "us-west-2"}})),
        ),
        _R,
        "ec2:RunInstances",
        "*",
        False,
        twin=True,
    ),
    Case(
        "region-lock-wildcard-regions",
        snapshot(
            account(PROD, roles=[role(PROD, "r", inline={"p": doc(allow("*"))})]),
            org=organization(
                scps=[
                    ("regions", doc(deny("*", Condition={"StringNotLike": {"aws:RequestedRegion": "eu-*"}})), [ROOT_ID])
                ]
            ),
        ),
        _R,
        "ec2:RunInstances",
        "*",
        True,
    ),
]

# --- aws:UserAgent and aws:Referer are written by the caller (AWS: not for authorization) -------------


def _header_guard(*conditions: dict[str, Any]) -> Snapshot:
    denies = {f"guard{i}": doc(deny("*", Condition=c)) for i, c in enumerate(conditions)}
    return snapshot(account(PROD, roles=[role(PROD, "r", inline={"p": doc(allow("*")), **denies})]))


_HEADER_CASES = [
    Case(
        "user-agent-allow-list-is-met-by-the-caller",
        _header_guard({"StringNotLike": {"aws:UserAgent": "*corp-cli*"}}),
        _R,
        "iam:CreateUser",
        "*",
        True,
    ),
    Case(
        "every-user-agent-denied",
        _header_guard({"StringLike": {"aws:UserAgent": "*"}}),
        _R,
        "iam:CreateUser",
        "*",
        False,
        reason="explicit-deny",
        twin=True,
    ),
    Case(
        "referer-deny-escaped-by-sending-none",
        _header_guard({"StringLike": {"aws:Referer": "*"}}),
        _R,
        "s3:GetObject",
        f"{BUCKET}/x",
        True,
    ),
    Case(
        "referer-denied-present-or-absent",
        _header_guard({"StringLike": {"aws:Referer": "*"}}, {"Null": {"aws:Referer": "true"}}),
        _R,
        "s3:GetObject",
        f"{BUCKET}/x",
        False,
        reason="explicit-deny",
        twin=True,
    ),
]

# --- conditions that scope the request itself: can() takes the request's facts ------------------------

_READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
_ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
_ATTACH_READ_ONLY = doc(
    allow("iam:AttachUserPolicy", "*", Condition={"ArnEquals": {"iam:PolicyARN": _READ_ONLY}}),
    allow("iam:PassRole", "*", Condition={"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
)
_SCOPED = _users(user(DEV, "alice", inline={"p": _ATTACH_READ_ONLY}))
_REQUEST_CASES = [
    Case(
        "attach-read-only",
        _SCOPED,
        ALICE,
        "iam:AttachUserPolicy",
        ALICE,
        True,
        request={"request": {"iam:PolicyARN": _READ_ONLY}},
    ),
    Case(
        "attach-admin-not-allowed",
        _SCOPED,
        ALICE,
        "iam:AttachUserPolicy",
        ALICE,
        False,
        reason="no-identity-allow",
        twin=True,
        request={"request": {"iam:PolicyARN": _ADMIN_POLICY}},
    ),
    Case("attach-unknown-policy-undecided", _SCOPED, ALICE, "iam:AttachUserPolicy", ALICE, True, conditional=True),
    Case(
        "pass-role-to-ec2",
        _SCOPED,
        ALICE,
        "iam:PassRole",
        role_arn(DEV, "app"),
        True,
        request={"request": {"iam:PassedToService": "ec2.amazonaws.com"}},
    ),
    Case(
        "pass-role-to-lambda-not-allowed",
        _SCOPED,
        ALICE,
        "iam:PassRole",
        role_arn(DEV, "app"),
        False,
        twin=True,
        request={"request": {"iam:PassedToService": "lambda.amazonaws.com"}},
    ),
    Case(
        "pass-role-key-absent",
        _SCOPED,
        ALICE,
        "iam:PassRole",
        role_arn(DEV, "app"),
        False,
        twin=True,
        request={"request": {"iam:PassedToService": None}},
    ),
]

_ROLE_MFA_CASES.append(
    Case(
        "service-role-session-has-no-mfa",
        _mfa_role(trust({"Service": "ec2.amazonaws.com"}), _BOOL_IF_EXISTS_FALSE),
        _OPS,
        "iam:CreateUser",
        "*",
        False,
        reason="explicit-deny",
        twin=True,
    )
)

TABLES = {
    "variables": _VARIABLE_CASES,
    "not-resource": _NOT_RESOURCE_CASES,
    "partition": _PARTITION_CASES,
    "user-mfa": _USER_MFA_CASES,
    "role-mfa": _ROLE_MFA_CASES,
    "region": _REGION_CASES,
    "headers": _HEADER_CASES,
    "request": _REQUEST_CASES,
}
CASES = [c for table in TABLES.values() for c in table]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_evaluator_defects(case: Case) -> None:
    decision = Evaluator(case.snapshot).can(case.principal, case.action, case.resource, **case.request)
    assert (decision.allowed, decision.conditional) == (case.allowed, case.conditional), decision
    if case.reason:
        assert decision.reason == case.reason, decision


def test_each_defect_table_has_risky_rows_and_benign_twins() -> None:
    for table in TABLES.values():
        assert any(c.twin for c in table) and any(not c.twin for c in table)
        assert all(not c.allowed or c.conditional for c in table if c.twin)


def test_picked_channel_is_named_in_the_decision() -> None:
    decision = Evaluator(_mfa_user(_BOOL_FALSE)).can(ALICE, "ec2:RunInstances", "*")
    assert any("long-term access keys" in a for a in decision.assumptions), decision.assumptions
    region = Evaluator(_region_lock(["eu-west-1"])).can(_R, "ec2:RunInstances", "*")
    assert "aws:RequestedRegion eu-west-1: picked by the caller" in region.assumptions


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([trust(root(DEV), condition=_MFA_TRUE)["Statement"][0]], True),
        ([trust(root(DEV))["Statement"][0]], False),
        ([trust(root(DEV), condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}})["Statement"][0]], False),
        (
            [
                trust(root(DEV), condition=_MFA_TRUE)["Statement"][0],
                trust({"Service": "ec2.amazonaws.com"})["Statement"][0],
            ],
            False,
        ),
        (
            [
                trust(root(DEV))["Statement"][0],
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "sts:AssumeRole",
                    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
                },
            ],
            True,
        ),
        ([], False),
    ],
)
def test_trust_requires_mfa(statements: list[dict[str, Any]], expected: bool) -> None:
    policy = parse_policy({"Statement": statements}, PolicySource("t", "trust", _OPS, _OPS))
    assert trust_requires_mfa(policy) is expected


def test_a_copied_request_context_does_not_reuse_the_picks_of_the_original() -> None:
    from dataclasses import replace

    from auditor.iam.decide import can

    keys_and_policy = {"Null": {"aws:MultiFactorAuthPresent": "true"}, "ArnEquals": {"iam:PolicyARN": _READ_ONLY}}
    snap = _users(user(DEV, "alice", inline={"p": doc(allow("iam:AttachUserPolicy", Condition=keys_and_policy))}))
    evaluator = Evaluator(snap)
    alice = evaluator.principal(ALICE)
    assert alice is not None
    ctx = evaluator.request_context(alice, DEV)
    assert can(alice, "iam:AttachUserPolicy", ALICE, ctx).conditional  # iam:PolicyARN unknown; picks cached
    admin = replace(ctx, conditions=ctx.conditions.merged({"iam:PolicyARN": (_ADMIN_POLICY,)}))
    assert not can(alice, "iam:AttachUserPolicy", ALICE, admin).allowed


@pytest.mark.parametrize(
    ("guard", "expected"),
    [(_BOOL_FALSE, [(ALICE, "full-admin", False)]), (_BOOL_IF_EXISTS_FALSE, [])],
    ids=["bool-false-textbook-misconfiguration", "bool-if-exists-twin"],
)
def test_textbook_mfa_deny_is_reported_as_admin_in_the_graph(guard: dict[str, Any], expected: list[Any]) -> None:
    from auditor.graph import build_access_graph

    graph = build_access_graph(_mfa_user(guard), {DEV: "prod"})
    found = [(g.principal_arn, g.level, g.conditional) for g in graph.admin_grants()]
    assert found == expected
