"""The CloudTrail event families CIS asks to watch with a metric filter and an alarm (CIS v3.0.0 4.1-4.15), as
data: each with the CIS reference filter pattern (the narrowest of the variants CIS accepts) and the event
source all its events come from. Read by the monitoring rules, the demo and the tests."""

from __future__ import annotations

from dataclasses import dataclass


def _any_event(source: str, *names: str) -> str:
    events = " || ".join(f'($.eventName = "{name}")' for name in names)
    return f"{{ ($.eventSource = {source}) && ({events}) }}" if source else f"{{ {events} }}"


@dataclass(frozen=True)
class Watch:
    number: int  # rule id CIS-MON-0nn
    cis_v3: str
    title: str
    reference: str  # CIS's pattern (the narrowest of the variants it accepts)
    source: str  # the eventSource of every event the reference matches ("" when mixed)
    nist: tuple[str, ...] = ("SI-4", "AU-6")


EC2 = "ec2.amazonaws.com"
WATCHES: tuple[Watch, ...] = (
    Watch(1, "4.1", "unauthorised API calls",
          '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && '
          '($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }', ""),
    Watch(2, "4.2", "console sign-in without MFA",
          '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
          '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
          "signin.amazonaws.com"),
    Watch(3, "4.3", "root user activity",
          '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && '
          '$.eventType != "AwsServiceEvent" }', ""),
    Watch(4, "4.4", "IAM policy changes", _any_event(
        "", "DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy",
        "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion",
        "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy",
        "DetachGroupPolicy"), "iam.amazonaws.com"),
    Watch(5, "4.5", "CloudTrail configuration changes", _any_event(
        "", "CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"), "cloudtrail.amazonaws.com"),
    Watch(6, "4.6", "console authentication failures",
          '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }', "signin.amazonaws.com"),
    Watch(7, "4.7", "disabling or scheduled deletion of KMS keys", _any_event(
        "kms.amazonaws.com", "DisableKey", "ScheduleKeyDeletion"), "kms.amazonaws.com"),
    Watch(8, "4.8", "S3 bucket policy changes", _any_event(
        "s3.amazonaws.com", "PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle",
        "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle",
        "DeleteBucketReplication"), "s3.amazonaws.com"),
    Watch(9, "4.9", "AWS Config configuration changes", _any_event(
        "config.amazonaws.com", "StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel",
        "PutConfigurationRecorder"), "config.amazonaws.com"),
    Watch(10, "4.10", "security group changes", _any_event(
        "", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress",
        "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup"), EC2),
    Watch(11, "4.11", "network ACL changes", _any_event(
        "", "CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry",
        "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"), EC2),
    Watch(12, "4.12", "network gateway changes", _any_event(
        "", "CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway",
        "DeleteInternetGateway", "DetachInternetGateway"), EC2),
    Watch(13, "4.13", "route table changes", _any_event(
        EC2, "CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable",
        "DeleteRoute", "DisassociateRouteTable"), EC2),
    Watch(14, "4.14", "VPC changes", _any_event(
        "", "CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection",
        "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection",
        "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink"), EC2),
    Watch(15, "4.15", "AWS Organizations changes", _any_event(
        "organizations.amazonaws.com", "AcceptHandshake", "AttachPolicy", "CancelHandshake", "CreateAccount",
        "CreateOrganization", "CreateOrganizationalUnit", "CreatePolicy", "DeclineHandshake", "DeleteOrganization",
        "DeleteOrganizationalUnit", "DeletePolicy", "EnableAllFeatures", "EnablePolicyType",
        "InviteAccountToOrganization", "LeaveOrganization", "DetachPolicy", "DisablePolicyType", "MoveAccount",
        "RemoveAccountFromOrganization", "UpdateOrganizationalUnit", "UpdatePolicy"), "organizations.amazonaws.com"),
)
