"""History through the CLI: three consecutive demo-snapshot runs with a change in between give the
right new / resolved counts, `--fail-on-new` gates only on new findings, and `auditor diff` compares runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.snapshot import read_snapshot, write_snapshot


@pytest.fixture(scope="module")
def demo_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo-history")
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--out", str(out), "--quiet", "--format", "json"])
    assert exit_info.value.code == 3  # partial: one demo account refuses the audit role
    return out / "snapshot"


def _without_user(snapshot_dir: Path, user_name: str, target: Path) -> Path:
    """A copy of the snapshot where one IAM user (and its credential-report row) was deleted: the fix."""
    snapshot = read_snapshot(snapshot_dir)
    accounts = []
    for account in snapshot.accounts:
        if account.iam is not None:
            iam = account.iam.model_copy(update={
                "users": tuple(u for u in account.iam.users if u.name != user_name),
                "credential_report": tuple(r for r in account.iam.credential_report or () if r.user != user_name),
            })
            account = account.model_copy(update={"iam": iam})
        accounts.append(account)
    return write_snapshot(snapshot.model_copy(update={"accounts": tuple(accounts)}), target)


def _run(snapshot: Path, out: Path, db: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", str(snapshot), "--out", str(out), "--quiet", "--format", "json,html", "--history", str(db),
              *extra])
    return int(exit_info.value.code or 0), json.loads((out / "findings.json").read_text())


def test_three_runs_with_a_fix_in_between(demo_snapshot: Path, tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    fixed = _without_user(demo_snapshot, "dave", tmp_path / "fixed")

    _, first = _run(demo_snapshot, tmp_path / "r1", db)
    assert first["history"]["previous_run_id"] is None
    assert first["history"]["new"] == len(first["findings"]) and first["history"]["resolved"] == 0

    _, second = _run(fixed, tmp_path / "r2", db)
    dave = [f["id"] for f in first["findings"] if f["resource_arn"].endswith(":user/dave")]
    assert dave and second["history"]["resolved"] == len(dave)
    assert sorted(second["history"]["resolved_ids"]) == sorted(dave)
    assert second["history"]["new"] == 0
    assert all(f["history_status"] == "persisting" for f in second["findings"])
    assert all(f["first_seen"] == first["generated_at"] for f in second["findings"])

    code, third = _run(demo_snapshot, tmp_path / "r3", db, "--fail-on", "high", "--fail-on-new")
    assert third["history"]["new"] == len(dave) and third["history"]["resolved"] == 0
    assert {f["id"] for f in third["findings"] if f["history_status"] == "new"} == set(dave)
    assert code == 1  # dave's console-without-MFA finding (high) is back
    trend = (tmp_path / "r3" / "report.html").read_text().split('id="trend"')[1].split("</p>")[0]
    expected = f'class="definition">Since the previous recorded run: <strong>{len(dave)}</strong> new'
    assert " ".join(trend.split()).startswith(expected)


def test_fail_on_new_ignores_old_findings(demo_snapshot: Path, tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite"
    code, _ = _run(demo_snapshot, tmp_path / "a", db, "--fail-on", "low", "--fail-on-new")
    assert code == 3  # the baseline run fails nothing (3: the demo snapshot is partial)
    code, _ = _run(demo_snapshot, tmp_path / "b", db, "--fail-on", "low", "--fail-on-new")
    assert code == 3
    code, _ = _run(demo_snapshot, tmp_path / "c", db, "--fail-on", "low")
    assert code == 1


def test_fail_on_new_needs_history(demo_snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", str(demo_snapshot), "--out", str(tmp_path), "--fail-on-new"])
    assert exit_info.value.code == 2 and "--fail-on-new needs" in capsys.readouterr().err


def test_diff_command(demo_snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fixed = _without_user(demo_snapshot, "dave", tmp_path / "fixed")
    for snapshot, out in ((demo_snapshot, "old"), (fixed, "new")):
        with pytest.raises(SystemExit):
            main(["analyze", str(snapshot), "--out", str(tmp_path / out), "--quiet", "--format", "json"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["diff", str(tmp_path / "old"), str(tmp_path / "new")])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "dave" in out and "resolved" in out.lower()
    with pytest.raises(SystemExit) as exit_info:
        main(["diff", str(tmp_path / "new"), str(tmp_path / "old"), "--fail-on-new", "high"])
    assert exit_info.value.code == 1
    shutil.rmtree(tmp_path / "old")
    with pytest.raises(SystemExit) as exit_info:
        main(["diff", str(tmp_path / "old"), str(tmp_path / "new")])
    assert exit_info.value.code == 2
