"""Effective-permission evaluation: one row per AWS evaluation rule, each risky case with a benign twin."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from auditor.iam.evaluate import Evaluator, can
from auditor.model import Snapshot
from tests.iam_helpers import (
    DEV,
    EXTERNAL,
    MGMT,
    ORG_ID,
    PROD,
    ROOT_ID,
    account,
    allow,
    deny,
    doc,
    group,
    managed,
    mfa_row,
    organization,
    resource,
    role,
    role_arn,
    root,
    snapshot,
    trust,
    user,
    user_arn,
)

BUCKET = "arn:aws:s3:::data-bucket"
OBJECT = f"{BUCKET}/reports/q1.csv"
KEY = f"arn:aws:kms:us-east-1:{PROD}:key/1111"
PROD_OU = "ou-ab12-prod"
NONPROD_OU = "ou-ab12-nonp"


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
    assume_mfa: bool | None = None
    twin: bool = False  # looks risky, is not


def _one_user(*, inline: dict[str, dict[str, object]] | None = None, **kw: object) -> Snapshot:
    return snapshot(account(DEV, users=[user(DEV, "alice", inline=inline)], **kw))  # type: ignore[arg-type]


def _org_snapshot(
    *accounts: object,
    scps: list[tuple[str, dict[str, object], list[str]]] | None = None,
    rcps: list[tuple[str, dict[str, object], list[str]]] | None = None,
    full_aws_access: bool = True,
) -> Snapshot:
    org = organization(scps=scps or [], rcps=rcps or [], full_aws_access=full_aws_access)  # type: ignore[arg-type]
    return snapshot(*accounts, org=org)  # type: ignore[arg-type]


ALICE = user_arn(DEV, "alice")
PROD_ROLE = role_arn(PROD, "deploy")


def _cross_account(
    trust_policy: dict[str, object],
    identity: dict[str, object] | None,
    scps: list[tuple[str, dict[str, object], list[str]]] | None = None,
    credential_report: list[object] | None = None,
) -> Snapshot:
    dev = account(
        DEV,
        users=[user(DEV, "alice", inline={"assume": identity} if identity else None)],
        credential_report=credential_report,
    )  # type: ignore[arg-type]
    prod = account(PROD, roles=[role(PROD, "deploy", trust_policy, inline={"admin": doc(allow("*"))})])  # type: ignore[arg-type]
    return _org_snapshot(dev, prod, scps=scps)


ASSUME_ANY = doc(allow("sts:AssumeRole", "*"))

CASES = [
    # identity policies
    Case(
        "identity-allow",
        _one_user(inline={"p": doc(allow("s3:GetObject", f"{BUCKET}/*"))}),
        ALICE,
        "s3:GetObject",
        OBJECT,
        True,
    ),
    Case(
        "identity-explicit-deny",
        _one_user(inline={"p": doc(allow("s3:*")), "d": doc(deny("s3:GetObject"))}),
        ALICE,
        "s3:GetObject",
        OBJECT,
        False,
        reason="explicit-deny",
        twin=True,
    ),
    Case(
        "identity-no-allow",
        _one_user(inline={"p": doc(allow("s3:ListBucket", BUCKET))}),
        ALICE,
        "s3:GetObject",
        OBJECT,
        False,
        reason="no-identity-allow",
        twin=True,
    ),
    Case(
        "not-action-allow",
        _one_user(inline={"p": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})}),
        ALICE,
        "s3:GetObject",
        OBJECT,
        True,
    ),
    Case(
        "not-action-excludes-iam",
        _one_user(inline={"p": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})}),
        ALICE,
        "iam:CreateUser",
        "*",
        False,
        twin=True,
    ),
    Case(
        "not-resource-allow",
        _one_user(inline={"p": doc({"Effect": "Allow", "Action": "s3:*", "NotResource": f"{BUCKET}/secret/*"})}),
        ALICE,
        "s3:GetObject",
        OBJECT,
        True,
    ),
    Case(
        "not-resource-excludes-secret",
        _one_user(inline={"p": doc({"Effect": "Allow", "Action": "s3:*", "NotResource": f"{BUCKET}/secret/*"})}),
        ALICE,
        "s3:GetObject",
        f"{BUCKET}/secret/k",
        False,
        twin=True,
    ),
    Case(
        "group-policy-allow",
        snapshot(
            account(
                DEV,
                users=[user(DEV, "alice", groups=["ops"])],
                groups=[group(DEV, "ops", inline={"p": doc(allow("ec2:*"))})],
            )
        ),
        ALICE,
        "ec2:RunInstances",
        "*",
        True,
    ),
    Case(
        "group-policy-deny",
        snapshot(
            account(
                DEV,
                users=[user(DEV, "alice", groups=["ops"], inline={"p": doc(allow("*"))})],
                groups=[group(DEV, "ops", inline={"d": doc(deny("ec2:*"))})],
            )
        ),
        ALICE,
        "ec2:RunInstances",
        "*",
        False,
        reason="explicit-deny",
        twin=True,
    ),
    Case(
        "managed-policy-allow",
        snapshot(
            account(
                DEV,
                users=[user(DEV, "alice", attached=[f"arn:aws:iam::{DEV}:policy/ec2"])],
                policies=[managed(DEV, "ec2", doc(allow("ec2:*")))],
            )
        ),
        ALICE,
        "ec2:RunInstances",
        "*",
        True,
    ),
    Case(
        "policy-variable-of-unknown-value-is-conditional",
        _one_user(inline={"p": doc(allow("s3:GetObject", f"{BUCKET}/home/${{aws:SourceIdentity}}/*"))}),
        ALICE,
        "s3:GetObject",
        f"{BUCKET}/home/alice/x",
        True,
        conditional=True,
    ),
    # permission boundary
    Case(
        "boundary-allows",
        snapshot(
            account(
                DEV,
                users=[user(DEV, "alice", inline={"p": doc(allow("*"))}, boundary=f"arn:aws:iam::{DEV}:policy/b")],
                policies=[managed(DEV, "b", doc(allow("s3:*")))],
            )
        ),
        ALICE,
        "s3:GetObject",
        OBJECT,
        True,
    ),
    Case(
        "boundary-blocks-admin",
        snapshot(
            account(
                DEV,
                users=[user(DEV, "alice", inline={"p": doc(allow("*"))}, boundary=f"arn:aws:iam::{DEV}:policy/b")],
                policies=[managed(DEV, "b", doc(allow("s3:*")))],
            )
        ),
        ALICE,
        "iam:CreateUser",
        "*",
        False,
        reason="permission-boundary",
        twin=True,
    ),
    # SCPs
    Case(
        "scp-full-access",
        _org_snapshot(account(PROD, roles=[role(PROD, "r", inline={"p": doc(allow("*"))})])),
        role_arn(PROD, "r"),
        "iam:CreateUser",
        "*",
        True,
    ),
    Case(
        "scp-deny-on-ou",
        _org_snapshot(
            account(PROD, roles=[role(PROD, "r", inline={"p": doc(allow("*"))})]),
            scps=[("deny-iam", doc(deny("iam:*")), [PROD_OU])],
        ),
        role_arn(PROD, "r"),
        "iam:CreateUser",
        "*",
        False,
        reason="explicit-deny",
        twin=True,
    ),
    Case(
        "scp-deny-other-ou",
        _org_snapshot(
            account(DEV, roles=[role(DEV, "r", inline={"p": doc(allow("*"))})]),
            scps=[("deny-iam", doc(deny("iam:*")), [PROD_OU])],
        ),
        role_arn(DEV, "r"),
        "iam:CreateUser",
        "*",
        True,
    ),
    Case(
        "scp-allow-list-missing",
        _org_snapshot(
            account(PROD, roles=[role(PROD, "r", inline={"p": doc(allow("*"))})]),
            scps=[
                ("all", doc(allow("*")), [ROOT_ID, "ou-ab12-work", PROD]),
                ("s3-only", doc(allow("s3:*")), [PROD_OU]),
            ],
            full_aws_access=False,
        ),
        role_arn(PROD, "r"),
        "ec2:RunInstances",
        "*",
        False,
        reason="scp",
        twin=True,
    ),
    Case(
        "scp-allow-list-present",
        _org_snapshot(
            account(PROD, roles=[role(PROD, "r", inline={"p": doc(allow("*"))})]),
            scps=[
                ("all", doc(allow("*")), [ROOT_ID, "ou-ab12-work", PROD]),
                ("s3-only", doc(allow("s3:*")), [PROD_OU]),
            ],
            full_aws_access=False,
        ),
        role_arn(PROD, "r"),
        "s3:GetObject",
        OBJECT,
        True,
    ),
    Case(
        "scp-management-exempt",
        _org_snapshot(
            account(MGMT, users=[user(MGMT, "root-admin", inline={"p": doc(allow("*"))})]),
            scps=[("deny-all", doc(deny("*")), [ROOT_ID])],
        ),
        user_arn(MGMT, "root-admin"),
        "iam:CreateUser",
        "*",
        True,
    ),
    Case(
        "scp-member-denied",
        _org_snapshot(
            account(DEV, users=[user(DEV, "alice", inline={"p": doc(allow("*"))})]),
            scps=[("deny-all", doc(deny("*")), [ROOT_ID])],
        ),
        ALICE,
        "iam:CreateUser",
        "*",
        False,
        reason="explicit-deny",
        twin=True,
    ),
    Case(
        "scp-deny-exempts-principal",
        _org_snapshot(
            account(PROD, roles=[role(PROD, "breakglass", inline={"p": doc(allow("*"))})]),
            scps=[
                (
                    "deny-iam",
                    doc(
                        deny(
                            "iam:*",
                            Condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/breakglass"}},
                        )
                    ),
                    [ROOT_ID],
                )
            ],
        ),
        role_arn(PROD, "breakglass"),
        "iam:CreateUser",
        "*",
        True,
    ),
    Case(
        "scp-region-lock-caller-picks-an-allowed-region",
        _org_snapshot(
            account(PROD, roles=[role(PROD, "r", inline={"p": doc(allow("*"))})]),
            scps=[
                (
                    "regions",
                    doc(deny("*", Condition={"StringNotEquals": {"aws:RequestedRegion": "eu-west-1"}})),
                    [ROOT_ID],
                )
            ],
        ),
        role_arn(PROD, "r"),
        "ec2:RunInstances",
        "*",
        True,
    ),
    Case(
        "scp-deny-assume-out-of-account",
        _cross_account(
            trust(root(DEV)),
            ASSUME_ANY,
            scps=[
                (
                    "stay-home",
                    doc(
                        deny(
                            "sts:AssumeRole",
                            Condition={"StringNotEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
                        )
                    ),
                    [NONPROD_OU],
                )
            ],
        ),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        False,
        reason="explicit-deny",
        twin=True,
    ),
    Case(
        "scp-deny-assume-out-of-account-same-account",
        snapshot(
            account(
                DEV, users=[user(DEV, "alice", inline={"a": ASSUME_ANY})], roles=[role(DEV, "ops", trust(root(DEV)))]
            ),
            org=organization(
                scps=[
                    (
                        "stay-home",
                        doc(
                            deny(
                                "sts:AssumeRole",
                                Condition={"StringNotEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
                            )
                        ),
                        [NONPROD_OU],
                    )
                ]
            ),
        ),
        ALICE,
        "sts:AssumeRole",
        role_arn(DEV, "ops"),
        True,
    ),
    # role trust: same account
    Case(
        "trust-account-root-with-identity",
        snapshot(
            account(
                DEV,
                users=[user(DEV, "alice", inline={"a": ASSUME_ANY})],
                roles=[role(DEV, "ops", trust(root(DEV)))],
            )
        ),
        ALICE,
        "sts:AssumeRole",
        role_arn(DEV, "ops"),
        True,
    ),
    Case(
        "trust-account-root-without-identity",
        snapshot(account(DEV, users=[user(DEV, "alice")], roles=[role(DEV, "ops", trust(root(DEV)))])),
        ALICE,
        "sts:AssumeRole",
        role_arn(DEV, "ops"),
        False,
        twin=True,
    ),
    Case(
        "trust-names-user-directly",
        snapshot(account(DEV, users=[user(DEV, "alice")], roles=[role(DEV, "ops", trust(ALICE))])),
        ALICE,
        "sts:AssumeRole",
        role_arn(DEV, "ops"),
        True,
    ),
    Case(
        "trust-names-other-user",
        snapshot(
            account(
                DEV,
                users=[user(DEV, "alice", inline={"a": ASSUME_ANY})],
                roles=[role(DEV, "ops", trust(user_arn(DEV, "bob")))],
            )
        ),
        ALICE,
        "sts:AssumeRole",
        role_arn(DEV, "ops"),
        False,
        reason="no-resource-allow",
        twin=True,
    ),
    # role trust: cross account
    Case(
        "cross-account-trust-and-identity",
        _cross_account(trust(root(DEV)), ASSUME_ANY),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        True,
    ),
    Case(
        "cross-account-no-identity",
        _cross_account(trust(root(DEV)), None),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        False,
        reason="no-identity-allow",
        twin=True,
    ),
    Case(
        "cross-account-trust-other-account",
        _cross_account(trust(root(EXTERNAL)), ASSUME_ANY),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        False,
        reason="no-resource-allow",
        twin=True,
    ),
    Case(
        "cross-account-scp-denies-assume",
        _cross_account(trust(root(DEV)), ASSUME_ANY, scps=[("no-assume", doc(deny("sts:AssumeRole")), [NONPROD_OU])]),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        False,
        reason="explicit-deny",
        twin=True,
    ),
    Case(
        "trust-anyone-in-org",
        _cross_account(trust("*", condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}), ASSUME_ANY),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        True,
    ),
    Case(
        "trust-anyone-other-org",
        _cross_account(trust("*", condition={"StringEquals": {"aws:PrincipalOrgID": "o-zz"}}), ASSUME_ANY),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        False,
        twin=True,
    ),
    Case(
        "trust-org-path",
        _cross_account(
            trust(
                "*",
                condition={"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{ORG_ID}/{ROOT_ID}/ou-ab12-work/*"}},
            ),
            ASSUME_ANY,
        ),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        True,
    ),
    Case(
        "trust-org-path-security-only",
        _cross_account(
            trust(
                "*",
                condition={"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{ORG_ID}/{ROOT_ID}/ou-ab12-secu/*"}},
            ),
            ASSUME_ANY,
        ),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        False,
        twin=True,
    ),
    Case(
        "trust-external-id",
        _cross_account(trust(root(DEV), condition={"StringEquals": {"sts:ExternalId": "x"}}), ASSUME_ANY),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        True,
    ),
    Case(
        "trust-source-ip-undecided",
        _cross_account(trust(root(DEV), condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), ASSUME_ANY),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        True,
        conditional=True,
    ),
    # MFA
    Case(
        "trust-mfa-user-has-device",
        _cross_account(
            trust(root(DEV), condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
            ASSUME_ANY,
            credential_report=[mfa_row(DEV, "alice", True)],
        ),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        True,
        conditional=True,
    ),
    Case(
        "trust-mfa-assumed-present",
        _cross_account(
            trust(root(DEV), condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
            ASSUME_ANY,
            credential_report=[mfa_row(DEV, "alice", True)],
        ),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        True,
        assume_mfa=True,
    ),
    Case(
        "trust-mfa-user-without-device",
        _cross_account(
            trust(root(DEV), condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}}),
            ASSUME_ANY,
            credential_report=[mfa_row(DEV, "alice", False)],
        ),
        ALICE,
        "sts:AssumeRole",
        PROD_ROLE,
        False,
        twin=True,
    ),
    # resource policies
    Case(
        "s3-cross-account-both-allow",
        snapshot(
            account(DEV, users=[user(DEV, "alice", inline={"p": doc(allow("s3:GetObject"))})]),
            account(
                PROD,
                resources=[
                    resource(
                        BUCKET,
                        "s3:bucket",
                        policy=doc(
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": root(DEV)},
                                "Action": "s3:GetObject",
                                "Resource": f"{BUCKET}/*",
                            }
                        ),
                    )
                ],
            ),
        ),
        ALICE,
        "s3:GetObject",
        OBJECT,
        True,
    ),
    Case(
        "s3-cross-account-bucket-policy-other-action",
        snapshot(
            account(DEV, users=[user(DEV, "alice", inline={"p": doc(allow("s3:*"))})]),
            account(
                PROD,
                resources=[
                    resource(
                        BUCKET,
                        "s3:bucket",
                        policy=doc(
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": root(DEV)},
                                "Action": "s3:GetObject",
                                "Resource": f"{BUCKET}/*",
                            }
                        ),
                    )
                ],
            ),
        ),
        ALICE,
        "s3:PutObject",
        OBJECT,
        False,
        reason="no-resource-allow",
        twin=True,
    ),
    Case(
        "s3-cross-account-bucket-policy",
        snapshot(
            account(DEV, users=[user(DEV, "alice", inline={"p": doc(allow("s3:GetObject"))})]),
            account(
                PROD,
                resources=[
                    resource(
                        BUCKET,
                        "s3:bucket",
                        policy=doc(
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": root(DEV)},
                                "Action": "s3:ListBucket",
                                "Resource": BUCKET,
                            }
                        ),
                    )
                ],
            ),
        ),
        ALICE,
        "s3:ListBucket",
        BUCKET,
        False,
        reason="no-identity-allow",
        twin=True,
    ),
    Case(
        "s3-same-account-policy-names-user",
        snapshot(
            account(
                DEV,
                users=[user(DEV, "alice")],
                resources=[
                    resource(
                        BUCKET,
                        "s3:bucket",
                        policy=doc(
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": ALICE},
                                "Action": "s3:ListBucket",
                                "Resource": BUCKET,
                            }
                        ),
                    )
                ],
            )
        ),
        ALICE,
        "s3:ListBucket",
        BUCKET,
        True,
    ),
    Case(
        "s3-same-account-policy-names-account",
        snapshot(
            account(
                DEV,
                users=[user(DEV, "alice")],
                resources=[
                    resource(
                        BUCKET,
                        "s3:bucket",
                        policy=doc(
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": root(DEV)},
                                "Action": "s3:ListBucket",
                                "Resource": BUCKET,
                            }
                        ),
                    )
                ],
            )
        ),
        ALICE,
        "s3:ListBucket",
        BUCKET,
        False,
        twin=True,
    ),
    Case(
        "s3-bucket-policy-deny",
        snapshot(
            account(
                DEV,
                users=[user(DEV, "alice", inline={"p": doc(allow("s3:*"))})],
                resources=[
                    resource(
                        BUCKET,
                        "s3:bucket",
                        policy=doc({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": BUCKET}),
                    )
                ],
            )
        ),
        ALICE,
        "s3:ListBucket",
        BUCKET,
        False,
        reason="explicit-deny",
        twin=True,
    ),
    Case(
        "kms-key-policy-required",
        snapshot(
            account(
                PROD,
                users=[user(PROD, "k", inline={"p": doc(allow("kms:Decrypt"))})],
                resources=[
                    resource(
                        KEY,
                        "kms:key",
                        policy=doc(
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": role_arn(PROD, "other")},
                                "Action": "kms:*",
                                "Resource": "*",
                            }
                        ),
                    )
                ],
            )
        ),
        user_arn(PROD, "k"),
        "kms:Decrypt",
        KEY,
        False,
        reason="no-resource-allow",
        twin=True,
    ),
    Case(
        "kms-key-policy-delegates-to-iam",
        snapshot(
            account(
                PROD,
                users=[user(PROD, "k", inline={"p": doc(allow("kms:Decrypt"))})],
                resources=[
                    resource(
                        KEY,
                        "kms:key",
                        policy=doc(
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": root(PROD)},
                                "Action": "kms:*",
                                "Resource": "*",
                            }
                        ),
                    )
                ],
            )
        ),
        user_arn(PROD, "k"),
        "kms:Decrypt",
        KEY,
        True,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_evaluation_rules(case: Case) -> None:
    evaluator = Evaluator(case.snapshot, assume_mfa=case.assume_mfa)
    decision = evaluator.can(case.principal, case.action, case.resource)
    assert (decision.allowed, decision.conditional) == (case.allowed, case.conditional), decision
    if case.reason:
        assert decision.reason == case.reason
    if decision.allowed:
        assert decision.allowed_by, "an allow must carry the statements that allowed it"
    if decision.reason == "explicit-deny":
        assert decision.denied_by


def test_every_risky_row_has_benign_twins() -> None:
    risky = [c for c in CASES if not c.twin]
    twins = [c for c in CASES if c.twin]
    assert all(not c.allowed for c in twins)
    assert len(risky) >= 20 and len(twins) >= 20


def test_decision_evidence_names_policy_and_statement() -> None:
    snap = _cross_account(trust(root(DEV)), ASSUME_ANY)
    decision = Evaluator(snap).can(ALICE, "sts:AssumeRole", PROD_ROLE)
    assert decision.allowed and not decision.conditional
    (identity,) = decision.identity_statements()
    assert (identity.policy, identity.policy_kind) == ("assume", "inline")
    assert identity.statement == allow("sts:AssumeRole", "*")
    (trust_ref,) = decision.resource_statements()
    assert trust_ref.policy == PROD_ROLE and trust_ref.policy_kind == "trust"


def test_undecided_conditions_are_reported() -> None:
    snap = _cross_account(trust(root(DEV), condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), ASSUME_ANY)
    decision = Evaluator(snap).can(ALICE, "sts:AssumeRole", PROD_ROLE)
    assert decision.undecided_conditions == ("aws:SourceIp",)


def test_rcp_denies_outsiders_on_org_resources() -> None:
    rcp = doc(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sts:AssumeRole",
            "Resource": "*",
            "Condition": {
                "StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG_ID},
                "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
            },
        }
    )
    prod = account(PROD, roles=[role(PROD, "vendor", trust(root(EXTERNAL)))])
    with_rcp = _org_snapshot(prod, rcps=[("org-only", rcp, [ROOT_ID])])
    without = _org_snapshot(prod)
    for snap, expected in ((without, True), (with_rcp, False)):
        evaluator = Evaluator(snap)
        outsider = evaluator.outsider(root(EXTERNAL), "account")
        res = evaluator.resource(role_arn(PROD, "vendor"))
        decision = can(outsider, "sts:AssumeRole", res, evaluator.request_context(outsider, PROD))
        assert decision.allowed is expected, decision


def test_malformed_policy_becomes_an_event_not_a_crash() -> None:
    snap = snapshot(
        account(DEV, users=[user(DEV, "alice", inline={"bad": {"Statement": "nope"}, "good": doc(allow("s3:*"))})])
    )
    evaluator = Evaluator(snap)
    assert evaluator.can(ALICE, "s3:GetObject", OBJECT).allowed
    assert [(e.kind, e.subject) for e in evaluator.events] == [("parse-error", "bad")]


def test_unknown_action_leaves_other_conclusions_unchanged() -> None:
    base = doc(allow(["iam:PassRole", "s3:GetObject"]), deny("s3:DeleteObject"))
    noisy = doc(
        allow(["codestar:CreateProject", "madeup:DoThing", "iam:PassRole", "s3:GetObject"]),
        deny(["madeup:*", "s3:DeleteObject"]),
    )
    answers = []
    for document in (base, noisy):
        evaluator = Evaluator(_one_user(inline={"p": document}))
        answers.append(
            [
                evaluator.can(ALICE, a, "*").allowed
                for a in ("iam:PassRole", "s3:GetObject", "s3:DeleteObject", "ec2:RunInstances")
            ]
        )
        if document is noisy:
            assert {e.message.split("'")[1] for e in evaluator.events if e.kind == "unknown-action"} == {
                "madeup:DoThing",
                "madeup:*",
            }
    assert answers[0] == answers[1] == [True, True, False, False]


def test_shared_policy_objects_still_evaluate_per_principal_facts() -> None:
    """Principals sharing one managed policy get their own answer when its conditions read their facts."""
    tagged = doc(allow("s3:GetObject", "*", Condition={"StringEquals": {"aws:PrincipalTag/team": "data"}}))
    snap = snapshot(
        account(
            DEV,
            users=[
                user(DEV, "alice", attached=[f"arn:aws:iam::{DEV}:policy/tagged"], tags={"team": "data"}),
                user(DEV, "bob", attached=[f"arn:aws:iam::{DEV}:policy/tagged"], tags={"team": "web"}),
            ],
            policies=[managed(DEV, "tagged", tagged)],
        )
    )
    evaluator = Evaluator(snap)
    assert evaluator.can(ALICE, "s3:GetObject", OBJECT).allowed
    assert not evaluator.can(user_arn(DEV, "bob"), "s3:GetObject", OBJECT).allowed
    assert evaluator.can(ALICE, "s3:GetObject", OBJECT).allowed  # cached answers stay per principal


def test_shared_policy_objects_under_different_scps() -> None:
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    snap = _org_snapshot(
        account(DEV, roles=[role(DEV, "r", attached=[admin])]),
        account(PROD, roles=[role(PROD, "r", attached=[admin])]),
        scps=[("deny-iam", doc(deny("iam:*")), [PROD_OU])],
    )
    evaluator = Evaluator(snap)
    assert evaluator.can(role_arn(DEV, "r"), "iam:CreateUser", "*").allowed
    assert not evaluator.can(role_arn(PROD, "r"), "iam:CreateUser", "*").allowed
    assert evaluator.can(role_arn(DEV, "r"), "iam:CreateUser", "*").allowed
