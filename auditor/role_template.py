"""Renders the CloudFormation template of the read-only audit role deployed in every audited account.

The role trusts only the auditor's account, requires an external id, and holds exactly the IAM
actions of the collectors' read-only allow-list (``auditor.collect.readonly.iam_actions``).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from auditor.collect.readonly import iam_actions
from auditor.collect.session import ROLE_SESSION_SECONDS

ACCOUNT_ID = re.compile(r"^\d{12}$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


def render_role_template(trusted_account_id: str, role_name: str = "SecurityAuditRole") -> str:
    """CloudFormation YAML for the audit role, trusted by ``trusted_account_id`` with an external id."""
    if not ACCOUNT_ID.match(trusted_account_id):
        raise ValueError(f"trusted account id must be 12 digits, got {trusted_account_id!r}")
    if not ROLE_NAME.match(role_name):
        raise ValueError(f"invalid IAM role name {role_name!r}")
    trusted_root = f"arn:${{AWS::Partition}}:iam::{trusted_account_id}:root"
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            f"Read-only role {role_name} for aws-org-auditor, trusted by account {trusted_account_id}"
        ),
        "Parameters": {
            "ExternalId": {
                "Type": "String",
                "Description": "Shared secret the auditor passes as sts:ExternalId when assuming the role",
                "MinLength": 2,
                "MaxLength": 1224,
                "AllowedPattern": r"[\w+=,.@:/-]*",
                "NoEcho": True,
            },
        },
        "Resources": {
            "AuditRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": role_name,
                    "Description": "Read-only access for the aws-org-auditor security posture audit",
                    "MaxSessionDuration": ROLE_SESSION_SECONDS,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": {"AWS": {"Fn::Sub": trusted_root}},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}},
                        }],
                    },
                    "Policies": [{
                        "PolicyName": "aws-org-auditor-read-only",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{
                                "Sid": "AuditorReadOnly",
                                "Effect": "Allow",
                                "Action": iam_actions(),
                                "Resource": "*",
                            }],
                        },
                    }],
                    "Tags": [{"Key": "managed-by", "Value": "aws-org-auditor"}],
                },
            },
        },
        "Outputs": {
            "RoleArn": {
                "Description": "ARN of the audit role",
                "Value": {"Fn::GetAtt": ["AuditRole", "Arn"]},
            },
        },
    }
    return yaml.safe_dump(template, sort_keys=False, default_flow_style=False, width=120)
