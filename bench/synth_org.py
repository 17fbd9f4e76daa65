"""A synthetic organisation written straight to a snapshot directory (no moto, no AWS): for measuring analysis at
hundreds to thousands of accounts.

Each account holds about 30 principals (roles, users, groups) shaped like a real landing zone: the organisation's
access role, Identity Center roles, a security-audit role trusted by the security account, CI deploy roles trusted
by the shared-services account, a vendor role with an ExternalId, service roles for workloads, a few cross-account
data roles (some crossing environments), legacy IAM users with keys in a fraction of the accounts, a handful of
escalation-prone inline policies. AWS managed policies are the real documents moto ships (ReadOnlyAccess is about
100 KB of JSON), attached in every account, as GetAccountAuthorizationDetails returns them. Everything is drawn
from a seeded ``random.Random``: the same arguments give the same snapshot.

Accounts are generated and written one at a time, so generating 2,000 accounts needs no more memory than one.

Run: .venv/bin/python bench/synth_org.py --accounts 200 --out /tmp/synth-200
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from auditor.model import (
    AccountAssignment,
    AccountSnapshot,
    Budget,
    CredentialReportRow,
    IamData,
    IamGroup,
    IamRole,
    IamUser,
    IdentityCenter,
    IdentityStoreGroup,
    IdentityStoreUser,
    InlinePolicy,
    ManagedPolicy,
    Manifest,
    OrgAccount,
    Organization,
    OrganizationalUnit,
    OrgPolicy,
    PermissionSet,
    Resource,
)

ORG_ID = "o-synth00000"
ROOT_ID = "r-syn0"
REGION = "us-east-1"
EXTERNAL_VENDOR = "999988887777"
CREATED = "2025-06-01T00:00:00+00:00"
# (environment, OU name, share of workload accounts)
ENVIRONMENTS = (
    ("prod", "Prod", 0.30),
    ("staging", "Staging", 0.20),
    ("dev", "Dev", 0.35),
    ("sandbox", "Sandbox", 0.15),
)
AWS_MANAGED = (
    "AdministratorAccess",
    "ReadOnlyAccess",
    "SecurityAudit",
    "PowerUserAccess",
    "ViewOnlyAccess",
    "AWSLambdaBasicExecutionRole",
    "AmazonSSMManagedInstanceCore",
    "AWSSupportAccess",
)
SERVICES = ("ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com", "glue.amazonaws.com")


def account_id(n: int) -> str:
    return f"{200000000000 + n * 7919:012d}"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _trust(principal: Any, condition: dict[str, Any] | None = None, action: str = "sts:AssumeRole") -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return _doc(statement)


def _stable(*parts: str) -> int:
    """A hash that is the same in every process (Python's own is salted per process)."""
    return int.from_bytes(hashlib.blake2b("/".join(parts).encode(), digest_size=8).digest(), "big")


def _managed_arn(name: str) -> str:
    path = "service-role/" if name == "AWSLambdaBasicExecutionRole" else ""
    return f"arn:aws:iam::aws:policy/{path}{name}"


@functools.cache
def aws_managed_policies() -> dict[str, ManagedPolicy]:
    """The real documents of a few AWS managed policies, from moto's copy of AWS's catalogue."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    data = json.loads(aws_managed_policies_data)
    return {
        name: ManagedPolicy(
            arn=_managed_arn(name), name=name, document=data[name]["Document"], aws_managed=True, attachment_count=1
        )
        for name in AWS_MANAGED
    }


class SyntheticOrg:
    """The organisation's layout: which account is which, and its environment."""

    def __init__(self, n_accounts: int, seed: int = 42) -> None:
        if n_accounts < 8:
            raise ValueError("at least 8 accounts")
        self.n = n_accounts
        self.seed = seed
        self.management, self.security, self.log_archive, self.shared = (account_id(i) for i in range(4))
        rng = random.Random(seed)
        self.environment: dict[str, str] = {
            self.management: "security",
            self.security: "security",
            self.log_archive: "security",
            self.shared: "shared",
        }
        weights = [share for _, _, share in ENVIRONMENTS]
        for i in range(4, n_accounts):
            self.environment[account_id(i)] = rng.choices([env for env, _, _ in ENVIRONMENTS], weights)[0]
        self.by_env: dict[str, list[str]] = {}
        for account, env in self.environment.items():
            self.by_env.setdefault(env, []).append(account)

    def account_ids(self) -> list[str]:
        return [account_id(i) for i in range(self.n)]

    def organization(self) -> Organization:
        mgmt = self.management
        ous = [
            OrganizationalUnit(
                id="ou-syn0-workloads",
                arn=f"arn:aws:organizations::{mgmt}:ou/{ORG_ID}/ou-syn0-workloads",
                name="Workloads",
                parent_id=ROOT_ID,
            ),
            OrganizationalUnit(
                id="ou-syn0-security",
                arn=f"arn:aws:organizations::{mgmt}:ou/{ORG_ID}/ou-syn0-security",
                name="Security",
                parent_id=ROOT_ID,
            ),
            OrganizationalUnit(
                id="ou-syn0-infra",
                arn=f"arn:aws:organizations::{mgmt}:ou/{ORG_ID}/ou-syn0-infra",
                name="Infrastructure",
                parent_id=ROOT_ID,
            ),
        ]
        for env, name, _ in ENVIRONMENTS:
            parent = ROOT_ID if env == "sandbox" else "ou-syn0-workloads"
            ous.append(
                OrganizationalUnit(
                    id=f"ou-syn0-{env}",
                    arn=f"arn:aws:organizations::{mgmt}:ou/{ORG_ID}/ou-syn0-{env}",
                    name=name,
                    parent_id=parent,
                    tags={"Environment": env},
                )
            )
        parents = {"security": "ou-syn0-security", "shared": "ou-syn0-infra"}
        accounts = tuple(
            OrgAccount(
                id=acct,
                arn=f"arn:aws:organizations::{mgmt}:account/{ORG_ID}/{acct}",
                name=self.name(acct),
                email=f"{self.name(acct)}@example.com",
                parent_id=ROOT_ID if acct == mgmt else parents.get(env, f"ou-syn0-{env}"),
                tags={"Environment": env, "Owner": f"team-{int(acct) % 17}"},
            )
            for acct, env in self.environment.items()
        )
        every_target = (ROOT_ID, *(ou.id for ou in ous), *(a.id for a in accounts))
        policies = (
            OrgPolicy(
                id="p-FullAWSAccess",
                arn="arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
                name="FullAWSAccess",
                type="SERVICE_CONTROL_POLICY",
                aws_managed=True,
                document=_doc(_allow("*")),
                target_ids=every_target,
            ),
            OrgPolicy(
                id="p-syn0guard",
                arn=f"arn:aws:organizations::{mgmt}:policy/{ORG_ID}/service_control_policy/p-syn0guard",
                name="guardrails",
                type="SERVICE_CONTROL_POLICY",
                target_ids=(ROOT_ID,),
                document=_doc(
                    {
                        "Effect": "Deny",
                        "Resource": "*",
                        "Action": [
                            "organizations:LeaveOrganization",
                            "cloudtrail:StopLogging",
                            "cloudtrail:DeleteTrail",
                        ],
                    }
                ),
            ),
            OrgPolicy(
                id="p-syn0sbx",
                arn=f"arn:aws:organizations::{mgmt}:policy/{ORG_ID}/service_control_policy/p-syn0sbx",
                name="sandbox-stays-in",
                type="SERVICE_CONTROL_POLICY",
                target_ids=("ou-syn0-sandbox",),
                document=_doc(
                    {
                        "Effect": "Deny",
                        "Action": "sts:AssumeRole",
                        "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}},
                    }
                ),
            ),
        )
        return Organization(
            id=ORG_ID,
            arn=f"arn:aws:organizations::{mgmt}:organization/{ORG_ID}",
            management_account_id=mgmt,
            root_id=ROOT_ID,
            organizational_units=tuple(ous),
            accounts=accounts,
            policies=policies,
            identity_center=self.identity_center(),
            trails=(),
        )

    def name(self, acct: str) -> str:
        special = {
            self.management: "management",
            self.security: "security-audit",
            self.log_archive: "log-archive",
            self.shared: "shared-services",
        }
        return special.get(acct, f"{self.environment[acct]}-{int(acct) % 100000:05d}")

    def identity_center(self) -> IdentityCenter:
        instance = "arn:aws:sso:::instance/ssoins-synth0000000000"

        def permission_set(name: str, managed: tuple[str, ...], inline: dict[str, Any] | None = None) -> PermissionSet:
            return PermissionSet(
                arn=f"arn:aws:sso:::permissionSet/ssoins-synth0000000000/ps-{name.lower()}",
                name=name,
                session_duration="PT8H",
                managed_policy_arns=managed,
                inline_policy=inline,
            )

        sets = (
            permission_set("AdministratorAccess", (_managed_arn("AdministratorAccess"),)),
            permission_set("ReadOnly", (_managed_arn("ReadOnlyAccess"),)),
            permission_set("Developer", (_managed_arn("PowerUserAccess"),)),
            permission_set("Deployer", (), _doc(_allow(["cloudformation:*", "iam:PassRole", "s3:*"]))),
        )
        groups = [
            IdentityStoreGroup(
                group_id=f"g-{name}",
                display_name=name,
                member_user_ids=tuple(f"u-{i:04d}" for i in range(start, start + size)),
            )
            for name, start, size in (
                ("platform-admins", 0, 5),
                ("developers", 5, 150),
                ("auditors", 155, 10),
                ("sre", 165, 25),
            )
        ]
        users = tuple(IdentityStoreUser(user_id=f"u-{i:04d}", user_name=f"person{i}@example.com") for i in range(200))
        assignments: list[AccountAssignment] = []
        for acct, env in self.environment.items():

            def assign(group: str, permission: str, acct: str = acct) -> None:
                assignments.append(
                    AccountAssignment(
                        account_id=acct,
                        permission_set_arn=sets[permission].arn,
                        principal_type="GROUP",
                        principal_id=f"g-{group}",
                    )
                )

            assign("platform-admins", 0)
            assign("auditors", 1)
            if env in ("dev", "sandbox", "staging"):
                assign("developers", 2)
            if env == "prod":
                assign("sre", 3)
                if int(acct) % 13 == 0:  # a few production accounts where developers kept admin
                    assign("developers", 0)
        return IdentityCenter(
            instance_arn=instance,
            identity_store_id="d-synth00000",
            permission_sets=sets,
            assignments=tuple(assignments),
            users=users,
            groups=tuple(groups),
        )

    def account(self, index: int) -> AccountSnapshot:
        """One account's snapshot, drawn from its own seeded generator (independent of the others)."""
        acct = account_id(index)
        env = self.environment[acct]
        rng = random.Random(f"{self.seed}-{acct}")
        arn = f"arn:aws:iam::{acct}"
        customer = [
            ManagedPolicy(
                arn=f"{arn}:policy/app-data",
                name="app-data",
                attachment_count=3,
                document=_doc(
                    _allow(
                        ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                        [f"arn:aws:s3:::data-{acct}", f"arn:aws:s3:::data-{acct}/*"],
                    ),
                    _allow(
                        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
                        f"arn:aws:dynamodb:{REGION}:{acct}:table/*",
                    ),
                ),
            ),
            ManagedPolicy(
                arn=f"{arn}:policy/deploy",
                name="deploy",
                attachment_count=1,
                document=_doc(
                    _allow(["cloudformation:*", "lambda:*", "ecs:*", "s3:*"]),
                    _allow("iam:PassRole", f"{arn}:role/app-*"),
                ),
            ),
            ManagedPolicy(
                arn=f"{arn}:policy/boundary",
                name="boundary",
                attachment_count=2,
                document=_doc(
                    _allow(["s3:*", "dynamodb:*", "sqs:*", "logs:*"]),
                    {"Effect": "Deny", "Action": ["iam:*", "organizations:*"], "Resource": "*"},
                ),
            ),
            ManagedPolicy(
                arn=f"{arn}:policy/ops/ops-tools",
                name="ops-tools",
                attachment_count=1,
                document=_doc(
                    _allow(["ssm:*", "ec2:Describe*", "ec2:StartInstances", "ec2:StopInstances", "cloudwatch:*"])
                ),
            ),
        ]
        if rng.random() < 0.1:  # a customer policy one can rewrite to escalate
            customer.append(
                ManagedPolicy(
                    arn=f"{arn}:policy/self-service",
                    name="self-service",
                    attachment_count=1,
                    document=_doc(
                        _allow(["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"], f"{arn}:policy/*")
                    ),
                )
            )
        managed = aws_managed_policies()
        roles = self._roles(acct, env, rng)
        users, groups = self._users(acct, env, rng)
        attached = {a for principal in (*roles, *users, *groups) for a in principal.attached_policy_arns}
        policies = (*customer, *(p for p in managed.values() if p.arn in attached))
        report = (
            CredentialReportRow(
                user="<root_account>",
                arn=f"{arn}:root",
                user_creation_time=CREATED,
                password_enabled=True,
                mfa_active=env == "prod" or rng.random() < 0.7,
            ),
            *(
                CredentialReportRow(
                    user=u.name,
                    arn=u.arn,
                    user_creation_time=CREATED,
                    password_enabled=u.name.startswith("person"),
                    mfa_active=rng.random() < 0.5,
                    access_key_1_active=True,
                    access_key_1_last_rotated="2025-01-15T00:00:00+00:00",
                )
                for u in users
            ),
        )
        return AccountSnapshot(
            account_id=acct,
            name=self.name(acct),
            audited=True,
            regions=(REGION,),
            iam=IamData(
                users=tuple(users),
                groups=tuple(groups),
                roles=tuple(roles),
                policies=policies,
                credential_report=report,
                credential_report_generated_at="2026-12-01T00:00:00+00:00",
                account_summary={"AccountMFAEnabled": 1, "Users": len(users), "Roles": len(roles)},
                password_policy={"MinimumPasswordLength": 14, "RequireSymbols": True},
            ),
            resources=tuple(self._resources(acct, env, rng, roles)),
            budgets=(Budget(name="monthly", limit_amount="1000", limit_unit="USD", notification_count=1),)
            if rng.random() < 0.6
            else (),
        )

    def _peer(self, rng: random.Random, env: str, cross: float) -> str:
        """Another account, of the same environment unless the draw crosses environments (``cross`` of the time)."""
        pool = self.by_env.get(env, [])
        if rng.random() < cross or len(pool) < 2:
            pool = [a for e, accounts in self.by_env.items() if e not in ("security", "shared") for a in accounts]
        return rng.choice(pool)

    def _roles(self, acct: str, env: str, rng: random.Random) -> list[IamRole]:
        arn = f"arn:aws:iam::{acct}"
        saml = {"Federated": f"{arn}:saml-provider/AWSSSO_synth_DO_NOT_DELETE"}
        sso_trust = _trust(
            saml, {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}}, action="sts:AssumeRoleWithSAML"
        )

        def role(name: str, trust: dict[str, Any], *managed: str, path: str = "/", **more: Any) -> IamRole:
            return IamRole(
                arn=f"{arn}:role{path}{name}",
                name=name,
                path=path,
                role_id=f"AROA{_stable(acct, name) % 10**16:016d}",
                create_date=CREATED,
                trust_policy=trust,
                attached_policy_arns=tuple(_managed_arn(m) if ":" not in m else m for m in managed),
                **more,
            )

        roles = [
            role(
                "OrganizationAccountAccessRole",
                _trust({"AWS": f"arn:aws:iam::{self.management}:root"}),
                "AdministratorAccess",
            ),
            role(
                "SecurityAuditRole",
                _trust({"AWS": f"arn:aws:iam::{self.security}:role/auditor"}),
                "SecurityAudit",
                "ReadOnlyAccess",
            ),
            role(
                "AWSReservedSSO_AdministratorAccess_0a1b2c3d",
                sso_trust,
                "AdministratorAccess",
                path="/aws-reserved/sso.amazonaws.com/",
            ),
            role(
                "AWSReservedSSO_ReadOnly_1b2c3d4e", sso_trust, "ReadOnlyAccess", path="/aws-reserved/sso.amazonaws.com/"
            ),
            role(
                "AWSReservedSSO_Developer_2c3d4e5f",
                sso_trust,
                "PowerUserAccess",
                path="/aws-reserved/sso.amazonaws.com/",
            ),
            role(
                "deploy",
                _trust({"AWS": f"arn:aws:iam::{self.shared}:role/ci-{env}"}),
                f"{arn}:policy/deploy",
                permission_boundary_arn=f"{arn}:policy/boundary",
            ),
            role(
                "vendor-monitoring",
                _trust(
                    {"AWS": f"arn:aws:iam::{EXTERNAL_VENDOR}:root"},
                    {"StringEquals": {"sts:ExternalId": f"vendor-{acct}"}},
                ),
                "ViewOnlyAccess",
            ),
            role(
                "support",
                _trust(
                    {"AWS": f"arn:aws:iam::{self.management}:root"}, {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
                ),
                "AWSSupportAccess",
            ),
            role(
                "break-glass",
                _trust(
                    {"AWS": f"arn:aws:iam::{self.security}:role/incident-response"},
                    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                ),
                "AdministratorAccess",
            ),
        ]
        for i in range(8):  # workload roles assumed by services
            service = SERVICES[i % len(SERVICES)]
            inline = (
                InlinePolicy(
                    name="app",
                    document=_doc(
                        _allow(["sqs:SendMessage", "sqs:ReceiveMessage"], f"arn:aws:sqs:{REGION}:{acct}:app-{i}"),
                        _allow("logs:PutLogEvents", f"arn:aws:logs:{REGION}:{acct}:log-group:/app/{i}:*"),
                    ),
                ),
            )
            managed = [
                f"{arn}:policy/app-data",
                "AWSLambdaBasicExecutionRole" if "lambda" in service else "AmazonSSMManagedInstanceCore",
            ]
            if rng.random() < 0.04:
                managed.append("AdministratorAccess")  # an over-privileged workload
            if i == 0:  # the application that reads other accounts' data through their data-share roles
                inline += (
                    InlinePolicy(
                        name="read-peers", document=_doc(_allow("sts:AssumeRole", "arn:aws:iam::*:role/data-share-*"))
                    ),
                )
            roles.append(
                role(
                    f"app-{i}",
                    _trust({"Service": service}),
                    *managed,
                    inline_policies=inline,
                    instance_profile_arns=(f"{arn}:instance-profile/app-{i}",) if "ec2" in service else (),
                )
            )
        for i in range(rng.randint(1, 3)):  # data roles for other accounts: the first trusts the whole peer account
            peer = self._peer(rng, env, cross=0.08)
            trusted = f"arn:aws:iam::{peer}:root" if i == 0 else f"arn:aws:iam::{peer}:role/app-0"
            roles.append(
                role(
                    f"data-share-{i}",
                    _trust({"AWS": trusted}),
                    f"{arn}:policy/app-data",
                    "AmazonSSMManagedInstanceCore" if rng.random() < 0.2 else f"{arn}:policy/app-data",
                )
            )
        if rng.random() < 0.06:  # a leftover admin role trusting a whole other account, often another environment
            peer = self._peer(rng, "dev" if env == "prod" else env, cross=0.3)
            roles.append(role("legacy-admin", _trust({"AWS": f"arn:aws:iam::{peer}:root"}), "AdministratorAccess"))
        if acct == self.shared:
            for target_env in ("prod", "staging", "dev", "sandbox"):
                roles.append(
                    role(
                        f"ci-{target_env}",
                        _trust({"Service": "codebuild.amazonaws.com"}),
                        inline_policies=(
                            InlinePolicy(
                                name="deploy", document=_doc(_allow("sts:AssumeRole", "arn:aws:iam::*:role/deploy"))
                            ),
                        ),
                    )
                )
        if acct == self.security:
            roles.append(
                role(
                    "auditor",
                    _trust({"Service": "ecs-tasks.amazonaws.com"}),
                    "SecurityAudit",
                    inline_policies=(
                        InlinePolicy(
                            name="assume",
                            document=_doc(_allow("sts:AssumeRole", "arn:aws:iam::*:role/SecurityAuditRole")),
                        ),
                    ),
                )
            )
            roles.append(
                role(
                    "incident-response",
                    sso_trust,
                    "ReadOnlyAccess",
                    inline_policies=(
                        InlinePolicy(
                            name="break-glass",
                            document=_doc(_allow("sts:AssumeRole", "arn:aws:iam::*:role/break-glass")),
                        ),
                    ),
                )
            )
        return roles

    def _users(self, acct: str, env: str, rng: random.Random) -> tuple[list[IamUser], list[IamGroup]]:
        arn = f"arn:aws:iam::{acct}"
        groups = [
            IamGroup(
                arn=f"{arn}:group/admins", name="admins", attached_policy_arns=(_managed_arn("AdministratorAccess"),)
            ),
            IamGroup(
                arn=f"{arn}:group/developers",
                name="developers",
                attached_policy_arns=(_managed_arn("PowerUserAccess"),),
                inline_policies=(
                    InlinePolicy(
                        name="assume-dev", document=_doc(_allow("sts:AssumeRole", "arn:aws:iam::*:role/deploy"))
                    ),
                ),
            ),
            IamGroup(
                arn=f"{arn}:group/readers", name="readers", attached_policy_arns=(_managed_arn("ReadOnlyAccess"),)
            ),
        ]
        users = [
            IamUser(
                arn=f"{arn}:user/ci-bot",
                name="ci-bot",
                create_date=CREATED,
                attached_policy_arns=(f"{arn}:policy/deploy",),
            )
        ]
        legacy = rng.random() < 0.3 or acct == self.management
        for i in range(rng.randint(3, 8) if legacy else 2):
            group = rng.choice(("admins", "developers", "developers", "readers"))
            inline: tuple[InlinePolicy, ...] = ()
            draw = rng.random()
            if draw < 0.06:
                inline = (
                    InlinePolicy(
                        name="lambda-admin",
                        document=_doc(_allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"])),
                    ),
                )
            elif draw < 0.10:
                inline = (InlinePolicy(name="keys", document=_doc(_allow("iam:CreateAccessKey", f"{arn}:user/*"))),)
            elif draw < 0.14:
                peer = self._peer(rng, env, cross=0.3)
                inline = (
                    InlinePolicy(
                        name="hop", document=_doc(_allow("sts:AssumeRole", f"arn:aws:iam::{peer}:role/data-share-0"))
                    ),
                )
            users.append(
                IamUser(
                    arn=f"{arn}:user/person{i}",
                    name=f"person{i}",
                    create_date=CREATED,
                    group_names=(group,),
                    inline_policies=inline,
                    tags={"team": f"team-{rng.randrange(9)}"},
                )
            )
        return users, groups

    def _resources(self, acct: str, env: str, rng: random.Random, roles: list[IamRole]) -> Iterator[Resource]:
        tags = {"Environment": env, "Owner": f"team-{int(acct) % 17}"}
        for i in range(2):
            bucket = f"data-{acct}-{i}"
            policy = None
            if rng.random() < 0.3:
                peer = self._peer(rng, env, cross=0.15)
                policy = _doc(
                    {
                        "Sid": "ReadFromPeer",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{peer}:root"},
                        "Action": ["s3:GetObject", "s3:ListBucket"],
                        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                    }
                )
            yield Resource(
                arn=f"arn:aws:s3:::{bucket}",
                type="s3:bucket",
                region=REGION,
                name=bucket,
                tags=tags if rng.random() < 0.8 else {},
                policy=policy,
            )
        for role in roles:
            if not role.name.startswith("app-"):
                continue
            service = role.trust_policy["Statement"][0]["Principal"]["Service"]
            name = role.name.replace("app", "svc")
            if service == "lambda.amazonaws.com":
                yield Resource(
                    arn=f"arn:aws:lambda:{REGION}:{acct}:function:{name}",
                    type="lambda:function",
                    region=REGION,
                    name=name,
                    tags=tags,
                    role_arn=role.arn,
                )
            elif service == "ec2.amazonaws.com":
                instance = f"i-{_stable(acct, name) % 16**17:017x}"
                yield Resource(
                    arn=f"arn:aws:ec2:{REGION}:{acct}:instance/{instance}",
                    type="ec2:instance",
                    region=REGION,
                    name=name,
                    tags=tags,
                    role_arn=role.arn,
                    instance_profile_arn=role.instance_profile_arns[0] if role.instance_profile_arns else None,
                )
        key_policy = _doc(
            {
                "Sid": "Enable IAM User Permissions",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{acct}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        )
        yield Resource(
            arn=f"arn:aws:kms:{REGION}:{acct}:key/{_stable(acct) % 10**12:012d}",
            type="kms:key",
            region=REGION,
            tags=tags,
            policy=key_policy,
        )
        yield Resource(
            arn=f"arn:aws:sqs:{REGION}:{acct}:app-0", type="sqs:queue", region=REGION, name="app-0", tags=tags
        )


def write(org: SyntheticOrg, directory: Path, inline: bool = False) -> None:
    """Write the snapshot one account at a time (never the whole organisation in memory), through the collector's
    own streaming writer (AWS managed documents once per snapshot); ``inline``: every document in every shard, as
    snapshots were written before streaming."""
    manifest = Manifest(
        tool_version="synthetic",
        created_at="2026-12-01T00:00:00+00:00",
        mode="organization",
        caller_account_id=org.management,
        role_name="SecurityAuditRole",
        regions=(REGION,),
        account_ids=tuple(org.account_ids()),
    )
    if inline:
        directory.mkdir(parents=True, exist_ok=False)
        (directory / "accounts").mkdir()

        def dump(path: Path, data: Any) -> None:
            path.write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")

        for index in range(org.n):
            account = org.account(index)
            dump(directory / "accounts" / f"{account.account_id}.json", account.model_dump(mode="json"))
        dump(directory / "organization.json", org.organization().model_dump(mode="json"))
        dump(directory / "coverage.json", [])
        dump(directory / "manifest.json", manifest.model_dump(mode="json"))
        return
    from auditor.snapshot_writer import DirectorySnapshotWriter

    writer = DirectorySnapshotWriter(directory)
    shards: dict[str, str] = {}
    for index in range(org.n):
        record = writer.write_account(org.account(index), (), {})
        shards[record.account_id] = record.sha256
    writer.finish(manifest.model_copy(update={"shard_sha256": shards}), org.organization(), ())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--inline", action="store_true", help="every document in every shard (the pre-1.2 layout)")
    args = parser.parse_args()
    start = time.perf_counter()
    org = SyntheticOrg(args.accounts, args.seed)
    write(org, args.out, args.inline)
    size = sum(path.stat().st_size for path in args.out.rglob("*") if path.is_file())
    elapsed = time.perf_counter() - start
    print(f"{args.accounts} accounts written to {args.out} in {elapsed:.1f} s ({size / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
