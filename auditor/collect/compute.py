"""Collects one account's workloads that run with an IAM role, and which role each runs as.

This module owns the role each workload resource carries (``Resource.role_arn`` is always the ARN of an
IAM role): ``RoleIndex`` resolves an EC2 instance profile, or a bare role name, to the role ARN through
the account's own IAM data (GetAccountAuthorizationDetails, collected before the resources).

Workloads, per Region: ECS clusters, services and task definitions (the latest ACTIVE revision of each
family, plus any revision a service runs), CodeBuild projects, CloudFormation stacks, Glue jobs and
development endpoints, SageMaker notebook instances, App Runner services, Step Functions state machines,
Bedrock agents and Data Pipeline pipelines. (EC2 instances and Lambda functions are in ``resources``.)

Each service is fetched (API calls only, ``_fetch_*``) and then transformed (pure functions over the API's
own dicts, ``*_resources``). Bulk listings and batch reads come first; one read per resource only where
AWS has no bulk answer that names the role (SageMaker, App Runner, Step Functions, Bedrock agents, Data
Pipeline definitions, ECS task definitions). Only role fields are kept: definitions, environment, default
arguments and build specs can hold secrets and are dropped. A service that fails in a Region is one
coverage gap (account, service, Region) and never stops the others; a failed per-resource read is a gap
naming that resource. Services AWS does not offer in a Region (botocore's endpoint data) are not called.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError, EndpointConnectionError

from auditor.collect.ratelimit import RateLimiter
from auditor.collect.session import AWS_ERRORS, Client, Gaps
from auditor.model import IamData, Resource

ECS_DESCRIBE_SERVICES_MAX = 10  # DescribeServices: up to 10 services per call
ECS_DESCRIBE_CLUSTERS_MAX = 100  # DescribeClusters: up to 100 clusters per call
ECS_PAGE_SIZE = 100  # ListClusters / ListServices / ListTaskDefinitionFamilies maxResults maximum
CODEBUILD_BATCH_MAX = 100  # BatchGetProjects: up to 100 names per call
APPRUNNER_PAGE_SIZE = 20  # ListServices MaxResults maximum
SAGEMAKER_PAGE_SIZE = 100  # ListNotebookInstances MaxResults maximum
STATES_PAGE_SIZE = 1000  # ListStateMachines maxResults maximum
BEDROCK_PAGE_SIZE = 1000  # ListAgents maxResults maximum
GLUE_PAGE_SIZE = 1000  # GetJobs / GetDevEndpoints MaxResults maximum
# Data Pipeline definition fields naming the roles a pipeline runs with (role names, not ARNs).
PIPELINE_ROLE, PIPELINE_RESOURCE_ROLE = "role", "resourceRole"
# Where botocore's endpoint data lists no Region for a service, another service's list stands in for it.
# Agents for Bedrock and AgentCore run in a subset of Bedrock's Regions; botocore lists no Region for either,
# so where Bedrock exists but they do not, their endpoint does not resolve: that means "not offered here".
AVAILABILITY_PROXY = {"bedrock-agent": "bedrock", "bedrock-agentcore-control": "bedrock"}

# Workload reads are retried less than the core IAM and organisation reads: adaptive retries already pace
# throttled calls, and an endpoint that answers server errors for a whole service should cost seconds, not
# a minute of back-off, in every account and Region.
COMPUTE_MAX_ATTEMPTS = 3
# A service that answered server errors (HTTP 5xx, or "not implemented") for this many accounts in one Region
# is not asked again in that Region for the rest of the run; in this many Regions, nowhere.
BREAKER_ACCOUNTS_PER_REGION = 2
BREAKER_REGIONS = 3

Tags = Mapping[str, Resource] | None  # a Region's GetResources answer by ARN; None: that call failed


class RoleIndex:
    """The account's roles by name and its instance profiles' roles, from GetAccountAuthorizationDetails.

    GetAccountAuthorizationDetails lists each role with the instance profiles that hold it; a profile
    without a role is absent from it, and an instance launched with it runs with no role.
    """

    def __init__(self, iam: IamData | None, account_id: str, partition: str) -> None:
        self.account_id = account_id
        self.partition = partition
        self.known = iam is not None
        self._by_name: dict[str, str] = {}
        self._by_profile: dict[str, str] = {}
        self._profile_by_name: dict[str, str] = {}
        for role in iam.roles if iam is not None else ():
            self._by_name[role.name] = role.arn
            for profile in role.instance_profile_arns:
                self._by_profile[profile] = role.arn
                self._profile_by_name[profile.rsplit("/", 1)[-1]] = profile

    def profile_role(self, profile_arn: str | None) -> str | None:
        """The role an instance profile carries; None without a profile or when IAM does not list it."""
        return self._by_profile.get(profile_arn) if profile_arn else None

    def profile(self, arn: str | None, name: str | None) -> str | None:
        """An instance profile's ARN from a field that names it by ARN or by name (launch templates)."""
        return arn or (self._profile_by_name.get(name) if name else None)

    def role(self, name_or_arn: str | None) -> str | None:
        """A role ARN from an API field that takes "the name or ARN of the role" (Glue, ECS, Data Pipeline).

        A name is resolved through the account's roles (a role's ARN carries its path); an unknown name
        becomes the path-less ARN AWS would build for it in this account.
        """
        if not name_or_arn:
            return None
        if name_or_arn.startswith("arn:"):
            return name_or_arn
        return self._by_name.get(name_or_arn) or f"arn:{self.partition}:iam::{self.account_id}:role/{name_or_arn}"

    def arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"


# --- where each service exists ----------------------------------------------------------------------


def offered(session: boto3.Session, service: str, region: str, partition: str) -> bool:
    """False only when botocore's endpoint data knows the Region and lists the service elsewhere only.

    A Region botocore does not know yet (newer than the installed botocore), or a service it lists in no
    Region, is tried: a wrong guess then shows as a coverage gap, never as silence.
    """
    known = set(session.get_available_regions("ec2", partition_name=partition))
    listed = set(session.get_available_regions(AVAILABILITY_PROXY.get(service, service), partition_name=partition))
    return not (region in known and listed and region not in listed)


# --- services that keep failing: asked no more in this run -----------------------------------------------


def server_error(exc: Exception) -> bool:
    """The endpoint failed (HTTP 5xx) or does not implement the call, as opposed to refusing it."""
    if isinstance(exc, NotImplementedError):
        return True
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") if isinstance(exc, ClientError) else 0
    return int(status or 0) >= 500


class ServerErrorBreaker:
    """Which workload services keep answering server errors during one run, so that the remaining accounts
    skip them (each skip is still a coverage gap) instead of each spending its retries on them. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failed: dict[str, dict[str, set[str]]] = {}  # service -> Region -> accounts

    def failed(self, service: str, region: str, account_id: str) -> None:
        with self._lock:
            self._failed.setdefault(service, {}).setdefault(region, set()).add(account_id)

    def tripped(self, service: str, region: str) -> str | None:
        """Why ``service`` is not asked in ``region`` any more, or None while it still is."""
        with self._lock:
            regions = self._failed.get(service, {})
            here = regions.get(region, set())
            if len(here) >= BREAKER_ACCOUNTS_PER_REGION:
                return f"not asked: it answered server errors for accounts {', '.join(sorted(here))} in {region}"
            if len(regions) >= BREAKER_REGIONS:
                return f"not asked: it answered server errors in {', '.join(sorted(regions))}"
            return None


# One breaker per run: every ClientFactory of a run (and of one worker process) shares the run's RateLimiter.
_BREAKERS: weakref.WeakKeyDictionary[RateLimiter, ServerErrorBreaker] = weakref.WeakKeyDictionary()
_BREAKERS_LOCK = threading.Lock()


def breaker_for(limiter: RateLimiter) -> ServerErrorBreaker:
    with _BREAKERS_LOCK:
        breaker = _BREAKERS.get(limiter)
        if breaker is None:
            breaker = _BREAKERS[limiter] = ServerErrorBreaker()
        return breaker


# --- the per-Region entry point -----------------------------------------------------------------------


# A collected service's fetch-and-transform: (client, Region, the Region's GetResources answer, the account's
# roles, the account's gaps) -> the Resources it found. It lets AWS errors of its listing propagate (the table's
# one wrapper, ``collect_listed``, turns them into a coverage gap) and records per-resource read failures itself.
Collector = Callable[[Client, str, Tags, RoleIndex, Gaps], Iterable[Resource]]


@dataclass(frozen=True)
class Collected:
    """One row of the collected-services table (``auditor.collect.resources.COLLECTED_SERVICES``).

    ``calls`` are every operation the collector may call besides ``operation`` (each on the read-only
    allow-list, checked by tests/test_collected_services.py); ``types`` the ``Resource.type`` values it yields.
    A workload row is retried less, skipped where AWS does not offer the service, and not asked again in a
    Region after repeated server errors (``ServerErrorBreaker``)."""

    service: str  # botocore service name
    operation: str  # the listing that names the gap when the service fails in a Region
    types: tuple[str, ...]
    calls: tuple[str, ...]
    collect: Collector
    workload: bool = True


def compute_resources(
    clients: Mapping[str, Client], region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps,
    breaker: ServerErrorBreaker | None = None,
) -> list[Resource]:
    """Every workload of the Region's offered services (``clients`` holds one client per offered service)."""
    return collect_listed(SERVICES, lambda entry: clients.get(entry.service), region, tagged, roles, gaps, breaker)


def collect_listed(
    entries: Iterable[Collected], client_for: Callable[[Collected], Client | None], region: str, tagged: Tags,
    roles: RoleIndex, gaps: Gaps, breaker: ServerErrorBreaker | None = None,
) -> list[Resource]:
    """The one error wrapper of the collected-services table: each row runs on its client (None: not offered
    here, skipped); a row that fails is one coverage gap (account, service, Region) and never stops the others."""
    breaker = breaker if breaker is not None else ServerErrorBreaker()
    found: list[Resource] = []
    for entry in entries:
        client = client_for(entry)
        if client is None:
            continue
        reason = breaker.tripped(entry.service, region) if entry.workload else None
        if reason is not None:
            gaps.add(entry.service, entry.operation, "SkippedAfterServerErrors", reason, region=region)
            continue
        try:
            found.extend(entry.collect(client, region, tagged, roles, gaps))
        except AWS_ERRORS as exc:
            if isinstance(exc, EndpointConnectionError) and entry.service in AVAILABILITY_PROXY:
                continue  # no such endpoint in this Region: the service is not offered here
            # Named after the call that failed (a ClientError knows it), else after the service's listing.
            gaps.record(entry.service, getattr(exc, "operation_name", "") or entry.operation, exc, region=region)
            if entry.workload and server_error(exc):
                breaker.failed(entry.service, region, roles.account_id)
    return found


def _pages(client: Client, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
    yield from client.get_paginator(operation).paginate(**params)


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _tags(tagged: Tags, arn: str, inline: dict[str, str] | None = None) -> dict[str, str]:
    """The answer's own tags where the API returns them, else GetResources' (absent there: untagged)."""
    if inline is not None:
        return inline
    resource = tagged.get(arn) if tagged is not None else None
    return dict(resource.tags) if resource is not None else {}


def _tag_list(tags: Iterable[Mapping[str, str]] | None, key: str = "key", value: str = "value") -> dict[str, str]:
    return {tag[key]: tag.get(value, "") for tag in tags or ()}


def _read_each(
    names: Iterable[str], read: Callable[[str], dict[str, Any]], gaps: Gaps, service: str, operation: str,
    region: str,
) -> list[dict[str, Any]]:
    """One read per resource; a failed read is a gap naming the resource, and the others go on."""
    answers: list[dict[str, Any]] = []
    for name in names:
        try:
            answers.append(read(name))
        except AWS_ERRORS as exc:
            gaps.record(service, operation, exc, region=region, context=name)
    return answers


# --- ECS -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EcsAnswers:
    clusters: list[dict[str, Any]]  # DescribeClusters' clusters
    services: list[dict[str, Any]]  # DescribeServices' services
    task_definitions: list[dict[str, Any]]  # DescribeTaskDefinition answers (taskDefinition + tags)


def _fetch_ecs(ecs: Client, region: str, gaps: Gaps) -> EcsAnswers:
    cluster_arns = [arn for page in _pages(ecs, "list_clusters", PaginationConfig={"PageSize": ECS_PAGE_SIZE})
                    for arn in page.get("clusterArns", [])]
    clusters = [cluster for chunk in _chunks(cluster_arns, ECS_DESCRIBE_CLUSTERS_MAX)
                for cluster in ecs.describe_clusters(clusters=chunk, include=["TAGS"]).get("clusters", [])]
    services: list[dict[str, Any]] = []
    for cluster in cluster_arns:
        try:
            arns = [arn for page in _pages(ecs, "list_services", cluster=cluster,
                                           PaginationConfig={"PageSize": ECS_PAGE_SIZE})
                    for arn in page.get("serviceArns", [])]
            for chunk in _chunks(arns, ECS_DESCRIBE_SERVICES_MAX):
                services.extend(ecs.describe_services(cluster=cluster, services=chunk, include=["TAGS"])
                                .get("services", []))
        except AWS_ERRORS as exc:
            gaps.record("ecs", "ListServices", exc, region=region, context=cluster)
    # A family name alone describes its latest ACTIVE revision; a service may run an older one.
    families = [family for page in _pages(ecs, "list_task_definition_families", status="ACTIVE",
                                          PaginationConfig={"PageSize": ECS_PAGE_SIZE})
                for family in page.get("families", [])]
    task_definitions = _read_each(families, lambda family: _describe_task_definition(ecs, family), gaps, "ecs",
                                  "DescribeTaskDefinition", region)
    latest = {answer["taskDefinition"].get("taskDefinitionArn") for answer in task_definitions}
    older = sorted({s["taskDefinition"] for s in services if s.get("taskDefinition")} - latest)
    task_definitions += _read_each(older, lambda arn: _describe_task_definition(ecs, arn), gaps, "ecs",
                                   "DescribeTaskDefinition", region)
    return EcsAnswers(clusters, services, task_definitions)


def _describe_task_definition(ecs: Client, name: str) -> dict[str, Any]:
    return dict(ecs.describe_task_definition(taskDefinition=name, include=["TAGS"]))


def ecs_resources(answers: EcsAnswers, region: str, tagged: Tags, roles: RoleIndex) -> list[Resource]:
    """Clusters (no role), task definitions (task role; execution role beside it) and services (the roles
    of the task definition revision they run, with their cluster and that revision)."""
    found = [
        Resource(arn=cluster["clusterArn"], type="ecs:cluster", region=region,
                 name=cluster.get("clusterName", ""), tags=_tags(tagged, cluster["clusterArn"],
                                                                  _tag_list(cluster.get("tags"))))
        for cluster in answers.clusters
    ]
    definitions: dict[str, Resource] = {}
    for answer in answers.task_definitions:
        definition = answer["taskDefinition"]
        arn = definition["taskDefinitionArn"]
        definitions[arn] = Resource(
            arn=arn, type="ecs:task-definition", region=region,
            name=f"{definition.get('family', '')}:{definition.get('revision', '')}",
            tags=_tags(tagged, arn, _tag_list(answer.get("tags"))),
            role_arn=roles.role(definition.get("taskRoleArn")),
            execution_role_arn=roles.role(definition.get("executionRoleArn")),
        )
    found.extend(definitions.values())
    for service in answers.services:
        arn = service["serviceArn"]
        runs = definitions.get(service.get("taskDefinition", ""))
        found.append(Resource(
            arn=arn, type="ecs:service", region=region, name=service.get("serviceName", ""),
            tags=_tags(tagged, arn, _tag_list(service.get("tags"))),
            role_arn=runs.role_arn if runs else None,
            execution_role_arn=runs.execution_role_arn if runs else None,
            cluster_arn=service.get("clusterArn"),
            task_definition_arn=service.get("taskDefinition"),
        ))
    return found


def _ecs(client: Client, region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps) -> list[Resource]:
    return ecs_resources(_fetch_ecs(client, region, gaps), region, tagged, roles)


# --- CodeBuild, CloudFormation, Glue (bulk answers name the role) ------------------------------------------


def _fetch_codebuild(codebuild: Client) -> list[dict[str, Any]]:
    names = [name for page in _pages(codebuild, "list_projects") for name in page.get("projects", [])]
    return [project for chunk in _chunks(names, CODEBUILD_BATCH_MAX)
            for project in codebuild.batch_get_projects(names=chunk).get("projects", [])]


def codebuild_resources(projects: list[dict[str, Any]], region: str, tagged: Tags, roles: RoleIndex
                        ) -> list[Resource]:
    return [
        Resource(arn=project["arn"], type="codebuild:project", region=region, name=project.get("name", ""),
                 tags=_tags(tagged, project["arn"], _tag_list(project.get("tags"))),
                 role_arn=roles.role(project.get("serviceRole")))
        for project in projects
    ]


def _codebuild(client: Client, region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps) -> list[Resource]:
    return codebuild_resources(_fetch_codebuild(client), region, tagged, roles)


def _fetch_stacks(cloudformation: Client) -> list[dict[str, Any]]:
    return [stack for page in _pages(cloudformation, "describe_stacks") for stack in page.get("Stacks", [])]


def cloudformation_resources(stacks: list[dict[str, Any]], region: str, tagged: Tags, roles: RoleIndex
                             ) -> list[Resource]:
    """Stacks with their service role (RoleARN); a stack without one runs with its caller's permissions."""
    return [
        Resource(arn=stack["StackId"], type="cloudformation:stack", region=region, name=stack.get("StackName", ""),
                 tags=_tags(tagged, stack["StackId"], _tag_list(stack.get("Tags"), "Key", "Value")),
                 role_arn=roles.role(stack.get("RoleARN")))
        for stack in stacks
        if stack.get("StackStatus") != "DELETE_COMPLETE"
    ]


def _cloudformation(client: Client, region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps) -> list[Resource]:
    return cloudformation_resources(_fetch_stacks(client), region, tagged, roles)


def _fetch_glue_jobs(glue: Client) -> list[dict[str, Any]]:
    return [job for page in _pages(glue, "get_jobs", PaginationConfig={"PageSize": GLUE_PAGE_SIZE})
            for job in page.get("Jobs", [])]


def glue_job_resources(jobs: list[dict[str, Any]], region: str, tagged: Tags, roles: RoleIndex) -> list[Resource]:
    found = []
    for job in jobs:
        arn = roles.arn("glue", region, f"job/{job['Name']}")
        found.append(Resource(arn=arn, type="glue:job", region=region, name=job["Name"], tags=_tags(tagged, arn),
                              role_arn=roles.role(job.get("Role"))))
    return found


def _glue_jobs(client: Client, region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps) -> list[Resource]:
    return glue_job_resources(_fetch_glue_jobs(client), region, tagged, roles)


def _fetch_dev_endpoints(glue: Client) -> list[dict[str, Any]]:
    return [endpoint for page in _pages(glue, "get_dev_endpoints", PaginationConfig={"PageSize": GLUE_PAGE_SIZE})
            for endpoint in page.get("DevEndpoints", [])]


def glue_dev_endpoint_resources(endpoints: list[dict[str, Any]], region: str, tagged: Tags, roles: RoleIndex
                                ) -> list[Resource]:
    found = []
    for endpoint in endpoints:
        arn = roles.arn("glue", region, f"devEndpoint/{endpoint['EndpointName']}")
        found.append(Resource(arn=arn, type="glue:devEndpoint", region=region, name=endpoint["EndpointName"],
                              tags=_tags(tagged, arn), role_arn=roles.role(endpoint.get("RoleArn"))))
    return found


def _glue_dev_endpoints(client: Client, region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps) -> list[Resource]:
    return glue_dev_endpoint_resources(_fetch_dev_endpoints(client), region, tagged, roles)


# --- listings whose answers do not name the role: one read per resource ------------------------------------


def _fetch_notebooks(sagemaker: Client, region: str, gaps: Gaps) -> list[dict[str, Any]]:
    pages = _pages(sagemaker, "list_notebook_instances", PaginationConfig={"PageSize": SAGEMAKER_PAGE_SIZE})
    names = [notebook["NotebookInstanceName"] for page in pages for notebook in page.get("NotebookInstances", [])]
    return _read_each(names, lambda name: dict(sagemaker.describe_notebook_instance(NotebookInstanceName=name)),
                      gaps, "sagemaker", "DescribeNotebookInstance", region)


def sagemaker_notebook_resources(notebooks: list[dict[str, Any]], region: str, tagged: Tags, roles: RoleIndex
                                 ) -> list[Resource]:
    return [
        Resource(arn=notebook["NotebookInstanceArn"], type="sagemaker:notebook-instance", region=region,
                 name=notebook.get("NotebookInstanceName", ""), tags=_tags(tagged, notebook["NotebookInstanceArn"]),
                 role_arn=roles.role(notebook.get("RoleArn")))
        for notebook in notebooks
    ]


def _sagemaker(client: Client, region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps) -> list[Resource]:
    return sagemaker_notebook_resources(_fetch_notebooks(client, region, gaps), region, tagged, roles)


def _fetch_apprunner(apprunner: Client, region: str, gaps: Gaps) -> list[dict[str, Any]]:
    arns: list[str] = []
    params: dict[str, Any] = {"MaxResults": APPRUNNER_PAGE_SIZE}
    while True:  # botocore has no paginator for App Runner's ListServices
        page = apprunner.list_services(**params)
        arns.extend(summary["ServiceArn"] for summary in page.get("ServiceSummaryList", []))
        if not page.get("NextToken"):
            break
        params["NextToken"] = page["NextToken"]
    return [answer["Service"] for answer in _read_each(
        arns, lambda arn: dict(apprunner.describe_service(ServiceArn=arn)), gaps, "apprunner", "DescribeService",
        region)]


def apprunner_resources(services: list[dict[str, Any]], region: str, tagged: Tags, roles: RoleIndex
                        ) -> list[Resource]:
    return [
        Resource(arn=service["ServiceArn"], type="apprunner:service", region=region,
                 name=service.get("ServiceName", ""), tags=_tags(tagged, service["ServiceArn"]),
                 role_arn=roles.role((service.get("InstanceConfiguration") or {}).get("InstanceRoleArn")))
        for service in services
    ]


def _apprunner(client: Client, region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps) -> list[Resource]:
    return apprunner_resources(_fetch_apprunner(client, region, gaps), region, tagged, roles)


def _fetch_state_machines(states: Client, region: str, gaps: Gaps) -> list[dict[str, Any]]:
    arns = [machine["stateMachineArn"]
            for page in _pages(states, "list_state_machines", PaginationConfig={"PageSize": STATES_PAGE_SIZE})
            for machine in page.get("stateMachines", [])]
    return _read_each(arns, lambda arn: dict(states.describe_state_machine(stateMachineArn=arn)), gaps,
                      "stepfunctions", "DescribeStateMachine", region)


def state_machine_resources(machines: list[dict[str, Any]], region: str, tagged: Tags, roles: RoleIndex
                            ) -> list[Resource]:
    return [
        Resource(arn=machine["stateMachineArn"], type="states:stateMachine", region=region,
                 name=machine.get("name", ""), tags=_tags(tagged, machine["stateMachineArn"]),
                 role_arn=roles.role(machine.get("roleArn")))
        for machine in machines
    ]


def _state_machines(client: Client, region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps) -> list[Resource]:
    return state_machine_resources(_fetch_state_machines(client, region, gaps), region, tagged, roles)


def _fetch_agents(bedrock: Client, region: str, gaps: Gaps) -> list[dict[str, Any]]:
    ids = [agent["agentId"]
           for page in _pages(bedrock, "list_agents", PaginationConfig={"PageSize": BEDROCK_PAGE_SIZE})
           for agent in page.get("agentSummaries", [])]
    return [answer["agent"] for answer in _read_each(
        ids, lambda agent_id: dict(bedrock.get_agent(agentId=agent_id)), gaps, "bedrock-agent", "GetAgent", region)]


def bedrock_agent_resources(agents: list[dict[str, Any]], region: str, tagged: Tags, roles: RoleIndex
                            ) -> list[Resource]:
    return [
        Resource(arn=agent["agentArn"], type="bedrock:agent", region=region, name=agent.get("agentName", ""),
                 tags=_tags(tagged, agent["agentArn"]), role_arn=roles.role(agent.get("agentResourceRoleArn")))
        for agent in agents
    ]


def _bedrock_agents(client: Client, region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps) -> list[Resource]:
    return bedrock_agent_resources(_fetch_agents(client, region, gaps), region, tagged, roles)


@dataclass(frozen=True)
class PipelineAnswer:
    pipeline_id: str
    name: str
    objects: list[dict[str, Any]]  # GetPipelineDefinition's pipelineObjects


def _fetch_pipelines(datapipeline: Client, region: str, gaps: Gaps) -> list[PipelineAnswer]:
    listed = {pipeline["id"]: pipeline.get("name", "")
              for page in _pages(datapipeline, "list_pipelines") for pipeline in page.get("pipelineIdList", [])}
    answers = []
    for pipeline_id, name in listed.items():
        try:
            objects = datapipeline.get_pipeline_definition(pipelineId=pipeline_id).get("pipelineObjects", [])
        except AWS_ERRORS as exc:
            gaps.record("datapipeline", "GetPipelineDefinition", exc, region=region, context=pipeline_id)
            continue
        answers.append(PipelineAnswer(pipeline_id, name, list(objects)))
    return answers


def _pipeline_field(objects: list[dict[str, Any]], key: str) -> str | None:
    """A definition field, from the Default object (inherited by every object) or else the first that sets it."""
    ordered = sorted(objects, key=lambda obj: obj.get("id") != "Default")
    for obj in ordered:
        for field in obj.get("fields", []):
            if field.get("key") == key and field.get("stringValue"):
                return str(field["stringValue"])
    return None


def datapipeline_resources(pipelines: list[PipelineAnswer], region: str, tagged: Tags, roles: RoleIndex
                           ) -> list[Resource]:
    """role_arn is the resourceRole (the role of the EC2 resources the pipeline's activities run on); the
    pipeline's own role, which Data Pipeline uses to create those resources, is its execution_role_arn."""
    found = []
    for pipeline in pipelines:
        arn = roles.arn("datapipeline", region, f"pipeline/{pipeline.pipeline_id}")
        found.append(Resource(
            arn=arn, type="datapipeline:pipeline", region=region, name=pipeline.name or pipeline.pipeline_id,
            tags=_tags(tagged, arn), role_arn=roles.role(_pipeline_field(pipeline.objects, PIPELINE_RESOURCE_ROLE)),
            execution_role_arn=roles.role(_pipeline_field(pipeline.objects, PIPELINE_ROLE)),
        ))
    return found


def _datapipeline(client: Client, region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps) -> list[Resource]:
    return datapipeline_resources(_fetch_pipelines(client, region, gaps), region, tagged, roles)


# --- EC2 launch templates, CloudFormation stack sets, Bedrock AgentCore code interpreters ---------------------


def _fetch_launch_templates(ec2: Client) -> list[dict[str, Any]]:
    # Versions=["$Default"] without a template id or name: every template's default version, in bulk.
    return [version for page in _pages(ec2, "describe_launch_template_versions", Versions=["$Default"])
            for version in page.get("LaunchTemplateVersions", [])]


def launch_template_resources(versions: list[dict[str, Any]], region: str, tagged: Tags, roles: RoleIndex
                              ) -> list[Resource]:
    """Launch templates with the role of their default version's instance profile (by ARN or by name)."""
    found = []
    for version in versions:
        arn = roles.arn("ec2", region, f"launch-template/{version['LaunchTemplateId']}")
        profile_field = (version.get("LaunchTemplateData") or {}).get("IamInstanceProfile") or {}
        profile = roles.profile(profile_field.get("Arn"), profile_field.get("Name"))
        found.append(Resource(arn=arn, type="ec2:launch-template", region=region,
                              name=version.get("LaunchTemplateName", ""), tags=_tags(tagged, arn),
                              role_arn=roles.profile_role(profile), instance_profile_arn=profile))
    return found


def _launch_templates(client: Client, region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps) -> list[Resource]:
    return launch_template_resources(_fetch_launch_templates(client), region, tagged, roles)


def _fetch_stack_sets(cloudformation: Client) -> list[dict[str, Any]]:
    return [summary for page in _pages(cloudformation, "list_stack_sets", Status="ACTIVE")
            for summary in page.get("Summaries", [])]


def stack_set_resources(summaries: list[dict[str, Any]], region: str, tagged: Tags, roles: RoleIndex
                        ) -> list[Resource]:
    """Self-managed and service-managed stack sets administered from this account and Region. Their
    administration role is not read (one DescribeStackSet each): the techniques on them pass a new role."""
    found = []
    for summary in summaries:
        arn = roles.arn("cloudformation", region, f"stackset/{summary['StackSetId']}")
        found.append(Resource(arn=arn, type="cloudformation:stackset", region=region,
                              name=summary.get("StackSetName", ""), tags=_tags(tagged, arn)))
    return found


def _stack_sets(client: Client, region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps) -> list[Resource]:
    return stack_set_resources(_fetch_stack_sets(client), region, tagged, roles)


def _fetch_code_interpreters(agentcore: Client, region: str, gaps: Gaps) -> list[dict[str, Any]]:
    ids = [summary["codeInterpreterId"] for page in _pages(agentcore, "list_code_interpreters")
           for summary in page.get("codeInterpreterSummaries", [])]
    return _read_each(ids, lambda interpreter: dict(agentcore.get_code_interpreter(codeInterpreterId=interpreter)),
                      gaps, "bedrock-agentcore-control", "GetCodeInterpreter", region)


def code_interpreter_resources(interpreters: list[dict[str, Any]], region: str, tagged: Tags, roles: RoleIndex
                               ) -> list[Resource]:
    """Custom AgentCore code interpreters with their execution role (AWS's built-in one has no customer role
    and is not listed)."""
    return [
        Resource(arn=item["codeInterpreterArn"], type="bedrock-agentcore:code-interpreter", region=region,
                 name=item.get("name", ""), tags=_tags(tagged, item["codeInterpreterArn"]),
                 role_arn=roles.role(item.get("executionRoleArn")))
        for item in interpreters
    ]


def _code_interpreters(client: Client, region: str, tagged: Tags, roles: RoleIndex, gaps: Gaps) -> list[Resource]:
    return code_interpreter_resources(_fetch_code_interpreters(client, region, gaps), region, tagged, roles)


SERVICES: tuple[Collected, ...] = (
    Collected("ec2", "DescribeLaunchTemplateVersions", ("ec2:launch-template",), (), _launch_templates),
    Collected("ecs", "ListClusters", ("ecs:cluster", "ecs:task-definition", "ecs:service"),
              ("DescribeClusters", "ListServices", "DescribeServices", "ListTaskDefinitionFamilies",
               "DescribeTaskDefinition"), _ecs),
    Collected("codebuild", "ListProjects", ("codebuild:project",), ("BatchGetProjects",), _codebuild),
    Collected("cloudformation", "DescribeStacks", ("cloudformation:stack",), (), _cloudformation),
    Collected("cloudformation", "ListStackSets", ("cloudformation:stackset",), (), _stack_sets),
    Collected("glue", "GetJobs", ("glue:job",), (), _glue_jobs),
    Collected("glue", "GetDevEndpoints", ("glue:devEndpoint",), (), _glue_dev_endpoints),
    Collected("sagemaker", "ListNotebookInstances", ("sagemaker:notebook-instance",),
              ("DescribeNotebookInstance",), _sagemaker),
    Collected("apprunner", "ListServices", ("apprunner:service",), ("DescribeService",), _apprunner),
    Collected("stepfunctions", "ListStateMachines", ("states:stateMachine",), ("DescribeStateMachine",),
              _state_machines),
    Collected("bedrock-agent", "ListAgents", ("bedrock:agent",), ("GetAgent",), _bedrock_agents),
    Collected("bedrock-agentcore-control", "ListCodeInterpreters", ("bedrock-agentcore:code-interpreter",),
              ("GetCodeInterpreter",), _code_interpreters),
    Collected("datapipeline", "ListPipelines", ("datapipeline:pipeline",), ("GetPipelineDefinition",),
              _datapipeline),
)
COMPUTE_SERVICES: tuple[str, ...] = tuple(dict.fromkeys(entry.service for entry in SERVICES))
