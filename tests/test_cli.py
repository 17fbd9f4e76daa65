"""The command line: usage errors are one line and exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from auditor.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


def test_rules_list_shows_catalogue_with_mappings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["rules", "list"], capsys)
    assert code == 0
    for rule_id in (
        "ENV-001",
        "MGMT-001",
        "ADMIN-001",
        "XENV-001",
        "EXT-001",
        "CRED-001",
        "COST-002",
        "COV-001",
    ):
        assert rule_id in out
    assert "CIS-AWS-3.0.0 1.16" in out


def test_rules_show(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["rules", "show", "ADMIN-003"], capsys)
    assert code == 0
    assert "Workload role with full administrative access" in out and "Remediation:" in out


def test_unknown_rule_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["rules", "show", "NOPE-001"], capsys)
    assert code == 2 and err.startswith("error: unknown rule id")


def test_corrupt_snapshot_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot = tmp_path / "snap"
    snapshot.mkdir()
    (snapshot / "manifest.json").write_text("{broken")
    code, _, err = run(["analyze", str(snapshot), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "manifest.json is not valid JSON" in err
    assert "Traceback" not in err


def test_missing_snapshot_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["analyze", str(tmp_path / "nope")], capsys)
    assert code == 2 and "does not exist" in err


def test_role_template_rejects_bad_account(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["role-template", "--trusted-account-id", "abc"], capsys)
    assert code == 2 and "12-digit" in err


def test_bad_flag_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["audit", "--concurrency", "0"], capsys)
    assert code == 2 and "concurrency" in err


def test_no_credentials_is_one_line_exit_2(tmp_path: Path) -> None:
    """A real subprocess with no credentials anywhere: one clear line, exit 2, no traceback."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "auditor.cli", "audit", "--out", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "credentials" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1


def test_ctrl_c_during_collection_is_one_line_exit_130_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import auditor.collect

    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(auditor.collect, "collect", interrupted)
    code, out, err = run(["collect", "--out", str(tmp_path / "snap"), "--regions", "us-east-1"], capsys)
    assert (code, out) == (130, "")
    assert err.strip().splitlines()[-1] == "interrupted: no snapshot or report was left half-written"
    assert not (tmp_path / "snap").exists()
