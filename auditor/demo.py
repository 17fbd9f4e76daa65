"""The built-in demo organisation: a small AWS organisation, seeded into moto, with known risks.

``seed_demo_organization`` runs inside an active moto context (the caller owns ``mock_aws()``)
and builds, through plain boto3 clients only, an organisation whose every risk has a named
principal or resource and, where it makes sense, a benign twin. Member accounts are seeded with
``sts.assume_role`` credentials, which moto binds to the member account's own backends.

Choices recorded here because they are measured, not obvious:

- Admin grants use a customer-managed policy "AdministratorAccess-Custom" (Allow * on *), not
  AWS's ``arn:aws:iam::aws:policy/AdministratorAccess``. AWS managed policies exist in moto only
  with ``MOTO_IAM_LOAD_MANAGED_POLICIES=true``; measured on this machine, nine accounts cost
  about 14.5 s with them and 0.5 s without them, which breaks the 10 s seed budget.
- Frank's access key is backdated by editing moto's in-process IAM backend, the only way to make a
  key age in moto (see /work/shared/AWS-TESTING.md). This is demo seeding, never auditor code; it
  requires moto to run in this process (``mock_aws`` or a ``ThreadedMotoServer`` started here).
- Root-user facts (root keys, root MFA) are not faked: moto has no ``<root_account>`` row.
- The "broken" account has no SecurityAuditRole; the demo runner makes its AssumeRole fail.
- Identity Center: moto gives every account and region an instance already (there is no
  CreateInstance to call). Each permission set is provisioned explicitly after its assignments:
  AWS provisions on CreateAccountAssignment, moto does not, and the auditor lists assignments per
  provisioned permission set.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import boto3
from moto.core.utils import utcnow
from moto.iam.models import iam_backends

from auditor.config import DEFAULT_REQUIRED_TAGS
from auditor.simulated_services import SimulatedServices

AUDIT_ROLE_NAME = "SecurityAuditRole"
AUDIT_EXTERNAL_ID = "demo-org-auditor"
SEED_ROLE_NAME = "OrganizationAccountAccessRole"
EXTERNAL_VENDOR_ACCOUNT_ID = "999988887777"
ADMIN_POLICY_NAME = "AdministratorAccess-Custom"
AUDIT_POLICY_NAME = "SecurityAuditReadOnly-Custom"
STALE_KEY_AGE_DAYS = 200
AWS_ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"
SSO_READ_ONLY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["ec2:Describe*", "s3:List*", "s3:Get*", "cloudwatch:Get*"],
                   "Resource": "*"}],
}

ALLOW_ALL: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
AUDIT_READ_ACTIONS = [
    "iam:Get*", "iam:List*", "iam:GenerateCredentialReport", "organizations:Describe*",
    "organizations:List*", "sts:GetCallerIdentity", "ec2:Describe*", "s3:GetBucket*",
    "s3:ListAllMyBuckets", "lambda:List*", "lambda:GetFunction*", "budgets:Describe*",
    "budgets:ViewBudget", "tag:GetResources", "cloudtrail:Describe*", "cloudtrail:Get*",
]

# (logical name, OU path, account tags); OU path () means directly under the root.
MEMBER_ACCOUNTS: tuple[tuple[str, tuple[str, ...], dict[str, str]], ...] = (
    ("prod-app", ("Production",), {"Environment": "prod"}),
    ("prod-data", ("Production",), {}),
    ("dev-app", ("NonProduction",), {"Environment": "dev"}),
    ("staging", ("NonProduction",), {"Environment": "staging"}),
    ("sandbox", ("Sandbox",), {}),
    ("security-audit", ("Security",), {"Environment": "security"}),
    ("shared-services", ("Infrastructure", "SharedServices"), {"Environment": "shared"}),
    ("legacy-mixed", (), {"Environment": "prod"}),
    ("broken", ("NonProduction",), {"Environment": "dev"}),
)
UNASSUMABLE = ("broken",)
# Cost-allocation tags that clean resources carry; risky resources lack some on purpose.
FULL_TAGS = {"Owner": "platform-team", "CostCenter": "cc-1001"}


@dataclass(frozen=True)
class DemoOrganization:
    """What was seeded: the management account, member ids by logical name, the audit role."""

    management_account_id: str
    accounts: dict[str, str]
    role_name: str
    unassumable_account_ids: tuple[str, ...]
    external_id: str = AUDIT_EXTERNAL_ID
    ou_ids: tuple[tuple[str, str], ...] = ()


def _doc(document: dict[str, Any]) -> str:
    return json.dumps(document)


def _allow(actions: str | list[str], resources: str | list[str]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}],
    }


def _trust(principal: dict[str, str], condition: dict[str, Any] | None = None) -> dict[str, Any]:
    action = "sts:AssumeRole"
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def _tags(**tags: str) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


class _Account:
    """Boto3 clients bound to one account (assumed credentials, or the default ones)."""

    def __init__(
        self, session: boto3.Session, account_id: str, credentials: dict[str, Any] | None
    ) -> None:
        # One shared session: each new boto3.Session re-parses every service model (seconds for EC2).
        self.session: Any = session  # typed loosely: service names here are runtime strings
        self.account_id = account_id
        self.region = str(session.region_name)
        self._credentials: dict[str, str] = {}
        if credentials is not None:
            self._credentials = {
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            }
        self._clients: dict[tuple[str, str], Any] = {}
        self.iam: Any = self.client("iam")
        self._admin_policy_arn: str | None = None
        self._image_id: str | None = None

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = self.session.client(service, region_name=key[1], **self._credentials)
        return self._clients[key]

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:{kind}/{name}"

    def admin_policy_arn(self) -> str:
        if self._admin_policy_arn is None:
            policy = self.iam.create_policy(PolicyName=ADMIN_POLICY_NAME, PolicyDocument=_doc(ALLOW_ALL))
            self._admin_policy_arn = str(policy["Policy"]["Arn"])
        return self._admin_policy_arn

    def role(
        self,
        name: str,
        trust: dict[str, Any],
        *,
        admin: bool = False,
        inline: dict[str, Any] | None = None,
        managed: tuple[str, ...] = (),
    ) -> None:
        self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=_doc(trust))
        if admin:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=self.admin_policy_arn())
        for policy_arn in managed:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        if inline is not None:
            self.iam.put_role_policy(RoleName=name, PolicyName=f"{name}-inline", PolicyDocument=_doc(inline))

    def user(self, name: str, *, admin: bool = False, inline: dict[str, Any] | None = None) -> None:
        self.iam.create_user(UserName=name)
        if admin:
            self.iam.attach_user_policy(UserName=name, PolicyArn=self.admin_policy_arn())
        if inline is not None:
            self.iam.put_user_policy(UserName=name, PolicyName=f"{name}-inline", PolicyDocument=_doc(inline))

    def instance(self, name: str, tags: dict[str, str]) -> str:
        ec2: Any = self.client("ec2")
        if self._image_id is None:
            # MOTO_EC2_LOAD_DEFAULT_AMIS may be false: bring our own image.
            self._image_id = ec2.register_image(Name="demo-base-image")["ImageId"]
        reservation = ec2.run_instances(
            ImageId=self._image_id,
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": _tags(Name=name, **tags)}],
        )
        return str(reservation["Instances"][0]["InstanceId"])

    def bucket(self, name: str, tags: dict[str, str]) -> None:
        s3: Any = self.client("s3")
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(
                Bucket=name,
                CreateBucketConfiguration={"LocationConstraint": self.region},
            )
        if tags:
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tags(**tags)})

    def budget(self, name: str) -> None:
        budgets: Any = self.client("budgets", "us-east-1")
        budgets.create_budget(
            AccountId=self.account_id,
            Budget={
                "BudgetName": name,
                "BudgetLimit": {"Amount": "1000", "Unit": "USD"},
                "TimeUnit": "MONTHLY",
                "BudgetType": "COST",
            },
            NotificationsWithSubscribers=[
                {
                    "Notification": {
                        "NotificationType": "ACTUAL",
                        "ComparisonOperator": "GREATER_THAN",
                        "Threshold": 80.0,
                        "ThresholdType": "PERCENTAGE",
                    },
                    "Subscribers": [{"SubscriptionType": "EMAIL", "Address": "finops@example.com"}],
                }
            ],
        )


def _lambda_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def _build_organization(session: boto3.Session) -> tuple[dict[str, str], dict[str, str]]:
    """Create the organisation, its OUs, member accounts and SCPs; return account and OU ids."""
    org: Any = session.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root_id = str(org.list_roots()["Roots"][0]["Id"])

    ou_ids: dict[str, str] = {}
    for _, path, _ in MEMBER_ACCOUNTS:
        parent = root_id
        for depth in range(len(path)):
            key = "/".join(path[: depth + 1])
            if key not in ou_ids:
                ou_ids[key] = str(org.create_organizational_unit(ParentId=parent, Name=path[depth])
                                  ["OrganizationalUnit"]["Id"])
            parent = ou_ids[key]

    accounts: dict[str, str] = {}
    for name, path, tags in MEMBER_ACCOUNTS:
        status = org.create_account(
            AccountName=name, Email=f"aws+{name}@example.com", Tags=_tags(**tags)
        )["CreateAccountStatus"]
        account_id = str(status["AccountId"])
        accounts[name] = account_id
        if path:
            org.move_account(
                AccountId=account_id, SourceParentId=root_id, DestinationParentId=ou_ids["/".join(path)]
            )

    deny_leave = org.create_policy(
        Name="DenyLeaveOrganization",
        Description="Member accounts cannot leave the organisation",
        Type="SERVICE_CONTROL_POLICY",
        Content=_doc({"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=deny_leave, TargetId=root_id)
    prod_guardrails = org.create_policy(
        Name="ProdGuardrails",
        Description="Production cannot stop or delete its audit trail",
        Type="SERVICE_CONTROL_POLICY",
        Content=_doc({"Version": "2012-10-17", "Statement": [{
            "Effect": "Deny",
            "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"],
            "Resource": "*",
        }]}),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=prod_guardrails, TargetId=ou_ids["Production"])
    # The sandbox is fenced (a control that holds): its principals may assume only the sandbox's own roles.
    sandbox_fence = org.create_policy(
        Name="SandboxFence",
        Description="Sandbox principals cannot assume roles outside the sandbox account",
        Type="SERVICE_CONTROL_POLICY",
        Content=_doc({"Version": "2012-10-17", "Statement": [{
            "Sid": "NoRolesOutsideSandbox",
            "Effect": "Deny",
            "Action": "sts:AssumeRole",
            "NotResource": f"arn:aws:iam::{accounts['sandbox']}:role/*",
        }]}),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=sandbox_fence, TargetId=ou_ids["Sandbox"])
    # Good posture (COST-005 stays quiet): a root tag policy fixing every required cost tag's key.
    org.enable_policy_type(RootId=root_id, PolicyType="TAG_POLICY")
    cost_tags = org.create_policy(
        Name="CostAllocationTags",
        Description="The cost-allocation tag keys every account uses",
        Type="TAG_POLICY",
        Content=_doc({"tags": {tag.lower(): {"tag_key": {"@@assign": tag}} for tag in DEFAULT_REQUIRED_TAGS}}),
    )["Policy"]["PolicySummary"]["Id"]
    org.attach_policy(PolicyId=cost_tags, TargetId=root_id)
    return accounts, ou_ids


def _seed_audit_role(account: _Account, management_account_id: str) -> None:
    policy = account.iam.create_policy(
        PolicyName=AUDIT_POLICY_NAME, PolicyDocument=_doc(_allow(AUDIT_READ_ACTIONS, "*"))
    )
    account.role(
        AUDIT_ROLE_NAME,
        _trust({"AWS": f"arn:aws:iam::{management_account_id}:root"},
               {"StringEquals": {"sts:ExternalId": AUDIT_EXTERNAL_ID}}),
        managed=(str(policy["Policy"]["Arn"]),),
    )


def _seed_management(mgmt: _Account, ids: dict[str, str]) -> None:
    # A member account that can step into the management account (MGMT-003).
    mgmt.role(
        "ops-automation",
        _trust({"AWS": f"arn:aws:iam::{ids['shared-services']}:root"}),
        inline=_allow(["organizations:Describe*", "organizations:List*"], "*"),
    )
    mgmt.instance("mgmt-jumpbox", FULL_TAGS)
    mgmt.bucket(f"mgmt-scratch-{mgmt.account_id}", FULL_TAGS)
    mgmt.user("mgmt-admin")
    mgmt.iam.create_access_key(UserName="mgmt-admin")
    mgmt.budget("management-monthly")


def _seed_prod_app(acct: _Account, ids: dict[str, str]) -> None:
    prod_tags = {"Environment": "prod", **FULL_TAGS}
    acct.bucket(f"prod-app-assets-{acct.account_id}", prod_tags)
    acct.bucket(f"prod-app-dev-scratch-{acct.account_id}", {"Environment": "dev", **FULL_TAGS})
    acct.instance("prod-web", prod_tags)
    ec2_trust = _trust({"Service": "ec2.amazonaws.com"})
    acct.role("app-server-role", ec2_trust, admin=True)
    acct.role("app-reader-role", ec2_trust, inline=_allow("s3:GetObject", "*"))
    dev_ci_role = f"arn:aws:iam::{ids['dev-app']}:role/dev-ci-role"
    acct.role("ProdDeployRole", _trust({"AWS": dev_ci_role}), admin=True)
    read_only = acct.iam.create_policy(
        PolicyName="ReadOnlyAccess-Custom",
        PolicyDocument=_doc(_allow(["ec2:Describe*", "s3:Get*", "s3:List*", "iam:Get*", "iam:List*"], "*")),
    )
    acct.role(
        "ProdReadOnlyFromSecurity",
        _trust({"AWS": f"arn:aws:iam::{ids['security-audit']}:role/auditor"}),
        managed=(str(read_only["Policy"]["Arn"]),),
    )
    # Non-prod -> prod without admin: any dev-app principal allowed sts:AssumeRole (alice, bob) can read prod.
    acct.role(
        "ProdMetricsReader",
        _trust({"AWS": f"arn:aws:iam::{ids['dev-app']}:root"}),
        managed=(str(read_only["Policy"]["Arn"]),),
    )
    # Fenced (issue 12, controls that hold): an admin role trusting a sandbox user, whom the Sandbox OU's SCP
    # stops from assuming any role outside the sandbox. Reported under controls, not as a path.
    acct.role("ExperimentsAdmin", _trust({"AWS": f"arn:aws:iam::{ids['sandbox']}:user/experimenter"}), admin=True)
    acct.budget("prod-app-monthly")


def _seed_prod_data(acct: _Account, ids: dict[str, str]) -> None:
    acct.role(
        "DataAdminRole", _trust({"AWS": f"arn:aws:iam::{ids['dev-app']}:role/dev-ops-role"}), admin=True
    )
    vendor_read = _allow(["s3:GetObject", "s3:ListBucket"], "*")
    acct.role("VendorAccessRole", _trust({"AWS": f"arn:aws:iam::{EXTERNAL_VENDOR_ACCOUNT_ID}:root"}),
              inline=vendor_read)
    acct.role("OrgInternalRole", _trust({"AWS": f"arn:aws:iam::{ids['security-audit']}:root"}),
              inline=vendor_read)
    # Data shared with the vendor straight through a bucket policy (EXT-002); the twin shares only in-org.
    prod_tags = {"Environment": "prod", **FULL_TAGS}
    for name, principal in ((f"prod-data-exports-{acct.account_id}", EXTERNAL_VENDOR_ACCOUNT_ID),
                            (f"prod-data-internal-{acct.account_id}", ids["security-audit"])):
        acct.bucket(name, prod_tags)
        acct.client("s3").put_bucket_policy(Bucket=name, Policy=_doc({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{principal}:root"},
                           "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*"}],
        }))


def _seed_dev_app(acct: _Account, ids: dict[str, str]) -> None:
    acct.user("alice", admin=True)
    acct.iam.create_group(GroupName="Admins")
    acct.iam.attach_group_policy(GroupName="Admins", PolicyArn=acct.admin_policy_arn())
    acct.user("bob")
    acct.iam.add_user_to_group(GroupName="Admins", UserName="bob")
    acct.iam.create_group(GroupName="EmptyAdmins")
    acct.iam.attach_group_policy(GroupName="EmptyAdmins", PolicyArn=acct.admin_policy_arn())

    acct.role(
        "dev-ci-role",
        _trust({"Service": "codebuild.amazonaws.com"}),
        inline=_allow("sts:AssumeRole", f"arn:aws:iam::{ids['prod-app']}:role/ProdDeployRole"),
    )
    acct.role(
        "dev-ops-role",
        _trust({"AWS": f"arn:aws:iam::{ids['staging']}:user/carol"}),
        inline=_allow("sts:AssumeRole", f"arn:aws:iam::{ids['prod-data']}:role/DataAdminRole"),
    )

    acct.user("dave")
    acct.iam.create_login_profile(UserName="dave", Password="Demo-Passw0rd!", PasswordResetRequired=False)
    acct.user("erin")
    acct.iam.create_login_profile(UserName="erin", Password="Demo-Passw0rd!", PasswordResetRequired=False)
    device = acct.iam.create_virtual_mfa_device(VirtualMFADeviceName="erin")["VirtualMFADevice"]
    serial = device["SerialNumber"]
    acct.iam.enable_mfa_device(
        UserName="erin", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    acct.user("frank")
    acct.iam.create_access_key(UserName="frank")
    _backdate_access_keys(acct.account_id, "frank", STALE_KEY_AGE_DAYS)
    acct.user("grace")
    acct.iam.create_access_key(UserName="grace")

    acct.instance("dev-box", {"Environment": "dev"})
    acct.budget("dev-app-monthly")


def _backdate_access_keys(account_id: str, user_name: str, days: int) -> None:
    """Age a user's keys (and the user) in moto's backend: the API has no way to set a key's date."""
    users = iam_backends[account_id]["global"].users
    if user_name not in users:
        raise RuntimeError(
            f"cannot backdate {user_name}'s keys: moto is not running in this process (account {account_id})"
        )
    created = utcnow() - timedelta(days=days)
    users[user_name].create_date = created - timedelta(days=10)
    for key in users[user_name].access_keys:
        key.create_date = created


def _seed_staging(acct: _Account, ids: dict[str, str]) -> None:
    acct.user("ci-deployer", inline=_allow("iam:*", "*"))
    acct.user("carol", inline=_allow("sts:AssumeRole", f"arn:aws:iam::{ids['dev-app']}:role/dev-ops-role"))
    acct.client("ec2").create_volume(AvailabilityZone=f"{acct.region}a", Size=8)
    # Privilege escalation (PRIVESC-001): the build role may launch an instance with the admin instance role.
    ec2_trust = _trust({"Service": "ec2.amazonaws.com"})
    codebuild_trust = _trust({"Service": "codebuild.amazonaws.com"})
    acct.role("batch-admin-ec2", ec2_trust, admin=True)
    acct.role("batch-reader-ec2", ec2_trust, inline=_allow("s3:GetObject", "*"))

    def passes(role_name: str) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:AssociateIamInstanceProfile"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": acct.arn("role", role_name)},
        ]}

    acct.role("build-runner", codebuild_trust, inline=passes("batch-admin-ec2"))
    # Benign twin: the same rights, but it can only pass the weak role.
    acct.role("build-runner-limited", codebuild_trust, inline=passes("batch-reader-ec2"))


def _seed_staging_modify_then_use(acct: _Account) -> None:
    # Modify then use (PRIVESC-001, iam-attach-role-policy via assume-role): the release role may attach any
    # managed policy to a role it can assume, so it can make that role an administrator and become it.
    account_trust = _trust({"AWS": f"arn:aws:iam::{acct.account_id}:root"})
    acct.role("deploy-target", account_trust, inline=_allow("s3:GetObject", "*"))
    codebuild_trust = _trust({"Service": "codebuild.amazonaws.com"})

    def release(condition: dict[str, Any] | None) -> dict[str, Any]:
        attach: dict[str, Any] = {
            "Effect": "Allow", "Action": "iam:AttachRolePolicy", "Resource": acct.arn("role", "deploy-target"),
        }
        if condition is not None:
            attach["Condition"] = condition
        return {"Version": "2012-10-17", "Statement": [
            attach,
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": acct.arn("role", "deploy-target")},
        ]}

    acct.role("release-manager", codebuild_trust, inline=release(None))
    # Benign twin: the same rights, but iam:PolicyARN admits only ReadOnlyAccess.
    read_only = {"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}
    acct.role("release-manager-scoped", codebuild_trust, inline=release(read_only))


def _seed_sandbox(acct: _Account) -> None:
    # An Environment value that names no environment (COST-004).
    acct.bucket(f"sandbox-scratch-{acct.account_id}", {"Environment": "blue", "Owner": "lab", "CostCenter": "cc-9"})
    acct.role("orphan-fn-role", _trust({"Service": "lambda.amazonaws.com"}))
    acct.client("lambda").create_function(
        FunctionName="orphan-fn",
        Runtime="python3.11",
        Role=acct.arn("role", "orphan-fn-role"),
        Handler="handler.handler",
        Code={"ZipFile": _lambda_zip()},
    )


def _seed_sandbox_chain_to_admin(acct: _Account) -> None:
    # Effective admin through a same-account chain (REACH-001): the on-call user may assume the triage role,
    # which may assume the break-fix admin role.
    account_trust = _trust({"AWS": f"arn:aws:iam::{acct.account_id}:root"})
    acct.role("triage", account_trust, inline=_allow("sts:AssumeRole", acct.arn("role", "break-fix-admin")))
    acct.role("break-fix-admin", _trust({"AWS": acct.arn("role", "triage")}), admin=True)
    acct.user("oncall", inline=_allow("sts:AssumeRole", acct.arn("role", "triage")))
    # Benign twin: the same chain, ending in a role that only reads logs.
    acct.role("triage-readonly", account_trust, inline=_allow("sts:AssumeRole", acct.arn("role", "log-reader")))
    acct.role("log-reader", _trust({"AWS": acct.arn("role", "triage-readonly")}), inline=_allow("logs:Get*", "*"))
    acct.user("oncall-readonly", inline=_allow("sts:AssumeRole", acct.arn("role", "triage-readonly")))


def _seed_sandbox_experimenter(acct: _Account, ids: dict[str, str]) -> None:
    # Allowed by its own policy and named by prod-app's ExperimentsAdmin trust; the SandboxFence SCP stops it.
    acct.user("experimenter", inline=_allow("sts:AssumeRole", f"arn:aws:iam::{ids['prod-app']}:role/ExperimentsAdmin"))


def _seed_security_audit(acct: _Account, ids: dict[str, str]) -> None:
    acct.role(
        "auditor",
        _trust({"AWS": f"arn:aws:iam::{acct.account_id}:root"}),
        inline=_allow("sts:AssumeRole", f"arn:aws:iam::{ids['prod-app']}:role/ProdReadOnlyFromSecurity"),
    )
    acct.budget("security-audit-monthly")


def _seed_organization_trail(mgmt: _Account, log_archive: _Account) -> None:
    """Good posture (GUARD-005 stays quiet): a logging multi-region organisation trail owned by the management
    account, delivering to a bucket in the security account."""
    bucket = f"org-cloudtrail-{log_archive.account_id}"
    log_archive.bucket(bucket, {"Environment": "security", **FULL_TAGS})
    cloudtrail: Any = mgmt.client("cloudtrail")
    cloudtrail.create_trail(Name="organization-trail", S3BucketName=bucket, IsMultiRegionTrail=True,
                            IsOrganizationTrail=True, EnableLogFileValidation=True)
    cloudtrail.start_logging(Name="organization-trail")


def _seed_cis_foundations(
    mgmt: _Account, members: dict[str, _Account], simulated: SimulatedServices | None
) -> None:
    """CIS foundations (issue 13): security-audit passes every automated control moto can express; dev-app and
    prod-data carry the failing twins; the organisation trail logs object events of security-audit's buckets."""
    from auditor.demo_cis import organization_trail_selectors, seed_failing_twins, seed_hardened_account

    # moto creates an account's default VPC on its first EC2 call: make every one here, in a fixed order, so
    # their ids do not depend on which collector thread reaches EC2 first (stable finding ids across runs).
    for account in (mgmt, *members.values()):
        account.client("ec2").describe_vpcs()
    secure = members["security-audit"]
    buckets = seed_hardened_account(secure, f"org-cloudtrail-{secure.account_id}", simulated)
    organization_trail_selectors(mgmt, "organization-trail", buckets)
    seed_failing_twins(members["dev-app"], members["prod-data"])


def _seed_legacy_mixed(acct: _Account) -> None:
    acct.instance("web-prod", {"Environment": "prod", **FULL_TAGS})
    acct.bucket(f"legacy-dev-data-{acct.account_id}", {"Environment": "dev", **FULL_TAGS})


def _seed_shared_services(acct: _Account) -> None:
    acct.bucket(f"shared-artifacts-{acct.account_id}", {"Environment": "shared", **FULL_TAGS})
    acct.budget("shared-services-monthly")


def _seed_identity_center(session: boto3.Session, ids: dict[str, str]) -> None:
    """Permission sets, identity-store users and groups, and who is assigned where (ADMIN-006, CRED-008)."""
    sso: Any = session.client("sso-admin")
    store: Any = session.client("identitystore")
    instance = sso.list_instances()["Instances"][0]
    instance_arn, store_id = instance["InstanceArn"], instance["IdentityStoreId"]

    def permission_set(name: str, duration: str) -> str:
        return str(sso.create_permission_set(InstanceArn=instance_arn, Name=name, SessionDuration=duration)
                   ["PermissionSet"]["PermissionSetArn"])

    admin = permission_set("AdministratorAccess", "PT8H")
    sso.attach_managed_policy_to_permission_set(
        InstanceArn=instance_arn, PermissionSetArn=admin, ManagedPolicyArn=AWS_ADMINISTRATOR_ACCESS)
    read_only = permission_set("ReadOnly", "PT4H")
    sso.put_inline_policy_to_permission_set(
        InstanceArn=instance_arn, PermissionSetArn=read_only, InlinePolicy=_doc(SSO_READ_ONLY))

    def group(name: str, user_name: str) -> str:
        user_id = store.create_user(
            IdentityStoreId=store_id, UserName=user_name, DisplayName=user_name,
            Name={"GivenName": user_name.split(".")[0], "FamilyName": "Demo"},
        )["UserId"]
        group_id = str(store.create_group(IdentityStoreId=store_id, DisplayName=name)["GroupId"])
        store.create_group_membership(IdentityStoreId=store_id, GroupId=group_id, MemberId={"UserId": user_id})
        return group_id

    platform_admins = group("platform-admins", "alex.admin")
    developers = group("developers", "dana.dev")
    for permission_set_arn, group_id, account in (
        (admin, platform_admins, "prod-app"),
        (admin, platform_admins, "dev-app"),
        (read_only, developers, "dev-app"),
    ):
        sso.create_account_assignment(
            InstanceArn=instance_arn, TargetId=ids[account], TargetType="AWS_ACCOUNT",
            PermissionSetArn=permission_set_arn, PrincipalType="GROUP", PrincipalId=group_id,
        )
        sso.provision_permission_set(
            InstanceArn=instance_arn, PermissionSetArn=permission_set_arn, TargetType="AWS_ACCOUNT",
            TargetId=ids[account],
        )


def _seed_workloads(acct: _Account) -> None:
    """Resources that run with a role (issue 11): taking one over is a path to its role. Staging holds a
    release build and a batch instance running as admin, each reachable by one user; the twins run with a
    read-only role and their users can reach only those."""
    codebuild_trust = _trust({"Service": "codebuild.amazonaws.com"})
    acct.role("nightly-release-build", codebuild_trust, admin=True)
    acct.role("lint-build", codebuild_trust, inline=_allow("s3:GetObject", "*"))
    codebuild: Any = acct.client("codebuild")
    projects: dict[str, str] = {}
    for project, role in (("nightly-release", "nightly-release-build"), ("lint", "lint-build")):
        projects[project] = str(codebuild.create_project(
            name=project, source={"type": "S3", "location": f"demo-sources-{acct.account_id}/{project}.zip"},
            artifacts={"type": "NO_ARTIFACTS"}, serviceRole=acct.arn("role", role),
            environment={"type": "LINUX_CONTAINER", "image": "aws/codebuild/standard:7.0",
                         "computeType": "BUILD_GENERAL1_SMALL"},
        )["project"]["arn"])
    # A buildspec override runs any command with the project's service role (codebuild-002).
    acct.user("release-bot", inline=_allow("codebuild:StartBuild", projects["nightly-release"]))
    acct.user("lint-bot", inline=_allow("codebuild:StartBuild", projects["lint"]))

    ec2: Any = acct.client("ec2")
    image = ec2.register_image(Name="demo-batch-image")["ImageId"]
    instances: dict[str, str] = {}
    for name, role in (("batch-worker", "batch-admin-ec2"), ("report-worker", "batch-reader-ec2")):
        profile = acct.iam.create_instance_profile(InstanceProfileName=f"{role}-profile")["InstanceProfile"]["Arn"]
        acct.iam.add_role_to_instance_profile(InstanceProfileName=f"{role}-profile", RoleName=role)
        instance_id = ec2.run_instances(
            ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1, IamInstanceProfile={"Arn": profile},
            TagSpecifications=[{"ResourceType": kind, "Tags": _tags(Name=name, Environment="staging", **FULL_TAGS)}
                               for kind in ("instance", "volume")],
        )["Instances"][0]["InstanceId"]
        instances[name] = f"arn:aws:ec2:{acct.region}:{acct.account_id}:instance/{instance_id}"
    # A Session Manager shell on an instance acts with its instance profile's role (ssm-001).
    acct.user("oncall", inline=_allow("ssm:StartSession", instances["batch-worker"]))
    acct.user("oncall-reports", inline=_allow("ssm:StartSession", instances["report-worker"]))


def seed_demo_organization(region: str = "us-east-1", simulated: SimulatedServices | None = None) -> DemoOrganization:
    """Seed the demo organisation into the active moto context and describe what was made; ``simulated`` holds
    the services moto lacks (seeded when given)."""
    session = boto3.Session(region_name=region)
    sts: Any = session.client("sts")
    # The default credentials' account becomes the management account (123456789012 unless MOTO_ACCOUNT_ID).
    management_account_id = str(sts.get_caller_identity()["Account"])
    accounts, ou_ids = _build_organization(session)

    members: dict[str, _Account] = {}
    for name, account_id in accounts.items():
        credentials = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account_id}:role/{SEED_ROLE_NAME}", RoleSessionName="seed"
        )["Credentials"]
        members[name] = _Account(session, account_id, credentials)
        if name not in UNASSUMABLE:
            _seed_audit_role(members[name], management_account_id)

    management = _Account(session, management_account_id, None)
    _seed_management(management, accounts)
    _seed_prod_app(members["prod-app"], accounts)
    _seed_prod_data(members["prod-data"], accounts)
    _seed_dev_app(members["dev-app"], accounts)
    _seed_staging(members["staging"], accounts)
    _seed_staging_modify_then_use(members["staging"])
    _seed_workloads(members["staging"])
    _seed_sandbox(members["sandbox"])
    _seed_sandbox_chain_to_admin(members["sandbox"])
    _seed_sandbox_experimenter(members["sandbox"], accounts)
    _seed_security_audit(members["security-audit"], accounts)
    _seed_organization_trail(management, members["security-audit"])
    _seed_cis_foundations(management, members, simulated)
    _seed_legacy_mixed(members["legacy-mixed"])
    _seed_shared_services(members["shared-services"])
    _seed_identity_center(session, accounts)

    return DemoOrganization(
        management_account_id=management_account_id,
        accounts=dict(accounts),
        role_name=AUDIT_ROLE_NAME,
        unassumable_account_ids=tuple(accounts[name] for name in UNASSUMABLE),
        ou_ids=tuple(sorted(ou_ids.items())),
    )
