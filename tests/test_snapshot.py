"""Snapshot on disk: round trip, atomic replace, and one clear error for every kind of corruption."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from auditor.errors import SnapshotError
from auditor.model import (
    AccountSnapshot,
    CoverageGap,
    IamData,
    IamRole,
    Manifest,
    Resource,
    Snapshot,
)
from auditor.snapshot import read_snapshot, write_snapshot


def _snapshot() -> Snapshot:
    role = IamRole(arn="arn:aws:iam::111111111111:role/r", name="r",
                   trust_policy={"Version": "2012-10-17", "Statement": []}, tags={"k": "</script>"})
    account = AccountSnapshot(
        account_id="111111111111", name="solo", regions=("us-east-1",), iam=IamData(roles=(role,)),
        resources=(Resource(arn="arn:aws:s3:::b", type="s3:bucket", region="us-east-1", tags={"a": "b"}),),
        budgets=(),
    )
    manifest = Manifest(tool_version="0", created_at="2026-01-01T00:00:00+00:00", mode="single-account",
                        account_ids=("111111111111",), api_calls={"111111111111": {"iam:ListRoles": 2}})
    gap = CoverageGap(account_id="111111111111", service="lambda", region="us-east-1",
                      operation="ListFunctions", error_code="AccessDenied", message="no")
    return Snapshot(manifest=manifest, organization=None, accounts=(account,), coverage=(gap,))


def test_round_trip(tmp_path: Path) -> None:
    original = _snapshot()
    write_snapshot(original, tmp_path / "snap")
    assert read_snapshot(tmp_path / "snap") == original


def test_rewrite_replaces_whole_snapshot_and_leaves_no_temporaries(tmp_path: Path) -> None:
    write_snapshot(_snapshot(), tmp_path / "snap")
    write_snapshot(_snapshot(), tmp_path / "snap")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]


def test_failed_write_leaves_previous_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_snapshot(_snapshot(), tmp_path / "snap")

    def explode(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("auditor.snapshot.os.replace", explode)
    with pytest.raises(KeyboardInterrupt):
        write_snapshot(_snapshot(), tmp_path / "snap")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap"]
    assert read_snapshot(tmp_path / "snap") == _snapshot()


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda d: (d / "manifest.json").write_text("{not json"), "manifest.json is not valid JSON"),
        (lambda d: (d / "manifest.json").unlink(), "manifest.json is missing"),
        (lambda d: (d / "accounts" / "111111111111.json").unlink(), "111111111111.json is missing"),
        (lambda d: (d / "accounts" / "111111111111.json").write_text('{"account_id": 5}'),
         "111111111111.json is corrupt: account_id"),
        (lambda d: (d / "coverage.json").write_text("{}"), "coverage.json is corrupt"),
        (lambda d: (d / "manifest.json").write_text(json.dumps({"schema_version": "9.0"})),
         "schema version 9.0"),
        (lambda d: (d / "manifest.json").write_bytes(b"\xff\xfe"), "is not valid JSON"),
    ],
)
def test_corrupt_snapshot_is_one_clear_error(tmp_path: Path, corrupt: object, message: str) -> None:
    directory = write_snapshot(_snapshot(), tmp_path / "snap")
    corrupt(directory)  # type: ignore[operator]
    with pytest.raises(SnapshotError) as error:
        read_snapshot(directory)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="does not exist"):
        read_snapshot(tmp_path / "nope")
