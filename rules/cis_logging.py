"""CIS foundations, logging: a multi-region trail logs every account, trail settings (log file validation,
KMS encryption, access logging on its bucket), S3 object-level events, AWS Config in every region, KMS key
rotation and VPC flow logs."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.engine import RuleContext, Undetermined, rule
from auditor.findings import Issue
from auditor.model import AccountSnapshot, LoggingData, TrailDetails

from ._cis import FOUNDATIONS, audited_with, logs_s3_objects, records_all_management_events, trails_logging_account
from ._common import account_arn, account_label

TRAIL_INPUTS = ("cloudtrail", "organizations", FOUNDATIONS)


def _logging(ctx: RuleContext) -> Iterator[tuple[AccountSnapshot, LoggingData]]:
    yield from audited_with(ctx, lambda a: a.logging, "logging settings")


def _own_trails(ctx: RuleContext) -> Iterator[tuple[AccountSnapshot, TrailDetails]]:
    for item in _logging(ctx):
        account, logging = item
        for trail in logging.trails:
            yield account, trail


@rule(
    id="CIS-LOG-001",
    title="No multi-region trail logs the account's management events",
    category="logging-monitoring",
    severity="high",
    rationale="""Without a logging multi-region trail that records read and write management events, API
    activity in some region or of some kind leaves no record to investigate.""",
    remediation="""Log the account with a multi-region trail (an organisation trail covers every member
    account) that records all management events, and keep it logging.""",
    compliance={"CIS-AWS-3.0.0": ("3.1",), "AWS-FSBP": ("CloudTrail.1",), "NIST-800-53": ("AU-12",),
                "ISO27001-2022": ("A.8.15",), "SOC2": ("CC7.2",)},
    inputs=TRAIL_INPUTS,
)
def account_not_logged(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for item in _logging(ctx):
        account, _ = item
        trails = trails_logging_account(ctx, account)
        verdicts = [(t, t.is_multi_region and t.is_logging is True and records_all_management_events(t))
                    for t, _ in trails]
        if any(ok for _, ok in verdicts):
            continue
        if any(t.is_multi_region and (t.is_logging is None or records_all_management_events(t) is None)
               for t, _ in verdicts):
            yield Undetermined(account.account_id, "a multi-region trail's status or event selectors are unknown")
            continue
        yield Issue(
            account_id=account.account_id, resource_arn=account_arn(ctx, account.account_id),
            message=f"No logging multi-region trail records all management events of "
            f"{account_label(ctx, account.account_id)}",
            evidence={"trails": [{"arn": t.arn, "multi_region": t.is_multi_region, "logging": t.is_logging,
                                  "all_management_events": records_all_management_events(t)}
                                 for t, _ in verdicts]},
        )


@rule(
    id="CIS-LOG-002",
    title="CloudTrail log file validation is off",
    category="logging-monitoring",
    severity="medium",
    rationale="""Without digest files, a log file altered or deleted after delivery cannot be detected, so the
    trail is no evidence in an investigation.""",
    remediation="""Enable log file validation on the trail (update-trail --enable-log-file-validation).""",
    compliance={"CIS-AWS-3.0.0": ("3.2",), "AWS-FSBP": ("CloudTrail.4",), "NIST-800-53": ("AU-9",),
                "ISO27001-2022": ("A.8.15",)},
    inputs=("cloudtrail", FOUNDATIONS),
)
def trail_without_validation(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for account, trail in _own_trails(ctx):
        if not trail.log_file_validation:
            yield Issue(account_id=account.account_id, resource_arn=trail.arn, region=trail.home_region,
                        message=f"Trail {trail.name} does not validate its log files",
                        evidence={"log_file_validation": False})


@rule(
    id="CIS-LOG-003",
    title="CloudTrail bucket without server access logging",
    category="logging-monitoring",
    severity="low",
    rationale="""Access logs on the trail's bucket show who read or tried to delete the audit trail itself.""",
    remediation="""Enable server access logging on the trail's S3 bucket, delivering to a separate bucket.""",
    compliance={"CIS-AWS-3.0.0": ("3.4",), "AWS-FSBP": ("CloudTrail.7",), "NIST-800-53": ("AU-9",),
                "ISO27001-2022": ("A.8.15",)},
    inputs=("cloudtrail", "s3", FOUNDATIONS),
)
def trail_bucket_not_logged(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    buckets = {b.name: (a.account_id, b) for a in ctx.snapshot.accounts if a.storage for b in a.storage.buckets}
    for account, trail in _own_trails(ctx):
        found = buckets.get(trail.s3_bucket_name)
        if found is None:
            yield Undetermined(account.account_id, f"bucket {trail.s3_bucket_name} of trail {trail.name} is in "
                               "an account that was not collected")
        elif found[1].logging_target is None:
            yield Issue(account_id=account.account_id, resource_arn=trail.arn, region=trail.home_region,
                        message=f"Bucket {trail.s3_bucket_name} of trail {trail.name} has no server access logging",
                        evidence={"bucket": trail.s3_bucket_name, "bucket_account_id": found[0]})


@rule(
    id="CIS-LOG-004",
    title="CloudTrail logs not encrypted with a KMS key",
    category="logging-monitoring",
    severity="medium",
    rationale="""With SSE-KMS, reading the trail needs both S3 access and the key, and every use of the key
    is itself logged.""",
    remediation="""Configure the trail with a customer-managed KMS key (update-trail --kms-key-id).""",
    compliance={"CIS-AWS-3.0.0": ("3.5",), "AWS-FSBP": ("CloudTrail.2",), "NIST-800-53": ("AU-9", "SC-28"),
                "ISO27001-2022": ("A.8.24",)},
    inputs=("cloudtrail", FOUNDATIONS),
)
def trail_not_kms(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for account, trail in _own_trails(ctx):
        if not trail.kms_key_id:
            yield Issue(account_id=account.account_id, resource_arn=trail.arn, region=trail.home_region,
                        message=f"Trail {trail.name} is not encrypted with a KMS key",
                        evidence={"kms_key_id": None})


def _object_events(ctx: RuleContext, write: bool) -> Iterator[Issue | Undetermined]:
    kind = "write" if write else "read"
    for item in _logging(ctx):
        account, _ = item
        trails = [t for t, _ in trails_logging_account(ctx, account) if t.is_logging is not False]
        for bucket in (r for r in account.resources if r.type == "s3:bucket"):
            name = bucket.name or bucket.arn.split(":")[-1]
            regional = [t for t in trails if t.is_multi_region or t.home_region == bucket.region]
            answers = [logs_s3_objects(t, name, write) for t in regional]
            if any(answers):
                continue
            if None in answers:
                yield Undetermined(account.account_id, f"event selectors of a trail logging {name} are unknown")
                continue
            yield Issue(account_id=account.account_id, resource_arn=bucket.arn, region=bucket.region,
                        key=kind, message=f"No trail records object-level {kind} events of bucket {name}",
                        evidence={"trails_examined": [t.arn for t in regional]})


@rule(
    id="CIS-LOG-005",
    title="S3 object-level write events not logged",
    category="logging-monitoring",
    severity="low",
    rationale="""Without data events, who wrote or deleted an object is not recorded anywhere.""",
    remediation="""Add an S3 data event selector (write or all) covering the bucket to a trail, for example an
    advanced selector on resources.type AWS::S3::Object.""",
    compliance={"CIS-AWS-3.0.0": ("3.8",), "AWS-FSBP": ("S3.22",), "NIST-800-53": ("AU-12",),
                "ISO27001-2022": ("A.8.15",)},
    inputs=("cloudtrail", "s3", "organizations", FOUNDATIONS),
)
def object_writes_not_logged(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    yield from _object_events(ctx, write=True)


@rule(
    id="CIS-LOG-006",
    title="S3 object-level read events not logged",
    category="logging-monitoring",
    severity="low",
    rationale="""Without data events, who read an object is not recorded: a data leak cannot be scoped.""",
    remediation="""Add an S3 data event selector (read or all) covering the bucket to a trail.""",
    compliance={"CIS-AWS-3.0.0": ("3.9",), "AWS-FSBP": ("S3.23",), "NIST-800-53": ("AU-12",),
                "ISO27001-2022": ("A.8.15",)},
    inputs=("cloudtrail", "s3", "organizations", FOUNDATIONS),
)
def object_reads_not_logged(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    yield from _object_events(ctx, write=False)


@rule(
    id="CIS-LOG-007",
    title="AWS Config not recording in a region",
    category="logging-monitoring",
    severity="medium",
    rationale="""Config's history of resource configurations is what shows when a security group opened or a
    bucket became public; a region without a recorder has no such history.""",
    remediation="""Create a configuration recorder recording all supported resource types (global types in one
    region) with a delivery channel, and start it, in every enabled region.""",
    compliance={"CIS-AWS-3.0.0": ("3.3",), "AWS-FSBP": ("Config.1",), "NIST-800-53": ("CM-6", "AU-12"),
                "ISO27001-2022": ("A.8.15",)},
    inputs=("config", FOUNDATIONS),
)
def config_not_recording(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for item in _logging(ctx):
        account, logging = item
        for region, recorders in sorted(logging.config_recorders.items()):
            if any(r.all_supported and r.recording and r.last_status.upper() != "FAILURE" for r in recorders):
                continue
            yield Issue(account_id=account.account_id, resource_arn=account_arn(ctx, account.account_id),
                        region=region, key=region,
                        message=f"AWS Config does not record all resources in {region} for "
                        f"{account_label(ctx, account.account_id)}",
                        evidence={"recorders": [r.model_dump() for r in recorders]})


@rule(
    id="CIS-LOG-008",
    title="Customer-managed KMS key without rotation",
    category="data-protection",
    severity="low",
    rationale="""A key that never rotates protects ever more data with the same material, so one exposure
    reaches everything encrypted under it.""",
    remediation="""Enable automatic rotation on the key (kms enable-key-rotation).""",
    compliance={"CIS-AWS-3.0.0": ("3.6",), "AWS-FSBP": ("KMS.4",), "NIST-800-53": ("SC-12",),
                "ISO27001-2022": ("A.8.24",)},
    inputs=("kms", FOUNDATIONS),
)
def key_not_rotated(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for item in _logging(ctx):
        account, logging = item
        for key_arn, rotating in sorted(logging.kms_rotation.items()):
            if not rotating:
                yield Issue(account_id=account.account_id, resource_arn=key_arn, region=key_arn.split(":")[3],
                            message=f"KMS key {key_arn.split('/')[-1]} does not rotate automatically",
                            evidence={"key_rotation_enabled": False})


@rule(
    id="CIS-LOG-009",
    title="VPC without flow logs",
    category="logging-monitoring",
    severity="medium",
    rationale="""Without flow logs, traffic to and from a compromised instance cannot be reconstructed.""",
    remediation="""Create a flow log for the VPC (at least rejected traffic) to CloudWatch Logs or S3.""",
    compliance={"CIS-AWS-3.0.0": ("3.7",), "AWS-FSBP": ("EC2.6",), "NIST-800-53": ("AU-12", "SI-4"),
                "ISO27001-2022": ("A.8.16",)},
    inputs=("ec2", FOUNDATIONS),
)
def vpc_without_flow_logs(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for item in audited_with(ctx, lambda a: a.network, "network settings"):
        account, network = item
        for vpc in network.vpcs:
            covered = network.flow_log_resource_ids.get(vpc.region)
            if covered is None or vpc.id in covered:
                continue  # None: flow logs not read in that region (a coverage gap says so)
            yield Issue(account_id=account.account_id,
                        resource_arn=f"arn:aws:ec2:{vpc.region}:{account.account_id}:vpc/{vpc.id}",
                        region=vpc.region, message=f"VPC {vpc.id} in {vpc.region} has no active flow log",
                        evidence={"vpc_id": vpc.id, "default_vpc": vpc.is_default})
