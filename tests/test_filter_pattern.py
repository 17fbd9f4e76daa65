"""CloudWatch Logs filter patterns compared by meaning: equivalent spellings cover the CIS reference, narrower
or unrelated patterns do not, and a match-everything pattern never counts."""

from __future__ import annotations

import pytest

from auditor.filter_pattern import FilterPatternError, Term, covers, parse
from auditor.monitoring_watches import WATCHES, Watch

BY_ID: dict[str, Watch] = {w.cis_v3: w for w in WATCHES}


def _covers(pattern: str, control: str) -> bool:
    watch = BY_ID[control]
    implied = frozenset({Term("$.eventSource", "=", watch.source)}) if watch.source else frozenset()
    return covers(parse(pattern), parse(watch.reference), implied)


@pytest.mark.parametrize(("control", "pattern"), [
    # CIS v3.0.0's own text (&& binds tighter than ||) and the older, broader v1 pattern
    ("4.1", '{($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && '
            '($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }'),
    ("4.1", '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'),
    # the broad sign-in-without-MFA variant, terms reordered and unquoted
    ("4.2", "{ ($.additionalEventData.MFAUsed != Yes) && ($.eventName == ConsoleLogin) }"),
    ("4.3", '{$.userIdentity.type="Root"&&$.userIdentity.invokedBy NOT EXISTS&&$.eventType!="AwsServiceEvent"}'),
    # KMS: the event source may be dropped (the event names only come from KMS) or kept
    ("4.7", "{ ($.eventName = DisableKey) || ($.eventName = ScheduleKeyDeletion) }"),
    ("4.7", '{ (($.eventName="ScheduleKeyDeletion") || ($.eventName="DisableKey")) && '
            '($.eventSource="kms.amazonaws.com") }'),
    # one filter watching security groups and NACLs at once still watches security groups
    ("4.10", "{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || "
             "($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || "
             "($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) || "
             "($.eventName = CreateNetworkAcl) }"),
    # a wildcard value covering several event names
    ("4.5", '{ ($.eventName = "*Trail") || ($.eventName = StartLogging) || ($.eventName = StopLogging) }'),
])
def test_equivalent_spellings_cover_the_reference(control: str, pattern: str) -> None:
    assert _covers(pattern, control)


@pytest.mark.parametrize(("control", "pattern"), [
    ("4.1", '{ $.errorCode = "*UnauthorizedOperation" }'),  # misses AccessDenied
    ("4.3", '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventName = "Get*" }'),
    ("4.7", "{ $.eventName = DisableKey }"),  # misses ScheduleKeyDeletion
    ("4.7", "{ ($.eventSource = sqs.amazonaws.com) && (($.eventName = DisableKey) || "
            "($.eventName = ScheduleKeyDeletion)) }"),  # a source that never sends these events
    ("4.5", "{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || "
            "($.eventName = StartLogging) }"),  # StopLogging, the one that matters most, is missing
    ("4.6", "{ $.eventName = * }"),  # matches everything: an alarm on every event is no alarm
    ("4.6", '{ ($.eventName = ConsoleLogin) && ($.errorMessage != "Failed authentication") }'),
])
def test_narrower_or_unrelated_patterns_do_not_cover(control: str, pattern: str) -> None:
    assert not _covers(pattern, control)


def test_every_reference_covers_itself() -> None:
    for watch in WATCHES:
        assert _covers(watch.reference, watch.cis_v3), watch.cis_v3


@pytest.mark.parametrize("pattern", ["ERROR", '{ $.eventName = "x" ', "{ ($.eventName = ) }", "{ $.a = 1 && }"])
def test_unreadable_patterns_raise(pattern: str) -> None:
    with pytest.raises(FilterPatternError):
        parse(pattern)


def test_redundant_disjuncts_are_removed() -> None:
    assert parse("{ ($.a = 1) || (($.a = 1) && ($.b = 2)) }") == (frozenset({Term("$.a", "=", "1")}),)
