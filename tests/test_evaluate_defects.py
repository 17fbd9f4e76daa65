"""Issue 11, evaluator half: one row per defect case, each risky case with its benign twin.

Each row is judged against AWS's documented policy evaluation logic (policy variables, partitions,
condition set operators, MFA context, caller-chosen keys, request-scoping keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from auditor.iam.evaluate import Evaluator
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
    account,
    allow,
    doc,
    role,
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

_VARIABLE_CASES = [
    Case(
        "own-credentials-on-self",
        _users(user(DEV, "alice", inline={"own": MANAGE_OWN_CREDENTIALS}), user(DEV, "bob")),
        ALICE,
        "iam:CreateAccessKey",
        ALICE,
        True,
    ),
    Case(
        "own-credentials-on-another-user",
        _users(user(DEV, "alice", inline={"own": MANAGE_OWN_CREDENTIALS}), user(DEV, "bob")),
        ALICE,
        "iam:CreateAccessKey",
        BOB,
        False,
        reason="no-identity-allow",
        twin=True,
    ),
    Case(
        "home-prefix-own",
        _users(user(DEV, "alice", inline={"p": doc(allow("s3:GetObject", f"{BUCKET}/home/${{aws:username}}/*"))})),
        ALICE,
        "s3:GetObject",
        f"{BUCKET}/home/alice/notes.txt",
        True,
    ),
    Case(
        "home-prefix-other",
        _users(user(DEV, "alice", inline={"p": doc(allow("s3:GetObject", f"{BUCKET}/home/${{aws:username}}/*"))})),
        ALICE,
        "s3:GetObject",
        f"{BUCKET}/home/bob/notes.txt",
        False,
        twin=True,
    ),
    Case(
        "principal-tag-variable",
        _users(
            user(
                DEV,
                "alice",
                tags={"team": "data"},
                inline={"p": doc(allow("s3:*", f"{BUCKET}/teams/${{aws:PrincipalTag/team}}/*"))},
            )
        ),
        ALICE,
        "s3:PutObject",
        f"{BUCKET}/teams/data/x",
        True,
    ),
    Case(
        "principal-tag-variable-other-team",
        _users(
            user(
                DEV,
                "alice",
                tags={"team": "data"},
                inline={"p": doc(allow("s3:*", f"{BUCKET}/teams/${{aws:PrincipalTag/team}}/*"))},
            )
        ),
        ALICE,
        "s3:PutObject",
        f"{BUCKET}/teams/finance/x",
        False,
        twin=True,
    ),
    Case(
        "untagged-principal-takes-the-default",
        _users(
            user(
                DEV, "alice", inline={"p": doc(allow("s3:*", f"{BUCKET}/teams/${{aws:PrincipalTag/team, 'shared'}}/*"))}
            )
        ),
        ALICE,
        "s3:PutObject",
        f"{BUCKET}/teams/shared/x",
        True,
    ),
    Case(
        "untagged-principal-without-default-matches-nothing",
        _users(user(DEV, "alice", inline={"p": doc(allow("s3:*", f"{BUCKET}/teams/${{aws:PrincipalTag/team}}/*"))})),
        ALICE,
        "s3:PutObject",
        f"{BUCKET}/teams/data/x",
        False,
        twin=True,
    ),
    Case(
        "principal-account-variable",
        _users(
            user(DEV, "alice", inline={"p": doc(allow("iam:PassRole", "arn:aws:iam::${aws:PrincipalAccount}:role/*"))})
        ),
        ALICE,
        "iam:PassRole",
        f"arn:aws:iam::{DEV}:role/app",
        True,
    ),
    Case(
        "principal-account-variable-other-account",
        _users(
            user(DEV, "alice", inline={"p": doc(allow("iam:PassRole", "arn:aws:iam::${aws:PrincipalAccount}:role/*"))})
        ),
        ALICE,
        "iam:PassRole",
        f"arn:aws:iam::{PROD}:role/app",
        False,
        twin=True,
    ),
    Case(
        "userid-variable",
        _users(
            IamUser(
                arn=ALICE,
                name="alice",
                user_id="AIDAALICE0000000000",
                inline_policies=(InlinePolicy(name="p", document=doc(allow("s3:*", f"{BUCKET}/${{aws:userid}}/*"))),),
            )
        ),
        ALICE,
        "s3:GetObject",
        f"{BUCKET}/AIDAALICE0000000000/x",
        True,
    ),
    Case(
        "userid-variable-other-id",
        _users(
            IamUser(
                arn=ALICE,
                name="alice",
                user_id="AIDAALICE0000000000",
                inline_policies=(InlinePolicy(name="p", document=doc(allow("s3:*", f"{BUCKET}/${{aws:userid}}/*"))),),
            )
        ),
        ALICE,
        "s3:GetObject",
        f"{BUCKET}/AIDABOB000000000000/x",
        False,
        twin=True,
    ),
    Case(
        "escaped-wildcards-are-literal",
        _users(user(DEV, "alice", inline={"p": doc(allow("s3:GetObject", f"{BUCKET}/literal${{*}}name"))})),
        ALICE,
        "s3:GetObject",
        f"{BUCKET}/literal*name",
        True,
    ),
    Case(
        "escaped-star-does-not-match-anything",
        _users(user(DEV, "alice", inline={"p": doc(allow("s3:GetObject", f"{BUCKET}/literal${{*}}name"))})),
        ALICE,
        "s3:GetObject",
        f"{BUCKET}/literalXname",
        False,
        twin=True,
    ),
    Case(
        "unknown-variable-is-undecided",
        _users(user(DEV, "alice", inline={"p": doc(allow("s3:GetObject", f"{BUCKET}/${{aws:SourceIdentity}}/*"))})),
        ALICE,
        "s3:GetObject",
        f"{BUCKET}/someone/x",
        True,
        conditional=True,
    ),
    Case(
        "username-absent-for-a-role",
        snapshot(
            account(
                DEV,
                roles=[
                    role(DEV, "app", inline={"p": doc(allow("s3:GetObject", f"{BUCKET}/home/${{aws:username}}/*"))})
                ],
            )
        ),
        f"arn:aws:iam::{DEV}:role/app",
        "s3:GetObject",
        f"{BUCKET}/home/app/x",
        False,
        twin=True,
    ),
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

CASES = [*_VARIABLE_CASES, *_NOT_RESOURCE_CASES, *_PARTITION_CASES]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_evaluator_defects(case: Case) -> None:
    decision = Evaluator(case.snapshot).can(case.principal, case.action, case.resource, **case.request)
    assert (decision.allowed, decision.conditional) == (case.allowed, case.conditional), decision
    if case.reason:
        assert decision.reason == case.reason, decision


def test_each_defect_table_has_risky_rows_and_benign_twins() -> None:
    for table in (_VARIABLE_CASES, _NOT_RESOURCE_CASES, _PARTITION_CASES):
        assert any(c.twin for c in table) and any(not c.twin for c in table)
        assert all(not c.allowed for c in table if c.twin)
