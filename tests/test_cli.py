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


COLLECTION_CONFIG = """
collection:
  regions: [eu-west-1, eu-central-1]
  role_name: OrgAuditRole
  external_id: from-config
  accounts: [12345678901, "111122223333"]   # the first unquoted: YAML reads a number and drops the zero
  exclude_accounts: ["444455556666"]
  concurrency: 4
  processes: 2
"""


@pytest.mark.parametrize(
    ("config", "flags", "expected"),
    [
        (None, [], {"regions": (), "role_name": "SecurityAuditRole", "external_id": None, "accounts": (),
                    "exclude_accounts": (), "concurrency": 8, "processes": 1}),
        (COLLECTION_CONFIG, [], {
            "regions": ("eu-west-1", "eu-central-1"), "role_name": "OrgAuditRole", "external_id": "from-config",
            "accounts": ("012345678901", "111122223333"), "exclude_accounts": ("444455556666",),
            "concurrency": 4, "processes": 2}),
        # a flag on the command line wins, even when it repeats the flag's default value
        (COLLECTION_CONFIG, ["--regions", "us-west-2", "--concurrency", "8", "--role-name", "Other",
                             "--accounts", "777788889999", "--external-id", "from-flag"], {
            "regions": ("us-west-2",), "role_name": "Other", "external_id": "from-flag",
            "accounts": ("777788889999",), "exclude_accounts": ("444455556666",), "concurrency": 8,
            "processes": 2}),
    ],
    ids=["no-config", "config", "flags-win"],
)
@pytest.mark.parametrize("command", ["collect", "audit"])
def test_collection_settings_come_from_auditor_yaml_unless_given_as_flags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    config: str | None, flags: list[str], expected: dict[str, object], command: str,
) -> None:
    import auditor.collect

    seen: list[object] = []

    def capture(session: object, options: object, sink: object = None) -> None:
        seen.append(options)
        raise KeyboardInterrupt  # stop before any AWS call

    monkeypatch.setattr(auditor.collect, "collect", capture)
    monkeypatch.chdir(tmp_path)  # ./auditor.yaml is read when --config is not given
    if config is not None:
        (tmp_path / "auditor.yaml").write_text(config)
    code, _, _ = run([command, "--out", str(tmp_path / "out"), *flags], capsys)
    assert code == 130
    (options,) = seen
    assert {name: getattr(options, name) for name in expected} == expected


@pytest.mark.parametrize(
    ("collection", "message"),
    [
        ("concurrency: 0", "collection.concurrency: Input should be greater than or equal to 1"),
        ('accounts: ["1234"]', "collection.accounts: Value error, '1234' is not a 12-digit account id"),
        ("accounts: [1234567890123]", "collection.accounts: Value error, 1234567890123 is not a 12-digit account id"),
        ("regionz: [eu-west-1]", "collection.regionz: Extra inputs are not permitted"),
    ],
)
def test_bad_collection_config_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], collection: str, message: str
) -> None:
    path = tmp_path / "auditor.yaml"
    path.write_text(f"collection:\n  {collection}\n")
    code, _, err = run(["collect", "--out", str(tmp_path / "out"), "--config", str(path)], capsys)
    assert (code, err.strip()) == (2, f"error: config file {path}: {message}")
