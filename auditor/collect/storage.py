"""Collects one account's storage settings for the CIS foundations controls: S3 Block Public Access (account
and buckets), bucket versioning with MFA Delete and server access logging, EBS encryption by default per
region, RDS DB instances (encryption, minor version upgrades, public access) and EFS file systems.

Bucket settings have no bulk read in S3: one GetPublicAccessBlock, GetBucketVersioning and GetBucketLogging
per bucket, sent to the bucket's own region (bucket policies are read once, by the resource collector).
RDS is read only in the regions where the resource collector found DB instances.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from auditor.collect.regional import per_region
from auditor.collect.session import AWS_ERRORS, ClientFactory, Gaps, error_code
from auditor.model import EfsFileSystem, RdsInstance, Resource, S3BucketSettings, StorageData

# Answers meaning "no Block Public Access configuration here": an answer, not a gap.
NO_PUBLIC_ACCESS_BLOCK = frozenset({"NoSuchPublicAccessBlockConfiguration"})
PUBLIC_ACCESS_BLOCK_KEYS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def collect_storage(
    factory: ClientFactory, regions: tuple[str, ...], home_region: str, gaps: Gaps, resources: tuple[Resource, ...]
) -> StorageData:
    account_block, account_read = _account_public_access_block(factory, home_region, gaps)
    buckets = tuple(_bucket(factory, bucket, gaps) for bucket in resources if bucket.type == "s3:bucket")
    ebs = per_region(regions, lambda r: bool(factory.client("ec2", r).get_ebs_encryption_by_default().get(
        "EbsEncryptionByDefault", False)), gaps, "ec2", "GetEbsEncryptionByDefault")
    rds_regions = tuple(sorted({r.region for r in resources if r.type == "rds:db"} & set(regions)))
    rds = per_region(rds_regions, lambda r: _rds(factory, r), gaps, "rds", "DescribeDBInstances")
    efs = per_region(regions, lambda r: _efs(factory, r), gaps, "efs", "DescribeFileSystems")
    return StorageData(
        account_public_access_block=account_block,
        account_public_access_block_read=account_read,
        buckets=buckets,
        ebs_encryption_by_default=ebs,
        rds_instances=tuple(i for region in rds_regions for i in rds.get(region, ())),
        efs_file_systems=tuple(f for region in regions for f in efs.get(region, ())),
    )


def _flags(configuration: dict[str, Any]) -> dict[str, bool]:
    return {key: bool(configuration.get(key, False)) for key in PUBLIC_ACCESS_BLOCK_KEYS}


def _account_public_access_block(
    factory: ClientFactory, home_region: str, gaps: Gaps
) -> tuple[dict[str, bool] | None, bool]:
    try:
        answer = factory.client("s3control", home_region).get_public_access_block(AccountId=factory.account_id)
    except ClientError as exc:
        if error_code(exc) in NO_PUBLIC_ACCESS_BLOCK:
            return None, True
        gaps.record("s3", "GetPublicAccessBlock", exc, region=home_region, context="account level (s3control)")
        return None, False
    except AWS_ERRORS as exc:
        gaps.record("s3", "GetPublicAccessBlock", exc, region=home_region, context="account level (s3control)")
        return None, False
    return _flags(answer.get("PublicAccessBlockConfiguration", {})), True


def _bucket(factory: ClientFactory, bucket: Resource, gaps: Gaps) -> S3BucketSettings:
    s3 = factory.client("s3", bucket.region)
    name = bucket.name or bucket.arn.split(":")[-1]
    block: dict[str, bool] | None = None
    try:
        block = _flags(s3.get_public_access_block(Bucket=name).get("PublicAccessBlockConfiguration", {}))
    except ClientError as exc:
        if error_code(exc) not in NO_PUBLIC_ACCESS_BLOCK:
            gaps.record("s3", "GetPublicAccessBlock", exc, region=bucket.region, context=name)
    except AWS_ERRORS as exc:
        gaps.record("s3", "GetPublicAccessBlock", exc, region=bucket.region, context=name)
    versioning, mfa_delete = "", False
    try:
        answer = s3.get_bucket_versioning(Bucket=name)
        versioning, mfa_delete = str(answer.get("Status", "")), answer.get("MFADelete") == "Enabled"
    except AWS_ERRORS as exc:
        gaps.record("s3", "GetBucketVersioning", exc, region=bucket.region, context=name)
    target: str | None = None
    try:
        enabled = s3.get_bucket_logging(Bucket=name).get("LoggingEnabled") or {}
        target = enabled.get("TargetBucket") or None
    except AWS_ERRORS as exc:
        gaps.record("s3", "GetBucketLogging", exc, region=bucket.region, context=name)
    return S3BucketSettings(name=name, arn=bucket.arn, region=bucket.region, public_access_block=block,
                            versioning=versioning, mfa_delete=mfa_delete, logging_target=target)


def _rds(factory: ClientFactory, region: str) -> tuple[RdsInstance, ...]:
    found = []
    for page in factory.client("rds", region).get_paginator("describe_db_instances").paginate():
        for db in page.get("DBInstances", []):
            found.append(RdsInstance(
                arn=str(db["DBInstanceArn"]), identifier=str(db.get("DBInstanceIdentifier", "")), region=region,
                engine=str(db.get("Engine", "")), storage_encrypted=bool(db.get("StorageEncrypted", False)),
                auto_minor_version_upgrade=bool(db.get("AutoMinorVersionUpgrade", False)),
                publicly_accessible=bool(db.get("PubliclyAccessible", False)),
            ))
    return tuple(found)


def _efs(factory: ClientFactory, region: str) -> tuple[EfsFileSystem, ...]:
    found = []
    for page in factory.client("efs", region).get_paginator("describe_file_systems").paginate():
        for fs in page.get("FileSystems", []):
            found.append(EfsFileSystem(arn=str(fs.get("FileSystemArn", "")), id=str(fs.get("FileSystemId", "")),
                                       region=region, encrypted=bool(fs.get("Encrypted", False))))
    return tuple(found)
