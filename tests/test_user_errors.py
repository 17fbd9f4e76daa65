"""The user's own mistakes are one line and exit 2 (never "internal error"); every non-zero exit says why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditor.cli import main
from auditor.snapshot import write_snapshot
from tests.test_output_safety import small_snapshot


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out, captured.err


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    write_snapshot(small_snapshot(), tmp_path / "snap")
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-dir").mkdir()
    (tmp_path / "latin1.yaml").write_bytes(b"required_tags: [Caf\xe9]\n")
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 20_000 + "]" * 20_000 + "\n")
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "nan.json").write_text('{"schema_version": "1.0", "findings": [], "x": NaN}')
    odd = {"schema_version": "1.0", "generated_at": "2026-01-01T00:00:00+00:00", "findings": [
        {"id": "f1", "rule_id": "X", "severity": "apocalyptic", "account_id": "1", "resource_arn": "a", "title": "t"}]}
    (tmp_path / "odd.json").write_text(json.dumps(odd))
    (tmp_path / "empty.json").write_text(json.dumps({**odd, "findings": []}))
    return tmp_path


COLLECT = ["collect", "--out", "new-snap"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "snap", "--out", "a-file"], "--out a-file is a file, not a directory"),
        (["collect", "--out", "a-file"], "--out a-file is a file, not a snapshot directory"),
        (["analyze", "snap", "--out", "r", "--config", "a-dir"],
         "config file a-dir is a directory; give the path of the auditor.yaml file"),
        (["analyze", "snap", "--out", "r", "--config", "latin1.yaml"],
         "config file latin1.yaml is not UTF-8 text (byte 19: invalid continuation byte)"),
        (["analyze", "snap", "--out", "r", "--config", "deep.yaml"], "config file deep.yaml is nested too deeply"),
        (["analyze", "snap", "--out", "r", "--suppressions", "a-dir"], "suppressions file a-dir is a directory"),
        (["diff", "deep.json", "empty.json"], "deep.json: not a findings document (nested too deeply)"),
        (["diff", "nan.json", "empty.json"], "nan.json: not valid JSON (NaN is not a JSON number)"),
        (["diff", "snap", "empty.json"], "snap: no findings.json in this directory"),
        ([*COLLECT, "--role-name", "Audit Role;rm"], "--role-name 'Audit Role;rm' is not an IAM role name"),
        ([*COLLECT, "--role-name", "x" * 65], "is not an IAM role name"),
        ([*COLLECT, "--regions", "eu-wst-1"], "--regions: 'eu-wst-1' is not a region of the aws partition; "
                                              "did you mean eu-west-1 or us-west-1?"),
        ([*COLLECT, "--region", "cn-north-1", "--regions", "eu-west-1"],
         "--regions: 'eu-west-1' is not a region of the aws-cn partition; did you mean cn-northwest-1?"),
        ([*COLLECT, "--accounts", "12345"], "--accounts: '12345' is not a 12-digit account id"),
        ([*COLLECT, "--exclude-accounts", "1234567890123"],
         "--exclude-accounts: '1234567890123' is not a 12-digit account id"),
    ],
    ids=["out-file", "collect-out-file", "config-dir", "config-latin1", "config-deep", "suppressions-dir",
         "diff-deep", "diff-nan", "diff-not-report", "role-name", "role-name-long", "region-typo",
         "region-other-partition", "accounts", "exclude-accounts"],
)
def test_user_mistake_is_one_line_exit_2(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    import auditor.collect

    monkeypatch.setattr(auditor.collect, "collect", lambda *_: pytest.fail("validation must come first"))
    code, _, err = run(args, capsys)
    assert code == 2
    assert err.startswith("error: ") and message in err and err.count("\n") == 1, err


@pytest.mark.parametrize(
    "args",
    [
        [*COLLECT, "--role-name", "audit/SecurityAuditRole", "--regions", "eu-west-1,ap-southeast-5",
         "--accounts", "123456789012", "--exclude-accounts", "210987654321"],
        [*COLLECT, "--region", "cn-north-1", "--regions", "cn-northwest-1"],
    ],
    ids=["valid-aws", "valid-china"],
)
def test_valid_collection_flags_reach_collection(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    import auditor.collect

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(auditor.collect, "collect", interrupted)
    assert run(args, capsys)[0] == 130


def test_diff_with_an_unknown_severity_is_no_internal_error(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["diff", "empty.json", "odd.json", "--fail-on-new", "high"], capsys)
    assert (code, err) == (0, "") and "1 new" in out


def test_exit_reasons_are_printed(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["analyze", "snap", "--out", "r", "--quiet"], capsys)
    assert (code, err) == (0, "")
    code, _, err = run(["analyze", "snap", "--out", "r", "--quiet", "--fail-on", "info"], capsys)
    findings = json.loads((workdir / "r" / "findings.json").read_text())["findings"]
    assert findings and code == 1
    assert err == f"exit 1: {len(findings)} finding{'s' if len(findings) > 1 else ''} at or above info\n"


def test_partial_snapshot_exit_reason(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from auditor.model import AccountSnapshot, CoverageGap

    snapshot = small_snapshot()
    other = AccountSnapshot(account_id="222222222222", audited=False)
    gaps = (CoverageGap(account_id="222222222222", service="sts", error_code="AccessDenied"),
            CoverageGap(account_id="111111111111", service="lambda", error_code="AccessDenied"),
            CoverageGap(account_id="111111111111", service="s3", error_code="AccessDenied"))
    manifest = snapshot.manifest.model_copy(update={"account_ids": ("111111111111", "222222222222")})
    write_snapshot(snapshot.model_copy(update={"accounts": (*snapshot.accounts, other), "coverage": gaps,
                                               "manifest": manifest}), workdir / "partial")
    code, _, err = run(["analyze", "partial", "--out", "r", "--quiet"], capsys)
    assert (code, err) == (3, "exit 3: 1 account not audited, 1 partial (3 coverage gaps)\n")


def test_a_crashing_rule_is_named_on_stderr(
    workdir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import auditor.engine

    monkeypatch.setattr(auditor.engine, "_REGISTRY", dict(auditor.engine._REGISTRY))  # MINE-001 stays in this test
    rules = tmp_path / "my-rules"
    rules.mkdir()
    (rules / "broken.py").write_text('''
from auditor.engine import rule


@rule(id="MINE-001", title="Broken", severity="low", category="coverage", rationale="r", remediation="r")
def broken(context):
    raise KeyError("boom")
''')
    code, _, err = run(["analyze", "snap", "--out", "r", "--quiet", "--rules-dir", str(rules)], capsys)
    assert code == 0
    assert err.startswith("warning: rule MINE-001 failed and reported nothing: KeyError: 'boom' (at broken.py:")


def test_history_trend_in_console_and_summary_md(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["analyze", "snap", "--out", "r", "--format", "md", "--history", "h.sqlite"]
    code, out, _ = run(args, capsys)
    assert code == 0 and "History: first recorded run of this organisation (the baseline)" in out
    assert "Trend" not in out
    run(args, capsys)
    code, out, _ = run(args, capsys)
    markdown = (workdir / "r" / "summary.md").read_text()
    total = int(next(line for line in out.splitlines() if line.startswith("Findings: ")).split()[1])
    assert f"History: 0 new, 0 resolved, {total} persisting since the previous run" in out
    assert "Trend over the last 3 runs: findings " + " -> ".join([str(total)] * 3) in out
    assert f"Since the previous run: 0 new, 0 resolved, {total} persisting." in markdown
    assert "| Run | Findings | Critical + high |" in markdown and markdown.count(f"| {total} |") >= 3


def test_an_account_that_could_not_be_audited_has_no_score_in_summary_md(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from auditor.model import AccountSnapshot, CoverageGap

    snapshot = small_snapshot()
    manifest = snapshot.manifest.model_copy(update={"account_ids": ("111111111111", "222222222222")})
    write_snapshot(snapshot.model_copy(update={
        "accounts": (*snapshot.accounts, AccountSnapshot(account_id="222222222222", audited=False)),
        "coverage": (CoverageGap(account_id="222222222222", service="sts", error_code="AccessDenied"),),
        "manifest": manifest}), workdir / "partial")
    run(["analyze", "partial", "--out", "r", "--format", "md", "--quiet"], capsys)
    markdown = (workdir / "r" / "summary.md").read_text()
    accounts = markdown.split("### Accounts")[1].split("###")[0]
    rows = {line.split("|")[1].strip(): line for line in accounts.splitlines() if line.startswith("| ")}
    assert "| not audited |" in rows["222222222222"]
    assert "not audited" not in rows["111111111111"]


def test_plain_progress_lines_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from auditor.collect import run as collector_run
    from auditor.model import AccountSnapshot

    with collector_run._progress(False, 25, 10) as advance:
        for index in range(25):
            advance(AccountSnapshot(account_id=f"{index:012d}", audited=index != 3), 1)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(",")[0] for line in lines] == [f"collecting accounts: {n}/25 done" for n in (10, 20, 25)]
    assert lines[-1].startswith("collecting accounts: 25/25 done, 1 not audited, 25 coverage gaps, ")


@pytest.mark.parametrize(("flags", "every"), [([], 10), (["--quiet"], 0)], ids=["ci-log", "quiet"])
def test_collection_without_a_terminal_asks_for_progress_lines(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, flags: list[str], every: int
) -> None:
    import auditor.collect

    seen: list[Any] = []

    def capture(_: object, options: object, sink: object = None) -> None:
        seen.append(options)
        raise KeyboardInterrupt

    monkeypatch.setattr(auditor.collect, "collect", capture)
    run([*COLLECT, *flags], capsys)  # pytest's captured streams are no terminal
    assert [(o.progress, o.progress_lines_every) for o in seen] == [(False, every)]


def test_verbose_and_log_file_show_aws_calls_and_gaps_but_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws

    monkeypatch.chdir(tmp_path)
    with mock_aws():
        code, _, err = run(["collect", "--out", "snap", "--regions", "us-east-1", "--verbose", "--log-file",
                            "logs/audit.log", "--external-id", "ExtSecret-42", "--quiet"], capsys)
    assert code in (0, 3), err
    log = (tmp_path / "logs" / "audit.log").read_text()
    assert "auditor.aws: call iam:GetAccountAuthorizationDetails account 123456789012 region" in log
    assert " auditor.aws: call " in err  # --verbose: the same lines on stderr
    assert "ExtSecret-42" not in log + err
    assert (tmp_path / "logs" / "audit.log").stat().st_mode & 0o777 == 0o600
    import logging

    assert not logging.getLogger("auditor").handlers  # removed when the command ended


def test_coverage_gaps_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from auditor.collect.session import Gaps

    with caplog.at_level(logging.INFO, logger="auditor.aws"):
        Gaps("111111111111").add("lambda", "ListFunctions", "AccessDenied", "not authorized", "eu-west-1")
    assert caplog.messages == ["coverage gap: account 111111111111 lambda:ListFunctions region eu-west-1: "
                               "AccessDenied: not authorized"]
