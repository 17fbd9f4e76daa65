"""Suppressions: loading and validating the file, matching findings, expiry, stale entries."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from auditor.errors import UserError
from auditor.findings import Finding
from auditor.model import (
    AccountSnapshot,
    IamData,
    IamRole,
    IamUser,
    Manifest,
    OrgAccount,
    Organization,
    Resource,
    Snapshot,
)
from auditor.suppressions import (
    Suppression,
    apply_suppressions,
    load_suppressions,
    resource_tag_index,
    suppression_json,
)

TODAY = date(2026, 3, 15)
BUCKET = "arn:aws:s3:::payments-logs"
USER = "arn:aws:iam::111111111111:user/ci-deploy"


def _finding(
    rule_id: str = "CRED-004",
    account_id: str = "111111111111",
    environment: str = "prod",
    resource_arn: str = USER,
) -> Finding:
    return Finding(
        id=f"{rule_id}-{resource_arn}",
        rule_id=rule_id,
        title="t",
        severity="high",
        category="credential-hygiene",
        account_id=account_id,
        region="global",
        resource_arn=resource_arn,
        environment=environment,
        message="m",
        evidence={},
        path=(),
        remediation="r",
        compliance={},
    )


def _suppression(index: int = 1, expires: date = date(2026, 12, 31), **matchers: Any) -> Suppression:
    return Suppression(index=index, reason="accepted", owner="team@example.com", expires=expires, **matchers)


def _no_tags(arn: str) -> Mapping[str, str]:
    return {}


def _tags_of(tags: dict[str, str]) -> Any:
    return lambda arn: tags


# --- matching: each matcher hits, and its near miss does not ----------------------------------

MATCH_CASES = [
    # (case, matchers, finding overrides, resource tags, expected match)
    ("rule_id exact", {"rule_id": "CRED-004"}, {}, {}, True),
    ("rule_id exact, other rule", {"rule_id": "CRED-004"}, {"rule_id": "CRED-0041"}, {}, False),
    ("rule_id glob", {"rule_id": "CRED-*"}, {}, {}, True),
    ("rule_id glob, other family", {"rule_id": "CRED-*"}, {"rule_id": "ENV-001"}, {}, False),
    ("rule_id is case-sensitive", {"rule_id": "cred-004"}, {}, {}, False),
    ("account_id", {"account_id": "111111111111"}, {}, {}, True),
    ("account_id, other account", {"account_id": "111111111112"}, {}, {}, False),
    ("environment", {"environment": "prod"}, {}, {}, True),
    ("environment, non-prod finding", {"environment": "prod"}, {"environment": "non-prod"}, {}, False),
    ("arn exact", {"arn": USER}, {}, {}, True),
    ("arn exact, longer ARN", {"arn": USER}, {"resource_arn": USER + "-old"}, {}, False),
    ("arn glob", {"arn": "arn:aws:iam::111111111111:user/ci-*"}, {}, {}, True),
    ("arn glob, other user", {"arn": "arn:aws:iam::111111111111:user/ci-*"},
     {"resource_arn": "arn:aws:iam::111111111111:user/alice"}, {}, False),
    ("arn glob is case-sensitive", {"arn": "arn:aws:iam::111111111111:user/CI-*"}, {}, {}, False),
    ("arn_regex full match", {"arn_regex": r"arn:aws:iam::\d{12}:user/ci-.+"}, {}, {}, True),
    ("arn_regex must match the whole ARN", {"arn_regex": r"arn:aws:iam::\d{12}:user/ci"}, {}, {}, False),
    ("tags exact", {"tags": {"Owner": "platform"}}, {}, {"Owner": "platform", "env": "prod"}, True),
    ("tags, other value", {"tags": {"Owner": "platform"}}, {}, {"Owner": "payments"}, False),
    ("tags, key absent", {"tags": {"Owner": "platform"}}, {}, {"owner": "platform"}, False),
    ("tags, value glob", {"tags": {"Owner": "plat*"}}, {}, {"Owner": "platform"}, True),
    ("tags, every tag must match", {"tags": {"Owner": "platform", "Tier": "1"}}, {}, {"Owner": "platform"},
     False),
    ("AND: all matchers hit", {"rule_id": "CRED-*", "account_id": "111111111111", "environment": "prod"},
     {}, {}, True),
    ("AND: one matcher misses", {"rule_id": "CRED-*", "account_id": "111111111111", "environment": "sandbox"},
     {}, {}, False),
    ("AND: rule and tags, tag misses", {"rule_id": "CRED-004", "tags": {"Owner": "platform"}}, {}, {}, False),
]


@pytest.mark.parametrize(
    ("matchers", "overrides", "tags", "expected"),
    [case[1:] for case in MATCH_CASES],
    ids=[case[0] for case in MATCH_CASES],
)
def test_matchers(
    matchers: dict[str, Any], overrides: dict[str, str], tags: dict[str, str], expected: bool
) -> None:
    finding = _finding(**overrides)
    entry = _suppression(**matchers)
    outcome = apply_suppressions([finding], [entry], TODAY, _tags_of(tags))
    if expected:
        assert outcome.suppressed == ((finding, entry),)
        assert outcome.active == ()
        assert outcome.stale == ()
    else:
        assert outcome.suppressed == ()
        assert outcome.active == (finding,)
        assert outcome.stale == (entry,)


def test_resource_tags_are_looked_up_by_the_findings_resource_arn() -> None:
    tagged = _finding(resource_arn=BUCKET)
    untagged = _finding(resource_arn=USER)
    entry = _suppression(tags={"Owner": "platform"})

    def tags(arn: str) -> Mapping[str, str]:
        return {"Owner": "platform"} if arn == BUCKET else {}

    outcome = apply_suppressions([tagged, untagged], [entry], TODAY, tags)
    assert outcome.suppressed == ((tagged, entry),)
    assert outcome.active == (untagged,)


# --- expiry -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "hidden"),
    [
        (date(2026, 3, 16), True),  # expires tomorrow
        (TODAY, True),  # last valid day: still applies until the end of the day
        (date(2026, 3, 14), False),  # expired yesterday
    ],
    ids=["future", "last-valid-day", "expired"],
)
def test_expiry(expires: date, hidden: bool) -> None:
    finding = _finding()
    entry = _suppression(expires=expires, rule_id="CRED-004")
    outcome = apply_suppressions([finding], [entry], TODAY, _no_tags)
    if hidden:
        assert outcome.suppressed == ((finding, entry),)
        assert (outcome.active, outcome.expired, outcome.expired_matches) == ((), (), ())
    else:
        assert outcome.suppressed == ()
        assert outcome.active == (finding,)
        assert outcome.expired == (entry,)
        assert outcome.expired_matches == ((finding, entry),)
        assert outcome.stale == ()  # an expired entry is reported as expired, not as stale


def test_expired_entry_matching_nothing_is_expired_without_matches() -> None:
    finding = _finding(rule_id="ENV-001")
    entry = _suppression(expires=date(2026, 1, 1), rule_id="CRED-004")
    outcome = apply_suppressions([finding], [entry], TODAY, _no_tags)
    assert outcome.expired == (entry,)
    assert outcome.expired_matches == ()
    assert outcome.active == (finding,)


def test_finding_hidden_by_a_live_entry_is_not_an_expired_match() -> None:
    finding = _finding()
    lapsed = _suppression(index=1, expires=date(2026, 1, 1), rule_id="CRED-004")
    renewed = _suppression(index=2, rule_id="CRED-004")
    outcome = apply_suppressions([finding], [lapsed, renewed], TODAY, _no_tags)
    assert outcome.suppressed == ((finding, renewed),)
    assert outcome.expired == (lapsed,)
    assert outcome.expired_matches == ()


# --- first match wins, stale entries ----------------------------------------------------------


def test_first_matching_entry_wins_and_shadowed_entry_is_not_stale() -> None:
    finding = _finding()
    broad = _suppression(index=1, rule_id="CRED-*")
    narrow = _suppression(index=2, arn=USER)
    outcome = apply_suppressions([finding], [broad, narrow], TODAY, _no_tags)
    assert outcome.suppressed == ((finding, broad),)
    assert outcome.stale == ()  # narrow matched a finding, even though broad hid it

    reversed_outcome = apply_suppressions([finding], [narrow, broad], TODAY, _no_tags)
    assert reversed_outcome.suppressed == ((finding, narrow),)


def test_stale_entries_are_live_entries_that_match_nothing() -> None:
    cred = _finding(rule_id="CRED-004")
    env = _finding(rule_id="ENV-001", resource_arn=BUCKET)
    used = _suppression(index=1, rule_id="CRED-004")
    unused = _suppression(index=2, rule_id="IAM-*")
    outcome = apply_suppressions([cred, env], [used, unused], TODAY, _no_tags)
    assert outcome.active == (env,)
    assert outcome.suppressed == ((cred, used),)
    assert outcome.stale == (unused,)
    assert outcome.expired == ()


def test_no_suppressions_reports_every_finding() -> None:
    findings = [_finding(), _finding(rule_id="ENV-001")]
    outcome = apply_suppressions(findings, [], TODAY, _no_tags)
    assert outcome.active == tuple(findings)
    assert (outcome.suppressed, outcome.expired, outcome.stale, outcome.expired_matches) == ((), (), (), ())


# --- loading ------------------------------------------------------------------------------------

VALID_LIST = """\
- rule_id: CRED-004
  reason: break-glass user, keys in the vault
  owner: security@example.com
  expires: 2026-06-30
- arn: "arn:aws:s3:::payments-*"
  arn_regex: 'arn:aws:s3:::payments-[a-z]+'
  account_id: 012345670123
  environment: prod
  tags: {CostCenter: 0042, Owner: "plat*"}
  reason: public website bucket
  owner: web@example.com
  expires: 2027-01-01
"""


def _write(tmp_path: Path, text: str, name: str = "suppressions.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_list_file(tmp_path: Path) -> None:
    loaded = load_suppressions(_write(tmp_path, VALID_LIST))
    assert loaded == (
        Suppression(index=1, reason="break-glass user, keys in the vault", owner="security@example.com",
                    expires=date(2026, 6, 30), rule_id="CRED-004"),
        Suppression(index=2, reason="public website bucket", owner="web@example.com",
                    expires=date(2027, 1, 1), arn="arn:aws:s3:::payments-*",
                    arn_regex="arn:aws:s3:::payments-[a-z]+",
                    account_id="012345670123",  # kept as written, not read as an octal number
                    environment="prod", tags={"CostCenter": "0042", "Owner": "plat*"}),
    )


def test_load_from_auditor_yaml_mapping(tmp_path: Path) -> None:
    text = "stale_days: 30\nenvironments:\n  tag_keys: [Environment]\nsuppressions:\n" + "".join(
        "  " + line + "\n" for line in VALID_LIST.splitlines()
    )
    loaded = load_suppressions(_write(tmp_path, text, "auditor.yaml"))
    assert [(s.index, s.rule_id, s.arn) for s in loaded] == [
        (1, "CRED-004", None),
        (2, None, "arn:aws:s3:::payments-*"),
    ]


@pytest.mark.parametrize(
    "text",
    ["", "# nothing yet\n", "[]\n", "stale_days: 30\n", "suppressions:\n", "suppressions: []\n"],
    ids=["empty", "comment-only", "empty-list", "auditor-yaml-without-key", "null-key", "empty-key"],
)
def test_load_nothing(tmp_path: Path, text: str) -> None:
    assert load_suppressions(_write(tmp_path, text)) == ()


ENTRY = "  reason: r\n  owner: o\n  expires: 2026-06-30\n"

MALFORMED_CASES = [
    # (case, file text, the exact message after "suppressions file <path>")
    ("missing reason", "- rule_id: CRED-004\n  owner: o\n  expires: 2026-06-30\n",
     ": entry 1 (rule_id CRED-004): missing 'reason'"),
    ("missing owner", "- rule_id: CRED-004\n  reason: r\n  expires: 2026-06-30\n",
     ": entry 1 (rule_id CRED-004): missing 'owner'"),
    ("missing expires", "- rule_id: CRED-004\n  reason: r\n  owner: o\n",
     ": entry 1 (rule_id CRED-004): missing 'expires'"),
    ("missing several", "- rule_id: CRED-004\n  reason: r\n",
     ": entry 1 (rule_id CRED-004): missing 'owner', 'expires'"),
    ("empty owner", "- rule_id: CRED-004\n  reason: r\n  owner: ''\n  expires: 2026-06-30\n",
     ": entry 1 (rule_id CRED-004): 'owner' is empty"),
    ("reason not text", "- rule_id: CRED-004\n  reason: [a, b]\n  owner: o\n  expires: 2026-06-30\n",
     ": entry 1 (rule_id CRED-004): 'reason' must be text, not a list"),
    ("impossible date", "- rule_id: CRED-004\n  reason: r\n  owner: o\n  expires: 2026-02-30\n",
     ": entry 1 (rule_id CRED-004): expires '2026-02-30' is not a valid date (YYYY-MM-DD)"),
    ("date in another format", "- rule_id: CRED-004\n  reason: r\n  owner: o\n  expires: 30/06/2026\n",
     ": entry 1 (rule_id CRED-004): expires '30/06/2026' is not a date (YYYY-MM-DD)"),
    ("date with a time", "- rule_id: CRED-004\n  reason: r\n  owner: o\n  expires: 2026-06-30T10:00:00\n",
     ": entry 1 (rule_id CRED-004): expires '2026-06-30T10:00:00' is not a date (YYYY-MM-DD)"),
    ("bad regex", "- arn_regex: 'arn:aws:iam::(\\d+:role/x'\n" + ENTRY,
     ": entry 1 (arn_regex arn:aws:iam::(\\d+:role/x): arn_regex is not a valid regular expression: "
     "missing ), unterminated subpattern at position 13"),
    ("unknown key, near a known one", "- rule: CRED-004\n" + ENTRY,
     ": entry 1: unknown key 'rule' (did you mean 'rule_id'?)"),
    ("unknown key", "- rule_id: CRED-004\n  severity: low\n" + ENTRY,
     ": entry 1 (rule_id CRED-004): unknown key 'severity' (known keys: reason, owner, expires, rule_id, "
     "account_id, environment, arn, arn_regex, tags)"),
    ("no matcher", "- " + ENTRY.lstrip(),
     ": entry 1: needs at least one matcher: rule_id, account_id, environment, arn, arn_regex, tags"),
    ("only empty tags", "- tags: {}\n" + ENTRY,
     ": entry 1: needs at least one matcher: rule_id, account_id, environment, arn, arn_regex, tags"),
    ("bad environment", "- environment: production\n" + ENTRY,
     ": entry 1 (environment production): environment 'production' is not one of prod, non-prod, sandbox, "
     "security, management, unknown"),
    ("short account id", "- account_id: 11111111111\n" + ENTRY,
     ": entry 1 (account_id 11111111111): account_id '11111111111' is not a 12-digit account id"),
    ("tags not a mapping", "- tags: [Owner]\n" + ENTRY,
     ": entry 1: tags must be a mapping of tag key to value, not a list"),
    ("tag value not text", "- tags: {Public: true}\n" + ENTRY,
     ": entry 1: tag 'Public': keys and values must be text (quote them), got True"),
    ("entry not a mapping", "- CRED-004\n", ": entry 1: must be a mapping of keys, not text"),
    ("later entry is named", "- rule_id: CRED-001\n" + ENTRY + "- rule_id: CRED-004\n  reason: r\n",
     ": entry 2 (rule_id CRED-004): missing 'owner', 'expires'"),
    ("top level is text", "CRED-004\n", " must be a list of entries, not text"),
    ("top level is one entry", "rule_id: CRED-004\nreason: r\nowner: o\nexpires: 2026-06-30\n",
     ": the top level is one entry; write it as a list item ('- ...')"),
    ("suppressions key not a list", "suppressions: {rule_id: CRED-004}\n",
     ": suppressions must be a list of entries, not a mapping"),
    ("invalid YAML", "- rule_id: [CRED-004\n",
     " is not valid YAML: line 2, column 1: expected ',' or ']', but got '<stream end>'"),
    ("invalid YAML, bad indentation", "- rule_id: CRED-004\n reason: r\n",
     " is not valid YAML: line 2, column 2: expected <block end>, but found '<block mapping start>'"),
]


@pytest.mark.parametrize(
    ("text", "message"),
    [case[1:] for case in MALFORMED_CASES],
    ids=[case[0] for case in MALFORMED_CASES],
)
def test_malformed_file_is_one_line_naming_the_entry(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(UserError) as raised:
        load_suppressions(path)
    assert str(raised.value) == f"suppressions file {path}{message}"
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "entry",
    [
        "- rule_id: CRED-004\n" + ENTRY,
        "- arn_regex: 'arn:aws:iam::(\\d+):role/x'\n" + ENTRY,
        "- environment: non-prod\n" + ENTRY,
        "- account_id: '111111111111'\n" + ENTRY,
        "- tags: {Public: 'true'}\n" + ENTRY,
        "- rule_id: CRED-004\n  reason: r\n  owner: o\n  expires: '2026-06-30'\n",
    ],
    ids=["rule_id", "good-regex", "known-environment", "quoted-account-id", "quoted-tag-value",
         "quoted-date"],
)
def test_benign_twins_of_malformed_entries_load(tmp_path: Path, entry: str) -> None:
    (loaded,) = load_suppressions(_write(tmp_path, entry))
    assert loaded.expires == date(2026, 6, 30)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(UserError, match=r"^suppressions file .*nope\.yaml does not exist$"):
        load_suppressions(path)


def test_bad_regex_built_in_code_fails_at_construction() -> None:
    with pytest.raises(Exception, match="unterminated"):
        _suppression(arn_regex="(")


def test_suppression_is_hashable_and_compares_by_value() -> None:
    a = _suppression(tags={"Owner": "x"}, arn_regex="arn:.*")
    b = _suppression(tags={"Owner": "x"}, arn_regex="arn:.*")
    assert a == b and hash(a) == hash(b)
    assert a != dataclasses.replace(a, tags={"Owner": "y"})


# --- tags from the snapshot, and the findings.json field -------------------------------------


def test_resource_tag_index() -> None:
    role = "arn:aws:iam::111111111111:role/deploy"
    member_arn = "arn:aws:organizations::999999999999:account/o-1/111111111111"
    snapshot = Snapshot(
        manifest=Manifest(tool_version="t", created_at="2026-01-01T00:00:00+00:00", mode="organization"),
        organization=Organization(
            id="o-1", arn="arn:org", management_account_id="999999999999", root_id="r-1",
            accounts=(OrgAccount(id="111111111111", arn=member_arn, name="payments", tags={"env": "prod"}),),
        ),
        accounts=(
            AccountSnapshot(
                account_id="111111111111",
                resources=(
                    Resource(arn=BUCKET, type="s3:bucket", region="us-east-1", tags={"Owner": "web"}),
                ),
                iam=IamData(
                    users=(IamUser(arn=USER, name="ci-deploy", tags={"Owner": "ci"}),),
                    roles=(IamRole(arn=role, name="deploy", tags={"Owner": "platform"}),),
                ),
            ),
        ),
    )
    tags = resource_tag_index(snapshot)
    assert tags(BUCKET) == {"Owner": "web"}
    assert tags(USER) == {"Owner": "ci"}
    assert tags(role) == {"Owner": "platform"}
    assert tags(member_arn) == {"env": "prod"}
    assert tags("arn:aws:iam::111111111111:root") == {"env": "prod"}
    assert tags("arn:aws:s3:::unknown") == {}


def test_suppression_json_lists_only_the_fields_that_are_set() -> None:
    assert suppression_json(_suppression(index=3, rule_id="CRED-*", tags={"Owner": "x"})) == {
        "index": 3,
        "reason": "accepted",
        "owner": "team@example.com",
        "expires": "2026-12-31",
        "rule_id": "CRED-*",
        "tags": {"Owner": "x"},
    }
