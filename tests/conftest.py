"""Shared fixtures: every test runs with fake AWS credentials and never reaches real AWS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from auditor.simulated_services import AppRunnerSimulation

_APP_RUNNER = AppRunnerSimulation()


@pytest.fixture(scope="session", autouse=True)
def simulated_app_runner() -> Iterator[AppRunnerSimulation]:
    """moto has no App Runner: every session of the test run answers it (no services unless a test seeds some)."""
    with _APP_RUNNER.installed():
        yield _APP_RUNNER


@pytest.fixture
def app_runner(simulated_app_runner: AppRunnerSimulation) -> Iterator[AppRunnerSimulation]:
    """The simulated App Runner, emptied after the test that seeds it."""
    yield simulated_app_runner
    simulated_app_runner.clear()


@pytest.fixture(autouse=True)
def fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Test credentials and region; a developer's real profile or endpoint must never leak in."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN",
                 "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    yield
