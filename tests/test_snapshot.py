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

    import auditor.outputs

    real_replace = auditor.outputs.os.replace
    calls: list[object] = []

    def interrupted_once(*args: object, **kwargs: object) -> None:
        calls.append(args)
        if len(calls) == 2:  # the previous snapshot moved aside, the new one not yet in place
            raise KeyboardInterrupt
        real_replace(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(auditor.outputs.os, "replace", interrupted_once)
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


# --- untrusted snapshots: every defect one line, each with its benign twin ------------------------------------


def _edit_json(path: Path, edit: object) -> None:
    data = json.loads(path.read_text())
    edit(data)  # type: ignore[operator]
    path.write_text(json.dumps(data))


def _shard(directory: Path, account_id: str = "111111111111") -> Path:
    return directory / "accounts" / f"{account_id}.json"


def _link_shard_outside(directory: Path) -> None:
    outside = directory.parent / "elsewhere.json"
    outside.write_text(_shard(directory).read_text())
    _shard(directory).unlink()
    _shard(directory).symlink_to(outside)


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda d: _edit_json(d / "manifest.json", lambda m: m.update(account_ids=["11111111111"])),
         "account id '11111111111' is not 12 digits"),
        (lambda d: _edit_json(d / "manifest.json", lambda m: m.update(account_ids=["../../../etc/x"])),
         "account id '../../../etc/x' is not 12 digits"),
        (lambda d: _edit_json(d / "manifest.json", lambda m: m.update(account_ids=["111111111111\n"])),
         "is not 12 digits"),
        (lambda d: _edit_json(d / "manifest.json", lambda m: m.update(account_ids=["111111111111"] * 2)),
         "account 111111111111 is listed twice"),
        (lambda d: _edit_json(_shard(d), lambda a: a.update(account_id="222222222222")),
         "111111111111.json is corrupt: it holds account '222222222222', not 111111111111"),
        (_link_shard_outside, "accounts/111111111111.json leads outside the snapshot directory"),
        (lambda d: _shard(d).write_text(_shard(d).read_text().replace('"budgets": []', '"budgets": NaN')),
         "NaN is not a JSON number"),
        (lambda d: (d / "coverage.json").write_text('[{"account_id": "111111111111", "service": Infinity}]'),
         "Infinity is not a JSON number"),
        (lambda d: (d / "organization.json").write_text("[" * 100_000 + "]" * 100_000), "nested too deeply"),
        (lambda d: _edit_json(d / "manifest.json", lambda m: m.update(schema_version="2.0")),
         "has schema version 2.0; this auditor reads version 1.x"),
        (lambda d: _edit_json(d / "manifest.json", lambda m: m.update(schema_version="1.7", mode="x")),
         "manifest.json is corrupt (written by a newer schema 1.7): mode"),
        # an unknown field in a snapshot of this very version is corruption, not a newer writer
        (lambda d: _edit_json(_shard(d), lambda a: a.update(surprise=1)), "111111111111.json is corrupt: surprise"),
    ],
    ids=["short-id", "path-id", "newline-id", "duplicate", "shard-mismatch", "symlink-outside", "nan", "infinity",
         "deep", "major", "newer-minor-broken", "unknown-field-same-version"],
)
def test_untrusted_snapshot_defect_is_one_clear_error(tmp_path: Path, corrupt: object, message: str) -> None:
    directory = write_snapshot(_snapshot(), tmp_path / "snap")
    corrupt(directory)  # type: ignore[operator]
    with pytest.raises(SnapshotError) as error:
        read_snapshot(directory)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_newer_minor_schema_with_extra_fields_is_read(tmp_path: Path) -> None:
    """A 1.x snapshot from a newer auditor: the fields this one does not know are left out, the rest is read."""
    directory = write_snapshot(_snapshot(), tmp_path / "snap")
    _edit_json(directory / "manifest.json", lambda m: m.update(schema_version="1.9", shards=[{"sha256": "ab"}]))
    _edit_json(_shard(directory), lambda a: (a.update(new_service={"x": 1}),
                                             a["iam"]["roles"][0].update(session_policy="new")))
    _edit_json(directory / "coverage.json", lambda c: c[0].update(retry_after=3))
    snapshot = read_snapshot(directory)
    assert snapshot.accounts == _snapshot().accounts
    assert snapshot.coverage == _snapshot().coverage
    assert snapshot.manifest.schema_version == "1.9"


def test_symlinked_snapshot_directory_itself_is_fine(tmp_path: Path) -> None:
    """The benign twin of the symlink case: a link to the snapshot directory, with every file inside it."""
    write_snapshot(_snapshot(), tmp_path / "snap")
    (tmp_path / "link").symlink_to(tmp_path / "snap")
    assert read_snapshot(tmp_path / "link") == _snapshot()


def test_nan_is_never_written(tmp_path: Path) -> None:
    snapshot = _snapshot()
    manifest = snapshot.manifest.model_copy(update={"rate_cap_waits": {"iam:ListRoles": {"seconds": float("nan")}}})
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        write_snapshot(snapshot.model_copy(update={"manifest": manifest}), tmp_path / "snap")
    assert not (tmp_path / "snap").exists()
