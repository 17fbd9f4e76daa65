"""Run history: deltas between recorded runs, document diffs, and one-line errors for bad input."""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from auditor.errors import UserError
from auditor.history import (
    DocumentDiff,
    diff_documents,
    load_document,
    organization_key,
    record_run,
    render_diff,
)
from tests.report_helpers import MANAGEMENT, ORG_ID, sample_result

T1, T2, T3 = "2026-11-01T09:00:00Z", "2026-11-08T09:00:00Z", "2026-11-15T09:00:00Z"


@pytest.fixture(scope="module")
def base_document() -> dict[str, Any]:
    return sample_result().findings_document()


def _run(base: dict[str, Any], generated_at: str, keep: range | list[int], *,
         suppress: tuple[int, ...] = (), org_id: str | None = ORG_ID) -> dict[str, Any]:
    """The sample document at ``generated_at`` with only the findings at indexes ``keep`` (some suppressed)."""
    doc = copy.deepcopy(base)
    doc["generated_at"] = generated_at
    doc["organization"]["id"] = org_id
    doc["findings"] = [base["findings"][i] for i in keep if i not in suppress]
    doc["suppressed_findings"] = [{**base["findings"][i], "suppressed": True, "suppression": {"reason": "accepted"}}
                                  for i in suppress]
    return doc


def _ids(base: dict[str, Any], indexes: range | list[int]) -> tuple[str, ...]:
    return tuple(sorted(base["findings"][i]["id"] for i in indexes))


# --- record_run -----------------------------------------------------------------------------------


def test_three_consecutive_runs_give_exact_deltas_and_ages(tmp_path: Path, base_document: dict[str, Any]) -> None:
    db = tmp_path / "history" / "runs.sqlite"
    first = record_run(db, _run(base_document, T1, range(0, 5)))
    second = record_run(db, _run(base_document, T2, range(1, 6)))  # finding 0 fixed, finding 5 appears
    third = record_run(db, _run(base_document, T3, [2, 3, 4, 5, 6, 7]))  # finding 1 fixed, 6 and 7 appear

    assert (first.previous_run_id, first.new, first.resolved, first.persisting) == (
        None, _ids(base_document, range(0, 5)), (), ())
    assert (second.previous_run_id, len(second.new), len(second.resolved), len(second.persisting)) == (
        first.run_id, 1, 1, 4)
    assert second.new == _ids(base_document, [5])
    assert second.resolved == _ids(base_document, [0])
    assert (third.previous_run_id, third.new, third.resolved, third.persisting) == (
        second.run_id, _ids(base_document, [6, 7]), _ids(base_document, [1]), _ids(base_document, [2, 3, 4, 5]))

    ids = base_document["findings"]
    assert third.first_seen == {
        ids[2]["id"]: T1, ids[3]["id"]: T1, ids[4]["id"]: T1, ids[5]["id"]: T2, ids[6]["id"]: T3, ids[7]["id"]: T3,
    }
    assert len({first.run_id, second.run_id, third.run_id}) == 3


def test_a_finding_that_comes_back_keeps_its_first_seen(tmp_path: Path, base_document: dict[str, Any]) -> None:
    db = tmp_path / "h.db"
    record_run(db, _run(base_document, T1, [0, 1]))
    record_run(db, _run(base_document, T2, [1]))
    back = record_run(db, _run(base_document, T3, [0, 1]))
    finding_0 = base_document["findings"][0]["id"]
    assert back.new == (finding_0,)
    assert back.first_seen[finding_0] == T1


def test_runs_of_another_organisation_do_not_mix(tmp_path: Path, base_document: dict[str, Any]) -> None:
    db = tmp_path / "h.db"
    ours_first = record_run(db, _run(base_document, T1, range(0, 3)))
    theirs = record_run(db, _run(base_document, T2, range(3, 10), org_id="o-otherorg99"))
    ours_second = record_run(db, _run(base_document, T3, range(0, 4)))

    assert theirs.previous_run_id is None
    assert theirs.new == _ids(base_document, range(3, 10))
    assert theirs.resolved == ()
    assert ours_second.previous_run_id == ours_first.run_id
    assert ours_second.new == _ids(base_document, [3])
    assert ours_second.resolved == ()
    # Finding 3 was in the other organisation's run at T2; its age here counts from our runs only.
    assert ours_second.first_seen[base_document["findings"][3]["id"]] == T3
    assert set(ours_second.first_seen.values()) == {T1, T3}


def test_previous_run_is_the_latest_earlier_by_time_not_by_insertion(
    tmp_path: Path, base_document: dict[str, Any]
) -> None:
    db = tmp_path / "h.db"
    latest = record_run(db, _run(base_document, T3, [0, 1, 2]))
    backfilled = record_run(db, _run(base_document, T1, [0]))
    middle = record_run(db, _run(base_document, T2, [0, 1]))
    assert backfilled.previous_run_id is None
    assert middle.previous_run_id == backfilled.run_id
    assert middle.new == _ids(base_document, [1])
    assert latest.previous_run_id is None  # it was recorded first; its own delta is not rewritten


def test_recording_the_same_document_twice_adds_nothing(tmp_path: Path, base_document: dict[str, Any]) -> None:
    db = tmp_path / "h.db"
    record_run(db, _run(base_document, T1, [0, 1]))
    once = record_run(db, _run(base_document, T2, [1, 2]))
    again = record_run(db, _run(base_document, T2.replace("Z", "+00:00"), [1, 2]))
    assert again == once
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM runs").fetchone() == (2,)


def test_a_suppressed_finding_is_not_reported_as_resolved(tmp_path: Path, base_document: dict[str, Any]) -> None:
    db = tmp_path / "h.db"
    record_run(db, _run(base_document, T1, [0, 1, 2]))
    delta = record_run(db, _run(base_document, T2, [0, 1, 2], suppress=(1,)))
    assert delta.suppressed == _ids(base_document, [1])
    assert delta.resolved == ()
    assert delta.persisting == _ids(base_document, [0, 2])
    assert base_document["findings"][1]["id"] not in delta.first_seen


def test_the_run_row_keeps_org_and_counts(tmp_path: Path, base_document: dict[str, Any]) -> None:
    db = tmp_path / "h.db"
    record_run(db, _run(base_document, T1, range(10), suppress=(9,)))
    with sqlite3.connect(db) as connection:
        row = connection.execute(
            "SELECT org_key, organization_id, management_account_id, generated_at, total, critical, high, "
            "medium, low, info, suppressed FROM runs").fetchone()
        stored = connection.execute(
            "SELECT finding_id, rule_id, severity, account_id, resource_arn, title, suppressed FROM findings "
            "WHERE finding_id = ?", (base_document["findings"][0]["id"],)).fetchone()
        indexes = {r[0] for r in connection.execute("SELECT sql FROM sqlite_master WHERE type = 'index'") if r[0]}
        version = connection.execute("SELECT version FROM schema_version").fetchall()
    # Sample: 1 critical, 5 high (ENV-001 write is high), 2 medium, 1 low, 1 info; SCP-001 (info) suppressed.
    assert row == (ORG_ID, ORG_ID, MANAGEMENT, T1, 9, 1, 5, 2, 1, 0, 1)
    first = base_document["findings"][0]
    assert stored == (first["id"], first["rule_id"], first["severity"], first["account_id"],
                      first["resource_arn"], first["title"], 0)
    assert any("(finding_id)" in sql for sql in indexes)
    assert version == [(1,)]


@pytest.mark.parametrize(
    ("organization", "accounts", "expected"),
    [
        ({"id": ORG_ID, "management_account_id": MANAGEMENT}, [], ORG_ID),
        ({"id": None, "management_account_id": MANAGEMENT}, [], MANAGEMENT),
        ({"id": None, "management_account_id": None}, [{"id": "123456789012", "is_management": False}],
         "123456789012"),
        ({"id": None, "management_account_id": None},
         [{"id": "210987654321"}, {"id": "123456789012", "is_management": True}], "123456789012"),
        ({"id": None, "management_account_id": None}, [{"id": "2"}, {"id": "1"}], "accounts:1,2"),
    ],
    ids=["org-id", "management-account", "single-account", "flagged-management", "no-management"],
)
def test_organization_key(organization: dict[str, Any], accounts: list[dict[str, Any]], expected: str) -> None:
    assert organization_key({"organization": organization, "accounts": accounts}) == expected


def test_single_account_runs_are_keyed_by_that_account(tmp_path: Path, base_document: dict[str, Any]) -> None:
    db = tmp_path / "h.db"
    single = _run(base_document, T1, [0], org_id=None)
    single["organization"]["management_account_id"] = None
    single["accounts"] = [{**base_document["accounts"][1], "is_management": False}]
    record_run(db, single)
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT org_key FROM runs").fetchone() == (base_document["accounts"][1]["id"],)


def _write_sqlite_with(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        (lambda p: p.write_bytes(b"this is not a database at all, just text" * 100), "not a usable history database"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200), "not a usable history database"),
        (lambda p: _write_sqlite_with(p, "CREATE TABLE notes (x TEXT)"), "not an auditor history database"),
        (lambda p: _write_sqlite_with(p, "CREATE TABLE schema_version (version INTEGER)",
                                      "INSERT INTO schema_version VALUES (99)"), "schema version 99"),
        (lambda p: p.mkdir(), "not a usable history database"),
    ],
    ids=["text-file", "corrupt-header", "other-sqlite-db", "future-schema", "directory"],
)
def test_unusable_database_is_a_one_line_user_error(
    tmp_path: Path, base_document: dict[str, Any], prepare: Any, message: str
) -> None:
    db = tmp_path / "h.db"
    prepare(db)
    with pytest.raises(UserError) as caught:
        record_run(db, _run(base_document, T1, [0]))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_failed_record_leaves_the_store_unchanged(tmp_path: Path, base_document: dict[str, Any]) -> None:
    db = tmp_path / "h.db"
    record_run(db, _run(base_document, T1, [0]))
    broken = _run(base_document, T2, [0, 1])
    broken["findings"][1] = {**broken["findings"][1], "id": broken["findings"][0]["id"]}
    with pytest.raises(UserError, match="appears twice"):
        record_run(db, broken)
    with pytest.raises(UserError, match="not an ISO 8601 time"):
        record_run(db, _run(base_document, "yesterday", [0]))
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)


# --- diff_documents -------------------------------------------------------------------------------


def _finding(name: str, severity: str = "high", rule: str = "IAM-001") -> dict[str, Any]:
    return {"id": f"{rule}-{name}", "rule_id": rule, "title": f"title {name}", "severity": severity,
            "account_id": "123456789012", "resource_arn": f"arn:aws:iam::123456789012:role/{name}"}


def _doc(*findings: dict[str, Any], suppressed: tuple[dict[str, Any], ...] = (), at: str = T1) -> dict[str, Any]:
    return {"schema_version": "1.0", "generated_at": at, "organization": {"id": ORG_ID},
            "findings": list(findings), "suppressed_findings": list(suppressed)}


A, B, C = _finding("a"), _finding("b", "medium"), _finding("c", "low")


@pytest.mark.parametrize(
    ("old", "new", "expected_new", "expected_resolved", "expected_persisting", "changes", "suppressed"),
    [
        (_doc(A, B), _doc(A, B), [], [], [A, B], [], []),
        (_doc(A), _doc(A, B), [B], [], [A], [], []),
        (_doc(A, B), _doc(A), [], [B], [A], [], []),
        (_doc(), _doc(C, A), [A, C], [], [], [], []),  # most severe first
        (_doc(A, B), _doc(), [], [A, B], [], [], []),
        (_doc(A), _doc({**A, "severity": "critical"}), [], [], [{**A, "severity": "critical"}],
         [("high", "critical")], []),
        (_doc(A, B), _doc(A, suppressed=(B,)), [], [], [A], [], [B]),
        (_doc(A, suppressed=(B,)), _doc(A, B), [B], [], [A], [], []),  # suppression expired: visible again
        (_doc(A), _doc(B), [B], [A], [], [], []),
    ],
    ids=["same", "added", "removed", "from-empty", "to-empty", "severity-raised", "newly-suppressed",
         "suppression-expired", "replaced"],
)
def test_diff_documents(old: dict[str, Any], new: dict[str, Any], expected_new: list[dict[str, Any]],
                        expected_resolved: list[dict[str, Any]], expected_persisting: list[dict[str, Any]],
                        changes: list[tuple[str, str]], suppressed: list[dict[str, Any]]) -> None:
    diff = diff_documents(old, new)
    assert list(diff.new) == expected_new
    assert list(diff.resolved) == expected_resolved
    assert list(diff.persisting) == expected_persisting
    assert [(c.old_severity, c.new_severity) for c in diff.severity_changes] == changes
    assert [c.finding_id for c in diff.severity_changes] == [A["id"]] * len(changes)
    assert list(diff.suppressed) == suppressed


def test_diff_keeps_full_finding_dicts(base_document: dict[str, Any]) -> None:
    old = _run(base_document, T1, [0, 1])
    new = _run(base_document, T2, [1, 2])
    diff = diff_documents(old, new)
    assert diff.new == (base_document["findings"][2],)
    assert diff.resolved == (base_document["findings"][0],)
    assert "evidence" in diff.new[0] and "remediation" in diff.resolved[0]


# --- render_diff ----------------------------------------------------------------------------------


def test_render_diff_lists_counts_and_each_new_and_resolved_finding() -> None:
    text = render_diff(diff_documents(_doc(A, B, at=T1), _doc({**A, "severity": "critical"}, C, at=T2)))
    lines = text.splitlines()
    assert lines[0] == (f"Findings {T1} -> {T2}: 1 new, 1 resolved, 1 persisting, 1 severity changed, "
                        "0 newly suppressed")
    assert "New:" in lines and "Resolved:" in lines and "Severity changed:" in lines
    new_line = lines[lines.index("New:") + 1]
    assert new_line.split() == ["+", "low", "IAM-001", "123456789012", C["resource_arn"]]
    resolved_line = lines[lines.index("Resolved:") + 1]
    assert resolved_line.split() == ["-", "medium", "IAM-001", "123456789012", B["resource_arn"]]
    changed_line = lines[lines.index("Severity changed:") + 1]
    assert changed_line.split()[:4] == ["~", "high", "->", "critical"]
    assert "Warning" not in text


def test_render_diff_with_no_change_is_just_the_counts() -> None:
    assert render_diff(diff_documents(_doc(A), _doc(A))).splitlines() == [
        f"Findings {T1} -> {T1}: 0 new, 0 resolved, 1 persisting, 0 severity changed, 0 newly suppressed"]


def test_render_diff_escapes_terminal_control_characters_and_warns_on_other_org() -> None:
    hostile = {**A, "resource_arn": "arn:aws:iam::123456789012:role/x\x1b[2J\nforged line"}
    other_org = {**_doc(hostile), "organization": {"id": "o-someoneelse"}}
    text = render_diff(diff_documents(_doc(), other_org))
    assert "\x1b" not in text
    assert "\\x1b[2J\\nforged line" in text
    assert len(text.splitlines()) == 4  # counts, warning, heading, one finding
    assert f"different organisations ({ORG_ID} and o-someoneelse)" in text


def test_diff_result_is_a_document_diff() -> None:
    assert isinstance(diff_documents(_doc(), _doc()), DocumentDiff)


# --- load_document --------------------------------------------------------------------------------


def test_load_document_reads_a_file_or_a_report_directory(tmp_path: Path, base_document: dict[str, Any]) -> None:
    (tmp_path / "findings.json").write_text(json.dumps(base_document), encoding="utf-8")
    assert load_document(tmp_path / "findings.json") == base_document
    assert load_document(tmp_path) == base_document


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("absent.json", None, "no such file"),
        ("empty-report", "DIR", "no findings.json in this directory"),
        ("broken.json", '{"schema_version": "1.0", "findings": [', "not valid JSON"),
        ("list.json", "[]", "not a findings document (expected a JSON object)"),
        ("snapshot.json", '{"manifest": {}, "accounts": []}', "no 'schema_version' or 'findings' key"),
        ("nofindings.json", '{"schema_version": "1.0"}', "no 'findings' key"),
        ("future.json", '{"schema_version": "2.0", "findings": []}', "unsupported findings schema_version '2.0'"),
        ("noid.json", '{"schema_version": "1.0", "findings": [{"rule_id": "X"}]}', "findings[0] has no id"),
        ("latin1.json", b'{"schema_version": "1.0", "findings": [], "x": "\xe9"}', "not UTF-8"),
    ],
)
def test_load_document_errors_are_one_line(tmp_path: Path, name: str, content: str | bytes | None,
                                           message: str) -> None:
    path = tmp_path / name
    if content == "DIR":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_document(path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(path))
    assert "\n" not in str(caught.value)


def test_an_error_inside_the_transaction_leaves_the_store_unchanged(
    tmp_path: Path, base_document: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "h.db"
    record_run(db, _run(base_document, T1, [0]))

    def fail(*args: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr("auditor.history._delta", fail)
    with pytest.raises(UserError, match="disk I/O error"):
        record_run(db, _run(base_document, T2, [0, 1]))
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM runs").fetchone() == (1,)
        assert connection.execute("SELECT COUNT(*) FROM findings").fetchone() == (1,)
