"""CIS foundations, identity and access: root MFA device and use, access keys created at console-user
setup, credentials idle for 45 days, permissions only through groups, attached "*:*" policies, the AWS
Support role, expired server certificates, IAM Access Analyzer in every region, instance roles."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.engine import RuleContext, Undetermined, rule
from auditor.findings import Issue
from auditor.iam.policy import PolicyParseError, PolicySource, parse_policy
from auditor.model import AccountSnapshot, CredentialReportRow, IamExtras

from ._cis import FOUNDATIONS, audited_with
from ._common import account_arn, account_label, days_since, parse_time

ROOT = "<root_account>"
ROOT_USE_WINDOW_DAYS = 90  # root sign-ins or key use this recent count as "used for everyday tasks"
CIS_IDLE_DAYS = 45  # CIS 1.12: credentials unused for 45 days or more
SUPPORT_POLICY = "AWSSupportAccess"
EXTERNAL_ANALYZER_TYPES = frozenset({"ACCOUNT", "ORGANIZATION"})  # not the unused-access analyzers
IAM_INPUTS = ("iam",)


def _rows(ctx: RuleContext) -> Iterator[tuple[AccountSnapshot, CredentialReportRow]]:
    for account in ctx.snapshot.accounts:
        if account.iam and account.iam.credential_report:
            for row in account.iam.credential_report:
                yield account, row


def _root_has_credentials(row: CredentialReportRow) -> bool:
    return row.password_enabled or row.access_key_1_active or row.access_key_2_active


@rule(
    id="CIS-IAM-001",
    title="Root user protected by a virtual MFA device only",
    category="credential-hygiene",
    severity="medium",
    rationale="""A virtual MFA app lives on a phone or laptop that can be cloned, lost or phished with its owner;
    the root user deserves a hardware key kept in a safe.""",
    remediation="""Replace the root user's virtual MFA with a hardware MFA device (FIDO key or hardware TOTP), or
    remove root credentials from member accounts with centralised root access management.""",
    compliance={"CIS-AWS-3.0.0": ("1.6",), "AWS-FSBP": ("IAM.6",), "NIST-800-53": ("IA-2",),
                "ISO27001-2022": ("A.8.5",)},
    inputs=IAM_INPUTS,
)
def root_virtual_mfa(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for account, row in _rows(ctx):
        if row.user != ROOT or not _root_has_credentials(row):
            continue
        extras = account.iam_extras
        if row.mfa_active and (extras is None or extras.root_virtual_mfa is None):
            yield Undetermined(account.account_id, "the root user's MFA device type was not collected")
        elif not row.mfa_active or (extras is not None and extras.root_virtual_mfa):
            yield Issue(
                account_id=account.account_id, resource_arn=row.arn,
                message=f"The root user of {account_label(ctx, account.account_id)} has "
                + ("a virtual MFA device, not a hardware one" if row.mfa_active else "no MFA device at all"),
                evidence={"mfa_active": row.mfa_active, "virtual_mfa": bool(extras and extras.root_virtual_mfa)},
            )


@rule(
    id="CIS-IAM-002",
    title="Root user used recently",
    category="credential-hygiene",
    severity="high",
    rationale="""Every use of the root user is a use of the one identity no policy can restrict; everyday work
    done as root leaves no least-privilege trail and trains people to type the root password.""",
    remediation="""Find out who used the root user and why (CloudTrail userIdentity.type = Root), give them an
    IAM role for that task, and keep root for the few tasks only root can do.""",
    compliance={"CIS-AWS-3.0.0": ("1.7",), "NIST-800-53": ("AC-6",), "ISO27001-2022": ("A.8.2",)},
    inputs=IAM_INPUTS,
)
def root_used(ctx: RuleContext) -> Iterator[Issue]:
    for account, row in _rows(ctx):
        if row.user != ROOT:
            continue
        uses = {"password": row.password_last_used, "access key 1": row.access_key_1_last_used_date,
                "access key 2": row.access_key_2_last_used_date}
        recent = {what: when for what, when in uses.items()
                  if (days := days_since(ctx, when)) is not None and days <= ROOT_USE_WINDOW_DAYS}
        if recent:
            yield Issue(
                account_id=account.account_id, resource_arn=row.arn,
                message=f"The root user of {account_label(ctx, account.account_id)} was used in the last "
                f"{ROOT_USE_WINDOW_DAYS} days ({', '.join(f'{k} {v}' for k, v in recent.items())})",
                evidence={"last_used": recent, "window_days": ROOT_USE_WINDOW_DAYS},
            )


@rule(
    id="CIS-IAM-003",
    title="Access key created with a console user and never used",
    category="credential-hygiene",
    severity="low",
    rationale="""An access key made "just in case" when the console user was created is a long-lived secret
    nobody needs; it is usually found later in a laptop's ~/.aws or a chat log.""",
    remediation="""Delete access keys that were never used; create keys only when a person needs the CLI,
    and prefer IAM Identity Center short-lived credentials.""",
    compliance={"CIS-AWS-3.0.0": ("1.11",), "NIST-800-53": ("IA-5",), "AWS-FSBP": ("IAM.8",)},
    inputs=IAM_INPUTS,
)
def unused_setup_key(ctx: RuleContext) -> Iterator[Issue]:
    for account, row in _rows(ctx):
        if row.user == ROOT or not row.password_enabled:
            continue
        for number, active, used in ((1, row.access_key_1_active, row.access_key_1_last_used_date),
                                     (2, row.access_key_2_active, row.access_key_2_last_used_date)):
            if active and parse_time(used) is None:
                yield Issue(
                    account_id=account.account_id, resource_arn=row.arn, key=f"key{number}",
                    message=f"Console user {row.user} has active access key {number} that was never used",
                    evidence={"key": number, "password_enabled": True, "last_used": None},
                )


@rule(
    id="CIS-IAM-004",
    title="Credential unused for 45 days or more",
    category="credential-hygiene",
    severity="medium",
    rationale="""A password or key nobody has used for weeks belongs to someone who left or to an automation
    that moved on; it can still be used by whoever holds it.""",
    remediation="""Disable the console password (delete the login profile) or deactivate the key; delete it
    after a grace period.""",
    compliance={"CIS-AWS-3.0.0": ("1.12",), "AWS-FSBP": ("IAM.22",), "NIST-800-53": ("AC-2",)},
    inputs=IAM_INPUTS,
)
def idle_credential(ctx: RuleContext) -> Iterator[Issue]:
    for account, row in _rows(ctx):
        if row.user == ROOT:
            continue
        credentials: list[tuple[str, str | None, str | None]] = []
        if row.password_enabled:
            credentials.append(("password", row.password_last_used, row.user_creation_time))
        if row.access_key_1_active:
            credentials.append(("access key 1", row.access_key_1_last_used_date, row.access_key_1_last_rotated))
        if row.access_key_2_active:
            credentials.append(("access key 2", row.access_key_2_last_used_date, row.access_key_2_last_rotated))
        for what, used, since in credentials:
            idle = days_since(ctx, used) if parse_time(used) else days_since(ctx, since)
            if idle is not None and idle >= CIS_IDLE_DAYS:
                yield Issue(
                    account_id=account.account_id, resource_arn=row.arn, key=what,
                    message=f"The {what} of {row.user} has not been used for {idle} days"
                    + ("" if parse_time(used) else " (never used)"),
                    evidence={"credential": what, "last_used": used, "idle_days": idle, "limit_days": CIS_IDLE_DAYS},
                )


@rule(
    id="CIS-IAM-005",
    title="IAM user with policies of its own",
    category="admin-overgrant",
    severity="low",
    rationale="""Permissions attached to individual users are invisible in a group review and drift with
    every exception; granting through groups (or roles) keeps access reviewable.""",
    remediation="""Move the user's policies to a group (or a role the user assumes) and detach them from the
    user.""",
    compliance={"CIS-AWS-3.0.0": ("1.15",), "AWS-FSBP": ("IAM.2",), "NIST-800-53": ("AC-2", "AC-6"),
                "SOC2": ("CC6.3",)},
    inputs=IAM_INPUTS,
)
def user_own_policies(ctx: RuleContext) -> Iterator[Issue]:
    for account in ctx.snapshot.accounts:
        for user in account.iam.users if account.iam else ():
            if user.attached_policy_arns or user.inline_policies:
                yield Issue(
                    account_id=account.account_id, resource_arn=user.arn,
                    message=f"IAM user {user.name} has {len(user.attached_policy_arns)} attached and "
                    f"{len(user.inline_policies)} inline policies of its own",
                    evidence={"attached_policy_arns": list(user.attached_policy_arns),
                              "inline_policies": [p.name for p in user.inline_policies]},
                )


@rule(
    id="CIS-IAM-006",
    title="Attached policy allows every action on every resource",
    category="admin-overgrant",
    severity="high",
    rationale="""A policy granting "*" on "*" makes every principal it is attached to a full administrator,
    usually far beyond what the job needs.""",
    remediation="""Replace the policy with one listing the actions and resources the principals need; keep
    full administrator access to a few break-glass roles.""",
    compliance={"CIS-AWS-3.0.0": ("1.16",), "AWS-FSBP": ("IAM.1",), "NIST-800-53": ("AC-6",),
                "ISO27001-2022": ("A.8.2",), "SOC2": ("CC6.3",)},
    inputs=IAM_INPUTS,
)
def full_admin_policy_attached(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for account in ctx.snapshot.accounts:
        if not account.iam:
            continue
        attached = {arn for principals in (account.iam.users, account.iam.groups, account.iam.roles)
                    for principal in principals for arn in principal.attached_policy_arns}
        for policy in account.iam.policies:
            if policy.arn not in attached and policy.attachment_count <= 0:
                continue
            try:
                parsed = parse_policy(policy.document, PolicySource(policy.name, "managed", policy.arn))
            except PolicyParseError as exc:
                yield Undetermined(account.account_id, f"{policy.arn}: {exc.reason}")
                continue
            if any(s.grants_all_actions() and "*" in s.resources and not s.conditions for s in parsed.allows()):
                yield Issue(
                    account_id=account.account_id, resource_arn=policy.arn,
                    message=f"Policy {policy.name} allows \"*\" on \"*\" and is attached",
                    evidence={"attachment_count": policy.attachment_count, "aws_managed": policy.aws_managed},
                )


@rule(
    id="CIS-IAM-007",
    title="No role can open AWS Support cases",
    category="guardrails",
    severity="low",
    rationale="""Without a role holding AWSSupportAccess, an incident needs the root user or an over-privileged
    principal just to talk to AWS Support.""",
    remediation="""Create a role trusted by your incident responders and attach the AWS managed policy
    AWSSupportAccess.""",
    compliance={"CIS-AWS-3.0.0": ("1.17",), "AWS-FSBP": ("IAM.18",), "NIST-800-53": ("AC-2",)},
    inputs=IAM_INPUTS,
)
def no_support_role(ctx: RuleContext) -> Iterator[Issue]:
    for account in ctx.snapshot.accounts:
        if not account.audited or account.iam is None:
            continue
        if not any(arn.split(":")[4:6] == ["aws", f"policy/{SUPPORT_POLICY}"]
                   for role in account.iam.roles for arn in role.attached_policy_arns):
            yield Issue(
                account_id=account.account_id, resource_arn=account_arn(ctx, account.account_id),
                message=f"No role in {account_label(ctx, account.account_id)} has {SUPPORT_POLICY} attached",
                evidence={"roles_examined": len(account.iam.roles)},
            )


@rule(
    id="CIS-IAM-008",
    title="Expired TLS certificate stored in IAM",
    category="credential-hygiene",
    severity="low",
    rationale="""An expired server certificate can still be attached to a load balancer by mistake, breaking
    clients or training them to click through warnings.""",
    remediation="""Delete the certificate (aws iam delete-server-certificate); manage certificates in ACM.""",
    compliance={"CIS-AWS-3.0.0": ("1.19",), "AWS-FSBP": ("IAM.26",), "NIST-800-53": ("SC-12",)},
    inputs=("iam", FOUNDATIONS),
)
def expired_certificate(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for item in audited_with(ctx, lambda a: a.iam_extras.server_certificates if a.iam_extras else None,
                             "IAM server certificates"):
        account, certificates = item
        for certificate in certificates:
            expires = parse_time(certificate.expiration)
            if expires is not None and expires < ctx.now:
                yield Issue(
                    account_id=account.account_id, resource_arn=certificate.arn,
                    message=f"Server certificate {certificate.name} expired on {certificate.expiration}",
                    evidence={"expiration": certificate.expiration},
                )


def _organization_analyzer_regions(ctx: RuleContext) -> set[str]:
    """Regions where an active organisation analyzer (in the management or delegated admin account) watches
    every member account."""
    return {region for account in ctx.snapshot.accounts if account.iam_extras
            for region, analyzers in account.iam_extras.access_analyzers.items()
            if any(a.type == "ORGANIZATION" and a.status == "ACTIVE" for a in analyzers)}


@rule(
    id="CIS-IAM-009",
    title="IAM Access Analyzer not enabled in a region",
    category="external-access",
    severity="medium",
    rationale="""Access Analyzer reports resources shared outside the account or organisation; a region
    without an analyzer is a region where a public bucket or a trusted stranger goes unnoticed.""",
    remediation="""Create an external access analyzer in every enabled region (an organisation analyzer from
    the delegated administrator covers every member account).""",
    compliance={"CIS-AWS-3.0.0": ("1.20",), "AWS-FSBP": ("IAM.28",), "NIST-800-53": ("AC-6",),
                "SOC2": ("CC6.6",)},
    inputs=("accessanalyzer", FOUNDATIONS),
)
def access_analyzer_missing(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    organization_wide = _organization_analyzer_regions(ctx) if ctx.snapshot.organization else set()
    extras: IamExtras
    for item in audited_with(ctx, lambda a: a.iam_extras, "IAM Access Analyzer"):
        account, extras = item
        for region in account.regions:
            analyzers = extras.access_analyzers.get(region)
            if analyzers is None:
                continue  # not collected: the coverage gap keeps the control from passing
            active = [a for a in analyzers if a.type in EXTERNAL_ANALYZER_TYPES and a.status == "ACTIVE"]
            if active or region in organization_wide:
                continue
            yield Issue(
                account_id=account.account_id, resource_arn=account_arn(ctx, account.account_id),
                region=region, key=region,
                message=f"No active external access analyzer covers {account_label(ctx, account.account_id)} "
                f"in {region}",
                evidence={"region": region, "analyzers": [a.model_dump() for a in analyzers]},
            )


@rule(
    id="CIS-IAM-010",
    title="EC2 instance without an instance role",
    category="credential-hygiene",
    severity="low",
    rationale="""An instance without a role reaches AWS with access keys stored on its disk, which never expire
    and are copied with every image or backup.""",
    remediation="""Attach an instance profile with a role scoped to what the workload needs, and remove the
    stored keys.""",
    compliance={"CIS-AWS-3.0.0": ("1.18",), "NIST-800-53": ("IA-5",)},
    inputs=("ec2",),
)
def instance_without_role(ctx: RuleContext) -> Iterator[Issue]:
    for account in ctx.snapshot.accounts:
        for resource in account.resources:
            if resource.type != "ec2:instance":
                continue
            if resource.role_arn or getattr(resource, "instance_profile_arn", None):
                continue
            yield Issue(
                account_id=account.account_id, resource_arn=resource.arn, region=resource.region,
                message=f"Instance {resource.name} in {resource.region} has no instance role",
                evidence={"instance": resource.name},
            )
