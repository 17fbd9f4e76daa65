"""The read-only allow-list: every AWS operation the collectors may call, and the IAM action it needs.

This table is the single source of truth for three things: the client hook that refuses anything
else before a request is sent, the audit role's policy (``auditor.role_template``), and the tests
that prove each entry is a real, read-only botocore operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType


class ReadOnlyViolation(RuntimeError):
    """A collector tried to call an AWS operation that is not on the read-only allow-list."""


# "service:OperationName" (botocore service name) -> IAM action the audited principal needs,
# or None when the audit role itself needs no permission for it.
_OPERATIONS: dict[str, str | None] = {
    # Identity of the caller needs no permission; AssumeRole is done by the auditor's own principal,
    # so the audit role must not hold it (it would allow role chaining out of the audited account).
    "sts:GetCallerIdentity": None,
    "sts:AssumeRole": None,
    # Organizations (management account or delegated administrator)
    "organizations:DescribeOrganization": "organizations:DescribeOrganization",
    "organizations:ListRoots": "organizations:ListRoots",
    "organizations:ListOrganizationalUnitsForParent": "organizations:ListOrganizationalUnitsForParent",
    "organizations:ListAccountsForParent": "organizations:ListAccountsForParent",
    "organizations:ListTagsForResource": "organizations:ListTagsForResource",
    "organizations:ListPolicies": "organizations:ListPolicies",
    "organizations:DescribePolicy": "organizations:DescribePolicy",
    "organizations:ListTargetsForPolicy": "organizations:ListTargetsForPolicy",
    "organizations:ListDelegatedAdministrators": "organizations:ListDelegatedAdministrators",
    "organizations:ListAccounts": "organizations:ListAccounts",  # auditor check-access: the accounts, in one list
    # CloudTrail (the organisation trail, read from the caller's account)
    "cloudtrail:DescribeTrails": "cloudtrail:DescribeTrails",
    "cloudtrail:GetTrailStatus": "cloudtrail:GetTrailStatus",
    # IAM
    "iam:GetAccountAuthorizationDetails": "iam:GetAccountAuthorizationDetails",
    "iam:GenerateCredentialReport": "iam:GenerateCredentialReport",
    "iam:GetCredentialReport": "iam:GetCredentialReport",
    "iam:GetAccountSummary": "iam:GetAccountSummary",
    "iam:GetAccountPasswordPolicy": "iam:GetAccountPasswordPolicy",
    # Resources
    "ec2:DescribeRegions": "ec2:DescribeRegions",
    "ec2:DescribeInstances": "ec2:DescribeInstances",
    "ec2:DescribeVolumes": "ec2:DescribeVolumes",
    "s3:ListBuckets": "s3:ListAllMyBuckets",
    "s3:GetBucketLocation": "s3:GetBucketLocation",
    "s3:GetBucketTagging": "s3:GetBucketTagging",
    "s3:GetBucketPolicy": "s3:GetBucketPolicy",
    "rds:DescribeDBInstances": "rds:DescribeDBInstances",
    "lambda:ListFunctions": "lambda:ListFunctions",
    "lambda:ListTags": "lambda:ListTags",
    "lambda:GetPolicy": "lambda:GetPolicy",
    "dynamodb:ListTables": "dynamodb:ListTables",
    "dynamodb:ListTagsOfResource": "dynamodb:ListTagsOfResource",
    "kms:ListKeys": "kms:ListKeys",
    "kms:ListAliases": "kms:ListAliases",
    "kms:GetKeyPolicy": "kms:GetKeyPolicy",
    "kms:ListResourceTags": "kms:ListResourceTags",
    "sqs:ListQueues": "sqs:ListQueues",
    "sqs:GetQueueAttributes": "sqs:GetQueueAttributes",
    "sqs:ListQueueTags": "sqs:ListQueueTags",
    "sns:ListTopics": "sns:ListTopics",
    "sns:GetTopicAttributes": "sns:GetTopicAttributes",
    "sns:ListTagsForResource": "sns:ListTagsForResource",
    "secretsmanager:ListSecrets": "secretsmanager:ListSecrets",
    "secretsmanager:GetResourcePolicy": "secretsmanager:GetResourcePolicy",
    "resourcegroupstaggingapi:GetResources": "tag:GetResources",
    # Workloads that run with a role (auditor/collect/compute.py)
    "ecs:ListClusters": "ecs:ListClusters",
    "ecs:DescribeClusters": "ecs:DescribeClusters",
    "ecs:ListServices": "ecs:ListServices",
    "ecs:DescribeServices": "ecs:DescribeServices",
    "ecs:ListTaskDefinitionFamilies": "ecs:ListTaskDefinitionFamilies",
    "ecs:DescribeTaskDefinition": "ecs:DescribeTaskDefinition",
    "codebuild:ListProjects": "codebuild:ListProjects",
    "codebuild:BatchGetProjects": "codebuild:BatchGetProjects",
    "cloudformation:DescribeStacks": "cloudformation:DescribeStacks",
    "glue:GetJobs": "glue:GetJobs",
    "glue:GetDevEndpoints": "glue:GetDevEndpoints",
    "sagemaker:ListNotebookInstances": "sagemaker:ListNotebookInstances",
    "sagemaker:DescribeNotebookInstance": "sagemaker:DescribeNotebookInstance",
    "apprunner:ListServices": "apprunner:ListServices",
    "apprunner:DescribeService": "apprunner:DescribeService",
    "stepfunctions:ListStateMachines": "states:ListStateMachines",
    "stepfunctions:DescribeStateMachine": "states:DescribeStateMachine",
    "bedrock-agent:ListAgents": "bedrock:ListAgents",
    "bedrock-agent:GetAgent": "bedrock:GetAgent",
    "bedrock-agentcore-control:ListCodeInterpreters": "bedrock-agentcore:ListCodeInterpreters",
    "bedrock-agentcore-control:GetCodeInterpreter": "bedrock-agentcore:GetCodeInterpreter",
    "ec2:DescribeLaunchTemplateVersions": "ec2:DescribeLaunchTemplateVersions",
    "cloudformation:ListStackSets": "cloudformation:ListStackSets",
    "datapipeline:ListPipelines": "datapipeline:ListPipelines",
    "datapipeline:GetPipelineDefinition": "datapipeline:GetPipelineDefinition",
    # Budgets
    "budgets:DescribeBudgets": "budgets:ViewBudget",
    "budgets:DescribeNotificationsForBudget": "budgets:ViewBudget",
    # IAM Identity Center (management account or its delegated administrator)
    "sso-admin:ListInstances": "sso:ListInstances",
    "sso-admin:ListPermissionSets": "sso:ListPermissionSets",
    "sso-admin:DescribePermissionSet": "sso:DescribePermissionSet",
    "sso-admin:GetInlinePolicyForPermissionSet": "sso:GetInlinePolicyForPermissionSet",
    "sso-admin:ListManagedPoliciesInPermissionSet": "sso:ListManagedPoliciesInPermissionSet",
    "sso-admin:ListCustomerManagedPolicyReferencesInPermissionSet":
        "sso:ListCustomerManagedPolicyReferencesInPermissionSet",
    "sso-admin:GetPermissionsBoundaryForPermissionSet": "sso:GetPermissionsBoundaryForPermissionSet",
    "sso-admin:ListPermissionSetsProvisionedToAccount": "sso:ListPermissionSetsProvisionedToAccount",
    "sso-admin:ListAccountAssignments": "sso:ListAccountAssignments",
    "identitystore:ListUsers": "identitystore:ListUsers",
    "identitystore:ListGroups": "identitystore:ListGroups",
    "identitystore:ListGroupMemberships": "identitystore:ListGroupMemberships",
    # CIS foundations settings (issue 13): logging, monitoring, storage, network, IAM extras
    "cloudtrail:GetEventSelectors": "cloudtrail:GetEventSelectors",
    "config:DescribeConfigurationRecorders": "config:DescribeConfigurationRecorders",
    "config:DescribeConfigurationRecorderStatus": "config:DescribeConfigurationRecorderStatus",
    "logs:DescribeMetricFilters": "logs:DescribeMetricFilters",
    "cloudwatch:DescribeAlarms": "cloudwatch:DescribeAlarms",
    "sns:ListSubscriptionsByTopic": "sns:ListSubscriptionsByTopic",
    "securityhub:DescribeHub": "securityhub:DescribeHub",
    "kms:GetKeyRotationStatus": "kms:GetKeyRotationStatus",
    "s3control:GetPublicAccessBlock": "s3:GetAccountPublicAccessBlock",
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketVersioning": "s3:GetBucketVersioning",
    "s3:GetBucketLogging": "s3:GetBucketLogging",
    "ec2:GetEbsEncryptionByDefault": "ec2:GetEbsEncryptionByDefault",
    "ec2:DescribeSecurityGroups": "ec2:DescribeSecurityGroups",
    "ec2:DescribeNetworkAcls": "ec2:DescribeNetworkAcls",
    "ec2:DescribeVpcs": "ec2:DescribeVpcs",
    "ec2:DescribeFlowLogs": "ec2:DescribeFlowLogs",
    "efs:DescribeFileSystems": "elasticfilesystem:DescribeFileSystems",
    "iam:ListServerCertificates": "iam:ListServerCertificates",
    "iam:ListVirtualMFADevices": "iam:ListVirtualMFADevices",
    "accessanalyzer:ListAnalyzers": "access-analyzer:ListAnalyzers",
}

OPERATION_IAM_ACTIONS: Mapping[str, str | None] = MappingProxyType(_OPERATIONS)
ALLOWED_OPERATIONS: frozenset[str] = frozenset(_OPERATIONS)
# botocore service name -> its allow-listed operation names
ALLOWED_BY_SERVICE: Mapping[str, frozenset[str]] = MappingProxyType({
    service: frozenset(op.split(":", 1)[1] for op in ALLOWED_OPERATIONS if op.split(":", 1)[0] == service)
    for service in {op.split(":", 1)[0] for op in ALLOWED_OPERATIONS}
})


def iam_actions() -> list[str]:
    """The IAM actions the audit role needs for every allow-listed operation, sorted and unique."""
    return sorted({action for action in _OPERATIONS.values() if action is not None})


def check_operation(operation: str) -> None:
    """Raise ``ReadOnlyViolation`` unless ``operation`` ("service:OperationName") is allow-listed."""
    if operation not in ALLOWED_OPERATIONS:
        raise ReadOnlyViolation(f"refused {operation}: not on the auditor's read-only allow-list")
