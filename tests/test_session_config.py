"""Retry settings: adaptive with 10 attempts by default; the standard AWS variables override them."""

from __future__ import annotations

from datetime import UTC

import pytest

from auditor.collect.session import client_config


@pytest.mark.parametrize(
    ("env", "mode", "attempts"),
    [
        ({}, "adaptive", 10),
        ({"AWS_MAX_ATTEMPTS": "3"}, "adaptive", 3),
        ({"AWS_RETRY_MODE": "standard", "AWS_MAX_ATTEMPTS": "5"}, "standard", 5),
        ({"AWS_MAX_ATTEMPTS": "zero"}, "adaptive", 10),
        ({"AWS_MAX_ATTEMPTS": "0"}, "adaptive", 10),
        ({"AWS_RETRY_MODE": "bogus"}, "adaptive", 10),
    ],
)
def test_client_config(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], mode: str, attempts: int) -> None:
    for name in ("AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = client_config()
    assert config.retries == {"mode": mode, "max_attempts": attempts}


class _FakeSts:
    """Answers AssumeRole with credentials that expire in one minute, and counts the calls."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def assume_role(self, **params: object) -> dict[str, object]:
        from datetime import datetime, timedelta

        self.calls.append(params)
        n = len(self.calls)
        return {"Credentials": {
            "AccessKeyId": f"ASIA{n:016d}", "SecretAccessKey": "s", "SessionToken": f"t{n}",
            "Expiration": datetime.now(UTC) + timedelta(minutes=1),
        }}


def test_assumed_role_credentials_refresh_before_expiry_without_chaining() -> None:
    from auditor.collect.session import SessionMaker

    sts = _FakeSts()
    session = SessionMaker().assume_role(sts, "111111111111", "SecurityAuditRole", "ext", "us-east-1", "aws")
    assert len(sts.calls) == 1
    frozen = session.get_credentials().get_frozen_credentials()  # within 15 minutes of expiry: refreshed
    assert len(sts.calls) == 2 and frozen.access_key == "ASIA0000000000000002"
    # every refresh is a fresh AssumeRole of the same role from the caller's credentials
    assert sts.calls[0] == sts.calls[1] == {
        "RoleArn": "arn:aws:iam::111111111111:role/SecurityAuditRole", "RoleSessionName": "aws-org-auditor",
        "DurationSeconds": 3600, "ExternalId": "ext"}
