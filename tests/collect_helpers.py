"""Seeding helpers for collector tests: a small moto organisation with IAM, resources and a budget.

Everything in a member account is created with credentials from ``sts.assume_role`` into that
account, which is also how the collectors reach it.
"""

from __future__ import annotations

import functools
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.handlers
import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, iam_backends
from moto.kms.models import kms_backends

MANAGEMENT = "123456789012"
REGION = "us-east-1"
SEED_ROLE = "OrganizationAccountAccessRole"

TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
READ_BUCKETS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}],
}
BOUNDARY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}
USER_INLINE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}],
}
DENY_LEAVE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}],
}
BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "ReadFromDev",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::prod-data/*",
    }],
}

EXTERNAL = "111111111111"


def _grant(sid: str, action: str) -> dict[str, Any]:
    """A resource policy that lets the EXTERNAL account do ``action`` on the resource."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": sid, "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{EXTERNAL}:root"},
                       "Action": action, "Resource": "*"}],
    }


KEY_POLICY = _grant("DecryptFromDev", "kms:Decrypt")
QUEUE_POLICY = _grant("SendFromDev", "sqs:SendMessage")
TOPIC_POLICY = _grant("PublishFromDev", "sns:Publish")
SECRET_POLICY = _grant("ReadFromDev", "secretsmanager:GetSecretValue")


@dataclass(frozen=True)
class SeededOrg:
    root_id: str
    workloads_ou: str
    prod_ou: str
    dev_ou: str
    prod: str
    dev: str
    suspended: str
    scp_id: str


@dataclass(frozen=True)
class SeededProd:
    user_arn: str
    role_arn: str
    instance_profile_arn: str
    instance_id: str
    root_volume_id: str
    data_volume_id: str
    function_arn: str
    queue_url: str
    key_arn: str  # customer managed, alias/app, tagged, KEY_POLICY
    bare_key_arn: str  # customer managed, no alias, no tags, the default key policy
    aws_managed_key_arn: str  # alias/aws/secretsmanager: never collected
    secret_arn: str  # tagged, SECRET_POLICY
    bare_secret_arn: str  # no tags, no resource policy


def member_session(account_id: str) -> boto3.Session:
    """A session acting inside ``account_id`` (moto binds assumed-role credentials to that account)."""
    credentials = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/{SEED_ROLE}", RoleSessionName="seed"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


@functools.cache
def _aws_managed_policy_data() -> dict[str, Any]:
    return dict(json.loads(aws_managed_policies_data))


def add_aws_managed_policies(account_id: str, *names: str) -> None:
    """Add a few AWS managed policies to one account's moto IAM backend (much faster than
    MOTO_IAM_LOAD_MANAGED_POLICIES, which loads all ~1,300 into every account)."""
    backend = iam_backends[account_id]["global"]
    for name in names:
        data = _aws_managed_policy_data()[name]
        policy = AWSManagedPolicy.from_data(name, account_id, backend.region_name, data)
        backend.managed_policies[policy.arn] = policy


def seed_org() -> SeededOrg:
    """Management account, OUs /Workloads/Prod and /Workloads/Dev, a prod and a dev account, a
    suspended account in the root, tags everywhere and an SCP on the Workloads OU."""
    org = boto3.client("organizations", region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    root_id = org.list_roots()["Roots"][0]["Id"]
    org.tag_resource(ResourceId=root_id, Tags=[{"Key": "owner", "Value": "platform"}])
    workloads = org.create_organizational_unit(
        ParentId=root_id, Name="Workloads", Tags=[{"Key": "tier", "Value": "workloads"}]
    )["OrganizationalUnit"]["Id"]
    prod_ou = org.create_organizational_unit(ParentId=workloads, Name="Prod")["OrganizationalUnit"]["Id"]
    dev_ou = org.create_organizational_unit(ParentId=workloads, Name="Dev")["OrganizationalUnit"]["Id"]

    def account(name: str, env: str, parent: str | None) -> str:
        account_id: str = org.create_account(
            Email=f"{name}@example.com", AccountName=name, Tags=[{"Key": "env", "Value": env}]
        )["CreateAccountStatus"]["AccountId"]
        if parent:
            org.move_account(AccountId=account_id, SourceParentId=root_id, DestinationParentId=parent)
        return account_id

    prod = account("prod", "prod", prod_ou)
    dev = account("dev", "dev", dev_ou)
    suspended = account("old", "sandbox", None)
    org.close_account(AccountId=suspended)
    scp_id = org.create_policy(
        Content=json.dumps(DENY_LEAVE), Description="no leaving", Name="DenyLeave",
        Type="SERVICE_CONTROL_POLICY",
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=scp_id, TargetId=workloads)
    return SeededOrg(root_id, workloads, prod_ou, dev_ou, prod, dev, suspended, scp_id)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def seed_prod(session: boto3.Session) -> SeededProd:
    """IAM (group, user, role, policies), resources tagged and untagged, with and without resource
    policies, and a budget.

    AdministratorAccess (attached to the group) and ReadOnlyAccess (attached to nothing) are the
    only AWS managed policies in the account.
    """
    account_id = session.client("sts").get_caller_identity()["Account"]
    add_aws_managed_policies(account_id, "AdministratorAccess", "ReadOnlyAccess")
    iam: Any = session.client("iam")
    read_arn = iam.create_policy(
        PolicyName="read-buckets", PolicyDocument=json.dumps(READ_BUCKETS))["Policy"]["Arn"]
    boundary_arn = iam.create_policy(
        PolicyName="boundary", PolicyDocument=json.dumps(BOUNDARY))["Policy"]["Arn"]
    iam.create_policy(PolicyName="unused", Path="/team/", PolicyDocument=json.dumps(BOUNDARY))
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    iam.put_group_policy(GroupName="admins", PolicyName="describe", PolicyDocument=json.dumps(USER_INLINE))
    user_arn = iam.create_user(UserName="alice", Tags=[{"Key": "team", "Value": "ops"}])["User"]["Arn"]
    iam.add_user_to_group(GroupName="admins", UserName="alice")
    iam.attach_user_policy(UserName="alice", PolicyArn=read_arn)
    iam.put_user_policy(UserName="alice", PolicyName="ec2-read", PolicyDocument=json.dumps(USER_INLINE))
    iam.create_access_key(UserName="alice")
    role_arn = iam.create_role(
        RoleName="app", AssumeRolePolicyDocument=json.dumps(TRUST_EC2), PermissionsBoundary=boundary_arn,
        Tags=[{"Key": "env", "Value": "prod"}],
    )["Role"]["Arn"]
    iam.attach_role_policy(RoleName="app", PolicyArn=read_arn)
    iam.put_role_policy(RoleName="app", PolicyName="inline", PolicyDocument=json.dumps(USER_INLINE))
    profile_arn = iam.create_instance_profile(InstanceProfileName="app-profile")["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName="app")

    ec2: Any = session.client("ec2")
    image = ec2.register_image(Name="base", RootDeviceName="/dev/xvda", Architecture="x86_64")["ImageId"]
    instance = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, IamInstanceProfile={"Arn": profile_arn},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}]}],
    )["Instances"][0]["InstanceId"]
    root_volume = ec2.describe_volumes()["Volumes"][0]["VolumeId"]
    data_volume = ec2.create_volume(
        AvailabilityZone=f"{REGION}a", Size=10,
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "data"}]}],
    )["VolumeId"]

    s3: Any = session.client("s3")
    s3.create_bucket(Bucket="prod-data")
    s3.put_bucket_tagging(Bucket="prod-data", Tagging={"TagSet": [{"Key": "env", "Value": "prod"}]})
    s3.put_bucket_policy(Bucket="prod-data", Policy=json.dumps(BUCKET_POLICY))
    s3.create_bucket(Bucket="prod-logs")

    session.client("dynamodb").create_table(
        TableName="orders", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        Tags=[{"Key": "team", "Value": "orders"}],
    )
    function_arn = session.client("lambda").create_function(
        FunctionName="worker", Runtime="python3.12", Role=role_arn, Handler="handler.handler",
        Code={"ZipFile": _zip()}, Tags={"env": "prod"},
    )["FunctionArn"]
    sqs: Any = session.client("sqs")
    queue_url = sqs.create_queue(
        QueueName="jobs", tags={"env": "prod"}, Attributes={"Policy": json.dumps(QUEUE_POLICY)})["QueueUrl"]
    sqs.create_queue(QueueName="scratch")

    kms: Any = session.client("kms")
    key = kms.create_key(Policy=json.dumps(KEY_POLICY), Tags=[{"TagKey": "env", "TagValue": "prod"}])["KeyMetadata"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=key["KeyId"])
    bare_key = kms.create_key()["KeyMetadata"]
    # AWS creates its managed keys itself, under reserved aliases no API caller may create: seed one in moto.
    managed_key = kms.create_key()["KeyMetadata"]
    kms_backend = kms_backends[account_id][REGION]
    kms_backend.keys[managed_key["KeyId"]].key_manager = "AWS"
    kms_backend.create_alias(managed_key["KeyId"], "alias/aws/secretsmanager")

    sns: Any = session.client("sns")
    sns.create_topic(Name="alerts", Tags=[{"Key": "env", "Value": "prod"}],
                     Attributes={"Policy": json.dumps(TOPIC_POLICY)})
    sns.create_topic(Name="bare")

    secrets: Any = session.client("secretsmanager")
    secret_arn = secrets.create_secret(
        Name="db-password", SecretString="s3cr3t", Tags=[{"Key": "env", "Value": "prod"}])["ARN"]
    secrets.put_resource_policy(SecretId=secret_arn, ResourcePolicy=json.dumps(SECRET_POLICY))
    bare_secret_arn = secrets.create_secret(Name="api-token", SecretString="t0ken")["ARN"]

    session.client("budgets").create_budget(
        AccountId=account_id,
        Budget={"BudgetName": "monthly", "BudgetLimit": {"Amount": "100", "Unit": "USD"},
                "TimeUnit": "MONTHLY", "BudgetType": "COST"},
        NotificationsWithSubscribers=[{
            "Notification": {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN",
                             "Threshold": 80.0},
            "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "ops@example.com"}],
        }],
    )
    return SeededProd(
        user_arn, role_arn, profile_arn, instance, root_volume, data_volume, function_arn, queue_url,
        key["Arn"], bare_key["Arn"], managed_key["Arn"], secret_arn, bare_secret_arn,
    )


def hook_every_session(monkeypatch: pytest.MonkeyPatch, event: str, handler: Callable[..., Any]) -> None:
    """Register ``handler`` for ``event`` on every botocore session created from now on, the member-account
    sessions the collector makes for itself included (a hook on one session would miss those)."""
    monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", [*botocore.handlers.BUILTIN_HANDLERS, (event, handler)])
