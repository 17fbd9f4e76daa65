"""Workload collectors (auditor/collect/compute.py): the pure transforms on recorded API answers, role
resolution, where each service is asked, the server-error breaker, and one failing service as one gap."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from moto import mock_aws

from auditor.collect import CollectOptions, collect, compute
from auditor.collect.compute import (
    BREAKER_ACCOUNTS_PER_REGION,
    EcsAnswers,
    PipelineAnswer,
    RoleIndex,
    ServerErrorBreaker,
    compute_resources,
    offered,
    server_error,
)
from auditor.collect.session import Gaps
from auditor.model import CoverageGap, IamData, IamRole, Resource
from tests.collect_helpers import hook_every_session

ACCOUNT = "111122223333"
REGION = "eu-west-1"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/ops/admin"
READER = f"arn:aws:iam::{ACCOUNT}:role/reader"
PROFILE = f"arn:aws:iam::{ACCOUNT}:instance-profile/ops/admin-profile"
IAM = IamData(roles=(
    IamRole(arn=ADMIN, name="admin", path="/ops/", instance_profile_arns=(PROFILE,)),
    IamRole(arn=READER, name="reader"),
))
ROLES = RoleIndex(IAM, ACCOUNT, "aws")
TAGGED = {f"arn:aws:glue:{REGION}:{ACCOUNT}:job/etl": Resource(
    arn=f"arn:aws:glue:{REGION}:{ACCOUNT}:job/etl", type="glue:job", region=REGION, tags={"env": "prod"})}


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


# --- role resolution ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [
    (ADMIN, ADMIN),  # an ARN is kept
    ("admin", ADMIN),  # a name resolves through IAM, path included
    ("gone", f"arn:aws:iam::{ACCOUNT}:role/gone"),  # an unknown name: the path-less ARN AWS would build
    ("", None),
    (None, None),
])
def test_role_names_and_arns(given: str | None, expected: str | None) -> None:
    assert ROLES.role(given) == expected


def test_instance_profiles_resolve_to_their_role() -> None:
    assert ROLES.profile_role(PROFILE) == ADMIN
    assert ROLES.profile_role(f"arn:aws:iam::{ACCOUNT}:instance-profile/empty") is None  # holds no role
    assert ROLES.profile(None, "admin-profile") == PROFILE  # launch templates may name the profile
    assert RoleIndex(None, ACCOUNT, "aws").profile_role(PROFILE) is None  # IAM not collected: unknown


# --- transforms on recorded answers -------------------------------------------------------------------------


def _ecs() -> list[Resource]:
    latest = arn("ecs", "task-definition/web:7")
    older = arn("ecs", "task-definition/web:6")
    cluster = arn("ecs", "cluster/main")
    answers = EcsAnswers(
        clusters=[{"clusterArn": cluster, "clusterName": "main", "status": "ACTIVE",
                   "tags": [{"key": "env", "value": "prod"}]}],
        services=[{"serviceArn": arn("ecs", "service/main/web"), "serviceName": "web", "clusterArn": cluster,
                   "taskDefinition": older, "roleArn": READER, "tags": []}],
        task_definitions=[
            {"taskDefinition": {"taskDefinitionArn": latest, "family": "web", "revision": 7, "status": "ACTIVE",
                                "taskRoleArn": "reader", "executionRoleArn": "admin"}, "tags": []},
            {"taskDefinition": {"taskDefinitionArn": older, "family": "web", "revision": 6, "status": "ACTIVE",
                                "taskRoleArn": ADMIN}},
        ],
    )
    return compute.ecs_resources(answers, REGION, None, ROLES)


def _pipelines() -> list[Resource]:
    objects = [
        {"id": "Default", "name": "Default", "fields": [{"key": "role", "stringValue": "reader"},
                                                         {"key": "scheduleType", "stringValue": "ondemand"}]},
        {"id": "Ec2", "name": "Ec2", "fields": [{"key": "type", "stringValue": "Ec2Resource"},
                                                 {"key": "resourceRole", "stringValue": "admin"}]},
    ]
    return compute.datapipeline_resources([PipelineAnswer("df-01", "nightly", objects)], REGION, None, ROLES)


Row = tuple[str, str, str | None, str | None, dict[str, str]]  # arn, type, role, execution role, tags
CASES: list[tuple[str, Callable[[], list[Resource]], list[Row]]] = [
    ("ecs", _ecs, [
        (arn("ecs", "cluster/main"), "ecs:cluster", None, None, {"env": "prod"}),
        (arn("ecs", "task-definition/web:7"), "ecs:task-definition", READER, ADMIN, {}),
        (arn("ecs", "task-definition/web:6"), "ecs:task-definition", ADMIN, None, {}),
        # a service runs the revision it names (not the latest), and its roles are that revision's
        (arn("ecs", "service/main/web"), "ecs:service", ADMIN, None, {}),
    ]),
    ("codebuild", lambda: compute.codebuild_resources(
        [{"name": "build", "arn": arn("codebuild", "project/build"), "serviceRole": ADMIN,
          "tags": [{"key": "team", "value": "ci"}], "environment": {"environmentVariables": [
              {"name": "TOKEN", "value": "secret"}]}}], REGION, None, ROLES),
     [(arn("codebuild", "project/build"), "codebuild:project", ADMIN, None, {"team": "ci"})]),
    ("cloudformation", lambda: compute.cloudformation_resources([
        {"StackId": arn("cloudformation", "stack/app/1"), "StackName": "app", "RoleARN": ADMIN,
         "StackStatus": "UPDATE_COMPLETE", "Tags": [{"Key": "env", "Value": "prod"}]},
        {"StackId": arn("cloudformation", "stack/caller/2"), "StackName": "caller", "StackStatus": "CREATE_COMPLETE"},
        {"StackId": arn("cloudformation", "stack/old/3"), "StackName": "old", "RoleARN": ADMIN,
         "StackStatus": "DELETE_COMPLETE"},
    ], REGION, None, ROLES), [
        (arn("cloudformation", "stack/app/1"), "cloudformation:stack", ADMIN, None, {"env": "prod"}),
        (arn("cloudformation", "stack/caller/2"), "cloudformation:stack", None, None, {}),
    ]),
    ("glue jobs: role by name, tags from GetResources", lambda: compute.glue_job_resources(
        [{"Name": "etl", "Role": "admin", "DefaultArguments": {"--password": "x"}}], REGION, TAGGED, ROLES),
     [(arn("glue", "job/etl"), "glue:job", ADMIN, None, {"env": "prod"})]),
    ("glue dev endpoints", lambda: compute.glue_dev_endpoint_resources(
        [{"EndpointName": "dev", "RoleArn": ADMIN, "Status": "READY"}], REGION, TAGGED, ROLES),
     [(arn("glue", "devEndpoint/dev"), "glue:devEndpoint", ADMIN, None, {})]),
    ("sagemaker", lambda: compute.sagemaker_notebook_resources(
        [{"NotebookInstanceArn": arn("sagemaker", "notebook-instance/lab"), "NotebookInstanceName": "lab",
          "RoleArn": ADMIN}], REGION, None, ROLES),
     [(arn("sagemaker", "notebook-instance/lab"), "sagemaker:notebook-instance", ADMIN, None, {})]),
    ("apprunner", lambda: compute.apprunner_resources([
        {"ServiceArn": arn("apprunner", "service/api/1"), "ServiceName": "api",
         "InstanceConfiguration": {"Cpu": "1024", "InstanceRoleArn": ADMIN}},
        {"ServiceArn": arn("apprunner", "service/site/2"), "ServiceName": "site", "InstanceConfiguration": {}},
    ], REGION, None, ROLES), [
        (arn("apprunner", "service/api/1"), "apprunner:service", ADMIN, None, {}),
        (arn("apprunner", "service/site/2"), "apprunner:service", None, None, {}),
    ]),
    ("stepfunctions", lambda: compute.state_machine_resources(
        [{"stateMachineArn": arn("states", "stateMachine:flow"), "name": "flow", "roleArn": ADMIN,
          "definition": "{}"}], REGION, None, ROLES),
     [(arn("states", "stateMachine:flow"), "states:stateMachine", ADMIN, None, {})]),
    ("bedrock agents", lambda: compute.bedrock_agent_resources(
        [{"agentArn": arn("bedrock", "agent/AB12"), "agentName": "helper", "agentResourceRoleArn": ADMIN}],
        REGION, None, ROLES),
     [(arn("bedrock", "agent/AB12"), "bedrock:agent", ADMIN, None, {})]),
    ("agentcore code interpreters", lambda: compute.code_interpreter_resources(
        [{"codeInterpreterArn": arn("bedrock-agentcore", "code-interpreter/ci-1"), "name": "ci",
          "executionRoleArn": ADMIN}], REGION, None, ROLES),
     [(arn("bedrock-agentcore", "code-interpreter/ci-1"), "bedrock-agentcore:code-interpreter", ADMIN, None, {})]),
    ("data pipeline: resourceRole runs the code, role is the pipeline's own", _pipelines,
     [(arn("datapipeline", "pipeline/df-01"), "datapipeline:pipeline", ADMIN, READER, {})]),
    ("launch templates: profile by name", lambda: compute.launch_template_resources(
        [{"LaunchTemplateId": "lt-1", "LaunchTemplateName": "web", "VersionNumber": 3, "DefaultVersion": True,
          "LaunchTemplateData": {"IamInstanceProfile": {"Name": "admin-profile"}}},
         {"LaunchTemplateId": "lt-2", "LaunchTemplateName": "bare", "LaunchTemplateData": {}}], REGION, None, ROLES),
     [(arn("ec2", "launch-template/lt-1"), "ec2:launch-template", ADMIN, None, {}),
      (arn("ec2", "launch-template/lt-2"), "ec2:launch-template", None, None, {})]),
    ("stack sets", lambda: compute.stack_set_resources(
        [{"StackSetName": "base", "StackSetId": "base:0a1b", "Status": "ACTIVE"}], REGION, None, ROLES),
     [(arn("cloudformation", "stackset/base:0a1b"), "cloudformation:stackset", None, None, {})]),
]


@pytest.mark.parametrize(("case", "transform", "expected"), CASES, ids=[c[0] for c in CASES])
def test_transform(case: str, transform: Callable[[], list[Resource]], expected: list[Row]) -> None:
    got = [(r.arn, r.type, r.role_arn, r.execution_role_arn, r.tags) for r in transform()]
    assert got == expected
    # Only the role survives: environment variables, default arguments and definitions are dropped.
    assert "secret" not in str(transform()) and "--password" not in str(transform())


def test_ecs_service_keeps_its_cluster_and_revision() -> None:
    (service,) = [r for r in _ecs() if r.type == "ecs:service"]
    assert (service.cluster_arn, service.task_definition_arn) == (
        arn("ecs", "cluster/main"), arn("ecs", "task-definition/web:6"))


# --- where services are asked -------------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "region", "asked"), [
    ("apprunner", "us-east-1", True),
    ("apprunner", "sa-east-1", False),  # App Runner is not offered there
    ("datapipeline", "eu-central-1", False),
    ("ecs", "sa-east-1", True),
    ("apprunner", "xx-future-1", True),  # a Region botocore does not know yet is tried, never skipped silently
    ("bedrock-agent", "us-west-2", True),  # no endpoint data: Bedrock's Regions stand in
    ("bedrock-agent", "ap-east-1", False),
])
def test_offered(service: str, region: str, asked: bool) -> None:
    assert offered(boto3.Session(), service, region, "aws") is asked


# --- failures ------------------------------------------------------------------------------------------------


def _error(status: int, code: str, operation: str = "ListServices") -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, operation)


@pytest.mark.parametrize(("exc", "expected"), [
    (_error(500, "500"), True), (_error(503, "ServiceUnavailable"), True), (NotImplementedError(), True),
    (_error(403, "AccessDenied"), False), (_error(400, "ThrottlingException"), False),
])
def test_server_error(exc: Exception, expected: bool) -> None:
    assert server_error(exc) is expected


class _Failing:
    """A client whose every call raises ``exc`` (the collectors only call methods and paginators)."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def __getattr__(self, name: str) -> Any:
        def fail(*_: Any, **__: Any) -> Any:
            raise self.exc
        return fail


def test_breaker_skips_a_service_that_keeps_answering_server_errors() -> None:
    breaker = ServerErrorBreaker()
    for index in range(BREAKER_ACCOUNTS_PER_REGION + 1):
        account = f"00000000000{index}"
        gaps = Gaps(account)
        roles = RoleIndex(None, account, "aws")
        compute_resources({"apprunner": _Failing(_error(500, "500"))}, REGION, None, roles, gaps, breaker)
        codes = [(g.service, g.operation, g.error_code) for g in gaps.items]
        if index < BREAKER_ACCOUNTS_PER_REGION:
            assert codes == [("apprunner", "ListServices", "500")]
        else:  # asked no more: still one gap, saying why
            assert codes == [("apprunner", "ListServices", "SkippedAfterServerErrors")]
            assert "000000000000, 000000000001" in gaps.items[0].message
    # Benign twin: refusals (AccessDenied) never trip it.
    denied = ServerErrorBreaker()
    for index in range(BREAKER_ACCOUNTS_PER_REGION + 1):
        gaps = Gaps(f"00000000000{index}")
        compute_resources({"apprunner": _Failing(_error(403, "AccessDenied"))}, REGION, None,
                          RoleIndex(None, gaps.account_id, "aws"), gaps, denied)
        assert [g.error_code for g in gaps.items] == ["AccessDenied"]


def test_unreachable_endpoint_of_a_service_without_endpoint_data_means_not_offered() -> None:
    gaps = Gaps(ACCOUNT)
    unreachable = EndpointConnectionError(endpoint_url="https://bedrock-agent.ap-south-2.amazonaws.com")
    clients = {"bedrock-agent": _Failing(unreachable), "stepfunctions": _Failing(unreachable)}
    compute_resources(clients, REGION, None, ROLES, gaps)
    # Step Functions has endpoint data: unreachable there is a real failure, and a gap.
    assert [(g.service, g.error_code) for g in gaps.items] == [("stepfunctions", "EndpointConnectionError")]


@pytest.mark.parametrize(("event", "service", "operation"), [
    ("codebuild.BatchGetProjects", "codebuild", "BatchGetProjects"),
    ("sagemaker.ListNotebookInstances", "sagemaker", "ListNotebookInstances"),
    ("ecs.ListClusters", "ecs", "ListClusters"),
])
def test_one_denied_service_is_one_gap_and_the_others_are_collected(
    monkeypatch: pytest.MonkeyPatch, event: str, service: str, operation: str
) -> None:
    def deny(**_: Any) -> None:
        raise _error(403, "AccessDenied", operation)

    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        session.client("codebuild").create_project(
            name="build", source={"type": "S3", "location": "sources/app.zip"}, artifacts={"type": "NO_ARTIFACTS"},
            environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                         "computeType": "BUILD_GENERAL1_SMALL"},
            serviceRole="arn:aws:iam::123456789012:role/build")
        session.client("sagemaker").create_notebook_instance(
            NotebookInstanceName="lab", InstanceType="ml.t2.medium", RoleArn="arn:aws:iam::123456789012:role/lab")
        session.client("ecs").create_cluster(clusterName="main")
        hook_every_session(monkeypatch, f"before-parameter-build.{event}", deny)
        # A session made after the hook, which it then carries.
        snapshot = collect(boto3.Session(region_name="us-east-1"), CollectOptions(regions=("us-east-1",)))
    assert snapshot.coverage == (CoverageGap(account_id="123456789012", service=service, region="us-east-1",
                                             operation=operation, error_code="AccessDenied", message="AccessDenied"),)
    kinds = {r.type for r in snapshot.accounts[0].resources}
    lost = {"codebuild": "codebuild:project", "sagemaker": "sagemaker:notebook-instance", "ecs": "ecs:cluster"}
    assert kinds & set(lost.values()) == set(lost.values()) - {lost[service]}
