"""One account, built in code, that passes every CIS logging, monitoring, storage and network control: the benign
twin of the CIS rule tests. Each risky case changes one thing in it with ``change``."""

from __future__ import annotations

from typing import Any

from auditor.model import (
    AccountSnapshot,
    ConfigRecorder,
    EfsFileSystem,
    LoggingData,
    MetricAlarm,
    MetricFilter,
    NetworkAcl,
    NetworkData,
    RdsInstance,
    Resource,
    S3BucketSettings,
    SecurityGroup,
    Snapshot,
    StorageData,
    TopicSubscribers,
    TrailDetails,
    Vpc,
)
from auditor.monitoring_watches import WATCHES
from tests.iam_helpers import DEV, root, snapshot

ACCOUNT, REGION = DEV, "us-east-1"
ACCOUNT_ARN = root(ACCOUNT)  # a single-account audit names the account by its root ARN
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/main"
LOG_GROUP, TRAIL_BUCKET, DATA_BUCKET = "cloudtrail-main", "trail-logs", "data"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:security-alerts"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VPC_ID, SG_ID, ACL_ID = "vpc-0a1b", "sg-0a1b", "acl-0a1b"
SG_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{SG_ID}"
ACL_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:network-acl/{ACL_ID}"
DB_ARN = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:orders"
EFS_ARN = f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/fs-0a1b"
ALL_EVENTS = ({"ReadWriteType": "All", "IncludeManagementEvents": True,
               "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]},)
BLOCK_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
             "RestrictPublicBuckets": True}
HTTPS_ONLY: dict[str, Any] = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Deny", "Principal": "*", "Action": "s3:*",
    "Resource": [f"arn:aws:s3:::{DATA_BUCKET}", f"arn:aws:s3:::{DATA_BUCKET}/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


def bucket_arn(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def _logging() -> LoggingData:
    metric = {watch.number: ("CISBenchmark", f"cis-{watch.number}") for watch in WATCHES}
    return LoggingData(
        trails=(TrailDetails(name="main", arn=TRAIL_ARN, home_region=REGION, is_multi_region=True, is_logging=True,
                             log_file_validation=True, kms_key_id=KEY_ARN, s3_bucket_name=TRAIL_BUCKET,
                             cloudwatch_log_group_arn=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}:*",
                             event_selectors=ALL_EVENTS),),
        trail_regions=(REGION,),
        config_recorders={REGION: (ConfigRecorder(name="default", all_supported=True,
                                                  include_global_resource_types=True, recording=True,
                                                  last_status="SUCCESS"),)},
        metric_filters=tuple(MetricFilter(log_group_name=LOG_GROUP, region=REGION, name=f"cis-{w.number}",
                                          pattern=w.reference, metrics=(metric[w.number],)) for w in WATCHES),
        alarms=tuple(MetricAlarm(name=f"cis-{w.number}",
                                 arn=f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:cis-{w.number}", region=REGION,
                                 namespace=metric[w.number][0], metric_name=metric[w.number][1],
                                 alarm_actions=(TOPIC,)) for w in WATCHES),
        topics=(TopicSubscribers(topic_arn=TOPIC, confirmed=1),),
        security_hub={REGION: True},
        kms_rotation={KEY_ARN: True},
    )


def _storage() -> StorageData:
    def settings(name: str) -> S3BucketSettings:
        return S3BucketSettings(name=name, arn=bucket_arn(name), region=REGION, public_access_block=BLOCK_ALL,
                                versioning="Enabled", mfa_delete=True, logging_target="access-logs")

    return StorageData(
        account_public_access_block=BLOCK_ALL, account_public_access_block_read=True,
        buckets=(settings(TRAIL_BUCKET), settings(DATA_BUCKET)),
        ebs_encryption_by_default={REGION: True},
        rds_instances=(RdsInstance(arn=DB_ARN, identifier="orders", region=REGION, engine="postgres",
                                   storage_encrypted=True, auto_minor_version_upgrade=True),),
        efs_file_systems=(EfsFileSystem(arn=EFS_ARN, id="fs-0a1b", region=REGION, encrypted=True),),
    )


def _network() -> NetworkData:
    return NetworkData(
        regions=(REGION,),
        security_groups=(
            SecurityGroup(id=SG_ID, arn=SG_ARN, region=REGION, name="web", vpc_id=VPC_ID, ingress=(
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                 "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]})),
            SecurityGroup(id="sg-default", arn=f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/sg-default",
                          region=REGION, name="default", vpc_id=VPC_ID),
        ),
        network_acls=(NetworkAcl(id=ACL_ID, arn=ACL_ARN, region=REGION, vpc_id=VPC_ID, entries=(
            {"RuleNumber": 10, "Protocol": "6", "RuleAction": "deny", "Egress": False, "CidrBlock": "0.0.0.0/0",
             "PortRange": {"From": 22, "To": 22}},
            {"RuleNumber": 20, "Protocol": "6", "RuleAction": "deny", "Egress": False, "CidrBlock": "0.0.0.0/0",
             "PortRange": {"From": 3389, "To": 3389}},
            {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": False,
             "CidrBlock": "0.0.0.0/0"})),),
        vpcs=(Vpc(id=VPC_ID, region=REGION),),
        flow_log_resource_ids={REGION: (VPC_ID,)},
    )


def compliant_account() -> AccountSnapshot:
    data = Resource(arn=bucket_arn(DATA_BUCKET), type="s3:bucket", region=REGION, name=DATA_BUCKET, policy=HTTPS_ONLY)
    return AccountSnapshot(account_id=ACCOUNT, name="apps", regions=(REGION,), resources=(data,),
                           logging=_logging(), storage=_storage(), network=_network())


def change(**parts: Any) -> Snapshot:
    """The compliant account with some of its parts replaced: ``logging={...}`` updates fields of its
    LoggingData (likewise ``storage``, ``network``); ``account={...}`` updates the account itself."""
    account = compliant_account()
    updates: dict[str, Any] = dict(parts.pop("account", {}))
    for name, fields in parts.items():
        updates[name] = getattr(account, name).model_copy(update=fields)
    return snapshot(account.model_copy(update=updates))


def compliant() -> Snapshot:
    return change()
