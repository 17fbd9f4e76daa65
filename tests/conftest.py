"""Shared fixtures: every test runs with fake AWS credentials and never reaches real AWS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from auditor.simulated_services import SimulatedServices

_SIMULATED = SimulatedServices()


@pytest.fixture(scope="session", autouse=True)
def simulated_services() -> Iterator[SimulatedServices]:
    """moto has no App Runner nor AgentCore code interpreters: every botocore session of the test run gets
    them answered (empty, unless a test seeds some through ``simulated``)."""
    with _SIMULATED.installed():
        yield _SIMULATED


@pytest.fixture
def simulated(simulated_services: SimulatedServices) -> Iterator[SimulatedServices]:
    """The simulated services, emptied after the test that seeds them."""
    yield simulated_services
    simulated_services.clear()


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

