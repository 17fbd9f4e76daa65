"""Issue 11, graph half: which paths the access graph finds (each risky case beside its benign twin)."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.graph import AccessGraph, build_access_graph
from auditor.model import IamGroup, IamRole, IamUser, InlinePolicy, ManagedPolicy, Snapshot
from tests.iam_helpers import (
    ADMIN,
    DEV,
    ENVIRONMENTS,
    ORG_ID,
    PROD,
    SHARED,
    account,
    allow,
    aws_managed,
    deny,
    doc,
    organization,
    role,
    role_arn,
    root,
    snapshot,
    trust,
    user,
    user_arn,
)

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
PROD_DEPLOY = role_arn(PROD, "deploy")


def _prod(*roles: Any) -> Any:
    return account(PROD, roles=list(roles), policies=[aws_managed("AdministratorAccess", ADMIN)])


def _admin_paths(g: AccessGraph, source: str, target: str = PROD) -> list[tuple[tuple[str, ...], bool]]:
    return [(p.nodes, p.conditional) for p in g.paths_to_admin([target]) if p.source == source]


# --- defect 1: an administrator of an account acts as that account's root in every trust naming it -------
DEV_USERS = {
    "full-admin": {"p": doc(allow("*"))},  # AdministratorAccess-like: already had sts:AssumeRole
    "iam-admin": {"p": doc(allow("iam:*"))},  # admin only through iam:*: no sts permission of its own
    "escalator": {"p": doc(allow("iam:PutUserPolicy", user_arn(DEV, "escalator")))},  # escalates to admin
    "reader": {"p": doc(allow(["iam:Get*", "iam:List*"]))},  # benign twin: no way to admin
}


def _dev_admins_estate(prod_trust: str, scps: list[Any] | None = None) -> Snapshot:
    dev = account(DEV, users=[user(DEV, name, inline=inline) for name, inline in DEV_USERS.items()])
    prod = _prod(role(PROD, "deploy", trust(prod_trust), attached=[ADMIN_ARN]))
    return snapshot(dev, prod, org=organization(scps=scps or []))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("full-admin", [((user_arn(DEV, "full-admin"), PROD_DEPLOY, PROD), False)]),
        ("iam-admin", [((user_arn(DEV, "iam-admin"), DEV, root(DEV), PROD_DEPLOY, PROD), False)]),
        ("escalator", [((user_arn(DEV, "escalator"), DEV, root(DEV), PROD_DEPLOY, PROD), False)]),
        ("reader", []),
    ],
)
def test_admin_of_an_account_continues_into_trusts_naming_its_root(name: str, expected: list[Any]) -> None:
    g = build_access_graph(_dev_admins_estate(root(DEV)), ENVIRONMENTS)
    assert _admin_paths(g, user_arn(DEV, name)) == expected


def test_bare_account_id_in_a_trust_is_the_account_root() -> None:
    g = build_access_graph(_dev_admins_estate(DEV), ENVIRONMENTS)
    assert _admin_paths(g, user_arn(DEV, "iam-admin")) == [
        ((user_arn(DEV, "iam-admin"), DEV, root(DEV), PROD_DEPLOY, PROD), False)
    ]


@pytest.mark.parametrize(
    "twin",
    [
        "trust-names-another-account",
        "scp-denies-assume-role-into-prod",
    ],
)
def test_admin_of_an_account_does_not_continue_where_aws_would_refuse(twin: str) -> None:
    if twin == "trust-names-another-account":
        snap = _dev_admins_estate(root(SHARED))
    else:
        guard = doc(deny("sts:AssumeRole", f"arn:aws:iam::{PROD}:role/*"))
        snap = _dev_admins_estate(root(DEV), scps=[("no-prod", guard, [DEV])])
    g = build_access_graph(snap, ENVIRONMENTS)
    assert [p.source for p in g.paths_to_admin([PROD]) if p.source_account_id == DEV] == []


# --- defect 4: same-account trusts that name the caller (or anyone) need no identity permission ------------
P_USER = user_arn(PROD, "operator")  # no sts permission at all


@pytest.mark.parametrize(
    ("principal", "condition", "denied", "expected"),
    [
        ("*", {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}, False, True),  # org-scoped anyone
        ("*", None, False, True),  # anyone
        (P_USER, None, False, True),  # the user named directly
        (root(PROD), None, False, False),  # twin: the account root delegates to identity policies
        ("*", {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}, True, False),  # twin: explicit deny
        ("*", {"StringEquals": {"aws:PrincipalOrgID": "o-someoneelse"}}, False, False),  # twin: other org
    ],
    ids=["org-anyone", "anyone", "named", "account-root", "denied", "other-org"],
)
def test_same_account_trust_without_identity_permission(
    principal: str, condition: dict[str, Any] | None, denied: bool, expected: bool
) -> None:
    inline = {"d": doc(deny("sts:AssumeRole"))} if denied else {"r": doc(allow("s3:GetObject", "arn:aws:s3:::b/*"))}
    prod = account(
        PROD,
        users=[user(PROD, "operator", inline=inline)],
        roles=[role(PROD, "target", trust(principal, condition=condition), inline={"r": doc(allow("s3:*"))})],
    )
    g = build_access_graph(snapshot(prod, org=organization()), ENVIRONMENTS)
    edges = [(e.source, e.conditional) for e in g.assume_edges() if e.target_role_arn == role_arn(PROD, "target")]
    assert ((P_USER, False) in edges) is expected


# --- defect 12: prefer an unconditional path to a shorter conditional one ---------------------------------
MFA = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


@pytest.mark.parametrize("with_unconditional_route", [True, False])
def test_path_search_prefers_an_unconditional_path(with_unconditional_route: bool) -> None:
    dev_user = user_arn(DEV, "dev-user")
    ci = role_arn(SHARED, "ci")
    dev = account(DEV, users=[user(DEV, "dev-user", inline={"a": doc(allow("sts:AssumeRole"))})])
    shared = account(
        SHARED,
        roles=[role(SHARED, "ci", trust(dev_user), inline={"a": doc(allow("sts:AssumeRole", PROD_DEPLOY))})]
        if with_unconditional_route
        else [],
    )
    prod = _prod(
        role(
            PROD,
            "deploy",
            doc(
                {"Effect": "Allow", "Principal": {"AWS": dev_user}, "Action": "sts:AssumeRole", "Condition": MFA},
                {"Effect": "Allow", "Principal": {"AWS": ci}, "Action": "sts:AssumeRole"},
            ),
            attached=[ADMIN_ARN],
        )
    )
    g = build_access_graph(snapshot(dev, shared, prod, org=organization()), ENVIRONMENTS)
    expected = (
        [((dev_user, ci, PROD_DEPLOY, PROD), False)]
        if with_unconditional_route
        else [((dev_user, PROD_DEPLOY, PROD), True)]
    )
    assert _admin_paths(g, dev_user) == expected
    # the conditional hop is still in the graph: only the path choice changes
    assert any(e.conditional for e in g.assume_edges() if e.source == dev_user)


# --- defect 13: Identity Center's own SAML provider is not an outside source ------------------------------
@pytest.mark.parametrize(
    ("provider", "external"),
    [
        ("AWSSSO_0123456789abcdef_DO_NOT_DELETE", False),  # Identity Center's provider
        ("Okta", True),  # twin: a customer's own identity provider is an outside source
    ],
)
def test_identity_center_saml_provider_is_not_external(provider: str, external: bool) -> None:
    provider_arn = f"arn:aws:iam::{PROD}:saml-provider/{provider}"
    saml_trust = trust(
        {"Federated": provider_arn},
        action="sts:AssumeRoleWithSAML",
        condition={"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml"}},
    )
    sso = role(
        PROD,
        "AWSReservedSSO_Admin_0123456789abcdef",
        saml_trust,
        attached=[ADMIN_ARN],
        path="/aws-reserved/sso.amazonaws.com/",
    )
    g = build_access_graph(snapshot(_prod(sso), org=organization()), ENVIRONMENTS)
    assert [(p.source, p.source_environment) for p in g.paths_to_admin([PROD])] == (
        [(provider_arn, "external")] if external else []
    )


# --- defect 7: nothing in the graph assumes the aws partition -----------------------------------------------
@pytest.mark.parametrize("partition", ["aws", "aws-us-gov", "aws-cn"])
def test_paths_in_every_partition(partition: str) -> None:
    def arn(account_id: str, resource: str) -> str:
        return f"arn:{partition}:iam::{account_id}:{resource}"

    admin_policy = f"arn:{partition}:iam::aws:policy/AdministratorAccess"
    iam_admin = (InlinePolicy(name="p", document=doc(allow("iam:*"))),)
    snap = snapshot(
        account(
            DEV,
            users=[IamUser(arn=arn(DEV, "user/ops"), name="ops", group_names=("ops",))],
            groups=[IamGroup(arn=arn(DEV, "group/ops"), name="ops", inline_policies=iam_admin)],
        ),
        account(
            PROD,
            roles=[
                IamRole(
                    arn=arn(PROD, "role/deploy"),
                    name="deploy",
                    trust_policy=trust(arn(DEV, "root")),
                    attached_policy_arns=(admin_policy,),
                )
            ],
            policies=[ManagedPolicy(arn=admin_policy, name="AdministratorAccess", document=ADMIN, aws_managed=True)],
        ),
        org=organization(),
    )
    g = build_access_graph(snap, ENVIRONMENTS)
    member_of = {(u, v) for u, v, d in g.graph.edges(data=True) if d["kind"] == "member-of"}
    assert member_of == {(arn(DEV, "user/ops"), arn(DEV, "group/ops"))}
    assert [p.nodes for p in g.paths_to_admin([PROD])] == [
        (arn(DEV, "user/ops"), DEV, arn(DEV, "root"), arn(PROD, "role/deploy"), PROD)
    ]


# --- an account's administrator acts as any of its users and roles (takeover) ------------------------------
CI = role_arn(DEV, "ci")
SSO_ROLE = f"arn:aws:iam::{DEV}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Deploy_0123456789abcdef"
SLR = f"arn:aws:iam::{DEV}:role/aws-service-role/codebuild.amazonaws.com/AWSServiceRoleForCodeBuild"
DEPLOYER = user_arn(DEV, "deployer")
PRINCIPAL_ARN_EXEMPT = {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{DEV}:role/break-glass"}}


def _takeover_estate(prod_trusts: str, dev_scp: Any = None) -> Snapshot:
    """DEV: three would-be attackers and the principal a production role trusts by its own ARN."""
    to_prod = {"a": doc(allow("sts:AssumeRole", PROD_DEPLOY))}
    named = {
        CI: IamRole(arn=CI, name="ci", trust_policy=trust({"Service": "codebuild.amazonaws.com"}),
                    inline_policies=(InlinePolicy(name="a", document=to_prod["a"]),)),
        SSO_ROLE: IamRole(arn=SSO_ROLE, name="AWSReservedSSO_Deploy_0123456789abcdef",
                          path="/aws-reserved/sso.amazonaws.com/", trust_policy=trust({"Federated": "x"}),
                          inline_policies=(InlinePolicy(name="a", document=to_prod["a"]),)),
        SLR: IamRole(arn=SLR, name="AWSServiceRoleForCodeBuild", path="/aws-service-role/codebuild.amazonaws.com/",
                     trust_policy=trust({"Service": "codebuild.amazonaws.com"}),
                     inline_policies=(InlinePolicy(name="a", document=to_prod["a"]),)),
    }
    dev = account(
        DEV,
        users=[
            *(user(DEV, name, inline=inline) for name, inline in DEV_USERS.items()),
            user(DEV, "deployer", inline=to_prod),
        ],
        roles=[named[prod_trusts]] if prod_trusts in named else [],
    )
    prod = _prod(role(PROD, "deploy", trust(prod_trusts), attached=[ADMIN_ARN]))
    scps = [("guard", dev_scp, [DEV])] if dev_scp else []
    return snapshot(dev, prod, org=organization(scps=scps))


@pytest.mark.parametrize(
    ("prod_trusts", "dev_scp", "expected"),
    [
        # the production role trusts one DEV role by ARN: DEV's admins rewrite that role's trust and use it
        (CI, None, {"full-admin": False, "iam-admin": False, "escalator": False}),
        # ... or one DEV user: DEV's admins give themselves its keys
        (DEPLOYER, None, {"full-admin": False, "iam-admin": False, "escalator": False}),
        # twin: an SCP on DEV forbids rewriting role trusts
        (CI, doc(deny("iam:UpdateAssumeRolePolicy")), {}),
        # twin: an SCP on DEV forbids every way of acting as a user
        (DEPLOYER, doc(deny(["iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"])), {}),
        # an SCP exemption for one caller: only that caller may, so the path is conditional
        (CI, doc(deny("iam:UpdateAssumeRolePolicy", Condition=PRINCIPAL_ARN_EXEMPT)),
         {"full-admin": True, "iam-admin": True, "escalator": True}),
        # twins: roles IAM does not let an administrator change
        (SSO_ROLE, None, {}),
        (SLR, None, {}),
    ],
    ids=["role", "user", "scp-denies-trust-rewrite", "scp-denies-credentials", "scp-exempts-one-caller",
         "identity-center-role", "service-linked-role"],
)
def test_account_admin_acts_as_any_principal_of_the_account(
    prod_trusts: str, dev_scp: Any, expected: dict[str, bool]
) -> None:
    g = build_access_graph(_takeover_estate(prod_trusts, dev_scp), ENVIRONMENTS)
    found = {}
    for path in g.paths_to_admin([PROD]):
        name = path.source.rsplit("/", 1)[-1]
        if name in DEV_USERS:
            assert path.nodes == (path.source, DEV, prod_trusts, PROD_DEPLOY, PROD)
            found[name] = path.conditional
    assert found == expected
