"""Resource policies (rules/resource_policies.py): EXT-002, a resource policy open outside the organisation,
each risky grant beside its benign twin."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.model import Resource, Snapshot
from tests.rules.helpers import run_rule
from tests.rules.org_snapshot import DEV, PROD, org_snapshot


def _with_resource_policy(statement: dict[str, Any]) -> Snapshot:
    base = org_snapshot()
    resource = Resource(arn="arn:aws:s3:::data-bucket", type="s3:bucket", region="us-east-1", name="data-bucket",
                        policy={"Version": "2012-10-17", "Statement": [statement]})
    accounts = tuple(a.model_copy(update={"resources": (resource,)}) if a.account_id == PROD else a
                     for a in base.accounts)
    return base.model_copy(update={"accounts": accounts})


def _grant(principal: Any, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                                 "Resource": "arn:aws:s3:::data-bucket/*"}
    if condition:
        statement["Condition"] = condition
    return statement


@pytest.mark.parametrize(
    ("statement", "severity"),
    [
        (_grant("*"), "critical"),
        (_grant({"AWS": "999988887777"}), "high"),
        (_grant({"AWS": "arn:aws:iam::999988887777:role/partner"}), "high"),
        (_grant({"AWS": "999988887777"}, {"StringEquals": {"aws:SourceAccount": "999988887777"}}), "medium"),
        # benign twins: an organisation member, "*" confined to the organisation, a service principal, a Deny
        (_grant({"AWS": f"arn:aws:iam::{DEV}:role/reader"}), None),
        (_grant("*", {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}), None),
        (_grant({"Service": "cloudtrail.amazonaws.com"}), None),
        ({**_grant("*"), "Effect": "Deny"}, None),
    ],
)
def test_resource_policy_open_outside_the_organisation(statement: dict[str, Any], severity: str | None) -> None:
    findings = run_rule("EXT-002", _with_resource_policy(statement))
    assert [f.severity for f in findings] == ([severity] if severity else [])
    assert all(f.resource_arn == "arn:aws:s3:::data-bucket" for f in findings)
