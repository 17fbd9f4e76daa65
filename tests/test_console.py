"""Console output: AWS-sourced text (account names, tag-derived environments, AWS error messages) cannot
inject terminal escapes or fake lines."""

from __future__ import annotations

from dataclasses import replace

import pytest

from auditor.console import printable
from auditor.report import render_summary
from tests.report_helpers import sample_result

HOSTILE = "prod\x1b[2J\x1b]0;owned\x07\r  999999999999  fake  prod  critical 0\n\u202egnp.exe\x9b31m\u2028"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain name", "plain name"),  # benign twin: unchanged
        ("café – ünïcode", "café – ünïcode"),
        ("a\x1b[31mb", "a\\x1b[31mb"),
        ("x\ry\nz\tw", "x\\ry\\nz\\tw"),
        ("\u202eevil", "\\u202eevil"),
        ("\x9b31m", "\\x9b31m"),  # C1 CSI
        ("line\u2028sep", "line\\u2028sep"),
        ("del\x7f", "del\\x7f"),
    ],
)
def test_printable(value: str, expected: str) -> None:
    assert printable(value) == expected


def test_summary_shows_hostile_account_names_inert() -> None:
    result = sample_result()
    benign = render_summary(result)
    hostile = render_summary(replace(result, accounts=tuple(replace(a, name=HOSTILE) for a in result.accounts)))
    assert len(hostile.splitlines()) == len(benign.splitlines())
    assert not any(c in hostile for c in ("\x1b", "\r", "\x07", "\x9b", "\u202e", "\u2028"))
    assert "prod\\x1b[2J" in hostile


def test_error_messages_quoting_aws_text_stay_one_inert_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from auditor.cli import main
    from auditor.errors import UserError

    def fail(*_: object) -> None:
        raise UserError(f"account {HOSTILE} could not be read")

    import auditor.collect

    monkeypatch.setattr(auditor.collect, "collect", fail)
    with pytest.raises(SystemExit):
        main(["collect", "--out", "/nonexistent-dir/x", "--regions", "us-east-1"])
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "\r" not in err
