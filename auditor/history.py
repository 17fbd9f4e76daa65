"""Run history: an SQLite store of past findings.json documents, and diffs between two documents.

``record_run`` keeps one row per run and one per finding of that run, and answers "what is new,
resolved or still there since the last run of this organisation". ``diff_documents`` compares two
findings.json documents without any store. Both key on the finding ``id``, which the findings
contract keeps stable across runs for the same issue on the same resource.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.console import printable
from auditor.errors import UserError
from auditor.findings import SEVERITIES, SEVERITY_RANK
from auditor.outputs import PRIVATE_FILE_MODE, make_private_dirs

HISTORY_SCHEMA_VERSION = 1
SUPPORTED_FINDINGS_MAJOR = "1"
FINDINGS_FILE = "findings.json"
# The fields of a finding the store keeps; findings.json itself stays the full record.
STORED_FINDING_FIELDS = ("id", "rule_id", "severity", "account_id", "resource_arn", "title")

_SCHEMA = (
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        org_key TEXT NOT NULL,
        organization_id TEXT,
        management_account_id TEXT,
        generated_at TEXT NOT NULL,
        generated_ts REAL NOT NULL,
        recorded_at TEXT NOT NULL,
        findings_schema_version TEXT NOT NULL,
        tool_version TEXT,
        total INTEGER NOT NULL,
        critical INTEGER NOT NULL,
        high INTEGER NOT NULL,
        medium INTEGER NOT NULL,
        low INTEGER NOT NULL,
        info INTEGER NOT NULL,
        suppressed INTEGER NOT NULL,
        UNIQUE (org_key, generated_ts)
    )""",
    # The primary key's leading column serves lookups by run_id; the second index serves finding age.
    """CREATE TABLE findings (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        finding_id TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        severity TEXT NOT NULL,
        account_id TEXT NOT NULL,
        resource_arn TEXT NOT NULL,
        title TEXT NOT NULL,
        suppressed INTEGER NOT NULL,
        PRIMARY KEY (run_id, finding_id)
    )""",
    "CREATE INDEX idx_findings_finding_id ON findings (finding_id)",
    "CREATE INDEX idx_runs_org_time ON runs (org_key, generated_ts)",
)


@dataclass(frozen=True)
class RunDelta:
    """How one recorded run differs from the latest earlier run of the same organisation.

    The sets are over live (unsuppressed) findings. A finding that was live and is now suppressed is
    in ``suppressed``, not in ``resolved``: it was hidden, not fixed. With no earlier run
    (``previous_run_id is None``) every live finding is in ``new``.
    """

    run_id: int
    previous_run_id: int | None
    new: tuple[str, ...]
    resolved: tuple[str, ...]
    persisting: tuple[str, ...]
    first_seen: dict[str, str]  # live finding id -> generated_at of the first run of this org that had it
    suppressed: tuple[str, ...] = ()
    trend: tuple[TrendPoint, ...] = ()  # the latest runs of this organisation up to this one, oldest first


@dataclass(frozen=True)
class TrendPoint:
    """One recorded run's live-finding counts, for the trend line of the reports."""

    generated_at: str
    total: int
    by_severity: dict[str, int]


TREND_RUNS = 8


@dataclass(frozen=True)
class SeverityChange:
    finding_id: str
    old_severity: str
    new_severity: str
    finding: dict[str, Any]  # as in the newer document


@dataclass(frozen=True)
class DocumentDiff:
    """Two findings.json documents compared by finding id; finding dicts are the documents' own."""

    old_generated_at: str
    new_generated_at: str
    old_organization: str
    new_organization: str
    new: tuple[dict[str, Any], ...]
    resolved: tuple[dict[str, Any], ...]  # from the older document
    persisting: tuple[dict[str, Any], ...]  # from the newer document
    severity_changes: tuple[SeverityChange, ...]
    suppressed: tuple[dict[str, Any], ...] = ()  # live in the older document, suppressed in the newer


# --- findings documents ---------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def check_document(document: Any, source: str) -> dict[str, Any]:
    """``document`` when it looks like a findings.json this auditor can read; else a one-line UserError."""
    if not isinstance(document, dict):
        raise UserError(f"{source}: not a findings document (expected a JSON object)")
    missing = [key for key in ("schema_version", "findings") if key not in document]
    if missing:
        raise UserError(f"{source}: not a findings document (no {' or '.join(repr(k) for k in missing)} key)")
    version = document["schema_version"]
    if not isinstance(version, str) or version.split(".")[0] != SUPPORTED_FINDINGS_MAJOR:
        raise UserError(
            f"{source}: unsupported findings schema_version {_one_line(repr(version))} "
            f"(this auditor reads {SUPPORTED_FINDINGS_MAJOR}.x)"
        )
    for key in ("findings", "suppressed_findings"):
        entries = document.get(key, [])
        if not isinstance(entries, list):
            raise UserError(f"{source}: not a findings document ({key!r} is not a list)")
        for index, entry in enumerate(entries):
            absent = [name for name in STORED_FINDING_FIELDS if not isinstance(entry, dict) or name not in entry]
            if absent:
                raise UserError(f"{source}: {key}[{index}] has no {', '.join(absent)}")
    return document


def _not_json(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def load_document(path: Path) -> dict[str, Any]:
    """A findings.json document from a file, or from a report directory that holds findings.json."""
    file = path / FINDINGS_FILE if path.is_dir() else path
    if not file.exists():
        where = f"{path}: no {FINDINGS_FILE} in this directory" if path.is_dir() else f"{path}: no such file"
        raise UserError(_one_line(where))
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(_one_line(f"{file}: not a findings document (not UTF-8 text)")) from None
    except OSError as exc:
        raise UserError(_one_line(f"{file}: cannot read ({exc.strerror or exc})")) from None
    try:
        document = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise UserError(
            _one_line(f"{file}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")
        ) from None
    except RecursionError:
        raise UserError(_one_line(f"{file}: not a findings document (nested too deeply)")) from None
    except ValueError as exc:
        raise UserError(_one_line(f"{file}: not valid JSON ({exc})")) from None
    return check_document(document, _one_line(str(file)))


def organization_key(document: dict[str, Any]) -> str:
    """Which organisation a document is about: the org id, else the management or single account id."""
    org = document.get("organization") or {}
    for value in (org.get("id"), org.get("management_account_id")):
        if value:
            return str(value)
    accounts = [a for a in document.get("accounts", []) if isinstance(a, dict) and a.get("id")]
    management = [str(a["id"]) for a in accounts if a.get("is_management")]
    if management:
        return management[0]
    if len(accounts) == 1:
        return str(accounts[0]["id"])
    return "accounts:" + ",".join(sorted(str(a["id"]) for a in accounts))


def _by_id(document: dict[str, Any], key: str, source: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for entry in document.get(key, []):
        finding_id = str(entry["id"])
        if finding_id in found:
            raise UserError(_one_line(f"{source}: finding id {finding_id} appears twice in {key!r}"))
        found[finding_id] = entry
    return found


def _sort_key(finding: dict[str, Any]) -> tuple[int, str, str, str, str]:
    """Most severe first, then rule, account, resource: the order of ``sort_findings``."""
    return (
        -SEVERITY_RANK.get(str(finding.get("severity")), -1),
        str(finding.get("rule_id", "")),
        str(finding.get("account_id", "")),
        str(finding.get("resource_arn", "")),
        str(finding.get("id", "")),
    )


def _sorted(findings: Any) -> tuple[dict[str, Any], ...]:
    return tuple(sorted(findings, key=_sort_key))


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> DocumentDiff:
    """Compare two findings documents by finding id (pure; both are checked first)."""
    check_document(old, "old document")
    check_document(new, "new document")
    old_live = _by_id(old, "findings", "old document")
    new_live = _by_id(new, "findings", "new document")
    new_suppressed = _by_id(new, "suppressed_findings", "new document")
    persisting = [new_live[i] for i in new_live.keys() & old_live.keys()]
    changes = sorted(
        (
            SeverityChange(f["id"], str(old_live[f["id"]]["severity"]), str(f["severity"]), f)
            for f in persisting
            if old_live[f["id"]]["severity"] != f["severity"]
        ),
        key=lambda change: _sort_key(change.finding),
    )
    gone = old_live.keys() - new_live.keys()
    return DocumentDiff(
        old_generated_at=str(old.get("generated_at", "")),
        new_generated_at=str(new.get("generated_at", "")),
        old_organization=organization_key(old),
        new_organization=organization_key(new),
        new=_sorted(new_live[i] for i in new_live.keys() - old_live.keys()),
        resolved=_sorted(old_live[i] for i in gone - new_suppressed.keys()),
        persisting=_sorted(persisting),
        severity_changes=tuple(changes),
        suppressed=_sorted(new_suppressed[i] for i in gone & new_suppressed.keys()),
    )


def _finding_line(mark: str, finding: dict[str, Any], severity: str | None = None) -> str:
    shown = printable(finding.get("severity", "?")) if severity is None else severity
    return "  ".join((
        f"  {mark} {shown:<8}",
        f"{printable(finding.get('rule_id', '?')):<10}",
        printable(finding.get("account_id", "?")),
        printable(finding.get("resource_arn", "?")),
    ))


def render_diff(diff: DocumentDiff) -> str:
    """Counts, then one line per new, resolved, suppressed and re-graded finding."""
    lines = [
        f"Findings {printable(diff.old_generated_at)} -> {printable(diff.new_generated_at)}: "
        f"{len(diff.new)} new, {len(diff.resolved)} resolved, {len(diff.persisting)} persisting, "
        f"{len(diff.severity_changes)} severity changed, {len(diff.suppressed)} newly suppressed"
    ]
    if diff.old_organization != diff.new_organization:
        lines.append(
            f"Warning: the documents are about different organisations "
            f"({printable(diff.old_organization)} and {printable(diff.new_organization)})"
        )
    sections = (
        ("New", "+", diff.new),
        ("Resolved", "-", diff.resolved),
        ("Newly suppressed", "s", diff.suppressed),
    )
    for heading, mark, findings in sections:
        if findings:
            lines.append(f"{heading}:")
            lines.extend(_finding_line(mark, f) for f in findings)
    if diff.severity_changes:
        lines.append("Severity changed:")
        lines.extend(
            _finding_line(
                "~", change.finding, f"{printable(change.old_severity)} -> {printable(change.new_severity)}"
            )
            for change in diff.severity_changes
        )
    return "\n".join(lines) + "\n"


# --- the store ------------------------------------------------------------------------------------


def _timestamp(value: Any, source: str) -> float:
    """Seconds since the epoch of an ISO 8601 time; a time without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise UserError(_one_line(f"{source}: generated_at {value!r} is not an ISO 8601 time")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _unusable(db_path: Path, exc: sqlite3.Error) -> UserError:
    return UserError(_one_line(f"{db_path}: not a usable history database ({exc})"))


def _open_store(db_path: Path) -> sqlite3.Connection:
    """A connection in an open write transaction on a store at the current schema version; a new store
    file is created readable by its owner only."""
    try:
        make_private_dirs(db_path.parent)
    except OSError as exc:
        raise UserError(_one_line(f"{db_path}: cannot create its folder ({exc.strerror or exc})")) from None
    if db_path.is_dir():
        raise UserError(_one_line(f"{db_path}: not a usable history database (it is a directory)"))
    if not db_path.exists():
        try:
            os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
        except FileExistsError:
            pass
        except OSError as exc:
            raise UserError(_one_line(f"{db_path}: cannot create it ({exc.strerror or exc})")) from None
    connection: sqlite3.Connection | None = None
    try:
        connection = sqlite3.connect(db_path, isolation_level=None)
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("BEGIN IMMEDIATE")
        _ensure_schema(connection, db_path)
    except BaseException as exc:
        if connection is not None:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            connection.close()
        if isinstance(exc, sqlite3.DatabaseError):
            raise _unusable(db_path, exc) from None
        raise
    return connection


class PendingRun:
    """A run written into an open transaction of the store: nothing is stored until ``commit``.

    The CLI commits only after every report file is in place, so a run whose reports could not be
    written (disk full, a bad --out, Ctrl-C) is never counted as the previous run.
    """

    def __init__(self, db_path: Path, connection: sqlite3.Connection, delta: RunDelta | None = None) -> None:
        self.db_path = db_path
        self.connection = connection
        self.delta = delta

        self.closed = False

    def commit(self) -> None:
        try:
            self.connection.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            self.rollback()
            raise _unusable(self.db_path, exc) from None
        self.closed = True
        self.connection.close()

    def rollback(self) -> None:
        """Store nothing; safe to call again, and after ``commit``'s failure."""
        if self.closed:
            return
        self.closed = True
        try:
            if self.connection.in_transaction:
                self.connection.execute("ROLLBACK")
        finally:
            self.connection.close()


def _ensure_schema(connection: sqlite3.Connection, db_path: Path) -> None:
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables:
        for statement in _SCHEMA:
            connection.execute(statement)
        connection.execute("INSERT INTO schema_version (version) VALUES (?)", (HISTORY_SCHEMA_VERSION,))
        return
    if "schema_version" not in tables:
        raise UserError(f"{db_path}: an SQLite database, but not an auditor history database")
    row = connection.execute("SELECT MAX(version) FROM schema_version").fetchone()
    if row is None or row[0] != HISTORY_SCHEMA_VERSION:
        raise UserError(
            f"{db_path}: history database schema version {row[0] if row else None} is not supported "
            f"(this auditor uses version {HISTORY_SCHEMA_VERSION})"
        )


def record_run(db_path: Path, document: dict[str, Any]) -> RunDelta:
    """Store a findings.json document as a run and compare it with the latest earlier run of its org.

    Recording a document whose organisation and generated_at are already stored adds nothing and
    returns that run's delta again.
    """
    pending = begin_run(db_path, document)
    pending.commit()
    assert pending.delta is not None
    return pending.delta


def begin_run(db_path: Path, document: dict[str, Any]) -> PendingRun:
    """``record_run`` up to, not including, the commit: the caller commits or rolls back the result."""
    check_document(document, "findings document")
    live = _by_id(document, "findings", "findings document")
    hidden = _by_id(document, "suppressed_findings", "findings document")
    org_key = organization_key(document)
    generated_at = str(document.get("generated_at", ""))
    generated_ts = _timestamp(generated_at, "findings document")
    pending = PendingRun(db_path, _open_store(db_path))
    try:
        db = pending.connection
        existing = db.execute(
            "SELECT id FROM runs WHERE org_key = ? AND generated_ts = ?", (org_key, generated_ts)
        ).fetchone()
        run_id = int(existing[0]) if existing else _insert_run(db, document, org_key, generated_ts, live, hidden)
        pending.delta = _delta(db, run_id, org_key, generated_ts)
    except BaseException as exc:
        pending.rollback()
        if isinstance(exc, sqlite3.DatabaseError):
            raise _unusable(db_path, exc) from None
        raise
    return pending


def _insert_run(
    db: sqlite3.Connection,
    document: dict[str, Any],
    org_key: str,
    generated_ts: float,
    live: dict[str, dict[str, Any]],
    hidden: dict[str, dict[str, Any]],
) -> int:
    org = document.get("organization") or {}
    counts = {severity: 0 for severity in SEVERITIES}
    for finding in live.values():
        if finding["severity"] in counts:
            counts[finding["severity"]] += 1
    cursor = db.execute(
        """INSERT INTO runs (org_key, organization_id, management_account_id, generated_at, generated_ts,
               recorded_at, findings_schema_version, tool_version, total, critical, high, medium, low, info,
               suppressed)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            org_key, org.get("id"), org.get("management_account_id"), str(document["generated_at"]),
            generated_ts, datetime.now(UTC).isoformat(timespec="seconds"), document["schema_version"],
            (document.get("tool") or {}).get("version"), len(live),
            *(counts[severity] for severity in ("critical", "high", "medium", "low", "info")), len(hidden),
        ),
    )
    run_id = cursor.lastrowid
    assert run_id is not None
    db.executemany(
        """INSERT INTO findings (run_id, finding_id, rule_id, severity, account_id, resource_arn, title,
               suppressed)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            (run_id, *(str(finding[name]) for name in STORED_FINDING_FIELDS), int(is_suppressed))
            for is_suppressed, group in ((False, live), (True, hidden))
            for finding in group.values()
        ),
    )
    return run_id


def _ids(db: sqlite3.Connection, run_id: int, suppressed: bool) -> set[str]:
    rows = db.execute(
        "SELECT finding_id FROM findings WHERE run_id = ? AND suppressed = ?", (run_id, int(suppressed))
    )
    return {row[0] for row in rows}


def _delta(db: sqlite3.Connection, run_id: int, org_key: str, generated_ts: float) -> RunDelta:
    previous = db.execute(
        """SELECT id FROM runs WHERE org_key = ? AND generated_ts < ?
           ORDER BY generated_ts DESC, id DESC LIMIT 1""",
        (org_key, generated_ts),
    ).fetchone()
    previous_run_id = int(previous[0]) if previous else None
    now_live = _ids(db, run_id, suppressed=False)
    now_hidden = _ids(db, run_id, suppressed=True)
    before = _ids(db, previous_run_id, suppressed=False) if previous_run_id is not None else set()
    # SQLite takes the bare generated_at column from the row that holds MIN(generated_ts).
    first_seen = {
        row[0]: row[2]
        for row in db.execute(
            """SELECT current.finding_id, MIN(run.generated_ts), run.generated_at
               FROM findings AS current
               JOIN findings AS past ON past.finding_id = current.finding_id
               JOIN runs AS run ON run.id = past.run_id
               WHERE current.run_id = ? AND current.suppressed = 0
                 AND run.org_key = ? AND run.generated_ts <= ?
               GROUP BY current.finding_id""",
            (run_id, org_key, generated_ts),
        )
    }
    trend = tuple(
        TrendPoint(generated_at=row[0], total=row[1], by_severity=dict(zip(SEVERITIES, row[2:], strict=True)))
        for row in reversed(db.execute(
            """SELECT generated_at, total, critical, high, medium, low, info FROM runs
               WHERE org_key = ? AND generated_ts <= ? ORDER BY generated_ts DESC, id DESC LIMIT ?""",
            (org_key, generated_ts, TREND_RUNS),
        ).fetchall())
    )
    return RunDelta(
        trend=trend,
        run_id=run_id,
        previous_run_id=previous_run_id,
        new=tuple(sorted(now_live - before)),
        resolved=tuple(sorted(before - now_live - now_hidden)),
        persisting=tuple(sorted(now_live & before)),
        first_seen=first_seen,
        suppressed=tuple(sorted(before & now_hidden)),
    )
