"""sts:ExternalId values are secrets: no snapshot, finding or report holds one (a vendor's, or the
auditor's own in the audit role's trust policy), while the fact that a trust requires one is kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.cli import main
from auditor.model import AccountSnapshot, IamData, IamRole, Manifest, Snapshot, redact_external_ids
from auditor.snapshot import read_snapshot, write_snapshot

ACCOUNT, VENDOR = "111111111111", "999988887777"
VENDOR_SECRET, AUDIT_SECRET = "vendor-Secret-7f3a91", "audit-Secret-0b2c44"


def _trust(principal: str, condition: dict[str, object]) -> dict[str, object]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": principal},
                                                    "Action": "sts:AssumeRole", "Condition": condition}]}


def _snapshot() -> Snapshot:
    roles = (
        IamRole(arn=f"arn:aws:iam::{ACCOUNT}:role/vendor-access", name="vendor-access",
                trust_policy=_trust(f"arn:aws:iam::{VENDOR}:root", {"StringEquals": {"sts:ExternalId": VENDOR_SECRET}}),
                attached_policy_arns=("arn:aws:iam::aws:policy/ReadOnlyAccess",)),
        IamRole(arn=f"arn:aws:iam::{ACCOUNT}:role/SecurityAuditRole", name="SecurityAuditRole",
                trust_policy=_trust(f"arn:aws:iam::{ACCOUNT}:root",
                                    {"StringEquals": {"STS:externalID": [AUDIT_SECRET, "*"]}})),
    )
    account = AccountSnapshot(account_id=ACCOUNT, name="solo", regions=("us-east-1",), iam=IamData(roles=roles),
                              budgets=())
    manifest = Manifest(tool_version="0", created_at="2026-01-01T00:00:00+00:00", mode="single-account",
                        account_ids=(ACCOUNT,))
    return Snapshot(manifest=manifest, organization=None, accounts=(account,))


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"Statement": {"Condition": {"StringEquals": {"sts:ExternalId": "s"}}}},
         {"Statement": {"Condition": {"StringEquals": {"sts:ExternalId": "REDACTED"}}}}),
        ({"Statement": [{"Condition": {"StringLike": {"Sts:ExternalID": ["a", "*"]}, "Bool": {"x": "true"}}}]},
         {"Statement": [{"Condition": {"StringLike": {"Sts:ExternalID": ["REDACTED", "*"]}, "Bool": {"x": "true"}}}]}),
        # benign twins: other condition keys, and documents without conditions, are untouched
        ({"Statement": [{"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}]},
         {"Statement": [{"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}]}),
        ({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
         {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        ({}, {}),
    ],
)
def test_redact_external_ids(document: dict[str, object], expected: dict[str, object]) -> None:
    original = json.dumps(document)
    assert redact_external_ids(document) == expected
    assert json.dumps(document) == original  # the caller's document (an AWS answer) is not modified


def test_no_external_id_in_any_snapshot_file_or_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snapshot_dir = write_snapshot(_snapshot(), tmp_path / "snap")
    out = tmp_path / "report"
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", str(snapshot_dir), "--out", str(out), "--format", "html,json,csv,md,ocsf,compliance"])
    assert exit_info.value.code in (0, 3), capsys.readouterr().err
    files = [p for p in (*snapshot_dir.rglob("*"), *out.rglob("*")) if p.is_file()]
    assert len(files) >= 10
    leaks = [str(p) for p in files for secret in (VENDOR_SECRET, AUDIT_SECRET) if secret in p.read_text()]
    assert leaks == []
    document = json.loads((out / "findings.json").read_text())
    vendor = [f for f in document["findings"] if f["resource_arn"].endswith(":role/vendor-access")
              and f["rule_id"].startswith("EXT-")]
    assert vendor and all(f["evidence"].get("external_id_required") for f in vendor)  # the fact is kept


def test_a_snapshot_written_before_redaction_is_redacted_when_read(tmp_path: Path) -> None:
    directory = write_snapshot(_snapshot(), tmp_path / "snap")
    shard = directory / "accounts" / f"{ACCOUNT}.json"
    text = shard.read_text().replace('"REDACTED"', f'"{VENDOR_SECRET}"')
    assert VENDOR_SECRET in text
    shard.write_text(text)
    assert VENDOR_SECRET not in read_snapshot(directory).model_dump_json()
