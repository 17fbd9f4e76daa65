"""Policy parsing, matching, conditions and the action catalogue."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.iam import actions
from auditor.iam.conditions import ConditionContext, Opaque, Tri, evaluate_conditions
from auditor.iam.policy import (
    PolicyParseError,
    PolicySource,
    action_matches,
    arn_account,
    arn_matches,
    parse_policy,
)

SRC = PolicySource("test", "inline")


def test_string_or_list_forms_normalise_to_tuples() -> None:
    policy = parse_policy({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["a", "b"]}}, SRC)
    (st,) = policy.statements
    assert st.actions == ("s3:GetObject",)
    assert st.resources == ("a", "b")
    assert st.raw == {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["a", "b"]}


def test_json_text_and_url_encoded_documents_parse() -> None:
    text = '{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'
    assert parse_policy(text, SRC).statements[0].effect == "Deny"
    encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3A%2A%22%7D%5D%7D"
    assert parse_policy(encoded, SRC).statements[0].actions == ("s3:*",)


def test_principal_forms() -> None:
    policy = parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
                {"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "sts:AssumeRole"},
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["ec2.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                },
            ]
        },
        SRC,
    )
    anyone, account, service = policy.statements
    assert anyone.principals == {"AWS": ("*",)}
    assert account.principals == {"AWS": ("arn:aws:iam::123456789012:root",)}
    assert account.principal_match("AWS", "arn:aws:iam::123456789012:user/x", "123456789012") == "account"
    assert account.principal_match("AWS", "arn:aws:iam::210987654321:user/x", "210987654321") is None
    assert service.principal_match("Service", "ec2.amazonaws.com", None) == "direct"
    assert service.principal_match("Service", "lambda.amazonaws.com", None) is None


@pytest.mark.parametrize(
    "document",
    [
        [],
        "not json",
        {"Version": "2012-10-17"},
        {"Statement": [{"Effect": "Maybe", "Action": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": "*", "NotAction": "s3:*"}]},
        {"Statement": [{"Effect": "Allow", "Resource": "*"}]},
        {"Statement": [{"Effect": "Allow", "Action": 5}]},
        {"Statement": [{"Effect": "Allow", "Action": "*", "Condition": "x"}]},
        {"Statement": ["x"]},
    ],
)
def test_malformed_documents_raise_policy_parse_error(document: Any) -> None:
    with pytest.raises(PolicyParseError) as info:
        parse_policy(document, SRC)
    assert info.value.source is SRC


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:GetObject", "s3:getobject", True),
        ("S3:Get*", "s3:GetObjectAcl", True),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:Get*", "s3:PutObject", False),
        ("*", "iam:CreateUser", True),
        ("iam:*", "iam:CreateUser", True),
        ("iam:*", "sts:AssumeRole", False),
        ("codestar:CreateProject", "codestar:createproject", True),
    ],
)
def test_action_matching(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/key", True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::Bucket/key", False),  # ARNs are case sensitive
        ("arn:aws:iam::*:role/admin-?", "arn:aws:iam::123456789012:role/admin-1", True),
        ("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::home/bob/x", True),  # symbolic: could match
        ("arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::other/bob/x", False),
        ("arn:aws:s3:::literal${*}", "arn:aws:s3:::literal*", True),
        ("arn:aws:s3:::literal${*}", "arn:aws:s3:::literalX", False),
    ],
)
def test_arn_matching(pattern: str, arn: str, expected: bool) -> None:
    assert arn_matches(pattern, arn) is expected


def test_policy_variables_are_recorded_as_symbolic() -> None:
    st = parse_policy(
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::h/${aws:username}/*"}]},
        SRC,
    ).statements[0]
    assert st.symbolic_variables == ("aws:username",)


def test_not_action_and_not_resource() -> None:
    st = parse_policy(
        {"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}]},
        SRC,
    ).statements[0]
    assert st.matches_action("s3:GetObject") and not st.matches_action("iam:CreateUser")
    assert st.matches_resource("arn:aws:s3:::public/x") and not st.matches_resource("arn:aws:s3:::secret/x")


def test_arn_account() -> None:
    assert arn_account("arn:aws:iam::123456789012:role/x") == "123456789012"
    assert arn_account("arn:aws:s3:::bucket") is None
    assert arn_account("*") is None


# --- conditions -----------------------------------------------------------------------------

CTX = ConditionContext(
    values={
        "aws:principalorgid": ("o-ours",),
        "aws:principalarn": ("arn:aws:iam::111111111111:role/ci",),
        "aws:principaltag/team": ("data",),
    },
    absent=frozenset({"aws:sourceaccount"}),
)
OUTSIDER = ConditionContext(values={"aws:principalorgid": Opaque(frozenset({"o-ours"}))})


@pytest.mark.parametrize(
    ("conditions", "context", "expected"),
    [
        ({"StringEquals": {"aws:PrincipalOrgID": "o-ours"}}, CTX, Tri.YES),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-other"}}, CTX, Tri.NO),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-ours"}}, OUTSIDER, Tri.NO),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-other"}}, OUTSIDER, Tri.MAYBE),
        ({"StringNotEquals": {"aws:PrincipalOrgID": "o-ours"}}, OUTSIDER, Tri.YES),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/c?"}}, CTX, Tri.YES),
        ({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci"}}, CTX, Tri.NO),
        ({"StringEquals": {"aws:SourceAccount": "111111111111"}}, CTX, Tri.NO),
        ({"StringEqualsIfExists": {"aws:SourceAccount": "111111111111"}}, CTX, Tri.YES),
        ({"Null": {"aws:SourceAccount": "true"}}, CTX, Tri.YES),
        ({"Null": {"aws:PrincipalTag/team": "false"}}, CTX, Tri.YES),
        ({"ForAnyValue:StringLike": {"aws:PrincipalTag/team": ["da*", "x"]}}, CTX, Tri.YES),
        ({"ForAllValues:StringEquals": {"aws:PrincipalTag/team": ["x"]}}, CTX, Tri.NO),
        ({"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "DATA"}}, CTX, Tri.YES),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, CTX, Tri.MAYBE),
        ({"StringEquals": {"sts:ExternalId": "secret"}}, CTX, Tri.YES),  # the caller supplies it
    ],
)
def test_condition_operators(conditions: dict[str, Any], context: ConditionContext, expected: Tri) -> None:
    parsed = parse_policy({"Statement": [{"Effect": "Allow", "Action": "*", "Condition": conditions}]}, SRC)
    assert evaluate_conditions(parsed.statements[0].conditions, context).result == expected


def test_undecided_keys_are_listed_never_dropped() -> None:
    parsed = parse_policy(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "*",
                    "Condition": {
                        "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                        "StringEquals": {"aws:PrincipalOrgID": "o-ours"},
                    },
                }
            ]
        },
        SRC,
    )
    outcome = evaluate_conditions(parsed.statements[0].conditions, CTX)
    assert outcome.result == Tri.MAYBE
    assert outcome.undecided == ("aws:SourceIp",)
    assert outcome.decided == ("aws:PrincipalOrgID",)


# --- the action catalogue ---------------------------------------------------------------------


def test_catalogue_expansion_and_access_levels() -> None:
    expanded = actions.expand("iam:CreatePolicyV*")
    assert expanded.actions == ("iam:CreatePolicyVersion",)
    assert expanded.unknown is None
    assert actions.access_level("iam:AttachUserPolicy") == "Permissions management"
    assert actions.access_level("s3:getobject") == "Read"
    assert actions.is_known("ec2:RunInstances") and actions.is_known("s3")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [("madeup:DoThing", "unknown-service"), ("s3:NoSuchAction", "unknown-action"), ("nocolon", "malformed")],
)
def test_unknown_patterns_are_kept_as_events_never_raised(pattern: str, reason: str) -> None:
    expanded = actions.expand(pattern)
    assert expanded.actions == ()
    assert expanded.unknown is not None and expanded.unknown.reason == reason
    assert actions.access_level(pattern) is None
    assert actions.pattern_access_levels(pattern) == frozenset()
    assert not actions.is_known(pattern)
