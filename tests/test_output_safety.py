"""The user's files are safe: a snapshot replaces only an empty directory or an earlier snapshot, every
output appears all together or not at all, history is committed only after the outputs, and everything
written is private (0600 files, 0700 directories)."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.model import AccountSnapshot, IamData, IamRole, Manifest, Snapshot
from auditor.snapshot import write_snapshot

ACCOUNT = "111111111111"


def small_snapshot(created_at: str = "2026-01-01T00:00:00+00:00") -> Snapshot:
    """One account with one workload role that has full admin: a few findings, no moto."""
    role = IamRole(
        arn=f"arn:aws:iam::{ACCOUNT}:role/app", name="app",
        trust_policy={"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        inline_policies=(),
        attached_policy_arns=(),
    )
    account = AccountSnapshot(account_id=ACCOUNT, name="solo", regions=("us-east-1",), iam=IamData(roles=(role,)),
                              budgets=())
    manifest = Manifest(tool_version="0", created_at=created_at, mode="single-account", account_ids=(ACCOUNT,))
    return Snapshot(manifest=manifest, organization=None, accounts=(account,))


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


@pytest.fixture
def fake_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    """``collect``/``audit``/``demo`` return the small snapshot instead of reading AWS or moto."""
    import auditor.collect
    import auditor.demo_run

    def collect(_session: object, _options: object, sink: Any = None) -> Any:
        snapshot = small_snapshot()
        if sink is None:
            return snapshot
        # a streaming run writes each account's shard through the sink as it is collected
        shards = {a.account_id: sink.write_account(a, (), {}).sha256 for a in snapshot.accounts}
        return snapshot.model_copy(update={"manifest": snapshot.manifest.model_copy(update={"shard_sha256": shards})})

    monkeypatch.setattr(auditor.collect, "collect", collect)
    monkeypatch.setattr(auditor.demo_run, "collect_demo", small_snapshot)


def _command(command: str, target: Path, tmp_path: Path) -> list[str]:
    """The command line that writes a snapshot to ``target``."""
    if command == "collect":
        return ["collect", "--out", str(target), "--regions", "us-east-1", "--quiet"]
    if command == "audit":  # audit writes OUT/snapshot
        return ["audit", "--out", str(target.parent), "--regions", "us-east-1", "--quiet"]
    return ["demo", "--out", str(tmp_path / "report"), "--snapshot-out", str(target), "--quiet"]


def _user_folder(target: Path) -> None:
    target.mkdir()
    (target / "history.sqlite").write_bytes(b"precious")
    (target / "notes.txt").write_text("mine")


def _foreign_manifest(target: Path) -> None:
    target.mkdir()
    (target / "manifest.json").write_text('{"name": "some web app", "version": "1.0"}')


@pytest.mark.parametrize("command", ["collect", "audit", "demo"])
@pytest.mark.parametrize(
    ("prepare", "replaced"),
    [
        (None, True),
        (lambda t: t.mkdir(), True),
        (lambda t: write_snapshot(small_snapshot("2025-01-01T00:00:00+00:00"), t), True),
        (_user_folder, False),
        (_foreign_manifest, False),
    ],
    ids=["absent", "empty", "earlier-snapshot", "user-folder", "foreign-manifest"],
)
def test_snapshot_replaces_only_an_empty_directory_or_an_earlier_snapshot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_collection: None, command: str,
    prepare: Any, replaced: bool,
) -> None:
    target = tmp_path / "out" / "snapshot"
    target.parent.mkdir()
    if prepare is not None:
        prepare(target)
    before = sorted(p.name for p in target.iterdir()) if target.exists() else None
    code, _, err = run(_command(command, target, tmp_path), capsys)
    if replaced:
        assert code == 0, err
        streamed = ["aws_managed_policies", "shards.jsonl"] if command != "demo" else []
        assert sorted(p.name for p in target.iterdir()) == sorted(["accounts", "coverage.json", "manifest.json",
                                                                   "organization.json", *streamed])
    else:
        flag = "--snapshot-out" if command == "demo" else "--out"
        assert code == 2
        assert err == (f"error: {flag} {target} is not empty and is not an earlier snapshot (no auditor "
                       "manifest.json); refusing to replace it: choose another directory, or add --force to "
                       "replace it\n")
        assert sorted(p.name for p in target.iterdir()) == before
        code, _, err = run([*_command(command, target, tmp_path), "--force"], capsys)
        assert code == 0, err
        assert not (target / "notes.txt").exists()


@pytest.mark.parametrize("command", ["collect", "audit", "demo"])
def test_snapshot_target_that_is_a_file_is_refused_even_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_collection: None, command: str
) -> None:
    target = tmp_path / "out" / "snapshot"
    target.parent.mkdir()
    target.write_text("a file")
    code, _, err = run([*_command(command, target, tmp_path), "--force"], capsys)
    assert code == 2 and err.startswith("error: ") and "is a file" in err and err.count("\n") == 1
    assert target.read_text() == "a file"


def test_refused_target_is_checked_before_collecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import auditor.collect

    calls: list[object] = []
    monkeypatch.setattr(auditor.collect, "collect", lambda *a: calls.append(a))
    _user_folder(tmp_path / "snap")
    code, _, _ = run(["collect", "--out", str(tmp_path / "snap")], capsys)
    assert (code, calls) == (2, [])


# --- all outputs or none, history last ------------------------------------------------------------------


@pytest.fixture
def snapshot_dir(tmp_path: Path) -> Path:
    return write_snapshot(small_snapshot(), tmp_path / "snap")


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def _runs(db: Path) -> int:
    """Runs recorded in the store (0 when it was never created, or created and rolled back)."""
    with sqlite3.connect(db) as connection:
        if not connection.execute("SELECT name FROM sqlite_master WHERE name = 'runs'").fetchone():
            return 0
        return int(connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0])


@pytest.mark.parametrize("fail_at", [1, 2, 3, "history"])
def test_interrupted_write_leaves_every_output_old_and_records_no_run(
    tmp_path: Path, snapshot_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    fail_at: int | str,
) -> None:
    """Ctrl-C (or a failure) at any point of the final moves, or at the history commit: the report
    directory holds exactly the earlier run's files, and the history store has only the earlier run."""
    import auditor.history
    import auditor.outputs

    out, db = tmp_path / "report", tmp_path / "history.sqlite"
    formats = ["--format", "html,json,csv,md,ocsf"]
    assert run(["analyze", str(snapshot_dir), "--out", str(out), "--history", str(db), *formats], capsys)[0] == 0
    old = _outputs(out)
    real_replace = auditor.outputs.os.replace
    moves: list[object] = []

    def replace(source: Any, target: Any) -> None:
        if str(source).endswith(".staged"):
            moves.append(target)
            if len(moves) == fail_at:
                raise KeyboardInterrupt
        real_replace(source, target)

    def failing_commit(self: Any) -> None:
        self.rollback()
        raise KeyboardInterrupt

    monkeypatch.setattr(auditor.outputs.os, "replace", replace)
    if fail_at == "history":
        monkeypatch.setattr(auditor.history.PendingRun, "commit", failing_commit)
    code, _, _ = run(["analyze", str(snapshot_dir), "--out", str(out), "--history", str(db), *formats], capsys)
    assert code == 130
    assert _outputs(out) == old  # no staged or kept-aside file left behind either
    assert _runs(db) == 1


def test_history_is_not_recorded_when_the_reports_cannot_be_written(
    tmp_path: Path, snapshot_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run whose reports fail (disk full) is not the 'previous run' of the retry: --fail-on-new still fires."""
    import auditor.report.csv_report

    db, out = tmp_path / "history.sqlite", tmp_path / "report"

    def disk_full(*_: object, **__: object) -> None:
        raise UserError("disk full")

    from auditor.errors import UserError

    real = auditor.report.csv_report.render_csv
    monkeypatch.setattr(auditor.report.csv_report, "render_csv", disk_full)
    code, _, err = run(["analyze", str(snapshot_dir), "--out", str(out), "--history", str(db)], capsys)
    assert (code, err) == (2, "error: disk full\n")
    assert _runs(db) == 0
    assert not out.exists() or list(out.iterdir()) == []
    monkeypatch.setattr(auditor.report.csv_report, "render_csv", real)
    code, _, err = run(["analyze", str(snapshot_dir), "--out", str(out), "--history", str(db)], capsys)
    assert code == 0 and _runs(db) == 1


# --- private permissions ------------------------------------------------------------------------------


def _modes(root: Path) -> dict[str, int]:
    found = {str(p.relative_to(root.parent)): stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*")}
    return {**found, root.name: stat.S_IMODE(root.stat().st_mode)}


def test_every_output_file_is_0600_and_every_directory_0700(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_collection: None
) -> None:
    old_umask = os.umask(0o022)  # a usual umask: the auditor must not rely on the caller's
    try:
        out, db = tmp_path / "runs" / "audit", tmp_path / "state" / "history.sqlite"
        code, _, err = run(["audit", "--out", str(out), "--regions", "us-east-1", "--history", str(db),
                            "--format", "html,json,csv,md,ocsf", "--quiet"], capsys)
        assert code == 0, err
        assert os.umask(0o022) == 0o022  # restored after the run
    finally:
        os.umask(old_umask)
    modes = {**_modes(tmp_path / "runs"), **_modes(tmp_path / "state")}
    assert "runs/audit/snapshot/accounts/111111111111.json" in modes and "state/history.sqlite" in modes
    wrong = {path: oct(mode) for path, mode in modes.items()
             if mode != (0o700 if (tmp_path / path).is_dir() else 0o600)}
    assert wrong == {}


def test_library_writes_are_private_whatever_the_umask(tmp_path: Path) -> None:
    """The snapshot and report writers set their own modes; they do not depend on the CLI's umask."""
    from auditor.history import record_run

    old_umask = os.umask(0o022)
    try:
        write_snapshot(small_snapshot(), tmp_path / "a" / "snap")
        document = {"schema_version": "1.0", "generated_at": "2026-01-01T00:00:00+00:00", "findings": [],
                    "accounts": [{"id": ACCOUNT}]}
        record_run(tmp_path / "h" / "history.sqlite", document)
    finally:
        os.umask(old_umask)
    modes = {**_modes(tmp_path / "a"), **_modes(tmp_path / "h")}
    wrong = {path: oct(mode) for path, mode in modes.items()
             if mode != (0o700 if (tmp_path / path).is_dir() else 0o600)}
    assert wrong == {}


def test_existing_output_directory_keeps_its_mode(tmp_path: Path, snapshot_dir: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The benign twin: a directory the user made is theirs; only what the auditor creates is made private."""
    out = tmp_path / "shared"
    out.mkdir(mode=0o755)
    os.chmod(out, 0o755)
    assert run(["analyze", str(snapshot_dir), "--out", str(out)], capsys)[0] == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o600}


def test_ctrl_c_during_the_final_moves_waits_until_they_are_done() -> None:
    """A real SIGINT arriving while the outputs move into place acts only once every move is done."""
    import signal

    from auditor.outputs import held_signals

    done: list[str] = []
    with pytest.raises(KeyboardInterrupt), held_signals():
        signal.raise_signal(signal.SIGINT)
        done.append("every move")
    assert done == ["every move"]
