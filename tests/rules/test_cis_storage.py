"""CIS foundations, storage (rules/cis_storage.py): CIS-S3-001..003, CIS-EBS-001, CIS-RDS-001..003, CIS-EFS-001.
The account of tests/rules/cis_snapshot.py passes them all; each risky case changes one setting."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from auditor.model import Snapshot
from tests.rules.cis_snapshot import (
    ACCOUNT_ARN,
    DATA_BUCKET,
    DB_ARN,
    EFS_ARN,
    HTTPS_ONLY,
    REGION,
    TRAIL_BUCKET,
    bucket_arn,
    change,
    compliant,
    compliant_account,
)
from tests.rules.helpers import arns, run_rule, undetermined


def _buckets(name: str, **fields: Any) -> Snapshot:
    storage = compliant_account().storage
    assert storage is not None
    return change(storage={"buckets": tuple(b.model_copy(update=fields) if b.name == name else b
                                            for b in storage.buckets)})


def _db(**fields: Any) -> Snapshot:
    storage = compliant_account().storage
    assert storage is not None
    return change(storage={"rds_instances": (storage.rds_instances[0].model_copy(update=fields),)})


def _bucket_policy(policy: dict[str, Any] | None) -> Snapshot:
    data = compliant_account().resources[0]
    return change(account={"resources": (data.model_copy(update={"policy": policy}),)})


def _statement(**changes: Any) -> dict[str, Any]:
    return {**HTTPS_ONLY, "Statement": [{**HTTPS_ONLY["Statement"][0], **changes}]}


OPEN = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": True}

CASES: list[tuple[str, Callable[[], Snapshot], set[str]]] = [
    ("CIS-S3-001", lambda: _bucket_policy(None), {bucket_arn(DATA_BUCKET)}),
    ("CIS-S3-002", lambda: _buckets(TRAIL_BUCKET, mfa_delete=False), {bucket_arn(TRAIL_BUCKET)}),
    # neither the account nor the bucket blocks public policies
    ("CIS-S3-003", lambda: _public_bucket(),
     {bucket_arn(DATA_BUCKET)}),
    ("CIS-EBS-001", lambda: change(storage={"ebs_encryption_by_default": {REGION: False}}), {ACCOUNT_ARN}),
    ("CIS-RDS-001", lambda: _db(storage_encrypted=False), {DB_ARN}),
    ("CIS-RDS-002", lambda: _db(auto_minor_version_upgrade=False), {DB_ARN}),
    ("CIS-RDS-003", lambda: _db(publicly_accessible=True), {DB_ARN}),
    ("CIS-EFS-001", lambda: _efs_unencrypted(), {EFS_ARN}),
]


def _public_bucket() -> Snapshot:
    storage = compliant_account().storage
    assert storage is not None
    buckets = tuple(b.model_copy(update={"public_access_block": OPEN}) if b.name == DATA_BUCKET else b
                    for b in storage.buckets)
    return change(storage={"account_public_access_block": None, "buckets": buckets})


def _efs_unencrypted() -> Snapshot:
    storage = compliant_account().storage
    assert storage is not None
    return change(storage={"efs_file_systems": (storage.efs_file_systems[0].model_copy(update={"encrypted": False}),)})


@pytest.mark.parametrize(("rule_id", "risky", "expected"), CASES, ids=[case[0] for case in CASES])
def test_rule_fires_on_the_change_and_not_on_the_compliant_twin(
    rule_id: str, risky: Callable[[], Snapshot], expected: set[str]
) -> None:
    assert arns(run_rule(rule_id, risky())) == expected
    assert run_rule(rule_id, compliant()) == []
    assert undetermined(rule_id, compliant()) == []


@pytest.mark.parametrize(
    ("policy", "denies_http"),
    [
        (HTTPS_ONLY, True),
        (_statement(Condition={"BoolIfExists": {"aws:SecureTransport": "false"}}), True),
        (_statement(Action="s3:GetObject"), False),  # one action is not every action
        (_statement(Effect="Allow"), False),
        (_statement(Principal={"AWS": "arn:aws:iam::999999999999:root"}), False),  # not everyone
        (_statement(Condition={"Bool": {"aws:SecureTransport": "true"}}), False),
        (_statement(Resource=f"arn:aws:s3:::{DATA_BUCKET}"), False),  # the bucket, not its objects
    ],
)
def test_cis_s3_001_what_counts_as_denying_plain_http(policy: dict[str, Any], denies_http: bool) -> None:
    expected = set() if denies_http else {bucket_arn(DATA_BUCKET)}
    assert arns(run_rule("CIS-S3-001", _bucket_policy(policy))) == expected


def test_cis_s3_003_account_level_block_covers_every_bucket() -> None:
    storage = compliant_account().storage
    assert storage is not None
    buckets = tuple(b.model_copy(update={"public_access_block": None}) for b in storage.buckets)
    assert run_rule("CIS-S3-003", change(storage={"buckets": buckets})) == []
    assert arns(run_rule("CIS-S3-003", change(storage={"buckets": buckets, "account_public_access_block": OPEN}))) == {
        bucket_arn(TRAIL_BUCKET), bucket_arn(DATA_BUCKET)}
