"""Contract between the collectors and the technique catalogue: every resource technique fires on data the
real collector gathered from moto (not on a hand-built model), and its benign twins stay silent.

One account (single-account mode, moto in-process) holds two resources of every type a technique acts on:
one running with an admin role ("power"), one with a read-only role ("weak"). Each resource technique gets
an attacker allowed exactly its actions and a twin lacking its first action. App Runner and AgentCore code
interpreters, which moto does not simulate, are answered by ``auditor.simulated_services`` (response shapes
validated against botocore's service models).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auditor.collect import CollectOptions, collect
from auditor.iam.escalation import escalation_candidates
from auditor.iam.evaluate import Evaluator
from auditor.iam.techniques import TECHNIQUES, On, Target, Technique
from auditor.model import Snapshot
from auditor.simulated_services import SimulatedServices

ACCOUNT = "123456789012"  # moto's default account: the caller's own, audited in single-account mode
REGION = "us-east-1"
POWER = f"arn:aws:iam::{ACCOUNT}:role/workloads/power"  # a path: role names must resolve to the real ARN
WEAK = f"arn:aws:iam::{ACCOUNT}:role/workloads/weak"
SERVICES = [
    "ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "codebuild.amazonaws.com",
    "cloudformation.amazonaws.com", "glue.amazonaws.com", "sagemaker.amazonaws.com",
    "tasks.apprunner.amazonaws.com", "states.amazonaws.com", "bedrock.amazonaws.com",
    "bedrock-agentcore.amazonaws.com", "datapipeline.amazonaws.com",
]
RESOURCE_TECHNIQUES = [t for t in TECHNIQUES if t.target is Target.RESOURCE_ROLE]
EXISTING_TYPES = {s.resource_type for t in TECHNIQUES for s in t.steps if s.on is On.EXISTING and s.resource_type}
ROLELESS = {"cloudformation:stackset", "ecs:cluster"}  # collected without a role of their own


@dataclass(frozen=True)
class Seed:
    session: boto3.Session
    simulated: SimulatedServices

    def client(self, service: str) -> Any:
        return self.session.client(service, region_name=REGION)  # type: ignore[call-overload]


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _profile(seed: Seed, role: str) -> tuple[str, str]:
    name = f"{role}-profile"
    iam = seed.client("iam")
    try:
        arn = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_instance_profile(InstanceProfileName=name, Path="/workloads/")["InstanceProfile"]["Arn"]
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
    return name, arn


def _ec2_instance(seed: Seed, name: str, role: str, role_arn: str) -> None:
    ec2 = seed.client("ec2")
    image = ec2.register_image(Name=f"base-{name}", RootDeviceName="/dev/xvda", Architecture="x86_64")["ImageId"]
    ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, IamInstanceProfile={"Arn": _profile(seed, role)[1]},
                      TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}])


def _launch_template(seed: Seed, name: str, role: str, role_arn: str) -> None:
    # By profile NAME: the collector resolves it through the account's IAM data.
    seed.client("ec2").create_launch_template(
        LaunchTemplateName=name, LaunchTemplateData={"IamInstanceProfile": {"Name": _profile(seed, role)[0]}})


def _lambda(seed: Seed, name: str, role: str, role_arn: str) -> None:
    seed.client("lambda").create_function(FunctionName=name, Runtime="python3.12", Role=role_arn,
                                          Handler="handler.handler", Code={"ZipFile": _zip()})


def _task_definition(seed: Seed, name: str, role: str, role_arn: str) -> str:
    return str(seed.client("ecs").register_task_definition(
        family=name, taskRoleArn=role,  # a role NAME: ECS accepts "the short name or full ARN"
        executionRoleArn=WEAK, containerDefinitions=[{"name": "app", "image": "nginx", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"])


def _ecs_service(seed: Seed, name: str, role: str, role_arn: str) -> None:
    ecs = seed.client("ecs")
    cluster = ecs.create_cluster(clusterName=f"{name}-cluster")["cluster"]["clusterArn"]
    definition = _task_definition(seed, f"{name}-task", role, role_arn)
    ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=definition, desiredCount=0)


def _codebuild(seed: Seed, name: str, role: str, role_arn: str) -> None:
    seed.client("codebuild").create_project(
        name=name, source={"type": "S3", "location": "sources/app.zip"}, artifacts={"type": "NO_ARTIFACTS"},
        environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                     "computeType": "BUILD_GENERAL1_SMALL"},
        serviceRole=role_arn)


def _stack(seed: Seed, name: str, role: str, role_arn: str) -> None:
    template = json.dumps({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}})
    seed.client("cloudformation").create_stack(StackName=name, TemplateBody=template, RoleARN=role_arn)


def _stack_set(seed: Seed, name: str, role: str, role_arn: str) -> None:
    template = json.dumps({"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}})
    seed.client("cloudformation").create_stack_set(StackSetName=name, TemplateBody=template)


def _glue_job(seed: Seed, name: str, role: str, role_arn: str) -> None:
    # By role NAME: Glue accepts "the name or ARN"; the collector resolves it to the role's ARN (with its path).
    seed.client("glue").create_job(Name=name, Role=role,
                                   Command={"Name": "glueetl", "ScriptLocation": "s3://scripts/job.py"})


def _glue_dev_endpoint(seed: Seed, name: str, role: str, role_arn: str) -> None:
    seed.client("glue").create_dev_endpoint(EndpointName=name, RoleArn=role_arn)


def _notebook(seed: Seed, name: str, role: str, role_arn: str) -> None:
    seed.client("sagemaker").create_notebook_instance(NotebookInstanceName=name, InstanceType="ml.t2.medium",
                                                      RoleArn=role_arn)


def _apprunner(seed: Seed, name: str, role: str, role_arn: str) -> None:
    seed.simulated.add_apprunner_service(ACCOUNT, REGION, name, role_arn)


def _code_interpreter(seed: Seed, name: str, role: str, role_arn: str) -> None:
    seed.simulated.add_code_interpreter(ACCOUNT, REGION, name.replace("-", "_"), role_arn)


def _state_machine(seed: Seed, name: str, role: str, role_arn: str) -> None:
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    seed.client("stepfunctions").create_state_machine(name=name, definition=definition, roleArn=role_arn)


def _bedrock_agent(seed: Seed, name: str, role: str, role_arn: str) -> None:
    seed.client("bedrock-agent").create_agent(agentName=name, agentResourceRoleArn=role_arn,
                                              foundationModel="anthropic.claude-v2")


def _pipeline(seed: Seed, name: str, role: str, role_arn: str) -> None:
    datapipeline = seed.client("datapipeline")
    pipeline_id = datapipeline.create_pipeline(name=name, uniqueId=name)["pipelineId"]
    fields = [{"key": "role", "stringValue": "weak"}, {"key": "resourceRole", "stringValue": role}]
    datapipeline.put_pipeline_definition(
        pipelineId=pipeline_id, pipelineObjects=[{"id": "Default", "name": "Default", "fields": fields}])


SEEDERS: dict[str, Callable[[Seed, str, str, str], object]] = {
    "ec2:instance": _ec2_instance,
    "ec2:launch-template": _launch_template,
    "lambda:function": _lambda,
    "ecs:task-definition": _task_definition,
    "ecs:service": _ecs_service,
    "codebuild:project": _codebuild,
    "cloudformation:stack": _stack,
    "cloudformation:stackset": _stack_set,
    "glue:job": _glue_job,
    "glue:devEndpoint": _glue_dev_endpoint,
    "sagemaker:notebook-instance": _notebook,
    "apprunner:service": _apprunner,
    "bedrock-agentcore:code-interpreter": _code_interpreter,
    "states:stateMachine": _state_machine,
    "bedrock:agent": _bedrock_agent,
    "datapipeline:pipeline": _pipeline,
}


def _seed_name(resource_type: str, role: str) -> str:
    return f"{resource_type.replace(':', '-').lower()}-{role}"


def _user(iam: Any, name: str, actions: list[str]) -> None:
    iam.create_user(UserName=name)
    statement = {"Effect": "Allow", "Action": actions or ["s3:GetObject"], "Resource": "*"}
    iam.put_user_policy(UserName=name, PolicyName="grant",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


@pytest.fixture(scope="module")
def snapshot(simulated_services: SimulatedServices) -> Iterator[Snapshot]:
    simulated = simulated_services  # the test run's simulation (conftest), emptied again below
    with pytest.MonkeyPatch.context() as env:
        env.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        with mock_aws():
            seed = Seed(boto3.Session(region_name=REGION), simulated)
            iam = seed.client("iam")
            trust = {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": SERVICES}, "Action": "sts:AssumeRole"}]}
            for role, action in (("power", "*"), ("weak", "s3:GetObject")):
                iam.create_role(RoleName=role, Path="/workloads/", AssumeRolePolicyDocument=json.dumps(trust))
                iam.put_role_policy(RoleName=role, PolicyName="grant", PolicyDocument=json.dumps(
                    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}))
            for resource_type, seeder in SEEDERS.items():
                for role, role_arn in (("power", POWER), ("weak", WEAK)):
                    seeder(seed, _seed_name(resource_type, role), role, role_arn)
            for index, technique in enumerate(RESOURCE_TECHNIQUES):
                _user(iam, f"attacker-{index}", list(technique.actions))
                _user(iam, f"twin-{index}", list(technique.actions[1:]))
            try:
                yield collect(boto3.Session(region_name=REGION), CollectOptions(regions=(REGION,)))
            finally:
                simulated.clear()


def test_every_resource_type_a_technique_uses_has_a_seed() -> None:
    used = {t.resource_type for t in RESOURCE_TECHNIQUES if t.resource_type} | EXISTING_TYPES
    assert used - set(SEEDERS) == set(), "seed (and collect) these resource types"


def test_collection_was_complete(snapshot: Snapshot) -> None:
    assert snapshot.manifest.mode == "single-account"
    assert snapshot.coverage == ()


@pytest.mark.parametrize("resource_type", sorted(SEEDERS))
def test_each_resource_is_collected_with_the_role_it_runs_as(snapshot: Snapshot, resource_type: str) -> None:
    (account,) = snapshot.accounts
    names = {_seed_name(resource_type, role): role for role in ("power", "weak")}
    got = sorted((names[key], r.role_arn) for r in account.resources
                 if r.type == resource_type and (key := r.name.split(":")[0].replace("_", "-")) in names)
    if resource_type in ROLELESS:
        assert got == [("power", None), ("weak", None)]
    else:
        assert got == [("power", POWER), ("weak", WEAK)]


@pytest.mark.parametrize("technique", RESOURCE_TECHNIQUES, ids=[t.id for t in RESOURCE_TECHNIQUES])
def test_resource_technique_fires_on_collected_data(snapshot: Snapshot, technique: Technique) -> None:
    evaluator = Evaluator(snapshot)
    index = RESOURCE_TECHNIQUES.index(technique)
    attacker = evaluator.principal(f"arn:aws:iam::{ACCOUNT}:user/attacker-{index}")
    twin = evaluator.principal(f"arn:aws:iam::{ACCOUNT}:user/twin-{index}")
    assert attacker is not None and twin is not None
    edges = list(escalation_candidates(evaluator, attacker, [technique]))
    # The admin resource yields the admin role; its benign twin, the resource running with a weak role,
    # yields only that weak role.
    assert {e.target for e in edges} == {POWER, WEAK}
    assert {e.technique_id for e in edges} == {technique.id}
    # Benign twin: the same grants without the technique's first action.
    assert list(escalation_candidates(evaluator, twin, [technique])) == []
