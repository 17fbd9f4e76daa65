"""Collects one account's workload and data resources: EC2 instances and volumes, S3 buckets,
RDS DB instances, Lambda functions, DynamoDB tables, and any other tagged resource the Resource
Groups Tagging API knows. Resources are identified (and de-duplicated) by ARN.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import ClientError

from auditor.collect.iam import policy_document
from auditor.collect.session import AWS_ERRORS, Client, ClientFactory, Gaps, error_code
from auditor.model import Resource

REGIONAL_SERVICES = ("ec2", "rds", "lambda", "dynamodb", "resourcegroupstaggingapi")
MAX_REGION_THREADS = 4
# Resource kinds for ARNs whose resource part carries no "<kind>/" or "<kind>:" prefix.
ARN_KINDS_WITHOUT_PREFIX = {"s3": "bucket", "sns": "topic", "sqs": "queue"}


def collect_resources(
    factory: ClientFactory, regions: tuple[str, ...], partition: str, gaps: Gaps
) -> tuple[Resource, ...]:
    """Every resource found in the account, sorted by ARN; the S3 listing is done once (it is global)."""
    # Clients are created here, in the account's thread (Sessions are not thread-safe); the
    # clients themselves are then shared with the per-region threads.
    clients = {region: {svc: factory.client(svc, region) for svc in REGIONAL_SERVICES} for region in regions}
    context = _Context(factory.account_id, partition, gaps)
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_REGION_THREADS, len(regions)))) as pool:
        futures = [pool.submit(_regional, clients[region], region, context) for region in regions]
        buckets = list(_s3_buckets(factory, regions[0], context))
        regional = [future.result() for future in futures]

    found: dict[str, Resource] = {}
    for resource in buckets:
        found.setdefault(resource.arn, resource)
    for service_resources, _ in regional:
        for resource in service_resources:
            found.setdefault(resource.arn, resource)
    # Tagging-API items only fill in what the per-service listings did not already describe.
    for _, tagged in regional:
        for resource in tagged:
            found.setdefault(resource.arn, resource)
    return tuple(sorted(found.values(), key=lambda r: r.arn))


class _Context:
    def __init__(self, account_id: str, partition: str, gaps: Gaps) -> None:
        self.account_id = account_id
        self.partition = partition
        self.gaps = gaps

    def arn(self, service: str, region: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{region}:{self.account_id}:{resource}"


def _tag_list(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {tag["Key"]: tag.get("Value", "") for tag in tags or []}


def _regional(
    clients: dict[str, Client], region: str, context: _Context
) -> tuple[list[Resource], list[Resource]]:
    listings: list[tuple[str, str, Callable[[Client, str, _Context], Iterator[Resource]]]] = [
        ("ec2", "DescribeInstances", _ec2_instances),
        ("ec2", "DescribeVolumes", _ec2_volumes),
        ("rds", "DescribeDBInstances", _rds_instances),
        ("lambda", "ListFunctions", _lambda_functions),
        ("dynamodb", "ListTables", _dynamodb_tables),
    ]
    resources: list[Resource] = []
    for service, operation, listing in listings:
        try:
            resources.extend(listing(clients[service], region, context))
        except AWS_ERRORS as exc:
            context.gaps.record(service, operation, exc, region=region)
    tagged: list[Resource] = []
    try:
        tagged.extend(_tagged_resources(clients["resourcegroupstaggingapi"], region))
    except AWS_ERRORS as exc:
        context.gaps.record("resourcegroupstaggingapi", "GetResources", exc, region=region)
    return resources, tagged


def _pages(client: Client, operation: str, **params: Any) -> Iterator[dict[str, Any]]:
    yield from client.get_paginator(operation).paginate(**params)


def _ec2_instances(ec2: Client, region: str, context: _Context) -> Iterator[Resource]:
    for page in _pages(ec2, "describe_instances"):
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                if instance.get("State", {}).get("Name") == "terminated":
                    continue
                tags = _tag_list(instance.get("Tags"))
                instance_id = instance["InstanceId"]
                yield Resource(
                    arn=context.arn("ec2", region, f"instance/{instance_id}"),
                    type="ec2:instance",
                    region=region,
                    name=tags.get("Name", instance_id),
                    tags=tags,
                    role_arn=(instance.get("IamInstanceProfile") or {}).get("Arn"),
                )


def _ec2_volumes(ec2: Client, region: str, context: _Context) -> Iterator[Resource]:
    for page in _pages(ec2, "describe_volumes"):
        for volume in page.get("Volumes", []):
            tags = _tag_list(volume.get("Tags"))
            volume_id = volume["VolumeId"]
            yield Resource(
                arn=context.arn("ec2", region, f"volume/{volume_id}"),
                type="ec2:volume",
                region=region,
                name=tags.get("Name", volume_id),
                tags=tags,
            )


def _rds_instances(rds: Client, region: str, context: _Context) -> Iterator[Resource]:
    for page in _pages(rds, "describe_db_instances"):
        for db in page.get("DBInstances", []):
            yield Resource(
                arn=db["DBInstanceArn"],
                type="rds:db",
                region=region,
                name=db.get("DBInstanceIdentifier", ""),
                tags=_tag_list(db.get("TagList")),
            )


def _lambda_functions(client: Client, region: str, context: _Context) -> Iterator[Resource]:
    for page in _pages(client, "list_functions"):
        for function in page.get("Functions", []):
            arn = function["FunctionArn"]
            name = function.get("FunctionName", "")
            tags: dict[str, str] = {}
            try:
                tags = dict(client.list_tags(Resource=arn).get("Tags", {}))
            except AWS_ERRORS as exc:
                context.gaps.record("lambda", "ListTags", exc, region=region, context=name)
            policy = None
            try:
                raw = client.get_policy(FunctionName=arn)["Policy"]
                policy = policy_document(raw, context.gaps, "lambda", "GetPolicy", arn)
            except ClientError as exc:
                if error_code(exc) != "ResourceNotFoundException":
                    context.gaps.record("lambda", "GetPolicy", exc, region=region, context=name)
            except AWS_ERRORS as exc:
                context.gaps.record("lambda", "GetPolicy", exc, region=region, context=name)
            yield Resource(
                arn=arn, type="lambda:function", region=region, name=name, tags=tags, policy=policy,
                role_arn=function.get("Role"),
            )


def _dynamodb_tables(dynamodb: Client, region: str, context: _Context) -> Iterator[Resource]:
    for page in _pages(dynamodb, "list_tables"):
        for name in page.get("TableNames", []):
            arn = context.arn("dynamodb", region, f"table/{name}")
            try:
                arn = dynamodb.describe_table(TableName=name)["Table"].get("TableArn", arn)
            except AWS_ERRORS as exc:
                context.gaps.record("dynamodb", "DescribeTable", exc, region=region, context=name)
            tags: dict[str, str] = {}
            try:
                tags = _dynamodb_tags(dynamodb, arn)
            except AWS_ERRORS as exc:
                context.gaps.record("dynamodb", "ListTagsOfResource", exc, region=region, context=name)
            yield Resource(arn=arn, type="dynamodb:table", region=region, name=name, tags=tags)


def _dynamodb_tags(dynamodb: Client, arn: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    params: dict[str, str] = {"ResourceArn": arn}
    while True:
        page = dynamodb.list_tags_of_resource(**params)
        tags.update(_tag_list(page.get("Tags")))
        if not page.get("NextToken"):
            return tags
        params["NextToken"] = page["NextToken"]


def resource_type_and_name(arn: str) -> tuple[str, str]:
    """``("<service>:<kind>", name)`` for an ARN, e.g. ``("sns:topic", "alerts")``."""
    parts = arn.split(":", 5)
    service, resource = parts[2], parts[5] if len(parts) > 5 else ""
    for separator in ("/", ":"):
        if separator in resource:
            kind, _, name = resource.partition(separator)
            return f"{service}:{kind}", name.rsplit(separator, 1)[-1]
    return f"{service}:{ARN_KINDS_WITHOUT_PREFIX.get(service, 'resource')}", resource


def _tagged_resources(tagging: Client, region: str) -> Iterator[Resource]:
    for page in _pages(tagging, "get_resources"):
        for mapping in page.get("ResourceTagMappingList", []):
            arn = mapping["ResourceARN"]
            kind, name = resource_type_and_name(arn)
            arn_region = arn.split(":")[3] if arn.count(":") >= 5 else ""
            yield Resource(
                arn=arn, type=kind, region=arn_region or "global", name=name,
                tags=_tag_list(mapping.get("Tags")),
            )


def _s3_buckets(factory: ClientFactory, home_region: str, context: _Context) -> Iterator[Resource]:
    s3 = factory.client("s3", home_region)
    try:
        buckets = [bucket for page in _pages(s3, "list_buckets") for bucket in page.get("Buckets", [])]
    except AWS_ERRORS as exc:
        context.gaps.record("s3", "ListBuckets", exc)
        return
    for bucket in buckets:
        name = bucket["Name"]
        region = bucket.get("BucketRegion") or _bucket_region(s3, name, context)
        client = factory.client("s3", region or home_region)
        yield Resource(
            arn=f"arn:{context.partition}:s3:::{name}",
            type="s3:bucket",
            region=region or "unknown",
            name=name,
            tags=_bucket_tags(client, name, context),
            policy=_bucket_policy(client, name, context),
        )


def _bucket_region(s3: Client, name: str, context: _Context) -> str | None:
    try:
        location = s3.get_bucket_location(Bucket=name).get("LocationConstraint")
    except AWS_ERRORS as exc:
        context.gaps.record("s3", "GetBucketLocation", exc, context=name)
        return None
    # Legacy answers: no constraint means us-east-1, "EU" means eu-west-1.
    if not location:
        return "us-east-1"
    return "eu-west-1" if location == "EU" else str(location)


def _bucket_tags(s3: Client, name: str, context: _Context) -> dict[str, str]:
    try:
        return _tag_list(s3.get_bucket_tagging(Bucket=name).get("TagSet"))
    except ClientError as exc:
        if error_code(exc) != "NoSuchTagSet":
            context.gaps.record("s3", "GetBucketTagging", exc, context=name)
    except AWS_ERRORS as exc:
        context.gaps.record("s3", "GetBucketTagging", exc, context=name)
    return {}


def _bucket_policy(s3: Client, name: str, context: _Context) -> dict[str, Any] | None:
    try:
        raw = s3.get_bucket_policy(Bucket=name)["Policy"]
    except ClientError as exc:
        if error_code(exc) != "NoSuchBucketPolicy":
            context.gaps.record("s3", "GetBucketPolicy", exc, context=name)
        return None
    except AWS_ERRORS as exc:
        context.gaps.record("s3", "GetBucketPolicy", exc, context=name)
        return None
    return policy_document(raw, context.gaps, "s3", "GetBucketPolicy", name)
