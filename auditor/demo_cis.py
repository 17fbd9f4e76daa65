"""The demo organisation's CIS foundations posture (issue 13): one hardened account (security-audit) that
passes every automated control the simulation can express, and failing twins elsewhere.

Runs inside the demo's moto context, after the organisation and its trail exist. Choices recorded here:

- The organisation trail records every management event and the S3 object events of security-audit's
  buckets only, so those buckets pass 3.8/3.9 and every other account's buckets fail them.
- Monitoring (4.1-4.15) lives on security-audit's own multi-region trail: its log group has one metric filter
  per control (some spelled differently from CIS, to show matching by meaning), an alarm on each, and an SNS
  topic with a confirmed (SQS) subscriber. Other accounts have no such trail: they fail.
- AWSSupportAccess is added to moto's IAM backend of that one account (AWS managed policies are not loaded).
- IAM Access Analyzer is answered by ``auditor.simulated_services`` (moto has no Access Analyzer).
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from moto.iam.models import AWSManagedPolicy, iam_backends

from auditor.monitoring_watches import WATCHES
from auditor.simulated_services import SimulatedServices

SUPPORT_POLICY = "AWSSupportAccess"
SUPPORT_POLICY_ARN = f"arn:aws:iam::aws:policy/{SUPPORT_POLICY}"
# Some filters are spelled unlike CIS (reordered, unquoted, == for =): matched by meaning all the same.
RESPELLED: dict[str, str] = {
    "4.2": "{ ($.additionalEventData.MFAUsed != Yes) && ($.eventName == ConsoleLogin) }",
    "4.7": "{ ($.eventName = ScheduleKeyDeletion) || ($.eventName = DisableKey) }",
}


class DemoAccount(Protocol):
    account_id: str
    region: str
    iam: Any

    def client(self, service: str, region: str | None = None) -> Any: ...


def _deny_plain_http(bucket: str, receives_logs: bool) -> str:
    # Principal {"AWS": "*"} means everyone, as "*" does (moto's bucket-logging check reads only the dict form).
    statements: list[dict[str, Any]] = [{
        "Sid": "DenyPlainHttp", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    if receives_logs:  # S3 server access logs are delivered by the logging service principal
        statements.append({"Sid": "S3ServerAccessLogs", "Effect": "Allow",
                           "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
                           "Resource": f"arn:aws:s3:::{bucket}/*"})
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def harden_bucket(acct: DemoAccount, bucket: str, log_target: str | None = None, receives_logs: bool = False) -> None:
    """Deny plain HTTP, versioning with MFA Delete, Block Public Access, optionally server access logging."""
    s3 = acct.client("s3")
    s3.put_bucket_policy(Bucket=bucket, Policy=_deny_plain_http(bucket, receives_logs))
    s3.put_bucket_versioning(Bucket=bucket, MFA="arn:aws:iam::mfa/root-account-mfa-device 123456",
                             VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    if log_target:
        s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": log_target, "TargetPrefix": f"{bucket}/"}})


def _tags(environment: str) -> list[dict[str, str]]:
    return [{"Key": "Environment", "Value": environment}, {"Key": "Owner", "Value": "platform-team"},
            {"Key": "CostCenter", "Value": "cc-1001"}]


def _create_bucket(acct: DemoAccount, name: str) -> None:
    acct.client("s3").create_bucket(Bucket=name)
    acct.client("s3").put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tags("security")})


def organization_trail_selectors(mgmt: DemoAccount, trail: str, secure_buckets: list[str]) -> None:
    mgmt.client("cloudtrail").put_event_selectors(TrailName=trail, EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{b}/" for b in secure_buckets]}],
    }])


def seed_hardened_account(acct: DemoAccount, org_trail_bucket: str, simulated: SimulatedServices | None) -> list[str]:
    """Everything CIS asks of one account; returns its bucket names (for the organisation trail's selectors).
    The Access Analyzer analyzer needs the simulated services (absent when the demo is seeded into a moto
    server, whose auditor runs in another process)."""
    region = acct.region
    _support_role(acct)
    if simulated is not None:
        simulated.add_access_analyzer(acct.account_id, region, "external-access", "ACCOUNT")
    # storage
    logs_bucket, trail_bucket = f"access-logs-{acct.account_id}", f"security-trail-{acct.account_id}"
    for name in (logs_bucket, trail_bucket):
        _create_bucket(acct, name)
    harden_bucket(acct, logs_bucket, receives_logs=True)
    harden_bucket(acct, trail_bucket, log_target=logs_bucket)
    harden_bucket(acct, org_trail_bucket)
    ec2 = acct.client("ec2")
    ec2.enable_ebs_encryption_by_default()
    acct.client("rds").create_db_instance(
        DBInstanceIdentifier="audit-db", DBInstanceClass="db.t3.micro", Engine="postgres", AllocatedStorage=20,
        MasterUsername="audit", MasterUserPassword="demo-password-1", StorageEncrypted=True,
        AutoMinorVersionUpgrade=True, PubliclyAccessible=False, Tags=_tags("security"))
    acct.client("efs").create_file_system(CreationToken="audit-evidence", Encrypted=True, Tags=_tags("security"))
    # logging
    kms = acct.client("kms")
    key_id = kms.create_key(Description="security trail", Tags=[
        {"TagKey": t["Key"], "TagValue": t["Value"]} for t in _tags("security")])["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=key_id)
    logs = acct.client("logs")
    logs.create_log_group(logGroupName="security-trail")
    group_arn = f"arn:aws:logs:{region}:{acct.account_id}:log-group:security-trail:*"
    trail = acct.client("cloudtrail")
    trail.create_trail(Name="security-trail", S3BucketName=trail_bucket, IsMultiRegionTrail=True,
                       EnableLogFileValidation=True, KmsKeyId=key_id, CloudWatchLogsLogGroupArn=group_arn,
                       CloudWatchLogsRoleArn=f"arn:aws:iam::{acct.account_id}:role/cloudtrail-to-logs")
    trail.put_event_selectors(TrailName="security-trail", EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []}])
    trail.start_logging(Name="security-trail")
    _monitoring(acct, "security-trail")
    config = acct.client("config")
    config.put_configuration_recorder(ConfigurationRecorder={
        "name": "default", "roleARN": f"arn:aws:iam::{acct.account_id}:role/config-recorder",
        "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}})
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": logs_bucket})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    acct.client("securityhub").enable_security_hub()
    # network: default VPC with flow logs, a closed default security group, admin ports denied by the NACL
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3",
                         LogDestination=f"arn:aws:s3:::{logs_bucket}")
    for group in ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])[
            "SecurityGroups"]:
        if group.get("IpPermissionsEgress"):
            ec2.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=group["IpPermissionsEgress"])
        if group.get("IpPermissions"):
            ec2.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=group["IpPermissions"])
    for acl in ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"]:
        for number, port in ((10, 22), (20, 3389)):
            ec2.create_network_acl_entry(NetworkAclId=acl["NetworkAclId"], RuleNumber=number, Protocol="6",
                                         RuleAction="deny", Egress=False, CidrBlock="0.0.0.0/0",
                                         PortRange={"From": port, "To": port})
    return [logs_bucket, trail_bucket, org_trail_bucket]


def _support_role(acct: DemoAccount) -> None:
    backend = iam_backends[acct.account_id]["global"]
    if SUPPORT_POLICY_ARN not in backend.managed_policies:
        from moto.iam.aws_managed_policies import aws_managed_policies_data

        data = json.loads(aws_managed_policies_data)[SUPPORT_POLICY]
        policy = AWSManagedPolicy.from_data(SUPPORT_POLICY, acct.account_id, backend.region_name, data)
        backend.managed_policies[policy.arn] = policy
    acct.iam.create_role(RoleName="SupportResponder", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": f"arn:aws:iam::{acct.account_id}:root"}}]}))
    acct.iam.attach_role_policy(RoleName="SupportResponder", PolicyArn=SUPPORT_POLICY_ARN)


def _monitoring(acct: DemoAccount, group: str) -> None:
    logs, cloudwatch, sns, sqs = (acct.client(s) for s in ("logs", "cloudwatch", "sns", "sqs"))
    topic = sns.create_topic(Name="security-alarms")["TopicArn"]
    # Only CloudWatch alarms of this account publish (the default topic policy names "*" with a condition).
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Sid": "AlarmsOfThisAccount", "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish", "Resource": topic,
            "Condition": {"StringEquals": {"aws:SourceAccount": acct.account_id}}}]}))
    queue = sqs.create_queue(QueueName="security-alarms")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    for watch in WATCHES:
        metric = f"cis-{watch.cis_v3.replace('.', '-')}"
        logs.put_metric_filter(logGroupName=group, filterName=metric,
                               filterPattern=RESPELLED.get(watch.cis_v3, watch.reference),
                               metricTransformations=[{"metricName": metric, "metricNamespace": "CISBenchmark",
                                                       "metricValue": "1"}])
        cloudwatch.put_metric_alarm(AlarmName=metric, MetricName=metric, Namespace="CISBenchmark",
                                    Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1,
                                    ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic])


def seed_failing_twins(dev: DemoAccount, data: DemoAccount) -> None:
    """Network and storage risks a CIS review fails: admin ports and CIFS open to the internet (dev-app), an
    unencrypted, public RDS instance without minor upgrades, an unencrypted EFS and a key that never rotates
    (prod-data)."""
    ec2 = dev.client("ec2")
    group = ec2.create_security_group(GroupName="legacy-admin", Description="open admin ports")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
        {"IpProtocol": "tcp", "FromPort": 445, "ToPort": 445, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
    ])
    data.client("rds").create_db_instance(
        DBInstanceIdentifier="legacy-db", DBInstanceClass="db.t3.micro", Engine="mysql", AllocatedStorage=20,
        MasterUsername="legacy", MasterUserPassword="demo-password-1", StorageEncrypted=False,
        AutoMinorVersionUpgrade=False, PubliclyAccessible=True, Tags=_tags("prod"))
    data.client("efs").create_file_system(CreationToken="legacy-share", Encrypted=False, Tags=_tags("prod"))
    data.client("kms").create_key(Description="legacy data key", Tags=[
        {"TagKey": t["Key"], "TagValue": t["Value"]} for t in _tags("prod")])
