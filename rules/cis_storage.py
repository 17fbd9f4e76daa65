"""CIS foundations, storage: S3 (plain HTTP denied, MFA Delete, Block Public Access), EBS encryption by
default, RDS (encryption, minor version upgrades, public access) and EFS encryption."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.engine import RuleContext, Undetermined, rule
from auditor.findings import Issue
from auditor.iam.policy import PolicyParseError, PolicySource, Statement, parse_policy
from auditor.model import StorageData

from ._cis import FOUNDATIONS, audited_with
from ._common import account_arn, account_label

SECURE_TRANSPORT = "aws:securetransport"


def _storage(ctx: RuleContext) -> Iterator[tuple[str, StorageData]]:
    for item in audited_with(ctx, lambda a: a.storage, "storage settings"):
        yield item[0].account_id, item[1]


def _denies_plain_http(statement: Statement, bucket: str) -> bool:
    """A Deny of every S3 action (s3:* or *) on the bucket's objects, to anyone, when SecureTransport is false."""
    if statement.is_allow or statement.not_actions or not statement.matches_action("s3:GetObject"):
        return False
    if not any(action.lower() in ("*", "s3:*") for action in statement.actions):
        return False
    if not statement.matches_resource(f"arn:aws:s3:::{bucket}/any-object"):
        return False
    if statement.principal_match("AWS", "arn:aws:iam::000000000000:root", "000000000000") != "anyone":
        return False
    for operator, keys in statement.conditions.items():
        if operator.lower() in ("bool", "boolifexists"):
            values = next((v for k, v in keys.items() if k.lower() == SECURE_TRANSPORT), ())
            if any(value.lower() == "false" for value in values):
                return True
    return False


@rule(
    id="CIS-S3-001",
    title="S3 bucket policy does not deny plain-HTTP requests",
    category="data-protection",
    severity="medium",
    rationale="""Without a Deny on aws:SecureTransport = false, objects can be read and written over
    unencrypted HTTP, where anyone on the path sees or alters them.""",
    remediation="""Add a bucket policy statement denying s3:* on the bucket and its objects to every principal
    when aws:SecureTransport is false.""",
    compliance={"CIS-AWS-3.0.0": ("2.1.1",), "AWS-FSBP": ("S3.5",), "NIST-800-53": ("SC-8",),
                "ISO27001-2022": ("A.8.24",), "SOC2": ("CC6.7",)},
    inputs=("s3",),
)
def bucket_allows_http(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for account in ctx.snapshot.accounts:
        for bucket in (r for r in account.resources if r.type == "s3:bucket"):
            name = bucket.name or bucket.arn.split(":")[-1]
            statements: tuple[Statement, ...] = ()
            if bucket.policy:
                try:
                    statements = parse_policy(bucket.policy, PolicySource(name, "resource", bucket.arn)).statements
                except PolicyParseError as exc:
                    yield Undetermined(account.account_id, f"bucket policy of {name}: {exc.reason}")
                    continue
            if not any(_denies_plain_http(s, name) for s in statements):
                yield Issue(
                    account_id=account.account_id, resource_arn=bucket.arn, region=bucket.region,
                    message=f"Bucket {name} accepts requests over plain HTTP",
                    evidence={"has_bucket_policy": bool(bucket.policy)},
                )


@rule(
    id="CIS-S3-002",
    title="S3 bucket without MFA Delete",
    category="data-protection",
    severity="low",
    rationale="""Without MFA Delete, stolen credentials are enough to delete object versions or suspend
    versioning, destroying the copies a recovery would need.""",
    remediation="""As the root user, enable versioning with MFA Delete on the bucket (put-bucket-versioning
    with --mfa), or protect the data with S3 Object Lock.""",
    compliance={"CIS-AWS-3.0.0": ("2.1.2",), "AWS-FSBP": ("S3.20",), "NIST-800-53": ("CM-6",)},
    inputs=("s3", FOUNDATIONS),
)
def bucket_without_mfa_delete(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for item in _storage(ctx):
        account_id, storage = item
        for bucket in storage.buckets:
            if not bucket.mfa_delete:
                yield Issue(
                    account_id=account_id, resource_arn=bucket.arn, region=bucket.region,
                    message=f"Bucket {bucket.name} does not have MFA Delete enabled",
                    evidence={"versioning": bucket.versioning or "never enabled", "mfa_delete": False},
                )


def _fully_blocked(flags: dict[str, bool] | None) -> bool:
    return bool(flags) and all((flags or {}).values())


@rule(
    id="CIS-S3-003",
    title="S3 Block Public Access is off for a bucket",
    category="data-protection",
    severity="high",
    rationale="""Block Public Access is the switch that keeps one careless ACL or bucket policy from
    publishing data to the internet; off at both account and bucket level, nothing catches that mistake.""",
    remediation="""Turn on all four Block Public Access settings for the account (s3control
    put-public-access-block), or at least for every bucket that is not meant to be public.""",
    compliance={"CIS-AWS-3.0.0": ("2.1.4",), "AWS-FSBP": ("S3.1", "S3.8"), "NIST-800-53": ("AC-3", "SC-7"),
                "SOC2": ("CC6.6",), "ISO27001-2022": ("A.5.15",)},
    inputs=("s3", FOUNDATIONS),
)
def public_access_not_blocked(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for item in _storage(ctx):
        account_id, storage = item
        if _fully_blocked(storage.account_public_access_block):
            continue
        for bucket in storage.buckets:
            if not _fully_blocked(bucket.public_access_block):
                yield Issue(
                    account_id=account_id, resource_arn=bucket.arn, region=bucket.region,
                    message=f"Bucket {bucket.name} is not covered by Block Public Access (account or bucket)",
                    evidence={"account_settings": storage.account_public_access_block,
                              "bucket_settings": bucket.public_access_block},
                )


@rule(
    id="CIS-EBS-001",
    title="EBS encryption by default is off in a region",
    category="data-protection",
    severity="medium",
    rationale="""Without encryption by default, every new volume and snapshot is unencrypted unless its
    creator remembers to ask; snapshots shared by mistake then expose the data.""",
    remediation="""Enable EBS encryption by default in every region (ec2 enable-ebs-encryption-by-default).""",
    compliance={"CIS-AWS-3.0.0": ("2.2.1",), "AWS-FSBP": ("EC2.7",), "NIST-800-53": ("SC-28",),
                "ISO27001-2022": ("A.8.24",)},
    inputs=("ec2", FOUNDATIONS),
)
def ebs_not_encrypted_by_default(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for item in _storage(ctx):
        account_id, storage = item
        for region, enabled in sorted(storage.ebs_encryption_by_default.items()):
            if not enabled:
                yield Issue(
                    account_id=account_id, resource_arn=account_arn(ctx, account_id), region=region, key=region,
                    message=f"EBS encryption by default is off in {region} for {account_label(ctx, account_id)}",
                    evidence={"region": region, "ebs_encryption_by_default": False},
                )


def _rds_rule(ctx: RuleContext, failing: str) -> Iterator[Issue | Undetermined]:
    messages = {
        "storage_encrypted": "is not encrypted at rest",
        "auto_minor_version_upgrade": "does not apply minor version upgrades automatically",
        "publicly_accessible": "is publicly accessible",
    }
    for item in _storage(ctx):
        account_id, storage = item
        for db in storage.rds_instances:
            value = getattr(db, failing)
            if value == (failing == "publicly_accessible"):
                yield Issue(
                    account_id=account_id, resource_arn=db.arn, region=db.region,
                    message=f"RDS instance {db.identifier} {messages[failing]}",
                    evidence={failing: value, "engine": db.engine},
                )


@rule(
    id="CIS-RDS-001",
    title="RDS instance not encrypted at rest",
    category="data-protection",
    severity="medium",
    rationale="""An unencrypted database leaves its storage, snapshots and replicas readable to anyone who
    gets a copy.""",
    remediation="""Encryption cannot be turned on in place: snapshot the instance, copy the snapshot with a
    KMS key, and restore from the encrypted copy.""",
    compliance={"CIS-AWS-3.0.0": ("2.3.1",), "AWS-FSBP": ("RDS.3",), "NIST-800-53": ("SC-28",),
                "ISO27001-2022": ("A.8.24",)},
    inputs=("rds", FOUNDATIONS),
)
def rds_not_encrypted(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    yield from _rds_rule(ctx, "storage_encrypted")


@rule(
    id="CIS-RDS-002",
    title="RDS instance without automatic minor version upgrades",
    category="data-protection",
    severity="low",
    rationale="""Minor versions carry security fixes; an instance that never takes them keeps known flaws.""",
    remediation="""Enable auto minor version upgrade (modify-db-instance --auto-minor-version-upgrade) and set a
    maintenance window.""",
    compliance={"CIS-AWS-3.0.0": ("2.3.2",), "AWS-FSBP": ("RDS.13",), "NIST-800-53": ("SI-2",),
                "ISO27001-2022": ("A.8.8",)},
    inputs=("rds", FOUNDATIONS),
)
def rds_no_minor_upgrades(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    yield from _rds_rule(ctx, "auto_minor_version_upgrade")


@rule(
    id="CIS-RDS-003",
    title="RDS instance publicly accessible",
    category="network-exposure",
    severity="high",
    rationale="""A publicly accessible instance has an internet-resolvable address; one permissive security
    group rule away from a database on the internet.""",
    remediation="""Set PubliclyAccessible to false and reach the database through private subnets, a VPN or a
    bastion.""",
    compliance={"CIS-AWS-3.0.0": ("2.3.3",), "AWS-FSBP": ("RDS.2",), "NIST-800-53": ("SC-7",),
                "SOC2": ("CC6.6",)},
    inputs=("rds", FOUNDATIONS),
)
def rds_public(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    yield from _rds_rule(ctx, "publicly_accessible")


@rule(
    id="CIS-EFS-001",
    title="EFS file system not encrypted at rest",
    category="data-protection",
    severity="medium",
    rationale="""An unencrypted file system leaves its data and backups readable to anyone with a copy.""",
    remediation="""Encryption is chosen at creation: create an encrypted file system and copy the data over
    (AWS DataSync), then delete the old one.""",
    compliance={"CIS-AWS-3.0.0": ("2.4.1",), "AWS-FSBP": ("EFS.1",), "NIST-800-53": ("SC-28",),
                "ISO27001-2022": ("A.8.24",)},
    inputs=("efs", FOUNDATIONS),
)
def efs_not_encrypted(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for item in _storage(ctx):
        account_id, storage = item
        for fs in storage.efs_file_systems:
            if not fs.encrypted:
                yield Issue(
                    account_id=account_id, resource_arn=fs.arn, region=fs.region,
                    message=f"EFS file system {fs.id} is not encrypted at rest",
                    evidence={"encrypted": False},
                )
