"""The README's scheduled-run examples work as written: the cron line is one line that cron and /bin/sh
accept and that hands the ExternalId to the auditor from the environment file; the systemd unit reads the
same file; the documented flags and variables exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
AUDITOR = "/opt/auditor/venv/bin/auditor"
ENV_FILE = "/etc/auditor/auditor.env"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_cron_entry_is_one_line_with_five_time_fields_and_no_percent() -> None:
    (block,) = _blocks("cron")
    lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert len(lines) == 1 and not lines[0].rstrip().endswith("\\")
    fields = lines[0].split(None, 5)
    assert all(re.fullmatch(r"[\d*/,-]+", field) for field in fields[:5])
    assert "%" not in fields[5]  # cron turns an unescaped % into a newline


def test_cron_command_runs_in_sh_and_passes_the_external_id_from_the_environment_file(tmp_path: Path) -> None:
    (block,) = _blocks("cron")
    command = block.strip().split(None, 5)[5]
    env_file = tmp_path / "auditor.env"
    env_file.write_text("AWS_PROFILE=mgmt\nAUDITOR_EXTERNAL_ID=from-the-file\n")
    stub = tmp_path / "auditor"
    stub.write_text('#!/bin/sh\necho "args: $*"\necho "external id: $AUDITOR_EXTERNAL_ID profile: $AWS_PROFILE"\n')
    stub.chmod(0o700)
    runnable = command.replace(ENV_FILE, str(env_file)).replace(AUDITOR, str(stub))
    assert runnable != command
    result = subprocess.run(["/bin/sh", "-c", runnable], env={"PATH": "/usr/bin:/bin"}, capture_output=True,
                            text=True, timeout=30, check=True)
    assert "external id: from-the-file profile: mgmt" in result.stdout
    expected = "args: audit --out /var/lib/auditor/latest --history /var/lib/auditor/history.sqlite --quiet"
    assert expected in result.stdout


def test_systemd_unit_reads_the_same_environment_file_and_runs_the_same_command() -> None:
    service = next(block for block in _blocks("ini") if "[Service]" in block)
    assert f"EnvironmentFile={ENV_FILE}" in service
    (cron,) = _blocks("cron")
    exec_start = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    assert exec_start.removeprefix("ExecStart=") in cron and not exec_start.endswith("\\")


def test_external_id_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import auditor.collect
    from auditor.cli import main

    seen: list[object] = []

    def capture(_: object, options: object, sink: object = None) -> None:
        seen.append(options)
        raise KeyboardInterrupt

    monkeypatch.setattr(auditor.collect, "collect", capture)
    monkeypatch.setenv("AUDITOR_EXTERNAL_ID", "from-env")
    with pytest.raises(SystemExit):
        main(["collect", "--out", str(tmp_path / "s"), "--regions", "us-east-1"])
    assert [getattr(o, "external_id", None) for o in seen] == ["from-env"]


def test_shell_completion_as_documented() -> None:
    assert "_AUDITOR_COMPLETE=bash_source auditor" in README and "AUDITOR_DEBUG=1" in README
    env = {**os.environ, "COMP_WORDS": "auditor check-", "COMP_CWORD": "1", "_AUDITOR_COMPLETE": "bash_complete"}
    result = subprocess.run([sys.executable, "-m", "auditor"], env=env, capture_output=True, text=True, timeout=60,
                            check=False)
    assert "check-access" in result.stdout
