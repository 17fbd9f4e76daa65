"""The on-disk snapshot: a directory with ``manifest.json``, ``organization.json``,
``coverage.json`` and ``accounts/<account-id>.json``.

Writes go to a temporary sibling directory that is renamed into place at the end, so an
interrupted collection never leaves a half-written snapshot behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from pydantic import ValidationError

from auditor.errors import SnapshotError
from auditor.model import (
    SNAPSHOT_SCHEMA_VERSION,
    AccountSnapshot,
    CoverageGap,
    Manifest,
    Organization,
    Snapshot,
)

MANIFEST = "manifest.json"
ORGANIZATION = "organization.json"
COVERAGE = "coverage.json"
ACCOUNTS_DIR = "accounts"


def _dump(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n", encoding="utf-8")


def write_snapshot(snapshot: Snapshot, directory: Path) -> Path:
    """Write ``snapshot`` to ``directory`` atomically (replacing an earlier snapshot there)."""
    directory = directory.resolve()
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    previous: Path | None = None
    try:
        _dump(staging / MANIFEST, snapshot.manifest.model_dump(mode="json"))
        org = snapshot.organization.model_dump(mode="json") if snapshot.organization else None
        _dump(staging / ORGANIZATION, org)
        _dump(staging / COVERAGE, [gap.model_dump(mode="json") for gap in snapshot.coverage])
        (staging / ACCOUNTS_DIR).mkdir()
        for account in snapshot.accounts:
            _dump(staging / ACCOUNTS_DIR / f"{account.account_id}.json", account.model_dump(mode="json"))
        if directory.exists():
            previous = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old.", dir=directory.parent))
            os.replace(directory, previous / "snapshot")
            try:
                os.replace(staging, directory)
            except BaseException:
                os.rename(previous / "snapshot", directory)  # put the earlier snapshot back
                raise
        else:
            os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
    return directory


def _load_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotError(f"snapshot is incomplete: {path} is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SnapshotError(f"snapshot file {path} is not valid JSON: {exc}") from None


def _validation_message(path: Path, exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"snapshot file {path} is corrupt: {where}: {first['msg']}"


def read_snapshot(directory: Path) -> Snapshot:
    """Read and validate a snapshot directory; any problem is a one-line ``SnapshotError``."""
    if not directory.is_dir():
        raise SnapshotError(f"snapshot directory {directory} does not exist")
    manifest_path = directory / MANIFEST
    raw_manifest = _load_json(manifest_path)
    if not isinstance(raw_manifest, dict):
        raise SnapshotError(f"snapshot file {manifest_path} is corrupt: expected a JSON object")
    version = str(raw_manifest.get("schema_version", ""))
    if version.split(".")[0] != SNAPSHOT_SCHEMA_VERSION.split(".")[0]:
        raise SnapshotError(
            f"snapshot {directory} has schema version {version or 'none'}; "
            f"this auditor reads version {SNAPSHOT_SCHEMA_VERSION}"
        )
    current = manifest_path
    try:
        manifest = Manifest.model_validate(raw_manifest)
        current = directory / ORGANIZATION
        raw_org = _load_json(current)
        organization = Organization.model_validate(raw_org) if raw_org is not None else None
        current = directory / COVERAGE
        raw_coverage = _load_json(current)
        if not isinstance(raw_coverage, list):
            raise SnapshotError(f"snapshot file {current} is corrupt: expected a JSON list")
        coverage = tuple(CoverageGap.model_validate(gap) for gap in raw_coverage)
        accounts = []
        for account_id in manifest.account_ids:
            current = directory / ACCOUNTS_DIR / f"{account_id}.json"
            accounts.append(AccountSnapshot.model_validate(_load_json(current)))
    except ValidationError as exc:
        raise SnapshotError(_validation_message(current, exc)) from None
    return Snapshot(manifest=manifest, organization=organization, accounts=tuple(accounts), coverage=coverage)
