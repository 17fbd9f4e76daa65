"""Policy parsing, matching, conditions and the action catalogue."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from auditor.iam import actions
from auditor.iam.conditions import ConditionContext, Opaque, Tri, evaluate_conditions
from auditor.iam.glob import glob_match
from auditor.iam.policy import (
    PolicyParseError,
    PolicySource,
    action_matches,
    arn_account,
    arn_matches,
    parse_policy,
    pattern_tri,
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


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("", "", True),
        ("", "a", False),
        ("*", "", True),
        ("a*", "a", True),
        ("*a", "ba", True),
        ("*a", "ab", False),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("a*b*c", "axxbyyc", True),
        ("a*b*c", "axxcyyb", False),
        ("*ab*ab*", "abab", True),
        ("*ab*ab*", "aba", False),
        ("a*?b", "ab", False),
        ("a*?b", "axb", True),
        ("*?*?*", "x", False),
        ("*?*?*", "xy", True),
        ("role/*-admin", "role/ci-admin", True),
        ("role/*-admin", "role/ci-admin-x", False),
        ("abc*abc", "abcabc", True),
        ("abc*abc", "abcab", False),
        ("**", "anything", True),
    ],
)
def test_glob_matching(pattern: str, text: str, expected: bool) -> None:
    assert glob_match(pattern, text) is expected


def test_glob_agrees_with_a_reference_regex_on_random_small_inputs() -> None:
    """Seeded, so reproducible: 3,000 patterns over ``ab*?`` against texts over ``ab`` (small enough for the
    backtracking reference to be instant)."""
    rng = random.Random(11)
    for _ in range(3000):
        pattern = "".join(rng.choice("ab*?") for _ in range(rng.randint(0, 7)))
        text = "".join(rng.choice("ab") for _ in range(rng.randint(0, 9)))
        reference = re.fullmatch("".join(".*" if c == "*" else "." if c == "?" else c for c in pattern), text)
        assert glob_match(pattern, text) is (reference is not None), (pattern, text)


def test_adversarial_wildcard_pattern_is_matched_without_backtracking() -> None:
    """A dozen stars against a 60-character name: exponential for a backtracking regex, linear here.
    (The time is measured in bench/bench_matcher.py, never asserted.)"""
    name = "a" * 60
    pattern = "arn:aws:iam::*:role/" + "*a" * 12 + "*b"
    assert not arn_matches(pattern, f"arn:aws:iam::123456789012:role/{name}")
    assert arn_matches(pattern, f"arn:aws:iam::123456789012:role/{name}b")  # benign twin: it does match
    assert not action_matches("*a" * 12 + "*b", "s3:" + name)


@pytest.mark.parametrize(
    ("pattern", "facts", "expected"),
    [
        ("arn:aws:iam::*:user/${aws:username}", {"aws:username": ("alice",)}, Tri.YES),
        ("arn:aws:iam::*:user/${aws:username}", {"aws:username": ("bob",)}, Tri.NO),
        ("arn:aws:iam::*:user/${aws:username}", {}, Tri.MAYBE),  # unknown: could match
        ("arn:aws:iam::*:user/${aws:username}", {"aws:username": None}, Tri.NO),  # absent: no value
        ("arn:aws:iam::*:user/${aws:username, 'alice'}", {"aws:username": None}, Tri.YES),  # default
        ("arn:aws:iam::*:user/${ AWS:UserName , 'it''s'}", {"aws:username": None}, Tri.NO),
        ("arn:aws:iam::*:user/${aws:username}", {"aws:username": ("a", "b")}, Tri.NO),  # multi-valued
        ("arn:aws:iam::*:user/ali${?}e", {}, Tri.NO),  # ${?} is a literal question mark
        ("arn:aws:iam::*:user/al${$}", {}, Tri.NO),
    ],
)
def test_pattern_variables(pattern: str, facts: dict[str, Any], expected: Tri) -> None:
    def lookup(key: str) -> Any:
        return facts.get(key.lower(), False)

    assert pattern_tri(pattern, "arn:aws:iam::123456789012:user/alice", lookup) == expected


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


GOV_OWNER = "arn:aws-us-gov:iam::222222222222:role/r"


@pytest.mark.parametrize(
    ("principal", "owner", "caller", "expected"),
    [
        ("arn:aws-us-gov:iam::111111111111:root", None, "arn:aws-us-gov:iam::111111111111:user/a", "account"),
        ("111111111111", GOV_OWNER, "arn:aws-us-gov:iam::111111111111:user/b", "account"),
        ("111111111111", "arn:aws-cn:iam::222222222222:role/r", "arn:aws-cn:iam::111111111111:role/x", "account"),
        ("arn:aws:iam::111111111111:root", None, "arn:aws-us-gov:iam::111111111111:user/a", None),  # twin
        ("111111111111", "arn:aws:iam::222222222222:role/r", "arn:aws-cn:iam::111111111111:role/x", None),  # twin
        (
            "arn:aws-us-gov:iam::111111111111:role/r",
            None,
            "arn:aws-us-gov:sts::111111111111:assumed-role/r/session",
            "direct",
        ),
    ],
)
def test_principal_partition(principal: str, owner: str | None, caller: str, expected: str | None) -> None:
    source = PolicySource("trust", "trust", owner, owner)
    st = parse_policy(
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]}, source
    ).statements[0]
    assert st.principal_match("AWS", caller, "111111111111") == expected


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
    absent=frozenset({"aws:sourceaccount", "aws:principaltag/*"}),
)
OUTSIDER = ConditionContext(values={"aws:principalorgid": Opaque(frozenset({"o-ours"}))})
TAGS_AB = ConditionContext(
    values={"aws:tagkeys": ("a", "b"), "aws:sourcearns": ("arn:aws:s3:::xa", "arn:aws:s3:::xb")}
)
TAGS_MISSING = ConditionContext(absent=frozenset({"aws:tagkeys", "aws:principaltag/dept"}))
TAGS_EMPTY = ConditionContext(values={"aws:tagkeys": ()})
# an ARN of account 2222... whose resource part names 1111...: a star must not run across the colons
CROSSING = ConditionContext(
    values={"aws:sourcearn": ("arn:aws:ec2:us-east-1:222222222222:x:111111111111:instance/i-1",)}
)


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
        # set operators with negated operators (AWS: ForAllValues holds over a missing or empty key,
        # ForAnyValue never does; a negated operator holds for a value that matches none of the policy's)
        ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a"]}}, TAGS_AB, Tri.YES),  # "b" is not "a"
        ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a", "b"]}}, TAGS_AB, Tri.NO),
        ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a"]}}, TAGS_MISSING, Tri.NO),
        ({"ForAnyValue:StringNotLike": {"aws:TagKeys": ["a*"]}}, TAGS_AB, Tri.YES),
        ({"ForAnyValue:StringNotLike": {"aws:TagKeys": ["*"]}}, TAGS_AB, Tri.NO),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, TAGS_MISSING, Tri.NO),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]}}, TAGS_EMPTY, Tri.NO),
        ({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["c"]}}, TAGS_AB, Tri.YES),
        ({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["a"]}}, TAGS_AB, Tri.NO),
        ({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["a"]}}, TAGS_MISSING, Tri.YES),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a"]}}, TAGS_EMPTY, Tri.YES),
        ({"ForAllValues:ArnNotLike": {"aws:SourceArns": ["arn:aws:s3:::y*"]}}, TAGS_AB, Tri.YES),
        ({"ForAllValues:ArnNotLike": {"aws:SourceArns": ["arn:aws:s3:::xa"]}}, TAGS_AB, Tri.NO),
        ({"ForAnyValue:ArnNotLike": {"aws:SourceArns": ["arn:aws:s3:::xa"]}}, TAGS_AB, Tri.YES),
        ({"ForAnyValue:ArnNotLike": {"aws:SourceArns": ["arn:aws:s3:::x*"]}}, TAGS_AB, Tri.NO),
        ({"StringNotEquals": {"aws:TagKeys": ["a"]}}, TAGS_MISSING, Tri.YES),
        # ArnLike matches each colon-separated component on its own: * does not run across a colon
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/ci"}}, CTX, Tri.YES),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:ec2:*:111111111111:instance/*"}}, CROSSING, Tri.NO),
        ({"StringLike": {"aws:SourceArn": "arn:aws:ec2:*:111111111111:instance/*"}}, CROSSING, Tri.YES),
        ({"ArnNotLike": {"aws:SourceArn": "arn:aws:ec2:*:111111111111:instance/*"}}, CROSSING, Tri.YES),
        ({"ArnLike": {"aws:SourceArn": "arn:aws:ec2:*:222222222222:*"}}, CROSSING, Tri.YES),
        ({"StringEquals": {"aws:PrincipalTag/team": "${aws:PrincipalTag/dept, 'data'}"}}, CTX, Tri.YES),
        ({"StringEquals": {"aws:PrincipalTag/team": "${aws:PrincipalTag/dept}"}}, CTX, Tri.NO),
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
