"""Streaming snapshots: each account's shard is on disk as soon as the account is done and the manifest comes last;
AWS managed policy documents are stored once per snapshot and shared again when read; ``--resume`` collects only
the accounts whose shard is missing, damaged or failed; an S3 prefix is written through a separate sink session."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from auditor.cli import main
from auditor.collect import CollectOptions, collect
from auditor.errors import SnapshotError, UserError
from auditor.model import AccountSnapshot, IamData, IamRole, ManagedPolicy, Manifest, Snapshot
from auditor.snapshot import read_snapshot, write_snapshot
from auditor.snapshot_writer import DirectorySnapshotWriter, S3SnapshotWriter, snapshot_sink
from tests.collect_helpers import REGION, hook_every_session, member_session, seed_org, seed_prod

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
ADMIN_DOCUMENT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _account(account_id: str, *, with_admin: bool = True) -> AccountSnapshot:
    policies = (ManagedPolicy(arn=ADMIN, name="AdministratorAccess", document=ADMIN_DOCUMENT, aws_managed=True,
                              attachment_count=1),) if with_admin else ()
    local = ManagedPolicy(arn=f"arn:aws:iam::{account_id}:policy/local", name="local", document=ADMIN_DOCUMENT)
    role = IamRole(arn=f"arn:aws:iam::{account_id}:role/admin", name="admin",
                   attached_policy_arns=(ADMIN,) if with_admin else ())
    return AccountSnapshot(account_id=account_id, name=f"acct-{account_id}", regions=(REGION,),
                           iam=IamData(roles=(role,), policies=(*policies, local)))


def _stream(snapshot: Snapshot, directory: Path) -> Path:
    writer = DirectorySnapshotWriter(directory)
    for account in snapshot.accounts:
        writer.write_account(account, (), {})
    shards = {account_id: record.sha256 for account_id, record in writer.records().items()}
    manifest = snapshot.manifest.model_copy(update={"shard_sha256": shards})
    writer.finish(manifest, snapshot.organization, snapshot.coverage)
    return directory


def _snapshot(*accounts: AccountSnapshot) -> Snapshot:
    manifest = Manifest(tool_version="test", created_at="2026-12-01T00:00:00+00:00", mode="single-account",
                        account_ids=tuple(a.account_id for a in accounts))
    return Snapshot(manifest=manifest, organization=None, accounts=accounts)


def test_aws_managed_documents_are_stored_once_and_shared_again_when_read(tmp_path: Path) -> None:
    original = _snapshot(_account("111111111111"), _account("222222222222"), _account("333333333333", with_admin=False))
    directory = _stream(original, tmp_path / "snap")
    stored = list((directory / "aws_managed_policies").iterdir())
    assert len(stored) == 1 and json.loads(stored[0].read_text()) == ADMIN_DOCUMENT
    shard = json.loads((directory / "accounts" / "111111111111.json").read_text())
    by_arn = {p["arn"]: p["document"] for p in shard["iam"]["policies"]}
    assert by_arn[ADMIN] == {"$aws_managed_document": stored[0].stem}  # the AWS managed one, by reference
    assert by_arn["arn:aws:iam::111111111111:policy/local"] == ADMIN_DOCUMENT  # a customer's own, never
    read = read_snapshot(directory)
    assert read.accounts == original.accounts
    first, second = (next(p for p in a.iam.policies if p.arn == ADMIN) for a in read.accounts[:2] if a.iam)
    assert first.document["Statement"] is second.document["Statement"]  # one copy in memory


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("shard", "does not match the checksum in the manifest"),
        ("document", "does not match its checksum"),
        ("missing-document", "is missing"),
    ],
)
def test_a_damaged_streamed_snapshot_is_a_clear_error(tmp_path: Path, damage: str, message: str) -> None:
    directory = _stream(_snapshot(_account("111111111111")), tmp_path / "snap")
    shard = directory / "accounts" / "111111111111.json"
    (document,) = (directory / "aws_managed_policies").iterdir()
    if damage == "shard":
        shard.write_text(shard.read_text().replace('"acct-111111111111"', '"renamed"'))
    elif damage == "document":
        document.write_text(json.dumps({"Version": "2012-10-17", "Statement": []}))
    else:
        document.unlink()
    with pytest.raises(SnapshotError, match=message):
        read_snapshot(directory)


def test_a_snapshot_written_whole_still_reads(tmp_path: Path) -> None:
    """The non-streaming writer (demo, tests) keeps every document inline: no references, no checksums."""
    original = _snapshot(_account("111111111111"))
    write_snapshot(original, tmp_path / "whole")
    assert read_snapshot(tmp_path / "whole").accounts == original.accounts


# --- against a moto organisation -----------------------------------------------------------------------


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    with mock_aws():
        seeded = seed_org()
        seed_prod(member_session(seeded.prod))
        yield {"prod": seeded.prod, "dev": seeded.dev}


def _assumed(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Accounts into which the collector assumes a role, counted."""
    assumed: Counter[str] = Counter()

    def count(params: dict[str, Any], **_: Any) -> None:
        assumed[str(params.get("RoleArn", "")).split(":")[4]] += 1

    hook_every_session(monkeypatch, "before-parameter-build.sts.AssumeRole", count)
    return assumed


OPTIONS = CollectOptions(regions=(REGION,))


class _Interrupting(DirectorySnapshotWriter):
    """Ctrl-C right after the first shard is on disk; records what was on disk at each shard."""

    seen: list[tuple[list[str], bool]]

    def write_account(self, account: AccountSnapshot, gaps: Any, api_calls: dict[str, int]) -> Any:
        record = super().write_account(account, gaps, api_calls)
        self.seen.append((sorted(p.name for p in (self.partial / "accounts").iterdir()),
                          (self.partial / "manifest.json").exists()))
        if getattr(self, "interrupt", False):
            raise KeyboardInterrupt
        return record


def test_shards_are_on_disk_as_accounts_finish_and_the_manifest_comes_last(org: dict[str, str], tmp_path: Path) -> None:
    writer = _Interrupting(tmp_path / "snap")
    writer.seen = []
    summary = collect(boto3.Session(region_name=REGION), OPTIONS, writer)
    assert [len(names) for names, _ in writer.seen] == list(range(1, len(writer.seen) + 1))
    assert not any(manifest for _, manifest in writer.seen)
    assert not (tmp_path / "snap").exists()  # nothing at the target until the snapshot is complete
    assert all(a.iam is None for a in summary.accounts)  # the run kept no account's data
    writer.finish(summary.manifest, summary.organization, summary.coverage)
    read = read_snapshot(tmp_path / "snap")
    assert set(read.manifest.shard_sha256) == {a.account_id for a in read.accounts}
    prod = read.account(org["prod"])
    assert prod is not None and prod.iam is not None and {r.name for r in prod.iam.roles} >= {"app"}


def test_resume_collects_only_the_accounts_an_interrupted_run_left(
    org: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = _Interrupting(tmp_path / "snap")
    writer.seen, writer.interrupt = [], True
    with pytest.raises(KeyboardInterrupt):
        collect(boto3.Session(region_name=REGION), OPTIONS, writer)
    ((first,), _) = writer.seen[0]
    first_account = first.removesuffix(".json")
    assert not (tmp_path / "snap").exists() and (tmp_path / ".snap.partial" / "accounts" / first).exists()

    assumed = _assumed(monkeypatch)
    resumed = DirectorySnapshotWriter(tmp_path / "snap", resume=True)
    assert set(resumed.kept()) == {first_account}
    summary = collect(boto3.Session(region_name=REGION), OPTIONS, resumed)
    resumed.finish(summary.manifest, summary.organization, summary.coverage)
    assert first_account not in assumed
    read = read_snapshot(tmp_path / "snap")
    assert {a.account_id for a in read.accounts if a.audited} == {a.account_id for a in summary.accounts if a.audited}
    assert not (tmp_path / ".snap.partial").exists()


@pytest.mark.parametrize("damage", ["checksum", "failed"])
def test_resume_recollects_a_damaged_or_failed_account_of_a_finished_snapshot(
    org: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    prod = org["prod"]
    if damage == "failed":
        def refuse(params: dict[str, Any], **_: Any) -> None:
            if f":{prod}:" in str(params.get("RoleArn", "")):
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "AssumeRole")

        with pytest.MonkeyPatch.context() as denied:
            hook_every_session(denied, "before-parameter-build.sts.AssumeRole", refuse)
            first = DirectorySnapshotWriter(tmp_path / "snap")
            summary = collect(boto3.Session(region_name=REGION), OPTIONS, first)
            first.finish(summary.manifest, summary.organization, summary.coverage)
        assert not read_snapshot(tmp_path / "snap").account(prod).audited  # type: ignore[union-attr]
    else:
        first = DirectorySnapshotWriter(tmp_path / "snap")
        summary = collect(boto3.Session(region_name=REGION), OPTIONS, first)
        first.finish(summary.manifest, summary.organization, summary.coverage)
        shard = tmp_path / "snap" / "accounts" / f"{prod}.json"
        shard.write_text(shard.read_text() + " ")
    assumed = _assumed(monkeypatch)
    resumed = DirectorySnapshotWriter(tmp_path / "snap", resume=True)
    summary = collect(boto3.Session(region_name=REGION), OPTIONS, resumed)
    resumed.finish(summary.manifest, summary.organization, summary.coverage)
    assert set(assumed) == {prod}
    read = read_snapshot(tmp_path / "snap")
    assert read.account(prod).audited  # type: ignore[union-attr]
    assert not [g for g in read.coverage if g.account_id == prod]


def test_resume_without_anything_to_resume_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no interrupted or earlier snapshot"):
        DirectorySnapshotWriter(tmp_path / "snap", resume=True)


def test_an_s3_prefix_is_written_through_the_sink_session_manifest_last(
    org: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="audit-snapshots")
    keys: list[str] = []
    hook_every_session(monkeypatch, "before-parameter-build.s3.PutObject",
                       lambda params, **_: keys.append(str(params["Key"])))
    sink = snapshot_sink("s3://audit-snapshots/nightly/2026-12-05")
    assert isinstance(sink, S3SnapshotWriter)
    summary = collect(boto3.Session(region_name=REGION), OPTIONS, sink)
    sink.finish(summary.manifest, summary.organization, summary.coverage)
    assert keys[-1] == "nightly/2026-12-05/manifest.json"
    assert sum(key.startswith("nightly/2026-12-05/accounts/") for key in keys) == len(summary.accounts)
    local = tmp_path / "copy"
    s3 = boto3.client("s3", region_name=REGION)
    for key in keys:
        path = local / key.removeprefix("nightly/2026-12-05/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(s3.get_object(Bucket="audit-snapshots", Key=key)["Body"].read())
    read = read_snapshot(local)
    assert read.account(org["prod"]).iam is not None  # type: ignore[union-attr]


def test_resume_to_s3_is_a_user_error() -> None:
    with pytest.raises(UserError, match="--resume needs a local --out directory"):
        snapshot_sink("s3://bucket/prefix", resume=True)


def test_cli_collect_resume(org: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "snap"
    with pytest.raises(SystemExit) as first:
        main(["collect", "--out", str(out), "--regions", REGION, "--quiet"])
    assert first.value.code in (0, 3)
    assumed = _assumed(monkeypatch)
    with pytest.raises(SystemExit) as again:
        main(["collect", "--out", str(out), "--regions", REGION, "--quiet", "--resume"])
    assert again.value.code == first.value.code
    assert not assumed  # every account was complete: nothing collected again
    assert read_snapshot(out).manifest.shard_sha256
