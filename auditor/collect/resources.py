"""Collects one account's workload and data resources: EC2 instances and volumes, S3 buckets,
RDS DB instances, Lambda functions, DynamoDB tables, customer managed KMS keys, SQS queues, SNS
topics, Secrets Manager secrets, the workloads of ``auditor.collect.compute`` (ECS, CodeBuild,
CloudFormation, Glue, SageMaker, App Runner, Step Functions, Bedrock agents, Data Pipeline), and any
other tagged resource the Resource Groups Tagging API knows. Resources are identified (and de-duplicated)
by ARN; resource-based policies (bucket, function, key, queue, topic and secret policies) are kept as
documents.

Tags of S3 buckets, Lambda functions, DynamoDB tables, KMS keys, SQS queues and SNS topics come from
the region's GetResources answer (a resource absent from it has no tags); they are read per resource
only where that answer is missing. Secrets carry their tags in ListSecrets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

from botocore.exceptions import ClientError

from auditor.collect.compute import (
    COMPUTE_MAX_ATTEMPTS,
    Collected,
    RoleIndex,
    ServerErrorBreaker,
    breaker_for,
    collect_listed,
    offered,
)
from auditor.collect.compute import (
    SERVICES as WORKLOAD_SERVICES,
)
from auditor.collect.iam import policy_document
from auditor.collect.session import AWS_ERRORS, Client, ClientFactory, Gaps, error_code
from auditor.model import IamData, Resource

MAX_REGION_THREADS = 4
# Resource kinds for ARNs whose resource part carries no "<kind>/" or "<kind>:" prefix.
ARN_KINDS_WITHOUT_PREFIX = {"s3": "bucket", "sns": "topic", "sqs": "queue"}
TAGGING_PAGE_SIZE = 100  # GetResources' ResourcesPerPage maximum (the default is 50)
LIST_BUCKETS_PAGE_SIZE = 1000  # any MaxBuckets makes ListBuckets answer each bucket's BucketRegion
LIST_QUEUES_PAGE_SIZE = 1000  # without MaxResults, ListQueues stops at 1,000 queues and gives no NextToken
LIST_SECRETS_PAGE_SIZE = 100  # ListSecrets' MaxResults maximum
# Aliases under "alias/aws/" are reserved to AWS managed keys: customers cannot create them.
AWS_MANAGED_KEY_ALIAS_PREFIX = "alias/aws/"

TAGGING = "resourcegroupstaggingapi"
# A region's GetResources answer (tagged resources by ARN), or None when that call failed.
Tagged = Mapping[str, Resource] | None


def collect_resources(
    factory: ClientFactory, regions: tuple[str, ...], partition: str, gaps: Gaps, home_region: str = "",
    iam: IamData | None = None,
) -> tuple[Resource, ...]:
    """Every resource found in the account's ``regions``, sorted by ARN; the S3 listing is done once from
    ``home_region`` (default: the first region), since it is global. ``iam`` (the account's IAM data, None
    when it could not be collected) resolves the role each workload runs as, e.g. an instance profile's."""
    home_region = home_region or regions[0]
    # Clients are created here, in the account's thread (Sessions are not thread-safe); the
    # clients themselves are then shared with the per-region threads. Workload services only where AWS
    # offers them (App Runner, Data Pipeline... exist in few Regions), with fewer retries.
    clients = {region: _clients(factory, region, partition) for region in regions}
    # Without the account's authorization details (a gap already), roles are known only where AWS names them.
    iam_known = iam is not None and not any(
        gap.service == "iam" and gap.operation == "GetAccountAuthorizationDetails" for gap in gaps.items)
    roles = RoleIndex(iam if iam_known else None, factory.account_id, partition)
    breaker = breaker_for(factory.limiter)
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_REGION_THREADS, len(regions)))) as pool:
        # Submitted first, so every listing that waits for its region's tags finds them started.
        tagging: dict[str, Future[Tagged]] = {
            region: pool.submit(_tagged_resources, clients[region][(TAGGING, False)], region, gaps)
            for region in regions
        }
        futures = [pool.submit(_regional, clients[region], region, tagging[region], roles, gaps, breaker)
                   for region in regions]
        buckets = list(_s3_buckets(factory, home_region, tagging, roles, gaps))
        regional = [future.result() for future in futures]
        tagged = [resource for future in tagging.values() for resource in (future.result() or {}).values()]

    found: dict[str, Resource] = {}
    for resource in buckets:
        found.setdefault(resource.arn, resource)
    for service_resources in regional:
        for resource in service_resources:
            found.setdefault(resource.arn, resource)
    # Tagging-API items only fill in what the per-service listings did not already describe
    # (moto answers every bucket in every region: this also de-duplicates them by ARN).
    for resource in tagged:
        found.setdefault(resource.arn, resource)
    return tuple(sorted(found.values(), key=lambda r: r.arn))


def _clients(factory: ClientFactory, region: str, partition: str) -> dict[tuple[str, bool], Client]:
    """One client per (service, workload) of the table in ``region``, plus the tagging API's."""
    services = {(entry.service, entry.workload) for entry in COLLECTED_SERVICES} | {(TAGGING, False)}
    return {
        (service, workload): factory.client(service, region, COMPUTE_MAX_ATTEMPTS) if workload
        else factory.client(service, region)
        for service, workload in sorted(services)
        if not workload or offered(factory.session, service, region, partition)
    }


def _regional(
    clients: dict[tuple[str, bool], Client], region: str, tagging: Future[Tagged], roles: RoleIndex, gaps: Gaps,
    breaker: ServerErrorBreaker,
) -> list[Resource]:
    """Every row of the collected-services table in ``region``, once the region's tags are known."""
    tagged = tagging.result()
    return collect_listed(COLLECTED_SERVICES, lambda entry: clients.get((entry.service, entry.workload)), region,
                          tagged, roles, gaps, breaker)


def _tags_from(
    tagged: Tagged, arn: str, read: Callable[[], dict[str, str]], gaps: Gaps, operation: str,
    region: str, name: str,
) -> dict[str, str]:
    """Tags from GetResources' answer when there is one (absent = untagged), else read per resource."""
    if tagged is not None:
        resource = tagged.get(arn)
        return dict(resource.tags) if resource is not None else {}
    try:
        return read()
    except AWS_ERRORS as exc:
        service = arn.split(":")[2]
        gaps.record(service, operation, exc, region=region, context=name)
        return {}


def _tag_list(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag.get("Value", "") for tag in tags or []}


def _pages(client: Client, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
    yield from client.get_paginator(operation).paginate(**params)


def _ec2_instances(ec2: Client, region: str, tagged: Tagged, roles: RoleIndex, gaps: Gaps) -> Iterator[Resource]:
    unresolved = 0
    for page in _pages(ec2, "describe_instances"):
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                if instance.get("State", {}).get("Name") == "terminated":
                    continue
                tags = _tag_list(instance.get("Tags"))
                instance_id = instance["InstanceId"]
                profile = (instance.get("IamInstanceProfile") or {}).get("Arn")
                unresolved += 1 if profile and not roles.known else 0
                yield Resource(
                    arn=roles.arn("ec2", region, f"instance/{instance_id}"),
                    type="ec2:instance",
                    region=region,
                    name=tags.get("Name", instance_id),
                    tags=tags,
                    role_arn=roles.profile_role(profile),
                    instance_profile_arn=profile,
                    metadata_http_tokens=(instance.get("MetadataOptions") or {}).get("HttpTokens"),
                    metadata_http_endpoint=(instance.get("MetadataOptions") or {}).get("HttpEndpoint"),
                )
    if unresolved:
        gaps.add("iam", "GetAccountAuthorizationDetails", "RoleUnresolved",
                         f"{unresolved} EC2 instance(s) have an instance profile whose role is unknown: "
                         "the account's IAM authorization details were not collected", region=region)


def _ec2_volumes(ec2: Client, region: str, tagged: Tagged, roles: RoleIndex, gaps: Gaps) -> Iterator[Resource]:
    for page in _pages(ec2, "describe_volumes"):
        for volume in page.get("Volumes", []):
            tags = _tag_list(volume.get("Tags"))
            volume_id = volume["VolumeId"]
            yield Resource(
                arn=roles.arn("ec2", region, f"volume/{volume_id}"),
                type="ec2:volume",
                region=region,
                name=tags.get("Name", volume_id),
                tags=tags,
            )


def _rds_instances(rds: Client, region: str, tagged: Tagged, roles: RoleIndex, gaps: Gaps) -> Iterator[Resource]:
    for page in _pages(rds, "describe_db_instances"):
        for db in page.get("DBInstances", []):
            yield Resource(
                arn=db["DBInstanceArn"],
                type="rds:db",
                region=region,
                name=db.get("DBInstanceIdentifier", ""),
                tags=_tag_list(db.get("TagList")),
            )


def _lambda_functions(client: Client, region: str, tagged: Tagged, roles: RoleIndex, gaps: Gaps) -> Iterator[Resource]:
    for page in _pages(client, "list_functions"):
        for function in page.get("Functions", []):
            arn = function["FunctionArn"]
            name = function.get("FunctionName", "")
            tags = _tags_from(tagged, arn, partial(_lambda_tags, client, arn), gaps, "ListTags", region, name)
            policy = _resource_policy(partial(_lambda_policy, client, arn), gaps, "lambda", "GetPolicy", region,
                                      name, absent="ResourceNotFoundException")
            yield Resource(
                arn=arn, type="lambda:function", region=region, name=name, tags=tags, policy=policy,
                role_arn=function.get("Role"),
            )


def _dynamodb_tables(dynamodb: Client, region: str, tagged: Tagged, roles: RoleIndex, gaps: Gaps) -> Iterator[Resource]:
    for page in _pages(dynamodb, "list_tables"):
        for name in page.get("TableNames", []):
            # A table's ARN is built from its name: no DescribeTable call is needed to learn it.
            arn = roles.arn("dynamodb", region, f"table/{name}")
            tags = _tags_from(tagged, arn, partial(_dynamodb_tags, dynamodb, arn), gaps, "ListTagsOfResource",
                              region, name)
            yield Resource(arn=arn, type="dynamodb:table", region=region, name=name, tags=tags)


def _kms_keys(kms: Client, region: str, tagged: Tagged, roles: RoleIndex, gaps: Gaps) -> Iterator[Resource]:
    # One paginated ListAliases per region both names the keys and tells AWS managed keys (reserved
    # "alias/aws/" aliases) apart, where DescribeKey's KeyManager would cost one call per key.
    aliases: dict[str, list[str]] = {}
    try:
        for page in _pages(kms, "list_aliases"):
            for alias in page.get("Aliases", []):
                if alias.get("TargetKeyId"):
                    aliases.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])
    except AWS_ERRORS as exc:
        # Without aliases customer keys cannot be told from AWS managed ones: the region's keys are a gap.
        gaps.record("kms", "ListAliases", exc, region=region)
        return
    for page in _pages(kms, "list_keys"):
        for key in page.get("Keys", []):
            key_id = key["KeyId"]
            names = sorted(aliases.get(key_id, []))
            if any(name.startswith(AWS_MANAGED_KEY_ALIAS_PREFIX) for name in names):
                continue  # AWS managed: not a workload, and its key policy is AWS's
            arn = key.get("KeyArn") or roles.arn("kms", region, f"key/{key_id}")
            name = names[0] if names else key_id
            tags = _tags_from(tagged, arn, partial(_kms_tags, kms, key_id), gaps, "ListResourceTags", region,
                              name)
            policy = _resource_policy(partial(_kms_key_policy, kms, key_id), gaps, "kms", "GetKeyPolicy", region,
                                      name)
            yield Resource(arn=arn, type="kms:key", region=region, name=name, tags=tags, policy=policy)


def _sqs_queues(sqs: Client, region: str, tagged: Tagged, roles: RoleIndex, gaps: Gaps) -> Iterator[Resource]:
    for page in _pages(sqs, "list_queues", PaginationConfig={"PageSize": LIST_QUEUES_PAGE_SIZE}):
        for url in page.get("QueueUrls", []):
            name = url.rstrip("/").rsplit("/", 1)[-1]
            arn = roles.arn("sqs", region, name)  # the queue URL's last part is its name
            policy = None
            try:
                attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "Policy"])
            except AWS_ERRORS as exc:
                gaps.record("sqs", "GetQueueAttributes", exc, region=region, context=name)
            else:
                values = attributes.get("Attributes", {})
                arn = values.get("QueueArn") or arn
                if values.get("Policy"):
                    policy = policy_document(values["Policy"], gaps, "sqs", "GetQueueAttributes", name)
            tags = _tags_from(tagged, arn, partial(_sqs_tags, sqs, url), gaps, "ListQueueTags", region, name)
            yield Resource(arn=arn, type="sqs:queue", region=region, name=name, tags=tags, policy=policy)


def _sns_topics(sns: Client, region: str, tagged: Tagged, roles: RoleIndex, gaps: Gaps) -> Iterator[Resource]:
    for page in _pages(sns, "list_topics"):
        for topic in page.get("Topics", []):
            arn = topic["TopicArn"]
            name = arn.rsplit(":", 1)[-1]
            tags = _tags_from(tagged, arn, partial(_sns_tags, sns, arn), gaps, "ListTagsForResource", region,
                              name)
            policy = _resource_policy(partial(_topic_policy, sns, arn), gaps, "sns", "GetTopicAttributes", region,
                                      name)
            yield Resource(arn=arn, type="sns:topic", region=region, name=name, tags=tags, policy=policy)


def _secrets(secretsmanager: Client, region: str, tagged: Tagged, roles: RoleIndex, gaps: Gaps) -> Iterator[Resource]:
    for page in _pages(secretsmanager, "list_secrets", PaginationConfig={"PageSize": LIST_SECRETS_PAGE_SIZE}):
        for secret in page.get("SecretList", []):
            arn = secret["ARN"]
            name = secret.get("Name", "")
            policy = _resource_policy(partial(_secret_policy, secretsmanager, arn), gaps, "secretsmanager",
                                      "GetResourcePolicy", region, name)
            yield Resource(arn=arn, type="secretsmanager:secret", region=region, name=name,
                           tags=_tag_list(secret.get("Tags")), policy=policy)


def _resource_policy(
    read: Callable[[], object], gaps: Gaps, service: str, operation: str, region: str, name: str,
    absent: str = "",
) -> dict[str, Any] | None:
    """A resource's policy document; None when it has none (empty answer or the ``absent`` error code),
    or when the read failed (then also a gap)."""
    try:
        raw = read()
    except ClientError as exc:
        if not absent or error_code(exc) != absent:
            gaps.record(service, operation, exc, region=region, context=name)
        return None
    except AWS_ERRORS as exc:
        gaps.record(service, operation, exc, region=region, context=name)
        return None
    return policy_document(raw, gaps, service, operation, name) if raw else None


def _lambda_policy(client: Client, arn: str) -> object:
    return client.get_policy(FunctionName=arn)["Policy"]


def _kms_key_policy(kms: Client, key_id: str) -> object:
    return kms.get_key_policy(KeyId=key_id, PolicyName="default").get("Policy")


def _topic_policy(sns: Client, arn: str) -> object:
    return sns.get_topic_attributes(TopicArn=arn).get("Attributes", {}).get("Policy")


def _secret_policy(secretsmanager: Client, arn: str) -> object:
    return secretsmanager.get_resource_policy(SecretId=arn).get("ResourcePolicy")


def _lambda_tags(client: Client, arn: str) -> dict[str, str]:
    return dict(client.list_tags(Resource=arn).get("Tags", {}))


def _dynamodb_tags(dynamodb: Client, arn: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    params: dict[str, str] = {"ResourceArn": arn}
    while True:
        page = dynamodb.list_tags_of_resource(**params)
        tags.update(_tag_list(page.get("Tags")))
        if not page.get("NextToken"):
            return tags
        params["NextToken"] = page["NextToken"]


def _kms_tags(kms: Client, key_id: str) -> dict[str, str]:
    return {
        tag["TagKey"]: tag.get("TagValue", "")
        for page in _pages(kms, "list_resource_tags", KeyId=key_id)
        for tag in page.get("Tags", [])
    }


def _sqs_tags(sqs: Client, url: str) -> dict[str, str]:
    return dict(sqs.list_queue_tags(QueueUrl=url).get("Tags", {}))


def _sns_tags(sns: Client, arn: str) -> dict[str, str]:
    return _tag_list(sns.list_tags_for_resource(ResourceArn=arn).get("Tags"))


def resource_type_and_name(arn: str) -> tuple[str, str]:
    """``("<service>:<kind>", name)`` for an ARN, e.g. ``("sns:topic", "alerts")``."""
    parts = arn.split(":", 5)
    service, resource = parts[2], parts[5] if len(parts) > 5 else ""
    for separator in ("/", ":"):
        if separator in resource:
            kind, _, name = resource.partition(separator)
            return f"{service}:{kind}", name.rsplit(separator, 1)[-1]
    return f"{service}:{ARN_KINDS_WITHOUT_PREFIX.get(service, 'resource')}", resource


def _tagged_resources(tagging: Client, region: str, gaps: Gaps) -> dict[str, Resource] | None:
    """The region's tagged resources by ARN, or None (and a gap) when GetResources failed."""
    found: dict[str, Resource] = {}
    try:
        for page in _pages(tagging, "get_resources", PaginationConfig={"PageSize": TAGGING_PAGE_SIZE}):
            for mapping in page.get("ResourceTagMappingList", []):
                arn = mapping["ResourceARN"]
                kind, name = resource_type_and_name(arn)
                arn_region = arn.split(":")[3] if arn.count(":") >= 5 else ""
                found[arn] = Resource(
                    arn=arn, type=kind, region=arn_region or "global", name=name,
                    tags=_tag_list(mapping.get("Tags")),
                )
    except AWS_ERRORS as exc:
        gaps.record("resourcegroupstaggingapi", "GetResources", exc, region=region)
        return None
    return found


def _s3_buckets(
    factory: ClientFactory, home_region: str, tagging: dict[str, Future[Tagged]], roles: RoleIndex, gaps: Gaps
) -> Iterator[Resource]:
    home = factory.client("s3", home_region)
    try:
        buckets = [
            bucket
            for page in _pages(home, "list_buckets", PaginationConfig={"PageSize": LIST_BUCKETS_PAGE_SIZE})
            for bucket in page.get("Buckets", [])
        ]
    except AWS_ERRORS as exc:
        gaps.record("s3", "ListBuckets", exc)
        return
    for bucket in buckets:
        name = bucket["Name"]
        region = bucket.get("BucketRegion") or _bucket_region(home, name, gaps)
        client = factory.client("s3", region or home_region)
        arn = f"arn:{roles.partition}:s3:::{name}"
        policy = _resource_policy(partial(_bucket_policy, client, name), gaps, "s3", "GetBucketPolicy", "global",
                                  name, absent="NoSuchBucketPolicy")
        # GetResources is regional: a bucket outside the audited regions is in none of its answers.
        tagged = tagging[region].result() if region in tagging else None
        tags = _tags_from(tagged, arn, partial(_bucket_tags, client, name), gaps, "GetBucketTagging", "global",
                          name)
        yield Resource(arn=arn, type="s3:bucket", region=region or "unknown", name=name, tags=tags, policy=policy)


def _bucket_region(s3: Client, name: str, gaps: Gaps) -> str | None:
    try:
        location = s3.get_bucket_location(Bucket=name).get("LocationConstraint")
    except AWS_ERRORS as exc:
        gaps.record("s3", "GetBucketLocation", exc, context=name)
        return None
    # Legacy answers: no constraint means us-east-1, "EU" means eu-west-1.
    if not location:
        return "us-east-1"
    return "eu-west-1" if location == "EU" else str(location)


def _bucket_tags(s3: Client, name: str) -> dict[str, str]:
    try:
        return _tag_list(s3.get_bucket_tagging(Bucket=name).get("TagSet"))
    except ClientError as exc:
        if error_code(exc) != "NoSuchTagSet":
            raise
    return {}


def _bucket_policy(s3: Client, name: str) -> object:
    return s3.get_bucket_policy(Bucket=name)["Policy"]


# --- the collected-services table ------------------------------------------------------------------------
# One row per regional listing: botocore service, the listing operation (names the coverage gap when the row
# fails in a Region), the Resource.type values it yields, every other operation it calls, and its collector.
# A new collected service is one row here (or in ``compute.SERVICES`` for a workload that runs with a role)
# plus its operations on the read-only allow-list (auditor/collect/readonly.py); tests/test_collected_services.py
# checks both. S3 is listed once per account (ListBuckets is global): ``S3_CALLS`` below.
RESOURCE_LISTINGS: tuple[Collected, ...] = (
    Collected("ec2", "DescribeInstances", ("ec2:instance",), (), _ec2_instances, workload=False),
    Collected("ec2", "DescribeVolumes", ("ec2:volume",), (), _ec2_volumes, workload=False),
    Collected("rds", "DescribeDBInstances", ("rds:db",), (), _rds_instances, workload=False),
    Collected("lambda", "ListFunctions", ("lambda:function",), ("ListTags", "GetPolicy"), _lambda_functions,
              workload=False),
    Collected("dynamodb", "ListTables", ("dynamodb:table",), ("ListTagsOfResource",), _dynamodb_tables,
              workload=False),
    Collected("kms", "ListKeys", ("kms:key",), ("ListAliases", "ListResourceTags", "GetKeyPolicy"), _kms_keys,
              workload=False),
    Collected("sqs", "ListQueues", ("sqs:queue",), ("GetQueueAttributes", "ListQueueTags"), _sqs_queues,
              workload=False),
    Collected("sns", "ListTopics", ("sns:topic",), ("ListTagsForResource", "GetTopicAttributes"), _sns_topics,
              workload=False),
    Collected("secretsmanager", "ListSecrets", ("secretsmanager:secret",), ("GetResourcePolicy",), _secrets,
              workload=False),
)
COLLECTED_SERVICES: tuple[Collected, ...] = RESOURCE_LISTINGS + WORKLOAD_SERVICES
S3_CALLS: tuple[str, ...] = ("ListBuckets", "GetBucketLocation", "GetBucketPolicy", "GetBucketTagging")
