"""The demo organisation seeds exactly the structure, principals and resources its rules rely on."""

from __future__ import annotations

import contextlib
import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from auditor.demo import DemoOrganization, seed_demo_organization

MGMT = "management"
# boto3-stubs types clients by literal service name; these tests pick services at runtime.
new_client: Any = boto3.client


@dataclass(frozen=True)
class Seeded:
    org: DemoOrganization
    output: str
    seconds: float
    _clients: dict[tuple[str, str], Any] = field(default_factory=dict)

    def account_id(self, name: str) -> str:
        return self.org.management_account_id if name == MGMT else self.org.accounts[name]

    def client(self, name: str, service: str) -> Any:
        """A client in the named account: default credentials for management, the seed role otherwise."""
        if (name, service) not in self._clients:
            self._clients[name, service] = self._new_client(name, service)
        return self._clients[name, service]

    def _new_client(self, name: str, service: str) -> Any:
        if name == MGMT:
            return new_client(service, region_name="us-east-1")
        credentials = boto3.client("sts", region_name="us-east-1").assume_role(
            RoleArn=f"arn:aws:iam::{self.account_id(name)}:role/OrganizationAccountAccessRole",
            RoleSessionName="test",
        )["Credentials"]
        return new_client(
            service,
            region_name="us-east-1",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )

    def arn(self, name: str, kind: str, resource: str) -> str:
        return f"arn:aws:iam::{self.account_id(name)}:{kind}/{resource}"


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    """Seed once per module; the env mirrors conftest's (a module fixture runs before it)."""
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            env.delenv(name, raising=False)
        env.delenv("MOTO_IAM_LOAD_MANAGED_POLICIES", raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
        env.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
        with mock_aws():
            output = io.StringIO()
            started = time.perf_counter()
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                org = seed_demo_organization()
            seconds = time.perf_counter() - started
            print(f"\ndemo seed took {seconds:.2f} s")
            yield Seeded(org, output.getvalue(), seconds)


# --- organisation -------------------------------------------------------------------------------

ACCOUNT_PLACEMENT = [
    # (account, OU path from root, Environment tag or None)
    ("prod-app", ["Production"], "prod"),
    ("prod-data", ["Production"], None),
    ("dev-app", ["NonProduction"], "dev"),
    ("staging", ["NonProduction"], "staging"),
    ("sandbox", ["Sandbox"], None),
    ("security-audit", ["Security"], "security"),
    ("shared-services", ["Infrastructure", "SharedServices"], "shared"),
    ("legacy-mixed", [], "prod"),
    ("broken", ["NonProduction"], "dev"),
]


def _ou_path(org: Any, account_id: str) -> list[str]:
    path: list[str] = []
    child = account_id
    while True:
        parent = org.list_parents(ChildId=child)["Parents"][0]
        if parent["Type"] == "ROOT":
            return path
        path.insert(0, org.describe_organizational_unit(OrganizationalUnitId=parent["Id"])
                    ["OrganizationalUnit"]["Name"])
        child = parent["Id"]


def test_seed_is_silent_and_describes_itself(seeded: Seeded) -> None:
    assert seeded.output == ""
    assert seeded.org.management_account_id == "123456789012"
    assert seeded.org.role_name == "SecurityAuditRole"
    assert sorted(seeded.org.accounts) == sorted(name for name, _, _ in ACCOUNT_PLACEMENT)
    assert seeded.org.unassumable_account_ids == (seeded.org.accounts["broken"],)
    assert len(set(seeded.org.accounts.values())) == len(seeded.org.accounts)


@pytest.mark.parametrize(("account", "ou_path", "environment"), ACCOUNT_PLACEMENT)
def test_account_sits_in_its_ou_with_its_tags(
    seeded: Seeded, account: str, ou_path: list[str], environment: str | None
) -> None:
    org = seeded.client(MGMT, "organizations")
    account_id = seeded.account_id(account)
    assert org.describe_account(AccountId=account_id)["Account"]["Name"] == account
    assert _ou_path(org, account_id) == ou_path
    tags = {t["Key"]: t["Value"] for t in org.list_tags_for_resource(ResourceId=account_id)["Tags"]}
    assert tags.get("Environment") == environment


@pytest.mark.parametrize(
    ("target", "expected_scps"),
    [
        ("ROOT", {"FullAWSAccess", "DenyLeaveOrganization"}),
        ("Production", {"FullAWSAccess", "ProdGuardrails"}),
        ("NonProduction", {"FullAWSAccess"}),
    ],
)
def test_scps_attached_where_expected(seeded: Seeded, target: str, expected_scps: set[str]) -> None:
    org = seeded.client(MGMT, "organizations")
    root_id = org.list_roots()["Roots"][0]["Id"]
    if target == "ROOT":
        target_id = root_id
    else:
        ous = org.list_organizational_units_for_parent(ParentId=root_id)["OrganizationalUnits"]
        target_id = next(ou["Id"] for ou in ous if ou["Name"] == target)
    policies = org.list_policies_for_target(TargetId=target_id, Filter="SERVICE_CONTROL_POLICY")["Policies"]
    assert {p["Name"] for p in policies} == expected_scps


def test_prod_guardrails_denies_stop_logging_and_no_nonprod_to_prod_scp(seeded: Seeded) -> None:
    org = seeded.client(MGMT, "organizations")
    policies = {p["Name"]: p["Id"] for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]}
    assert "NonProdNoAssumeIntoProd" not in policies
    content = org.describe_policy(PolicyId=policies["ProdGuardrails"])["Policy"]["Content"]
    assert "cloudtrail:StopLogging" in content


# --- audit role -----------------------------------------------------------------------------------

@pytest.mark.parametrize("account", [name for name, _, _ in ACCOUNT_PLACEMENT])
def test_audit_role_in_every_member_but_broken(seeded: Seeded, account: str) -> None:
    roles = {r["RoleName"]: r for r in seeded.client(account, "iam").list_roles()["Roles"]}
    if account == "broken":
        assert "SecurityAuditRole" not in roles
        return
    statement = roles["SecurityAuditRole"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": seeded.org.external_id}}
    attached = seeded.client(account, "iam").list_attached_role_policies(RoleName="SecurityAuditRole")
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["SecurityAuditReadOnly-Custom"]


# --- IAM principals ---------------------------------------------------------------------------------

ADMIN = "AdministratorAccess-Custom"

ATTACHED_POLICIES = [
    # (account, "user"/"group"/"role", name, attached policy names)
    ("dev-app", "user", "alice", [ADMIN]),
    ("dev-app", "user", "bob", []),
    ("dev-app", "group", "Admins", [ADMIN]),
    ("dev-app", "group", "EmptyAdmins", [ADMIN]),
    ("prod-app", "role", "app-server-role", [ADMIN]),
    ("prod-app", "role", "app-reader-role", []),
    ("prod-app", "role", "ProdDeployRole", [ADMIN]),
    ("prod-app", "role", "ProdReadOnlyFromSecurity", ["ReadOnlyAccess-Custom"]),
    ("prod-data", "role", "DataAdminRole", [ADMIN]),
    ("prod-data", "role", "VendorAccessRole", []),
    ("staging", "user", "ci-deployer", []),
    ("dev-app", "role", "dev-ci-role", []),
]


@pytest.mark.parametrize(("account", "kind", "name", "expected"), ATTACHED_POLICIES)
def test_attached_policies(seeded: Seeded, account: str, kind: str, name: str, expected: list[str]) -> None:
    iam = seeded.client(account, "iam")
    key = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[kind]
    attached = getattr(iam, f"list_attached_{kind}_policies")(**{key: name})["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == expected
    for policy in attached:
        assert policy["PolicyArn"] == seeded.arn(account, "policy", policy["PolicyName"])


def test_admin_policy_allows_everything(seeded: Seeded) -> None:
    iam = seeded.client("dev-app", "iam")
    arn = seeded.arn("dev-app", "policy", ADMIN)
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    assert document["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]


@pytest.mark.parametrize(("group", "members"), [("Admins", ["bob"]), ("EmptyAdmins", [])])
def test_admin_group_membership(seeded: Seeded, group: str, members: list[str]) -> None:
    users = seeded.client("dev-app", "iam").get_group(GroupName=group)["Users"]
    assert [u["UserName"] for u in users] == members


INLINE_POLICIES = [
    # (account, kind, name, action, resource as (account or None, suffix) or "*")
    ("staging", "user", "ci-deployer", "iam:*", "*"),
    ("prod-app", "role", "app-reader-role", "s3:GetObject", "*"),
    ("dev-app", "role", "dev-ci-role", "sts:AssumeRole", ("prod-app", "role/ProdDeployRole")),
    ("staging", "user", "carol", "sts:AssumeRole", ("dev-app", "role/dev-ops-role")),
    ("dev-app", "role", "dev-ops-role", "sts:AssumeRole", ("prod-data", "role/DataAdminRole")),
    ("security-audit", "role", "auditor", "sts:AssumeRole", ("prod-app", "role/ProdReadOnlyFromSecurity")),
]


@pytest.mark.parametrize(("account", "kind", "name", "action", "resource"), INLINE_POLICIES)
def test_inline_policies(
    seeded: Seeded, account: str, kind: str, name: str, action: str, resource: Any
) -> None:
    iam = seeded.client(account, "iam")
    key = {"user": "UserName", "role": "RoleName"}[kind]
    get_policy = getattr(iam, f"get_{kind}_policy")
    document = get_policy(**{key: name, "PolicyName": f"{name}-inline"})["PolicyDocument"]
    expected_resource = resource if resource == "*" else seeded.arn(resource[0], *resource[1].split("/"))
    assert document["Statement"] == [{"Effect": "Allow", "Action": action, "Resource": expected_resource}]


TRUSTS = [
    # (account, role, trusted principal: (kind, account or literal, suffix), has condition)
    ("prod-app", "app-server-role", ("Service", "ec2.amazonaws.com", ""), False),
    ("prod-app", "app-reader-role", ("Service", "ec2.amazonaws.com", ""), False),
    ("prod-app", "ProdDeployRole", ("AWS", "dev-app", "role/dev-ci-role"), False),
    ("prod-app", "ProdReadOnlyFromSecurity", ("AWS", "security-audit", "role/auditor"), False),
    ("dev-app", "dev-ci-role", ("Service", "codebuild.amazonaws.com", ""), False),
    ("dev-app", "dev-ops-role", ("AWS", "staging", "user/carol"), False),
    ("prod-data", "DataAdminRole", ("AWS", "dev-app", "role/dev-ops-role"), False),
    ("prod-data", "VendorAccessRole", ("AWS", "999988887777", "root"), False),
    ("prod-data", "OrgInternalRole", ("AWS", "security-audit", "root"), False),
]


@pytest.mark.parametrize(("account", "role", "trusted", "has_condition"), TRUSTS)
def test_role_trust_policies(
    seeded: Seeded, account: str, role: str, trusted: tuple[str, str, str], has_condition: bool
) -> None:
    found = seeded.client(account, "iam").get_role(RoleName=role)["Role"]
    assert found["Arn"] == seeded.arn(account, "role", role)
    [statement] = found["AssumeRolePolicyDocument"]["Statement"]
    kind, who, suffix = trusted
    if kind == "Service":
        expected = who
    elif who.isdigit():
        expected = f"arn:aws:iam::{who}:{suffix}"
    else:
        expected = (f"arn:aws:iam::{seeded.account_id(who)}:root" if suffix == "root"
                    else seeded.arn(who, *suffix.split("/")))
    assert statement["Principal"] == {kind: expected}
    assert statement["Action"] == "sts:AssumeRole"
    assert ("Condition" in statement) is has_condition


# --- credential hygiene ----------------------------------------------------------------------------

def _credential_report(seeded: Seeded, account: str) -> dict[str, dict[str, str]]:
    iam = seeded.client(account, "iam")
    iam.generate_credential_report()
    content = iam.get_credential_report()["Content"].decode()
    return {row["user"]: row for row in csv.DictReader(io.StringIO(content))}


@pytest.mark.parametrize(
    ("user", "password_enabled", "mfa_active", "key_active", "min_key_age_days", "max_key_age_days"),
    [
        ("dave", "true", "false", "false", None, None),
        ("erin", "true", "true", "false", None, None),
        ("frank", "false", "false", "true", 199, 201),
        ("grace", "false", "false", "true", 0, 1),
        ("alice", "false", "false", "false", None, None),
    ],
)
def test_dev_app_credential_report(
    seeded: Seeded, user: str, password_enabled: str, mfa_active: str, key_active: str,
    min_key_age_days: int | None, max_key_age_days: int | None,
) -> None:
    row = _credential_report(seeded, "dev-app")[user]
    assert row["arn"] == seeded.arn("dev-app", "user", user)
    assert (row["password_enabled"], row["mfa_active"], row["access_key_1_active"]) == (
        password_enabled, mfa_active, key_active)
    if min_key_age_days is not None and max_key_age_days is not None:
        rotated = datetime.fromisoformat(row["access_key_1_last_rotated"])
        assert min_key_age_days <= (datetime.now(UTC) - rotated).days <= max_key_age_days
        assert row["access_key_1_last_used_date"] == "N/A"


def test_erin_has_virtual_mfa_and_dave_has_none(seeded: Seeded) -> None:
    iam = seeded.client("dev-app", "iam")
    assert [d["SerialNumber"] for d in iam.list_mfa_devices(UserName="erin")["MFADevices"]] == [
        seeded.arn("dev-app", "mfa", "erin")]
    assert iam.list_mfa_devices(UserName="dave")["MFADevices"] == []
    assert iam.get_login_profile(UserName="dave")["LoginProfile"]["UserName"] == "dave"


def test_management_account_has_admin_user_with_key(seeded: Seeded) -> None:
    iam = seeded.client(MGMT, "iam")
    keys = iam.list_access_keys(UserName="mgmt-admin")["AccessKeyMetadata"]
    assert [k["Status"] for k in keys] == ["Active"]


# --- resources, tags, budgets ------------------------------------------------------------------------

FULL = {"Owner": "platform-team", "CostCenter": "cc-1001"}

INSTANCES = [
    # (account, Name tag, tags other than Name)
    (MGMT, "mgmt-jumpbox", FULL),
    ("legacy-mixed", "web-prod", {"Environment": "prod", **FULL}),
    ("prod-app", "prod-web", {"Environment": "prod", **FULL}),
    ("dev-app", "dev-box", {"Environment": "dev"}),
]


@pytest.mark.parametrize(("account", "name", "tags"), INSTANCES)
def test_ec2_instances(seeded: Seeded, account: str, name: str, tags: dict[str, str]) -> None:
    reservations = seeded.client(account, "ec2").describe_instances()["Reservations"]
    instances = [i for r in reservations for i in r["Instances"]]
    assert [{t["Key"]: t["Value"] for t in i["Tags"]} for i in instances] == [{"Name": name, **tags}]


BUCKETS = [
    # (account, bucket prefix (account id appended), tags)
    (MGMT, "mgmt-scratch", FULL),
    ("legacy-mixed", "legacy-dev-data", {"Environment": "dev", **FULL}),
    ("prod-app", "prod-app-assets", {"Environment": "prod", **FULL}),
    ("prod-app", "prod-app-dev-scratch", {"Environment": "dev", **FULL}),
    ("shared-services", "shared-artifacts", {"Environment": "shared", **FULL}),
]


@pytest.mark.parametrize(("account", "prefix", "tags"), BUCKETS)
def test_s3_buckets(seeded: Seeded, account: str, prefix: str, tags: dict[str, str]) -> None:
    s3 = seeded.client(account, "s3")
    bucket = f"{prefix}-{seeded.account_id(account)}"
    assert bucket in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]} == tags


def test_untagged_volume_in_staging(seeded: Seeded) -> None:
    volumes = seeded.client("staging", "ec2").describe_volumes()["Volumes"]
    # the batch instances' root volumes are tagged: exactly one untagged volume
    assert [v.get("Tags", []) for v in volumes if not v.get("Tags")] == [[]]


def test_untagged_lambda_in_sandbox(seeded: Seeded) -> None:
    lam = seeded.client("sandbox", "lambda")
    [function] = lam.list_functions()["Functions"]
    assert function["FunctionName"] == "orphan-fn"
    assert lam.list_tags(Resource=function["FunctionArn"]).get("Tags", {}) == {}


@pytest.mark.parametrize(
    ("account", "budget"),
    [
        (MGMT, "management-monthly"),
        ("prod-app", "prod-app-monthly"),
        ("dev-app", "dev-app-monthly"),
        ("security-audit", "security-audit-monthly"),
        ("shared-services", "shared-services-monthly"),
        ("staging", None),
        ("sandbox", None),
        ("prod-data", None),
        ("legacy-mixed", None),
    ],
)
def test_budgets(seeded: Seeded, account: str, budget: str | None) -> None:
    budgets = seeded.client(account, "budgets")
    account_id = seeded.account_id(account)
    names = [b["BudgetName"] for b in budgets.describe_budgets(AccountId=account_id).get("Budgets", [])]
    assert names == ([budget] if budget else [])
    if budget:
        notifications = budgets.describe_notifications_for_budget(AccountId=account_id, BudgetName=budget)
        assert len(notifications["Notifications"]) == 1
