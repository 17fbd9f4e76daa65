"""The snapshot model: everything the collectors gathered, as validated, immutable data.

Collectors build these objects from AWS answers; the snapshot module writes and reads them;
everything downstream (environment classification, graph, rules, reports) reads only these.
Policy documents are kept as the raw JSON objects AWS returned (evidence for auditors);
``auditor.iam.policy`` is the one place that parses them into statements.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# 1.1: Resource gained instance_profile_arn, execution_role_arn, cluster_arn and task_definition_arn.
# 1.2: Manifest gained shard_sha256 (SHA-256 of each account's shard) and executor; AWS managed policy documents may be
#      stored once per snapshot in aws_managed_policies/ and referenced from the shards.
SNAPSHOT_SCHEMA_VERSION = "1.2"

# sts:ExternalId values are shared secrets between an account and whoever assumes its role: a snapshot and
# every report keep that a condition requires one, never its value.
EXTERNAL_ID_CONDITION_KEY = "sts:externalid"
REDACTED = "REDACTED"


def _redacted_value(value: Any) -> Any:
    """A condition value with its secret replaced; a pure wildcard ("*") protects nothing and stays."""
    if isinstance(value, list):
        return [_redacted_value(item) for item in value]
    if isinstance(value, str) and value.strip("*?") == "":
        return value
    return REDACTED


def redact_external_ids(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every ``sts:ExternalId`` condition value replaced by ``REDACTED`` (a copy when
    anything changed; AWS evaluates the key name case-insensitively, and so does this)."""
    statements = document.get("Statement")
    listed = statements if isinstance(statements, list) else [statements]
    if not any(_names_external_id(statement) for statement in listed):
        return document
    redacted = [_redact_statement(statement) for statement in listed]
    return {**document, "Statement": redacted if isinstance(statements, list) else redacted[0]}


def _names_external_id(statement: Any) -> bool:
    condition = statement.get("Condition") if isinstance(statement, dict) else None
    return isinstance(condition, dict) and any(
        isinstance(block, dict) and any(str(key).lower() == EXTERNAL_ID_CONDITION_KEY for key in block)
        for block in condition.values()
    )


def _redact_statement(statement: Any) -> Any:
    if not _names_external_id(statement):
        return statement
    condition = {
        operator: {
            key: _redacted_value(value) if str(key).lower() == EXTERNAL_ID_CONDITION_KEY else value
            for key, value in block.items()
        } if isinstance(block, dict) else block
        for operator, block in statement["Condition"].items()
    }
    return {**statement, "Condition": condition}


# An IAM-grammar policy document as AWS returned it, with ExternalId values redacted on the way in.
PolicyDocument = Annotated[dict[str, Any], AfterValidator(redact_external_ids)]


class Frozen(BaseModel):
    """Base for snapshot records: immutable, strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- coverage -----------------------------------------------------------------------------


class CoverageGap(Frozen):
    """Something the auditor could not collect, and why. Reported, never silently skipped."""

    account_id: str
    service: str
    region: str = "global"
    operation: str = ""
    error_code: str = ""
    message: str = ""


# --- organisation ---------------------------------------------------------------------------


class OrganizationalUnit(Frozen):
    id: str
    arn: str
    name: str
    parent_id: str
    tags: dict[str, str] = Field(default_factory=dict)


class OrgAccount(Frozen):
    id: str
    arn: str
    name: str
    email: str = ""
    status: str = "ACTIVE"
    parent_id: str = ""
    tags: dict[str, str] = Field(default_factory=dict)


class OrgPolicy(Frozen):
    """An Organizations policy (SCP, RCP, tag policy...) with the ids of the targets it is attached to."""

    id: str
    arn: str
    name: str
    type: str  # SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY, TAG_POLICY, ...
    aws_managed: bool = False
    document: PolicyDocument = Field(default_factory=dict)  # IAM-grammar policies only (SCP, RCP)
    # Parsed JSON of a policy type with its own grammar (TAG_POLICY); None for SCP/RCP or when unparseable.
    content: dict[str, Any] | None = None
    target_ids: tuple[str, ...] = ()


class OrgTrail(Frozen):
    """A CloudTrail trail seen from the caller's account that logs for the whole organisation."""

    name: str
    arn: str
    home_region: str
    is_multi_region: bool = False
    is_organization_trail: bool = False
    is_logging: bool | None = None  # None: GetTrailStatus failed (see coverage)


# --- IAM Identity Center -----------------------------------------------------------------------


class CustomerManagedPolicyReference(Frozen):
    """A permission set's reference to a customer managed policy, resolved by name in each account."""

    name: str
    path: str = "/"


class PermissionSet(Frozen):
    arn: str
    name: str
    session_duration: str = ""  # ISO-8601 duration as AWS returns it, e.g. "PT8H"
    inline_policy: PolicyDocument | None = None  # None: no inline policy
    managed_policy_arns: tuple[str, ...] = ()
    customer_managed_policy_refs: tuple[CustomerManagedPolicyReference, ...] = ()
    permissions_boundary: dict[str, Any] | None = None  # None: no boundary (or not collected: see coverage)


class AccountAssignment(Frozen):
    account_id: str
    permission_set_arn: str
    principal_type: Literal["USER", "GROUP"]
    principal_id: str


class IdentityStoreUser(Frozen):
    user_id: str
    user_name: str


class IdentityStoreGroup(Frozen):
    group_id: str
    display_name: str
    member_user_ids: tuple[str, ...] = ()


class IdentityCenter(Frozen):
    """The organisation's IAM Identity Center instance: permission sets, who is assigned where, and
    the users and groups of its identity store."""

    instance_arn: str
    identity_store_id: str
    permission_sets: tuple[PermissionSet, ...] = ()
    assignments: tuple[AccountAssignment, ...] = ()
    users: tuple[IdentityStoreUser, ...] = ()
    groups: tuple[IdentityStoreGroup, ...] = ()

    def permission_set(self, arn: str) -> PermissionSet | None:
        return next((p for p in self.permission_sets if p.arn == arn), None)

    def user(self, user_id: str) -> IdentityStoreUser | None:
        return next((u for u in self.users if u.user_id == user_id), None)

    def group(self, group_id: str) -> IdentityStoreGroup | None:
        return next((g for g in self.groups if g.group_id == group_id), None)


class Organization(Frozen):
    id: str
    arn: str
    management_account_id: str
    root_id: str
    root_tags: dict[str, str] = Field(default_factory=dict)
    organizational_units: tuple[OrganizationalUnit, ...] = ()
    accounts: tuple[OrgAccount, ...] = ()
    policies: tuple[OrgPolicy, ...] = ()
    delegated_administrators: tuple[str, ...] = ()
    identity_center: IdentityCenter | None = None  # None: not enabled, or not collected
    trails: tuple[OrgTrail, ...] | None = None  # organisation trails; None: not collected (see coverage)

    def ou_path(self, account_id: str) -> tuple[OrganizationalUnit, ...]:
        """The OUs from the root down to the account's parent (empty when the account sits in the root)."""
        by_id = {ou.id: ou for ou in self.organizational_units}
        parent = next((a.parent_id for a in self.accounts if a.id == account_id), "")
        path: list[OrganizationalUnit] = []
        while parent in by_id:
            path.append(by_id[parent])
            parent = by_id[parent].parent_id
        return tuple(reversed(path))

    def ou_path_names(self, account_id: str) -> str:
        """The account's OU path as ``/Root/Workloads/Prod`` style text."""
        return "/" + "/".join(["Root", *(ou.name for ou in self.ou_path(account_id))])

    def account(self, account_id: str) -> OrgAccount | None:
        return next((a for a in self.accounts if a.id == account_id), None)


# --- IAM ----------------------------------------------------------------------------------------


class InlinePolicy(Frozen):
    name: str
    document: PolicyDocument


class IamUser(Frozen):
    arn: str
    name: str
    user_id: str = ""
    path: str = "/"
    create_date: str = ""
    group_names: tuple[str, ...] = ()
    inline_policies: tuple[InlinePolicy, ...] = ()
    attached_policy_arns: tuple[str, ...] = ()
    permission_boundary_arn: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class IamGroup(Frozen):
    arn: str
    name: str
    path: str = "/"
    inline_policies: tuple[InlinePolicy, ...] = ()
    attached_policy_arns: tuple[str, ...] = ()


class IamRole(Frozen):
    arn: str
    name: str
    role_id: str = ""
    path: str = "/"
    create_date: str = ""
    trust_policy: PolicyDocument = Field(default_factory=dict)
    inline_policies: tuple[InlinePolicy, ...] = ()
    attached_policy_arns: tuple[str, ...] = ()
    permission_boundary_arn: str | None = None
    instance_profile_arns: tuple[str, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict)
    last_used: str | None = None  # ISO timestamp of RoleLastUsed.LastUsedDate, None when never used


class ManagedPolicy(Frozen):
    arn: str
    name: str
    document: PolicyDocument
    attachment_count: int = 0
    aws_managed: bool = False


class CredentialReportRow(Frozen):
    """One row of the IAM credential report; ``user == "<root_account>"`` is the root user."""

    user: str
    arn: str
    user_creation_time: str = ""
    password_enabled: bool = False
    password_last_used: str | None = None
    mfa_active: bool = False
    access_key_1_active: bool = False
    access_key_1_last_rotated: str | None = None
    access_key_1_last_used_date: str | None = None
    access_key_2_active: bool = False
    access_key_2_last_rotated: str | None = None
    access_key_2_last_used_date: str | None = None


class IamData(Frozen):
    users: tuple[IamUser, ...] = ()
    groups: tuple[IamGroup, ...] = ()
    roles: tuple[IamRole, ...] = ()
    policies: tuple[ManagedPolicy, ...] = ()
    credential_report: tuple[CredentialReportRow, ...] | None = None  # None: not collected
    # When IAM generated it: GenerateCredentialReport reuses a report less than four hours old.
    credential_report_generated_at: str | None = None
    account_summary: dict[str, int] = Field(default_factory=dict)
    password_policy: dict[str, Any] | None = None  # None: no password policy set (or not collected)


# --- resources and budgets ------------------------------------------------------------------


class Resource(Frozen):
    """A workload or data resource found in an account, with its tags and resource policy if any."""

    arn: str
    type: str  # "<service>:<kind>", e.g. "ec2:instance", "s3:bucket", "lambda:function"
    region: str
    name: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    policy: PolicyDocument | None = None
    # The IAM ROLE the resource's code runs as (never an instance profile ARN): an EC2 instance's
    # profile role, a function's execution role, a task definition's task role, a project's service role...
    role_arn: str | None = None
    instance_profile_arn: str | None = None  # ec2:instance: the instance profile that carries role_arn
    # The role the service itself uses to run the resource: an ECS task definition's execution role,
    # a Data Pipeline's pipeline role (its role_arn is the resourceRole its EC2 resources run as).
    execution_role_arn: str | None = None
    cluster_arn: str | None = None  # ecs:service: the cluster it runs in
    task_definition_arn: str | None = None  # ecs:service: the task definition revision it runs
    # ec2:instance: MetadataOptions.HttpTokens and HttpEndpoint as DescribeInstances answered (CIS IMDSv2, issue 13)
    metadata_http_tokens: str | None = None
    metadata_http_endpoint: str | None = None


class Budget(Frozen):
    name: str
    budget_type: str = "COST"
    limit_amount: str = ""
    limit_unit: str = ""
    notification_count: int = 0


# --- CIS foundations settings (issue 13): logging, monitoring, storage, network, IAM extras ----------------
# Each per-region dict holds only the regions whose answer was read; a region that failed is a coverage gap.


class TrailDetails(Frozen):
    """A CloudTrail trail homed in the account, with the settings CIS judges."""

    name: str
    arn: str
    home_region: str
    is_multi_region: bool = False
    is_organization_trail: bool = False
    is_logging: bool | None = None  # None: GetTrailStatus failed (see coverage)
    log_file_validation: bool = False
    kms_key_id: str | None = None
    s3_bucket_name: str = ""
    cloudwatch_log_group_arn: str | None = None
    # GetEventSelectors' answer as AWS gave it (basic or advanced selectors); None: not read (see coverage)
    event_selectors: tuple[dict[str, Any], ...] | None = None
    advanced_event_selectors: tuple[dict[str, Any], ...] = ()


class ConfigRecorder(Frozen):
    name: str
    all_supported: bool = False
    include_global_resource_types: bool = False
    recording: bool = False
    last_status: str = ""


class MetricFilter(Frozen):
    """A CloudWatch Logs metric filter on a trail's log group, with the metrics it feeds."""

    log_group_name: str
    region: str
    name: str
    pattern: str
    metrics: tuple[tuple[str, str], ...] = ()  # (metric namespace, metric name)


class MetricAlarm(Frozen):
    name: str
    arn: str
    region: str
    namespace: str = ""
    metric_name: str = ""
    actions_enabled: bool = True
    alarm_actions: tuple[str, ...] = ()


class TopicSubscribers(Frozen):
    """How many confirmed subscriptions an SNS topic has (endpoints are not kept)."""

    topic_arn: str
    confirmed: int = 0
    pending: int = 0


class AccessAnalyzer(Frozen):
    arn: str
    name: str
    type: str  # ACCOUNT, ORGANIZATION, ACCOUNT_UNUSED_ACCESS, ...
    status: str = "ACTIVE"


class ServerCertificate(Frozen):
    name: str
    arn: str
    expiration: str = ""


class LoggingData(Frozen):
    trails: tuple[TrailDetails, ...] = ()
    trail_regions: tuple[str, ...] = ()  # regions whose DescribeTrails answered
    config_recorders: dict[str, tuple[ConfigRecorder, ...]] = Field(default_factory=dict)
    metric_filters: tuple[MetricFilter, ...] = ()
    alarms: tuple[MetricAlarm, ...] = ()
    topics: tuple[TopicSubscribers, ...] = ()
    security_hub: dict[str, bool] = Field(default_factory=dict)  # region -> Security Hub enabled
    kms_rotation: dict[str, bool] = Field(default_factory=dict)  # customer symmetric key ARN -> rotation on


class S3BucketSettings(Frozen):
    name: str
    arn: str
    region: str
    public_access_block: dict[str, bool] | None = None  # None: the bucket has no configuration
    versioning: str = ""  # "", Enabled, Suspended
    mfa_delete: bool = False
    logging_target: str | None = None  # target bucket of server access logging; None: off


class RdsInstance(Frozen):
    arn: str
    identifier: str
    region: str
    engine: str = ""
    storage_encrypted: bool = False
    auto_minor_version_upgrade: bool = False
    publicly_accessible: bool = False


class EfsFileSystem(Frozen):
    arn: str
    id: str
    region: str
    encrypted: bool = False


class StorageData(Frozen):
    account_public_access_block: dict[str, bool] | None = None  # None: not configured for the account
    account_public_access_block_read: bool = False  # False: GetPublicAccessBlock failed (see coverage)
    buckets: tuple[S3BucketSettings, ...] = ()
    ebs_encryption_by_default: dict[str, bool] = Field(default_factory=dict)
    rds_instances: tuple[RdsInstance, ...] = ()
    efs_file_systems: tuple[EfsFileSystem, ...] = ()


class SecurityGroup(Frozen):
    id: str
    arn: str
    region: str
    name: str = ""
    vpc_id: str = ""
    ingress: tuple[dict[str, Any], ...] = ()  # IpPermissions as AWS returned them
    egress: tuple[dict[str, Any], ...] = ()


class NetworkAcl(Frozen):
    id: str
    arn: str
    region: str
    vpc_id: str = ""
    entries: tuple[dict[str, Any], ...] = ()  # Entries as AWS returned them


class Vpc(Frozen):
    id: str
    region: str
    is_default: bool = False


class InstanceMetadataOptions(Frozen):
    """An instance that still accepts IMDSv1 (http tokens optional with the endpoint enabled)."""

    arn: str
    region: str
    http_tokens: str = "optional"
    http_endpoint: str = "enabled"


class NetworkData(Frozen):
    regions: tuple[str, ...] = ()  # regions whose security groups, NACLs and VPCs were all read
    security_groups: tuple[SecurityGroup, ...] = ()
    network_acls: tuple[NetworkAcl, ...] = ()
    vpcs: tuple[Vpc, ...] = ()
    flow_log_resource_ids: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # region -> VPC/subnet/ENI ids
    imdsv1_instances: tuple[InstanceMetadataOptions, ...] = ()  # from the resource inventory's instances


class IamExtras(Frozen):
    server_certificates: tuple[ServerCertificate, ...] | None = None  # None: not collected
    root_virtual_mfa: bool | None = None  # the root user has a virtual MFA device; None: not collected
    access_analyzers: dict[str, tuple[AccessAnalyzer, ...]] = Field(default_factory=dict)  # region -> analyzers


# --- accounts and the snapshot ----------------------------------------------------------------


class AccountSnapshot(Frozen):
    account_id: str
    name: str = ""
    audited: bool = True  # False when the audit role could not be assumed at all
    regions: tuple[str, ...] = ()
    iam: IamData | None = None
    resources: tuple[Resource, ...] = ()
    budgets: tuple[Budget, ...] | None = None  # None: not collected
    # CIS foundations settings (issue 13); None: not collected (older snapshots, or collection failed)
    logging: LoggingData | None = None
    storage: StorageData | None = None
    network: NetworkData | None = None
    iam_extras: IamExtras | None = None


class Manifest(Frozen):
    schema_version: str = SNAPSHOT_SCHEMA_VERSION
    tool_version: str
    created_at: str
    mode: Literal["organization", "single-account"]
    caller_arn: str = ""
    caller_account_id: str = ""
    role_name: str = ""
    regions: tuple[str, ...] = ()  # every region inventoried in at least one account
    regions_requested: tuple[str, ...] = ()  # --regions; empty: every region enabled for each account
    concurrency: int = 0  # accounts collected at the same time (0: not recorded)
    processes: int = 1  # worker processes the accounts were spread over
    account_ids: tuple[str, ...] = ()
    api_calls: dict[str, dict[str, int]] = Field(default_factory=dict)  # account -> "service:Operation" -> n
    # "service:Operation" -> {"waits": n, "seconds": s}: time spent holding under AWS's documented rates
    rate_cap_waits: dict[str, dict[str, float]] = Field(default_factory=dict)
    executor: str = "local"  # where the accounts were collected: local (threads, processes) or dask
    shard_sha256: dict[str, str] = Field(default_factory=dict)  # account id -> SHA-256 of accounts/<id>.json as written


class Snapshot(Frozen):
    manifest: Manifest
    organization: Organization | None
    accounts: tuple[AccountSnapshot, ...]
    coverage: tuple[CoverageGap, ...] = ()

    def account(self, account_id: str) -> AccountSnapshot | None:
        return next((a for a in self.accounts if a.account_id == account_id), None)

    @property
    def management_account_id(self) -> str | None:
        return self.organization.management_account_id if self.organization else None
