"""Retry settings: adaptive with 10 attempts by default; the standard AWS variables override them."""

from __future__ import annotations

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
