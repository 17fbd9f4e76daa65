"""The audit role's CloudFormation template: valid for cfn-lint, trust limited to the auditor's
account with an external id, and permissions exactly the read-only allow-list's IAM actions."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint

from auditor.collect.readonly import iam_actions
from auditor.role_template import render_role_template

TRUSTED = "111122223333"


def _role(template: str) -> dict[str, Any]:
    resources: dict[str, Any] = yaml.safe_load(template)["Resources"]
    (role,) = resources.values()
    assert role["Type"] == "AWS::IAM::Role"
    return dict(role["Properties"])


@pytest.mark.parametrize("role_name", ["SecurityAuditRole", "org-auditor.read@only"])
def test_template_passes_cfn_lint(role_name: str) -> None:
    matches = lint(render_role_template(TRUSTED, role_name), config=ManualArgs(regions=["us-east-1"]))
    assert [str(match) for match in matches] == []


def test_trust_requires_external_id_from_the_auditor_account() -> None:
    template = render_role_template(TRUSTED)
    assert yaml.safe_load(template)["Parameters"]["ExternalId"]["Type"] == "String"
    properties = _role(template)
    assert properties["RoleName"] == "SecurityAuditRole"
    assert properties["AssumeRolePolicyDocument"]["Statement"] == [{
        "Effect": "Allow",
        "Principal": {"AWS": {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::{TRUSTED}:root"}},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}},
    }]


def test_permissions_are_exactly_the_allow_list_actions() -> None:
    properties = _role(render_role_template(TRUSTED, "Auditor"))
    assert "ManagedPolicyArns" not in properties
    (policy,) = properties["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Sid": "AuditorReadOnly", "Effect": "Allow", "Action": iam_actions(), "Resource": "*"}
    ]


@pytest.mark.parametrize(("account", "role"), [("12345", "SecurityAuditRole"), (TRUSTED, "bad name!")])
def test_invalid_input_is_refused(account: str, role: str) -> None:
    with pytest.raises(ValueError):
        render_role_template(account, role)
