"""Run the real collection code path against the built-in demo organisation, simulated with moto.

The demo needs no AWS account: moto answers every boto3 call in-process. Collection goes through
exactly the production path (organisation discovery, STS AssumeRole into each member account by role
name, per-service collectors); only the AWS on the other end is simulated.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.exceptions import ClientError

from auditor.collect import CollectOptions, collect
from auditor.errors import UserError
from auditor.model import Snapshot

DEMO_REGION = "us-east-1"
# moto is in the [demo] extra: a production host does not install it.
DEMO_EXTRA_MISSING = (
    "auditor demo simulates AWS with moto, which is not installed: pip install 'aws-org-auditor[demo]' "
    "(or make demo from a clone)"
)
# Variables that would point the simulated demo at a real profile, endpoint or credentials.
_ISOLATED_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
)


@contextmanager
def _simulated_environment() -> Iterator[None]:
    """Fake credentials and no real profile or endpoint while the demo runs; restored afterwards."""
    saved = {name: os.environ.get(name) for name in _ISOLATED_VARIABLES}
    for name in _ISOLATED_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(AWS_ACCESS_KEY_ID="demo", AWS_SECRET_ACCESS_KEY="demo", AWS_DEFAULT_REGION=DEMO_REGION)
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def deny_assume_role(session: boto3.Session, account_ids: tuple[str, ...], caller_account_id: str) -> None:
    """Make AssumeRole into ``account_ids`` fail with AccessDenied, as AWS answers for a missing or
    untrusting role (moto does not enforce trust policies, so the demo states the failure itself)."""

    def refuse(params: dict[str, Any], **_: Any) -> None:
        role_arn = str(params.get("RoleArn", ""))
        if any(role_arn.startswith(f"arn:aws:iam::{account}:") for account in account_ids):
            raise ClientError(
                {
                    "Error": {
                        "Code": "AccessDenied",
                        "Message": (
                            f"User: arn:aws:iam::{caller_account_id}:user/auditor "
                            f"is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
                        ),
                    }
                },
                "AssumeRole",
            )

    session.events.register("provide-client-params.sts.AssumeRole", refuse)


# moto draws organisation, account and principal ids from one random generator: seeded, every demo run builds
# the same organisation, so `auditor diff` or --history across two demo runs shows no change.
DEMO_SEED = 42


def _fix_generated_ids() -> None:
    """Seed moto's id generator through its documented in-process API (intercepted by mock_aws)."""
    import requests

    requests.post(f"http://motoapi.amazonaws.com/moto-api/seed?a={DEMO_SEED}", timeout=10)


def check_demo_available() -> None:
    """A one-line UserError when moto (the [demo] extra) is not installed."""
    import importlib.util

    if importlib.util.find_spec("moto") is None:
        raise UserError(DEMO_EXTRA_MISSING)


def collect_demo() -> Snapshot:
    """Seed the demo organisation in moto and collect it through the production collectors."""
    try:
        from moto import mock_aws
    except ImportError:
        raise UserError(DEMO_EXTRA_MISSING) from None

    from auditor.demo import seed_demo_organization
    from auditor.simulated_services import SimulatedServices

    # moto lacks App Runner and AgentCore code interpreters: answered (empty) in their real shapes.
    simulated = SimulatedServices()
    with _simulated_environment(), mock_aws(), simulated.installed():
        _fix_generated_ids()
        demo = seed_demo_organization(DEMO_REGION, simulated)
        session = boto3.Session(region_name=DEMO_REGION)
        deny_assume_role(session, demo.unassumable_account_ids, demo.management_account_id)
        options = CollectOptions(role_name=demo.role_name, external_id=demo.external_id, regions=(DEMO_REGION,))
        return collect(session, options)
