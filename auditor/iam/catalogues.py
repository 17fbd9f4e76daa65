"""The public privilege-escalation catalogues our technique table is checked against (ids only, as data).

``tests/test_escalation_catalogue.py`` requires every id listed here to be named by a technique row
(``auditor.iam.techniques``) or by ``COVERED_BY_GRAPH``, and each such row to have a positive case and a
benign twin. Upgrading a catalogue is on purpose: refresh the ids and the snapshot date, then run the test.
"""

from __future__ import annotations

# DataDog/pathfinding.cloud, folder data/paths/ (one YAML file per path).
PATHFINDING_SNAPSHOT = {
    "repository": "https://github.com/DataDog/pathfinding.cloud",
    "commit": "84dd65c97fc21dee54f4587be6dfd5b7b5fe320c",
    "date": "2025-12-17",
}
PATHFINDING_IDS: tuple[str, ...] = (
    "apprunner-001", "apprunner-002",
    "bedrock-001", "bedrock-002",
    "cloudformation-001", "cloudformation-002", "cloudformation-003", "cloudformation-004", "cloudformation-005",
    "codebuild-001", "codebuild-002", "codebuild-003", "codebuild-004",
    "datapipeline-001",
    "ec2instanceconnect-003",
    "ec2-001", "ec2-002", "ec2-003", "ec2-004",
    "ecs-001", "ecs-002", "ecs-003", "ecs-004", "ecs-005",
    "glue-001", "glue-002", "glue-003", "glue-004", "glue-005", "glue-006",
    "iam-001", "iam-002", "iam-003", "iam-004", "iam-005", "iam-006", "iam-007", "iam-008", "iam-009",
    "iam-010", "iam-011", "iam-012", "iam-013", "iam-014", "iam-015", "iam-016", "iam-017", "iam-018",
    "iam-019", "iam-020", "iam-021",
    "lambda-001", "lambda-002", "lambda-003", "lambda-004", "lambda-005", "lambda-006",
    "sagemaker-001", "sagemaker-002", "sagemaker-003", "sagemaker-004", "sagemaker-005",
    "ssm-001", "ssm-002",
    "sts-001",
)  # fmt: skip

# Paths the access graph answers without a technique row: plain role assumption is a can-assume edge.
COVERED_BY_GRAPH: dict[str, str] = {"sts-001": "can-assume edges (auditor.graph)"}

# Rhino Security Labs, "AWS IAM privilege escalation methods" (2018-2019), numbered as published.
RHINO_METHODS: tuple[str, ...] = tuple(f"rhino-{n}" for n in range(1, 22))

# Bishop Fox iam-vulnerable, modules/free-resources/privesc-paths/*.tf (one scenario per file).
IAM_VULNERABLE_SCENARIOS: tuple[str, ...] = (
    "privesc1-CreateNewPolicyVersion",
    "privesc2-SetExistingDefaultPolicyVersion",
    "privesc3-CreateEC2WithExistingIP",
    "privesc4-CreateAccessKey",
    "privesc5-CreateLoginProfile",
    "privesc6-UpdateLoginProfile",
    "privesc7-AttachUserPolicy",
    "privesc8-AttachGroupPolicy",
    "privesc9-AttachRolePolicy",
    "privesc10-PutUserPolicy",
    "privesc11-PutGroupPolicy",
    "privesc12-PutRolePolicy",
    "privesc13-AddUserToGroup",
    "privesc14-UpdatingAssumeRolePolicy",
    "privesc15-PassExistingRoleToNewLambdaThenInvoke",
    "privesc16-PassRoleToNewLambdaThenTriggerWithNewDynamo",
    "privesc17-EditExistingLambdaFunctionWithRole",
    "privesc18-PassExistingRoleToNewGlueDevEndpoint",
    "privesc19-UpdateExistingGlueDevEndpoint",
    "privesc20-PassExistingRoleToCloudFormation",
    "privesc21-PassExistingRoleToNewDataPipeline",
    "privesc-AssumeRole",
    "privesc-cloudFormationUpdateStack",
    "privesc-codeBuildCreateProjectPassRole",
    "privesc-ec2InstanceConnect",
    "privesc-sageMakerCreateNotebookPassRole",
    "privesc-sageMakerCreatePresignedNotebookURL",
    "privesc-sageMakerCreateProcessingJob",
    "privesc-sageMakerCreateTrainingJob",
    "privesc-ssmSendCommand",
    "privesc-ssmStartSession",
)
IAM_VULNERABLE_COVERED_BY_GRAPH: dict[str, str] = {"privesc-AssumeRole": "can-assume edges (auditor.graph)"}
