"""CIS foundations, logging (rules/cis_logging.py): CIS-LOG-001..009. The account of tests/rules/cis_snapshot.py
passes them all; each risky case changes one setting."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from auditor.model import Snapshot
from tests.rules.cis_snapshot import (
    ACCOUNT_ARN,
    DATA_BUCKET,
    KEY_ARN,
    REGION,
    TRAIL_ARN,
    VPC_ID,
    bucket_arn,
    change,
    compliant,
    compliant_account,
)
from tests.rules.helpers import arns, run_rule, undetermined


def _trail(**fields: object) -> Snapshot:
    logging = compliant_account().logging
    assert logging is not None
    return change(logging={"trails": (logging.trails[0].model_copy(update=fields),)})


def _trail_bucket_unlogged() -> Snapshot:
    storage = compliant_account().storage
    assert storage is not None
    buckets = tuple(b.model_copy(update={"logging_target": None}) for b in storage.buckets)
    return change(storage={"buckets": buckets})


MANAGEMENT_ONLY = ({"ReadWriteType": "All", "IncludeManagementEvents": True},)
READS_ONLY = ({"ReadWriteType": "All", "IncludeManagementEvents": True},
              {"ReadWriteType": "ReadOnly", "IncludeManagementEvents": False,
               "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{DATA_BUCKET}/"]}]})
WRITES_ONLY = ({"ReadWriteType": "All", "IncludeManagementEvents": True},
               {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{DATA_BUCKET}/"]}]})

CASES: list[tuple[str, Callable[[], Snapshot], set[str]]] = [
    ("CIS-LOG-001", lambda: _trail(is_multi_region=False), {ACCOUNT_ARN}),
    ("CIS-LOG-002", lambda: _trail(log_file_validation=False), {TRAIL_ARN}),
    ("CIS-LOG-003", _trail_bucket_unlogged, {TRAIL_ARN}),
    ("CIS-LOG-004", lambda: _trail(kms_key_id=None), {TRAIL_ARN}),
    ("CIS-LOG-005", lambda: _trail(event_selectors=READS_ONLY), {bucket_arn(DATA_BUCKET)}),
    ("CIS-LOG-006", lambda: _trail(event_selectors=WRITES_ONLY), {bucket_arn(DATA_BUCKET)}),
    ("CIS-LOG-007", lambda: change(logging={"config_recorders": {REGION: ()}}), {ACCOUNT_ARN}),
    ("CIS-LOG-008", lambda: change(logging={"kms_rotation": {KEY_ARN: False}}), {KEY_ARN}),
    ("CIS-LOG-009", lambda: change(network={"flow_log_resource_ids": {REGION: ()}}),
     {f"arn:aws:ec2:{REGION}:{compliant_account().account_id}:vpc/{VPC_ID}"}),
]


@pytest.mark.parametrize(("rule_id", "risky", "expected"), CASES, ids=[case[0] for case in CASES])
def test_rule_fires_on_the_change_and_not_on_the_compliant_twin(
    rule_id: str, risky: Callable[[], Snapshot], expected: set[str]
) -> None:
    assert arns(run_rule(rule_id, risky())) == expected
    assert run_rule(rule_id, compliant()) == []
    assert undetermined(rule_id, compliant()) == []


@pytest.mark.parametrize("fields", [{"is_logging": False}, {"event_selectors": ()},
                                    {"event_selectors": ({"ReadWriteType": "WriteOnly"},)}])
def test_cis_log_001_a_trail_that_does_not_log_every_management_event_does_not_count(fields: dict[str, object]) -> None:
    assert arns(run_rule("CIS-LOG-001", _trail(**fields))) == {ACCOUNT_ARN}


def test_cis_log_001_unknown_trail_status_is_undetermined_not_a_finding() -> None:
    snapshot = _trail(is_logging=None)
    assert run_rule("CIS-LOG-001", snapshot) == []
    assert undetermined("CIS-LOG-001", snapshot) == ["a multi-region trail's status or event selectors are unknown"]


def test_cis_log_005_006_management_events_alone_log_no_object_events() -> None:
    snapshot = _trail(event_selectors=MANAGEMENT_ONLY)
    assert [f.evidence["trails_examined"] for f in run_rule("CIS-LOG-005", snapshot)] == [[TRAIL_ARN]]
    assert arns(run_rule("CIS-LOG-006", snapshot)) == {bucket_arn(DATA_BUCKET)}


def test_cis_log_003_trail_bucket_in_an_account_not_collected_is_undetermined() -> None:
    snapshot = _trail(s3_bucket_name="elsewhere")
    assert run_rule("CIS-LOG-003", snapshot) == []
    assert undetermined("CIS-LOG-003", snapshot) != []

