"""The on-disk snapshot: a directory with ``manifest.json``, ``organization.json``,
``coverage.json`` and ``accounts/<account-id>.json``.

Writes go to a private staging directory beside the target that is moved into place at the end (see
``auditor.outputs.OutputSet``), so an interrupted collection never leaves a half-written snapshot. A
target is replaced only when it is empty or an earlier snapshot (``check_snapshot_target``).

Reading treats the directory as untrusted input: account ids are 12 digits, each shard is the account
its file name says, no account twice, every file inside the directory, no NaN or Infinity. A snapshot of
a newer minor schema version is read with the fields this auditor does not know left out.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from auditor.errors import SnapshotError, UserError
from auditor.model import (
    SNAPSHOT_SCHEMA_VERSION,
    AccountSnapshot,
    CoverageGap,
    Manifest,
    Organization,
    Snapshot,
)
from auditor.outputs import OutputSet, make_private_dirs, write_private_text

MANIFEST = "manifest.json"
ORGANIZATION = "organization.json"
COVERAGE = "coverage.json"
ACCOUNTS_DIR = "accounts"
# Streamed snapshots (``auditor.snapshot_writer``): each AWS managed policy document once, named by its SHA-256 and
# referred to from the shards as {"$aws_managed_document": "<sha256>"}; and the journal of shards written.
AWS_MANAGED_DIR = "aws_managed_policies"
AWS_MANAGED_REF = "$aws_managed_document"
SHARDS_JOURNAL = "shards.jsonl"
SHA256 = re.compile(r"^[0-9a-f]{64}\Z")
ACCOUNT_ID = re.compile(r"^\d{12}\Z")
# The keys every manifest this auditor ever wrote has: how an earlier snapshot is recognised.
MANIFEST_MARKERS = ("schema_version", "tool_version", "mode")


# --- writing ----------------------------------------------------------------------------------------


def dump_json(data: object) -> str:
    """The snapshot's JSON text; NaN and Infinity are refused (they are not JSON)."""
    return json.dumps(data, indent=1, sort_keys=True, default=str, allow_nan=False) + "\n"


def write_json_file(path: Path, data: object) -> Path:
    """A new private (0600) JSON file of the snapshot."""
    return write_private_text(path, dump_json(data))


def account_shard_name(account_id: str) -> str:
    """The file name of an account's shard, for a validated 12-digit account id only."""
    if not ACCOUNT_ID.match(account_id):
        raise SnapshotError(f"account id {account_id!r} is not 12 digits")
    return f"{account_id}.json"


def is_snapshot_directory(directory: Path) -> bool:
    """Whether ``directory`` holds a manifest.json written by this auditor (any version)."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(manifest, dict) and all(key in manifest for key in MANIFEST_MARKERS)


def check_snapshot_target(directory: Path, *, force: bool = False, flag: str = "--out") -> None:
    """A snapshot may replace ``directory`` only when it is absent, empty or an earlier snapshot.

    Anything else (the current directory, a folder of the user's files, the history database's
    folder) is a one-line UserError unless ``force``; a file is never replaced.
    """
    if directory.is_symlink() and not directory.exists():
        raise UserError(f"{flag} {directory} is a broken symbolic link")
    if not directory.exists():
        return
    if not directory.is_dir():
        raise UserError(f"{flag} {directory} is a file, not a snapshot directory")
    if force or is_snapshot_directory(directory):
        return
    try:
        empty = next(directory.iterdir(), None) is None
    except OSError as exc:
        raise UserError(f"{flag} {directory}: cannot read this directory ({exc.strerror or exc})") from None
    if not empty:
        raise UserError(
            f"{flag} {directory} is not empty and is not an earlier snapshot (no auditor manifest.json); "
            "refusing to replace it: choose another directory, or add --force to replace it"
        )


def fill_snapshot_directory(snapshot: Snapshot, directory: Path) -> Path:
    """Write every file of ``snapshot`` into the empty (staging) ``directory``, each private."""
    write_json_file(directory / MANIFEST, snapshot.manifest.model_dump(mode="json"))
    org = snapshot.organization.model_dump(mode="json") if snapshot.organization else None
    write_json_file(directory / ORGANIZATION, org)
    write_json_file(directory / COVERAGE, [gap.model_dump(mode="json") for gap in snapshot.coverage])
    make_private_dirs(directory / ACCOUNTS_DIR)
    for account in snapshot.accounts:
        write_json_file(directory / ACCOUNTS_DIR / account_shard_name(account.account_id),
                        account.model_dump(mode="json"))
    return directory


def stage_snapshot(snapshot: Snapshot, directory: Path, outputs: OutputSet, *, force: bool = False) -> Path:
    """Write ``snapshot`` beside ``directory``; it replaces ``directory`` when ``outputs`` commits."""
    directory = directory.resolve()
    check_snapshot_target(directory, force=force)
    return fill_snapshot_directory(snapshot, outputs.stage_directory(directory))


def write_snapshot(snapshot: Snapshot, directory: Path, *, force: bool = False) -> Path:
    """Write ``snapshot`` to ``directory`` atomically (replacing an earlier snapshot there, or anything
    with ``force``)."""
    with OutputSet() as outputs:
        stage_snapshot(snapshot, directory, outputs, force=force)
        outputs.commit()
    return directory.resolve()


# --- reading ----------------------------------------------------------------------------------------


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def parse_json_text(text: str) -> object:
    """Strict JSON: NaN, Infinity and nesting deeper than Python's stack are ValueErrors."""
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def inside_snapshot(directory: Path, relative: str) -> Path:
    """``directory / relative``, refused when it (or a symbolic link on the way) leads outside ``directory``."""
    root = directory.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise SnapshotError(f"snapshot {directory}: {relative} leads outside the snapshot directory")
    return path


def _load_json(directory: Path, relative: str) -> object:
    return _parse(directory, relative, _load_text(directory, relative))


def _parse(directory: Path, relative: str, text: str) -> object:
    try:
        return parse_json_text(text)
    except ValueError as exc:
        raise SnapshotError(f"snapshot file {directory / relative} is not valid JSON: {exc}") from None


def _load_text(directory: Path, relative: str) -> str:
    path = inside_snapshot(directory, relative)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SnapshotError(f"snapshot is incomplete: {directory / relative} is missing") from None
    except IsADirectoryError:
        raise SnapshotError(f"snapshot file {directory / relative} is a directory") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise SnapshotError(f"snapshot file {directory / relative} is not valid JSON: {exc}") from None


def _version(text: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"(\d+)\.(\d+)(?:\.\d+)?", text)
    return (int(match[1]), int(match[2])) if match else None


def _without_unknown_fields(data: Any, errors: list[Any]) -> list[str]:
    """Drop, in place, each key an ``extra_forbidden`` error points at; returns their dotted paths."""
    dropped = []
    for error in errors:
        if error["type"] != "extra_forbidden":
            continue
        *parents, key = error["loc"]
        holder = data
        for part in parents:
            holder = holder[part]
        if isinstance(holder, dict) and key in holder:
            del holder[key]
            dropped.append(".".join(str(part) for part in error["loc"]))
    return dropped


def validate_record(model: type[Any], data: Any, path: Path, newer: str | None) -> Any:
    """``model`` validated from ``data``; with ``newer`` (a newer minor version) unknown fields are dropped."""
    attempts = 3
    while True:
        attempts -= 1
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors()
            if newer and attempts and isinstance(data, dict) and _without_unknown_fields(data, errors):
                continue
            first = errors[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top level)"
            schema = f" (written by a newer schema {newer})" if newer else ""
            raise SnapshotError(f"snapshot file {path} is corrupt{schema}: {where}: {first['msg']}") from None


def check_schema_version(directory: Path, raw_manifest: dict[str, Any]) -> str | None:
    """None when the manifest is of this auditor's schema (or older minor); the version when it is a newer
    minor one; a SnapshotError for another major version."""
    version = str(raw_manifest.get("schema_version", ""))
    ours, theirs = _version(SNAPSHOT_SCHEMA_VERSION), _version(version)
    if ours is None or theirs is None or theirs[0] != ours[0]:
        raise SnapshotError(
            f"snapshot {directory} has schema version {version or 'none'}; "
            f"this auditor reads version {SNAPSHOT_SCHEMA_VERSION.split('.')[0]}.x"
        )
    return version if theirs[1] > ours[1] else None


def check_account_ids(directory: Path, account_ids: tuple[str, ...]) -> None:
    """Every listed account id is 12 digits and listed once."""
    seen: set[str] = set()
    for account_id in account_ids:
        if not ACCOUNT_ID.match(account_id):
            raise SnapshotError(f"snapshot file {directory / MANIFEST} is corrupt: account id {account_id!r} "
                                "is not 12 digits")
        if account_id in seen:
            raise SnapshotError(f"snapshot file {directory / MANIFEST} is corrupt: account {account_id} "
                                "is listed twice")
        seen.add(account_id)


class SharedDocuments:
    """The AWS managed policy documents of one snapshot (``aws_managed_policies/<sha256>.json``), each read, checked
    against its name and parsed once, then shared by every account that refers to it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._documents: dict[str, dict[str, Any]] = {}

    def get(self, digest: object, shard: Path) -> dict[str, Any]:
        if not isinstance(digest, str) or not SHA256.match(digest):
            raise SnapshotError(f"snapshot file {shard} is corrupt: {digest!r} is not a document reference")
        if digest not in self._documents:
            relative = f"{AWS_MANAGED_DIR}/{digest}.json"
            text = _load_text(self.directory, relative)
            if hashlib.sha256(text.encode()).hexdigest() != digest:
                raise SnapshotError(f"snapshot file {self.directory / relative} does not match its checksum")
            document = _parse(self.directory, relative, text)
            if not isinstance(document, dict):
                raise SnapshotError(f"snapshot file {self.directory / relative} is corrupt: expected a JSON object")
            self._documents[digest] = document
        return self._documents[digest]

    def resolve(self, data: object, shard: Path) -> None:
        """Put the shared document in place of each AWS managed policy's reference, in the shard's raw data."""
        iam = data.get("iam") if isinstance(data, dict) else None
        policies = iam.get("policies") if isinstance(iam, dict) else None
        for policy in policies if isinstance(policies, list) else ():
            document = policy.get("document") if isinstance(policy, dict) else None
            if isinstance(document, dict) and AWS_MANAGED_REF in document and policy.get("aws_managed") is True:
                if len(document) != 1:
                    raise SnapshotError(f"snapshot file {shard} is corrupt: a document reference with other keys")
                policy["document"] = self.get(document[AWS_MANAGED_REF], shard)


def read_account_shard(
    directory: Path, account_id: str, newer: str | None = None, documents: SharedDocuments | None = None,
    checksum: str | None = None,
) -> AccountSnapshot:
    """One account's shard, checked to be the account its file name says (and, when the manifest lists one, to
    have its checksum), with its AWS managed policy documents shared through ``documents``."""
    relative = f"{ACCOUNTS_DIR}/{account_shard_name(account_id)}"
    path = directory / relative
    text = _load_text(directory, relative)
    if checksum is not None and hashlib.sha256(text.encode()).hexdigest() != checksum:
        raise SnapshotError(f"snapshot file {path} does not match the checksum in the manifest")
    data = _parse(directory, relative, text)
    (documents or SharedDocuments(directory)).resolve(data, path)
    account: AccountSnapshot = validate_record(AccountSnapshot, data, path, newer)
    if account.account_id != account_id:
        raise SnapshotError(
            f"snapshot file {path} is corrupt: it holds account {account.account_id!r}, not {account_id}"
        )
    return account


def read_snapshot(directory: Path) -> Snapshot:
    """Read and validate a snapshot directory; any problem is a one-line ``SnapshotError``."""
    if not directory.is_dir():
        raise SnapshotError(f"snapshot directory {directory} does not exist")
    raw_manifest = _load_json(directory, MANIFEST)
    if not isinstance(raw_manifest, dict):
        raise SnapshotError(f"snapshot file {directory / MANIFEST} is corrupt: expected a JSON object")
    newer = check_schema_version(directory, raw_manifest)
    manifest: Manifest = validate_record(Manifest, raw_manifest, directory / MANIFEST, newer)
    check_account_ids(directory, manifest.account_ids)
    raw_org = _load_json(directory, ORGANIZATION)
    organization = (
        validate_record(Organization, raw_org, directory / ORGANIZATION, newer) if raw_org is not None else None
    )
    raw_coverage = _load_json(directory, COVERAGE)
    if not isinstance(raw_coverage, list):
        raise SnapshotError(f"snapshot file {directory / COVERAGE} is corrupt: expected a JSON list")
    coverage = tuple(validate_record(CoverageGap, gap, directory / COVERAGE, newer) for gap in raw_coverage)
    documents = SharedDocuments(directory)
    accounts = tuple(read_account_shard(directory, account_id, newer, documents, manifest.shard_sha256.get(account_id))
                     for account_id in manifest.account_ids)
    return Snapshot(manifest=manifest, organization=organization, accounts=accounts, coverage=coverage)
