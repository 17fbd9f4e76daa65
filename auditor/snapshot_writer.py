"""Writing a snapshot while it is collected: each account's shard as soon as that account is done, the manifest
last, and ``--resume`` after an interruption.

Layout (see ``auditor.snapshot`` for reading): ``accounts/<id>.json`` per account;
``aws_managed_policies/<sha256>.json`` holds each AWS managed policy document once per snapshot (a shard refers to it as
``{"$aws_managed_document": "<sha256>"}``: ReadOnlyAccess alone is about 100 KB, attached in every account);
``shards.jsonl`` journals each shard as it is written (its checksum, whether the account was audited, its coverage
gaps and API calls); ``organization.json``, ``coverage.json``, and ``manifest.json`` last, listing every shard with
its SHA-256.

A local snapshot is written into ``.<name>.partial`` beside its final place and moved into place when complete, so
a reader never sees half of one; an interrupted run leaves the partial directory for ``--resume``, which keeps the
shards whose checksum matches the journal and whose account was audited, and collects only the others. An
``s3://bucket/prefix`` snapshot is written with a separate, write-only sink session (``s3:PutObject`` only), never
through the read-only audited clients; its manifest is the last object written.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from auditor.errors import UserError
from auditor.model import AccountSnapshot, CoverageGap, Manifest, Organization
from auditor.outputs import OutputSet, make_private_dirs, write_text_atomically
from auditor.snapshot import (
    ACCOUNTS_DIR,
    AWS_MANAGED_DIR,
    AWS_MANAGED_REF,
    COVERAGE,
    MANIFEST,
    ORGANIZATION,
    SHARDS_JOURNAL,
    account_shard_name,
    check_snapshot_target,
    dump_json,
    is_snapshot_directory,
)

PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class ShardRecord:
    """One line of ``shards.jsonl``: an account's shard as written."""

    account_id: str
    sha256: str
    audited: bool
    gaps: tuple[CoverageGap, ...] = ()
    api_calls: dict[str, int] = field(default_factory=dict)
    regions: tuple[str, ...] = ()

    def line(self) -> str:
        return json.dumps({"account_id": self.account_id, "sha256": self.sha256, "audited": self.audited,
                           "regions": list(self.regions),
                           "gaps": [gap.model_dump(mode="json") for gap in self.gaps],
                           "api_calls": self.api_calls}, sort_keys=True, allow_nan=False) + "\n"

    @classmethod
    def parse(cls, text: str) -> ShardRecord:
        data = json.loads(text)
        return cls(account_id=str(data["account_id"]), sha256=str(data["sha256"]), audited=bool(data["audited"]),
                   gaps=tuple(CoverageGap.model_validate(gap) for gap in data["gaps"]),
                   api_calls={str(k): int(v) for k, v in data["api_calls"].items()},
                   regions=tuple(str(region) for region in data.get("regions", ())))


def shard_text(account: AccountSnapshot, managed: dict[str, str]) -> str:
    """An account's shard, each AWS managed policy document replaced by a reference to its one shared copy
    (``managed`` collects the documents met: SHA-256 -> JSON text)."""
    data = account.model_dump(mode="json")
    iam = data.get("iam") or {}
    for policy in iam.get("policies", ()):
        if policy.get("aws_managed") and isinstance(policy.get("document"), dict):
            text = dump_json(policy["document"])
            digest = hashlib.sha256(text.encode()).hexdigest()
            managed.setdefault(digest, text)
            policy["document"] = {AWS_MANAGED_REF: digest}
    return dump_json(data)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class SnapshotSink(Protocol):
    """Where a streamed snapshot goes: a local directory, or an S3 prefix."""

    location: str

    def kept(self) -> dict[str, ShardRecord]: ...

    def write_account(self, account: AccountSnapshot, gaps: Iterable[CoverageGap],
                      api_calls: dict[str, int]) -> ShardRecord: ...

    def finish(self, manifest: Manifest, organization: Organization | None,
               coverage: Iterable[CoverageGap], outputs: OutputSet | None = None) -> str: ...

    def abandon(self) -> None: ...


class DirectorySnapshotWriter:
    """A local snapshot written account by account into ``.<name>.partial``, moved into place by ``finish``."""

    def __init__(self, directory: Path, *, force: bool = False, resume: bool = False) -> None:
        self.directory = directory.resolve()
        self.location = str(directory)
        self.partial = self.directory.with_name(f".{self.directory.name}{PARTIAL_SUFFIX}")
        check_snapshot_target(directory, force=force)  # as given: the error names the path the user typed
        self._lock = threading.Lock()
        self._managed_written: set[str] = set()
        self._records: dict[str, ShardRecord] = {}
        if resume and not self.partial.is_dir() and is_snapshot_directory(self.directory):
            self._partial_from(self.directory)  # resume a finished snapshot: re-collect its failed accounts
        elif not resume and (self.partial.exists() or self.partial.is_symlink()):
            _remove(self.partial)  # an earlier interrupted run that is not resumed
        if resume and not self.partial.is_dir():
            raise UserError(f"--resume: there is no interrupted or earlier snapshot at {directory} to resume")
        make_private_dirs(self.partial / ACCOUNTS_DIR)
        make_private_dirs(self.partial / AWS_MANAGED_DIR)
        self._kept = self._verified_records() if resume else {}
        self._records = dict(self._kept)
        # the journal is rewritten with the shards kept, then appended to as accounts arrive
        write_text_atomically(self.partial / SHARDS_JOURNAL, "".join(r.line() for r in self._records.values()))
        self._managed_written = {p.stem for p in (self.partial / AWS_MANAGED_DIR).glob("*.json")}

    def _partial_from(self, snapshot: Path) -> None:
        """A partial directory holding a copy (hard links where possible) of a finished snapshot's shards."""
        staging = self.partial.with_name(self.partial.name + ".copy")
        _remove(staging)
        shutil.copytree(snapshot, staging, copy_function=_link_or_copy)
        (staging / MANIFEST).unlink(missing_ok=True)
        os.replace(staging, self.partial)

    def _verified_records(self) -> dict[str, ShardRecord]:
        """The journal's shards that can be kept: the account was audited and its file has the journalled checksum
        (a shard whose checksum does not match is as good as missing)."""
        kept: dict[str, ShardRecord] = {}
        try:
            lines = (self.partial / SHARDS_JOURNAL).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return kept
        for line in lines:
            try:
                record = ShardRecord.parse(line)
                text = (self.partial / ACCOUNTS_DIR / account_shard_name(record.account_id)).read_text(encoding="utf-8")
            except (ValueError, KeyError, TypeError, AttributeError, OSError, UserError):
                continue  # a torn last line, or a shard that is gone: collected again
            if record.audited and _sha256(text) == record.sha256 and self._references_present(text):
                kept[record.account_id] = record
        return kept

    def _references_present(self, text: str) -> bool:
        digests = set(_references(text))
        return all((self.partial / AWS_MANAGED_DIR / f"{digest}.json").is_file() for digest in digests)

    def kept(self) -> dict[str, ShardRecord]:
        return dict(self._kept)

    def write_account(self, account: AccountSnapshot, gaps: Iterable[CoverageGap],
                      api_calls: dict[str, int]) -> ShardRecord:
        managed: dict[str, str] = {}
        text = shard_text(account, managed)
        record = ShardRecord(account.account_id, _sha256(text), account.audited, tuple(gaps), dict(api_calls),
                             account.regions)
        with self._lock:
            for digest, document in managed.items():
                if digest not in self._managed_written:
                    write_text_atomically(self.partial / AWS_MANAGED_DIR / f"{digest}.json", document)
                    self._managed_written.add(digest)
            write_text_atomically(self.partial / ACCOUNTS_DIR / account_shard_name(account.account_id), text)
            with open(self.partial / SHARDS_JOURNAL, "a", encoding="utf-8") as journal:
                journal.write(record.line())
                journal.flush()
                os.fsync(journal.fileno())
            self._records[account.account_id] = record
        return record

    def complete(self, manifest: Manifest, organization: Organization | None, coverage: Iterable[CoverageGap]) -> Path:
        """Write the organisation, coverage and, last, the manifest into the partial directory (returned: a complete
        snapshot that ``place`` then moves into place)."""
        listed = set(manifest.account_ids)
        for path in (self.partial / ACCOUNTS_DIR).glob("*.json"):
            if path.stem not in listed:
                path.unlink()  # an account of an earlier run that is no longer in the organisation (or filters)
        write_text_atomically(self.partial / ORGANIZATION,
                              dump_json(organization.model_dump(mode="json") if organization else None))
        write_text_atomically(self.partial / COVERAGE, dump_json([gap.model_dump(mode="json") for gap in coverage]))
        write_text_atomically(self.partial / MANIFEST, dump_json(manifest.model_dump(mode="json")))
        return self.partial

    def place(self, outputs: OutputSet) -> None:
        """Stage the completed snapshot's move onto the target in ``outputs`` (it happens at their commit)."""
        staged = outputs.stage_directory(self.directory)
        os.replace(self.partial, staged)  # onto the empty staged directory: the snapshot then moves in as one

    def finish(self, manifest: Manifest, organization: Organization | None, coverage: Iterable[CoverageGap],
               outputs: OutputSet | None = None) -> str:
        """``complete``, then move the snapshot into place (or, with ``outputs``, stage the move there)."""
        self.complete(manifest, organization, coverage)
        if outputs is not None:
            self.place(outputs)
        else:
            with OutputSet() as own:
                self.place(own)
                own.commit()
        return str(self.directory)

    def abandon(self) -> None:
        """Leave the partial directory for ``--resume`` (nothing else to do: the target is untouched)."""

    def records(self) -> dict[str, ShardRecord]:
        with self._lock:
            return dict(self._records)


def _references(text: str) -> list[str]:
    marker = f'"{AWS_MANAGED_REF}": "'
    found, start = [], text.find(marker)
    while start >= 0:
        begin = start + len(marker)
        found.append(text[begin:begin + 64])
        start = text.find(marker, begin)
    return found


def _link_or_copy(source: str, destination: str) -> str:
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)
    return destination


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


class S3SnapshotWriter:
    """A snapshot written to ``s3://bucket/prefix/`` with a write-only sink session: shards as accounts finish,
    then the organisation, coverage and, last, the manifest. The sink's own credentials need ``s3:PutObject`` on
    ``arn:aws:s3:::bucket/prefix/*`` only (and ``kms:GenerateDataKey`` where the bucket encrypts with a KMS key);
    they are never used to read AWS, and the audited clients never write. Not resumable (the sink cannot read)."""

    def __init__(self, url: str, sink_session: Any) -> None:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise UserError(f"--out {url}: expected s3://BUCKET/PREFIX")
        self.location = url
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self._client = sink_session.client("s3")
        self._lock = threading.Lock()
        self._managed_written: set[str] = set()

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _put(self, name: str, text: str) -> None:
        self._client.put_object(Bucket=self.bucket, Key=self._key(name), Body=text.encode(),
                                ContentType="application/json", ChecksumAlgorithm="SHA256")

    def kept(self) -> dict[str, ShardRecord]:
        return {}

    def write_account(self, account: AccountSnapshot, gaps: Iterable[CoverageGap],
                      api_calls: dict[str, int]) -> ShardRecord:
        managed: dict[str, str] = {}
        text = shard_text(account, managed)
        with self._lock:
            new = {digest: doc for digest, doc in managed.items() if digest not in self._managed_written}
            self._managed_written.update(new)
        for digest, document in new.items():
            self._put(f"{AWS_MANAGED_DIR}/{digest}.json", document)
        self._put(f"{ACCOUNTS_DIR}/{account_shard_name(account.account_id)}", text)
        return ShardRecord(account.account_id, _sha256(text), account.audited, tuple(gaps), dict(api_calls),
                             account.regions)

    def finish(self, manifest: Manifest, organization: Organization | None, coverage: Iterable[CoverageGap],
               outputs: OutputSet | None = None) -> str:
        self._put(ORGANIZATION, dump_json(organization.model_dump(mode="json") if organization else None))
        self._put(COVERAGE, dump_json([gap.model_dump(mode="json") for gap in coverage]))
        self._put(MANIFEST, dump_json(manifest.model_dump(mode="json")))
        return self.location

    def abandon(self) -> None:
        """Objects already written stay; without a manifest the prefix is not a snapshot."""


def snapshot_sink(out: str | Path, *, force: bool = False, resume: bool = False,
                  sink_profile: str | None = None) -> SnapshotSink:
    """The sink for ``--out``: a local directory, or ``s3://bucket/prefix`` through a write-only sink session."""
    text = str(out)
    if text.startswith("s3://"):
        if resume:
            raise UserError("--resume needs a local --out directory (the S3 sink may only write)")
        import boto3

        return S3SnapshotWriter(text, boto3.Session(profile_name=sink_profile))
    return DirectorySnapshotWriter(Path(text), force=force, resume=resume)
