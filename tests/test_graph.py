"""The access graph and its questions, on snapshots built in code."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from auditor.graph import (
    AccessGraph,
    build_access_graph,
    permission_set_admin,
)
from auditor.iam.evaluate import Evaluator
from auditor.model import (
    AccountAssignment,
    IamRole,
    IdentityCenter,
    IdentityStoreGroup,
    IdentityStoreUser,
    PermissionSet,
    Snapshot,
)
from tests.iam_helpers import (
    ADMIN,
    DEV,
    ENVIRONMENTS,
    EXTERNAL,
    ORG_ID,
    PROD,
    SHARED,
    account,
    allow,
    aws_managed,
    deny,
    doc,
    group,
    managed,
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
DEV_USER = user_arn(DEV, "dev-user")
DEPLOYER = user_arn(DEV, "deployer")
VIEWER = user_arn(DEV, "viewer")
CI = role_arn(SHARED, "ci")
PROD_ADMIN = role_arn(PROD, "admin")
VENDOR = role_arn(PROD, "vendor")
WRITER = role_arn(PROD, "writer")
READER = role_arn(PROD, "reader")


def estate(dev_user_actions: Any = "sts:AssumeRole", scps: list[Any] | None = None) -> Snapshot:
    """dev-user (non-prod) -> ci (shared, non-prod) -> admin (prod); vendor trusted by an outside account."""
    dev = account(
        DEV,
        users=[
            user(DEV, "dev-user", inline={"assume-ci": doc(allow(dev_user_actions, CI))}),
            user(DEV, "deployer", inline={"assume-writer": doc(allow("sts:AssumeRole", WRITER))}),
            user(DEV, "viewer", inline={"assume": doc(allow("sts:AssumeRole", READER))}),
        ],
    )
    shared = account(
        SHARED,
        roles=[
            role(
                SHARED,
                "ci",
                trust(root(DEV)),
                inline={"assume-prod": doc(allow("sts:AssumeRole", PROD_ADMIN))},
            ),
        ],
    )
    prod = account(
        PROD,
        roles=[
            role(PROD, "admin", trust(CI), attached=[ADMIN_ARN]),
            role(
                PROD,
                "vendor",
                trust(root(EXTERNAL), condition={"StringEquals": {"sts:ExternalId": "v-123"}}),
                attached=[ADMIN_ARN],
            ),
            role(PROD, "writer", trust(root(DEV)), inline={"w": doc(allow("s3:PutObject", "arn:aws:s3:::b/*"))}),
            role(PROD, "reader", trust(root(DEV)), inline={"r": doc(allow("s3:GetObject", "arn:aws:s3:::b/*"))}),
            role(
                PROD,
                "org-wide",
                trust("*", condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}),
                inline={"r": doc(allow("s3:GetObject", "arn:aws:s3:::b/*"))},
            ),
        ],
        policies=[aws_managed("AdministratorAccess", ADMIN)],
    )
    return snapshot(dev, shared, prod, org=organization(scps=scps or []))


@pytest.fixture(scope="module")
def graph() -> AccessGraph:
    return build_access_graph(estate(), ENVIRONMENTS)


def test_two_hop_path_to_prod_admin_with_evidence_per_hop(graph: AccessGraph) -> None:
    paths = {p.source: p for p in graph.paths_to_admin([PROD])}
    path = paths[DEV_USER]
    assert path.nodes == (DEV_USER, CI, PROD_ADMIN, PROD)
    assert [h.kind for h in path.hops] == ["can-assume", "can-assume", "is-admin-of"]
    assert (path.source_environment, path.target_environment, path.conditional) == ("non-prod", "prod", False)
    first, second, last = path.hops
    assert first.evidence["identity_statement"] == allow("sts:AssumeRole", CI)
    assert first.evidence["trust_statement"]["Principal"] == {"AWS": root(DEV)}
    assert second.evidence["identity_statement"] == allow("sts:AssumeRole", PROD_ADMIN)
    assert second.evidence["trust_statement"]["Principal"] == {"AWS": CI}
    assert last.evidence["level"] == "full-admin"
    assert last.evidence["evidence"][0]["policy"] == ADMIN_ARN
    assert last.evidence["evidence"][0]["policy_kind"] == "aws-managed"


def test_paths_to_admin_one_per_source_shortest_first(graph: AccessGraph) -> None:
    paths = graph.paths_to_admin([PROD])
    assert [(p.source, len(p.hops)) for p in paths] == [(CI, 2), (root(EXTERNAL), 2), (DEV_USER, 3)]
    assert {p.source for p in paths}.isdisjoint({DEPLOYER, VIEWER, PROD_ADMIN, VENDOR})


def test_max_hops_limits_paths(graph: AccessGraph) -> None:
    assert {p.source for p in graph.paths_to_admin([PROD], max_hops=2)} == {CI, root(EXTERNAL)}


def test_external_trust(graph: AccessGraph) -> None:
    (edge,) = graph.external_assume_edges()
    assert (edge.source, edge.source_type, edge.target_role_arn) == (root(EXTERNAL), "account", VENDOR)
    assert (edge.in_organization, edge.source_account_id, edge.identity_statement) == (False, EXTERNAL, None)
    assert edge.decided_conditions == ("sts:ExternalId",)
    assert not edge.conditional


def test_assume_edges_represent_account_trust_and_concrete_principals(graph: AccessGraph) -> None:
    into_ci = {(e.source, e.source_type) for e in graph.assume_edges() if e.target_role_arn == CI}
    # deployer and viewer may not call sts:AssumeRole on ci, so only dev-user is concrete
    assert into_ci == {(root(DEV), "account"), (DEV_USER, "user")}
    org_wide = {e.source for e in graph.assume_edges() if e.target_role_arn == role_arn(PROD, "org-wide")}
    # org members whose own policies allow sts:AssumeRole on it (the admins), and every principal of its own
    # account ("*" names them directly: no identity permission needed); outsiders fail the OrgID check
    assert org_wide == {PROD_ADMIN, VENDOR, WRITER, READER}
    assert all(e.in_organization for e in graph.assume_edges() if e.source != root(EXTERNAL))


def test_admin_grants(graph: AccessGraph) -> None:
    grants = {(g.principal_arn, g.level) for g in graph.admin_grants()}
    assert grants == {(PROD_ADMIN, "full-admin"), (VENDOR, "full-admin")}


def test_reachability_matrix_counts(graph: AccessGraph) -> None:
    matrix = graph.reachability_matrix()
    assert matrix[("non-prod", PROD)] == {"admin": 2, "write": 3}  # dev-user, ci; + deployer for write
    assert matrix[("external", PROD)] == {"admin": 1, "write": 1}
    assert ("non-prod", DEV) not in matrix


def test_scp_on_callers_ou_denying_assume_role_cuts_the_path() -> None:
    g = build_access_graph(estate(scps=[("no-assume", doc(deny("sts:AssumeRole")), ["ou-ab12-nonp"])]), ENVIRONMENTS)
    assert {p.source for p in g.paths_to_admin([PROD])} == {root(EXTERNAL)}


def test_unknown_action_leaves_every_graph_conclusion_unchanged() -> None:
    def conclusions(g: AccessGraph) -> tuple[Any, ...]:
        return (
            sorted((p.source, p.nodes, p.conditional) for p in g.paths_to_admin()),
            sorted((e.source, e.target_role_arn, e.conditional) for e in g.assume_edges()),
            sorted((a.principal_arn, a.level) for a in g.admin_grants()),
            sorted(g.reachability_matrix().items()),
            sorted((p.source, p.nodes) for p in g.escalation_paths()),
        )

    plain = build_access_graph(estate(), ENVIRONMENTS)
    noisy = build_access_graph(estate(["codestar:CreateProject", "madeup:DoThing", "sts:AssumeRole"]), ENVIRONMENTS)
    assert conclusions(plain) == conclusions(noisy)
    unknown = {e.message.split("'")[1] for e in noisy.events if e.kind == "unknown-action"}
    assert unknown == {"madeup:DoThing"}  # codestar is still in the pinned catalogue


def test_single_account_snapshot() -> None:
    snap = snapshot(
        account(
            DEV,
            users=[user(DEV, "ops", groups=["admins"])],
            groups=[group(DEV, "admins", attached=[ADMIN_ARN])],
            roles=[role(DEV, "partner", trust(root(EXTERNAL)), attached=[ADMIN_ARN])],
            policies=[aws_managed("AdministratorAccess", ADMIN)],
        )
    )
    g = build_access_graph(snap, {DEV: "prod"})
    grants = {(a.principal_arn, a.principal_type) for a in g.admin_grants()}
    # ops is admin only through its group: reported on the group, yet ops is admin in the graph
    assert grants == {(f"arn:aws:iam::{DEV}:group/admins", "group"), (role_arn(DEV, "partner"), "role")}
    (ops_edge,) = [d for _, _, d in g.graph.out_edges(user_arn(DEV, "ops"), data=True) if d["kind"] == "is-admin-of"]
    assert ops_edge["evidence"].evidence[0].policy_kind == "group-managed"
    (edge,) = g.external_assume_edges()
    assert edge.source == root(EXTERNAL) and not edge.in_organization
    (path,) = g.paths_to_admin()
    assert (path.source, path.source_environment, path.target_environment) == (
        root(EXTERNAL),
        "external",
        "prod",
    )


@pytest.mark.parametrize(
    ("policy", "level", "services"),
    [
        (doc(allow("*")), "full-admin", ()),
        (doc(allow("iam:*")), "service-admin", ("iam",)),
        (doc(allow("s3:*")), "service-admin", ("s3",)),
    ],
)
def test_admin_levels(policy: dict[str, Any], level: str, services: tuple[str, ...]) -> None:
    snap = snapshot(account(DEV, roles=[role(DEV, "r", inline={"p": policy})]))
    (grant,) = build_access_graph(snap, {}).admin_grants()
    assert (grant.level, grant.services, grant.conditional) == (level, services, False)


@pytest.mark.parametrize(
    ("role_kwargs", "scps"),
    [
        ({"inline": {"p": doc(allow("*")), "d": doc(deny("iam:*"))}}, []),  # explicit deny
        ({"inline": {"p": doc(allow("*"))}, "boundary": f"arn:aws:iam::{PROD}:policy/b"}, []),  # boundary
        ({"inline": {"p": doc(allow("*"))}}, [("no-iam", doc(deny("iam:*")), ["ou-ab12-prod"])]),  # SCP
        ({"inline": {"p": doc(allow("*", "arn:aws:s3:::b/*"))}}, []),  # * on one bucket only
        ({"inline": {"p": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})}}, []),  # NotAction
    ],
    ids=["explicit-deny", "boundary", "scp", "resource-scoped", "not-action"],
)
def test_looks_admin_but_is_not(role_kwargs: dict[str, Any], scps: list[Any]) -> None:
    snap = snapshot(
        account(PROD, roles=[role(PROD, "r", **role_kwargs)], policies=[managed(PROD, "b", doc(allow("s3:*")))]),
        org=organization(scps=scps),
    )
    g = build_access_graph(snap, ENVIRONMENTS)
    assert [(a.level, a.services) for a in g.admin_grants() if a.level == "full-admin" or "iam" in a.services] == []
    assert not any(d.get("kind") == "is-admin-of" for _, _, d in g.graph.edges(data=True))


def test_conditional_admin_is_flagged() -> None:
    snap = snapshot(
        account(
            DEV,
            roles=[
                role(
                    DEV,
                    "r",
                    inline={"p": doc(allow("*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}))},
                )
            ],
        )
    )
    (grant,) = build_access_graph(snap, {}).admin_grants()
    assert grant.conditional and grant.undecided_conditions == ("aws:SourceIp",)


# --- decisions shared between callers of one class -------------------------------------------------
# Admins in three accounts hold the same AWS managed policy (one caller class); org-wide trusts differ by
# condition; an SCP on NonProd stops assuming out of the account. Each pair must still get its own answer.
CROSS_SCP = doc(
    deny("sts:AssumeRole", Condition={"StringNotEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}})
)
ORG_WIDE_TRUSTS = {
    "org-any": {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}},
    "red-team": {"StringEquals": {"aws:PrincipalTag/team": "red"}},
    "ops-only": {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/ops-*"}},
}


def shared_class_estate() -> Snapshot:
    def acct(account_id: str) -> Any:
        return account(
            account_id,
            users=[
                user(account_id, "ops-admin", attached=[ADMIN_ARN], tags={"team": "red"}),
                user(account_id, "admin", attached=[ADMIN_ARN]),
            ],
            roles=[role(account_id, name, trust("*", condition=cond)) for name, cond in ORG_WIDE_TRUSTS.items()],
            policies=[aws_managed("AdministratorAccess", ADMIN)],
        )

    org = organization(scps=[("no-assume-out", CROSS_SCP, ["ou-ab12-nonp"])])
    return snapshot(acct(DEV), acct(SHARED), acct(PROD), org=org)


@pytest.mark.parametrize(
    ("caller", "target", "expected"),
    [
        (user_arn(PROD, "admin"), role_arn(DEV, "org-any"), True),  # prod is not under the SCP
        (user_arn(DEV, "admin"), role_arn(PROD, "org-any"), False),  # the SCP stops dev assuming out
        (user_arn(DEV, "admin"), role_arn(DEV, "org-any"), True),  # ... but not within its account
        (user_arn(PROD, "ops-admin"), role_arn(SHARED, "red-team"), True),
        (user_arn(PROD, "admin"), role_arn(SHARED, "red-team"), False),  # same class, no tag
        (user_arn(PROD, "ops-admin"), role_arn(DEV, "ops-only"), True),
        (user_arn(PROD, "admin"), role_arn(DEV, "ops-only"), False),  # same class, other name
    ],
)
def test_org_wide_trust_answers_each_caller_of_a_class(caller: str, target: str, expected: bool) -> None:
    g = build_access_graph(shared_class_estate(), ENVIRONMENTS)
    assert ((caller, target) in {(e.source, e.target_role_arn) for e in g.assume_edges()}) is expected


def test_shared_decisions_equal_fresh_evaluations() -> None:
    """Every can-assume edge (and every missing one) matches an evaluation made with nothing cached."""
    snap = shared_class_estate()
    g = build_access_graph(snap, ENVIRONMENTS)
    edges = {(e.source, e.target_role_arn): e for e in g.assume_edges()}
    callers = [u.arn for a in snap.accounts if a.iam for u in a.iam.users]
    targets = [r.arn for a in snap.accounts if a.iam for r in a.iam.roles]
    for caller in callers:
        for target in targets:
            decision = Evaluator(snap).can(caller, "sts:AssumeRole", target)
            edge = edges.get((caller, target))
            assert (edge is not None) is decision.allowed, (caller, target)
            if edge is not None:
                assert edge.conditional is decision.conditional
                assert edge.decided_conditions == decision.decided_conditions
                assert edge.undecided_conditions == decision.undecided_conditions
    # org-any: prod's 2 users x 3 accounts + 2 + 2 at home; red-team, ops-only: prod's ops-admin x 3 + 1 + 1 each;
    # plus "*" (anyone, conditional) on red-team and ops-only in each account; plus, at home, the red-team and
    # ops-only roles into org-any ("*" names them directly, no identity permission needed)
    assert len(edges) == 10 + 5 + 5 + 6 + 6


# --- IAM Identity Center ----------------------------------------------------------------------------------

IC_STORE = "d-9067000000"
IC_INSTANCE = "arn:aws:sso:::instance/ssoins-0000000000000000"
PS_ADMIN = "arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-admin"
PS_READ = "arn:aws:sso:::permissionSet/ssoins-0000000000000000/ps-read"
ALICE = f"identitystore:{IC_STORE}:user/u-alice"
BOB = f"identitystore:{IC_STORE}:user/u-bob"
CAROL = f"identitystore:{IC_STORE}:user/u-carol"
ENGINEERS = f"identitystore:{IC_STORE}:group/g-engineers"


def _ic_assign(account_id: str, permission_set: str, principal: str) -> AccountAssignment:
    kind: Literal["USER", "GROUP"] = "GROUP" if principal.startswith("g-") else "USER"
    return AccountAssignment(
        account_id=account_id, permission_set_arn=permission_set, principal_type=kind, principal_id=principal
    )


def _ic_center(*assignments: AccountAssignment) -> IdentityCenter:
    return IdentityCenter(
        instance_arn=IC_INSTANCE,
        identity_store_id=IC_STORE,
        permission_sets=(
            PermissionSet(arn=PS_ADMIN, name="Admin", session_duration="PT8H", managed_policy_arns=(ADMIN_ARN,)),
            PermissionSet(
                arn=PS_READ,
                name="ReadOnly",
                managed_policy_arns=("arn:aws:iam::aws:policy/ReadOnlyAccess",),
                inline_policy=doc(allow(["s3:GetObject", "ec2:Describe*"])),
            ),
        ),
        assignments=assignments,
        users=(
            IdentityStoreUser(user_id="u-alice", user_name="alice"),
            IdentityStoreUser(user_id="u-bob", user_name="bob"),
            IdentityStoreUser(user_id="u-carol", user_name="carol"),
        ),
        groups=(
            IdentityStoreGroup(group_id="g-engineers", display_name="engineers", member_user_ids=("u-alice", "u-bob")),
        ),
    )


def _with_center(snap: Snapshot, center: IdentityCenter) -> Snapshot:
    assert snap.organization is not None
    return snap.model_copy(update={"organization": snap.organization.model_copy(update={"identity_center": center})})


ADMIN_ON_PROD = (_ic_assign(PROD, PS_ADMIN, "g-engineers"), _ic_assign(DEV, PS_READ, "g-engineers"))
READ_ONLY_ONLY = (_ic_assign(PROD, PS_READ, "g-engineers"), _ic_assign(DEV, PS_READ, "g-engineers"))


def test_identity_center_group_with_admin_permission_set_on_prod() -> None:
    g = build_access_graph(_with_center(estate(), _ic_center(*ADMIN_ON_PROD)), ENVIRONMENTS)
    paths = g.identity_center_access()
    assert {(p.source, p.target_account_id) for p in paths} == {(ALICE, PROD), (BOB, PROD)}
    assert g.identity_center_access([DEV]) == []
    alice = next(p for p in paths if p.source == ALICE)
    assert alice.nodes == (ALICE, ENGINEERS, PS_ADMIN, PROD)
    assert [h.kind for h in alice.hops] == ["member-of", "assigned", "is-admin-of"]
    assert (alice.source_account_id, alice.source_environment) == (None, "identity-center")
    assert (alice.target_environment, alice.conditional) == ("prod", False)
    member_of, assigned, admin = alice.hops
    assert (member_of.evidence["user_name"], member_of.evidence["group_name"]) == ("alice", "engineers")
    assert assigned.evidence["account_id"] == PROD
    assert assigned.evidence["principal_type"] == "GROUP"
    assert admin.evidence["admin_through"] == [f"AWS managed policy {ADMIN_ARN}"]
    assert admin.evidence["permission_set_name"] == "Admin"
    assert g.graph.nodes[ALICE]["label"] == "alice"
    # the read-only set on dev is access, not admin
    assert [k for _, _, k in g.graph.out_edges(PS_READ, keys=True)] == ["can-access"]


def test_identity_center_read_only_permission_set_reaches_no_admin() -> None:
    g = build_access_graph(_with_center(estate(), _ic_center(*READ_ONLY_ONLY)), ENVIRONMENTS)
    assert g.identity_center_access() == []
    assert g.identity_center_access([PROD, DEV]) == []


def test_identity_center_assignment_counts_only_on_its_own_account() -> None:
    """Admin on dev for the group and admin on prod for carol alone: the group's members are not prod admins."""
    center = _ic_center(_ic_assign(DEV, PS_ADMIN, "g-engineers"), _ic_assign(PROD, PS_ADMIN, "u-carol"))
    g = build_access_graph(_with_center(estate(), center), ENVIRONMENTS)
    found = {(p.source, p.target_account_id): [h.kind for h in p.hops] for p in g.identity_center_access()}
    assert found == {
        (CAROL, PROD): ["assigned", "is-admin-of"],
        (ALICE, DEV): ["member-of", "assigned", "is-admin-of"],
        (BOB, DEV): ["member-of", "assigned", "is-admin-of"],
    }


def test_identity_center_does_not_change_the_other_questions() -> None:
    plain = build_access_graph(estate(), ENVIRONMENTS)
    with_ic = build_access_graph(_with_center(estate(), _ic_center(*ADMIN_ON_PROD)), ENVIRONMENTS)
    assert plain.identity_center_access() == []
    assert with_ic.paths_to_admin() == plain.paths_to_admin()
    assert with_ic.reachability_matrix() == plain.reachability_matrix()
    assert with_ic.escalation_paths() == plain.escalation_paths()
    assert with_ic.admin_grants() == plain.admin_grants()
    assert with_ic.assume_edges() == plain.assume_edges()
    assert with_ic.external_assume_edges() == plain.external_assume_edges()
    assert with_ic.escalation_edges() == plain.escalation_edges()


def _sso_role(account_id: str, name: str, attached: list[str]) -> IamRole:
    return role(
        account_id,
        name,
        trust(
            {"Federated": f"arn:aws:iam::{account_id}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE"},
            action="sts:AssumeRoleWithSAML",
        ),
        attached=attached,
        path="/aws-reserved/sso.amazonaws.com/",
    )


def test_identity_center_reuses_the_provisioned_role() -> None:
    """With the AWSReservedSSO role in the account's IAM data, the path goes through the role's own power."""
    prod = account(
        PROD,
        roles=[
            _sso_role(PROD, "AWSReservedSSO_Admin_0123456789abcdef", [ADMIN_ARN]),
            _sso_role(PROD, "AWSReservedSSO_ReadOnly_fedcba9876543210", []),
            # another permission set whose name starts with "Admin_": not the Admin set's role
            _sso_role(PROD, "AWSReservedSSO_Admin_Extra_0123456789abcdef", [ADMIN_ARN]),
        ],
        policies=[aws_managed("AdministratorAccess", ADMIN)],
    )
    snap = _with_center(snapshot(account(DEV), prod, org=organization()), _ic_center(*ADMIN_ON_PROD))
    g = build_access_graph(snap, ENVIRONMENTS)
    sso_admin = role_arn(PROD, "AWSReservedSSO_Admin_0123456789abcdef")
    paths = g.identity_center_access([PROD])
    assert {p.source for p in paths} == {ALICE, BOB}
    bob = next(p for p in paths if p.source == BOB)
    assert bob.nodes == (BOB, ENGINEERS, PS_ADMIN, sso_admin, PROD)
    assert [h.kind for h in bob.hops] == ["member-of", "assigned", "provisions", "is-admin-of"]
    assert bob.hops[2].evidence["role_arn"] == sso_admin
    assert bob.hops[3].evidence["level"] == "full-admin"
    # the role, not the permission set, is what administers the account
    assert [(v, d["kind"]) for _, v, d in g.graph.out_edges(PS_ADMIN, data=True)] == [(sso_admin, "provisions")]
    # the same set with its role holding only read access: no admin, whatever the permission set says
    weak = account(PROD, roles=[_sso_role(PROD, "AWSReservedSSO_Admin_0123456789abcdef", [])])
    snap = _with_center(snapshot(account(DEV), weak, org=organization()), _ic_center(*ADMIN_ON_PROD))
    assert build_access_graph(snap, ENVIRONMENTS).identity_center_access() == []


def test_permission_set_admin_test_on_the_identity_center_fixtures() -> None:
    """The one admin test that ADMIN-006 and the graph share."""
    from tests.rules.test_identity_center import PERMISSION_SETS
    from tests.rules.test_identity_center import PROD as IC_PROD
    from tests.rules.test_identity_center import _snapshot as ic_snapshot

    snap = ic_snapshot(None)
    evaluator = Evaluator(snap)
    admins = [p.name for p in PERMISSION_SETS if permission_set_admin(evaluator, p, IC_PROD) is not None]
    # BoundedAdmin: AdministratorAccess under a PowerUserAccess boundary is no administrator
    assert admins == [
        "AdministratorAccess",
        "InlineAdmin",
        "CustomAdmin",
        "IAMFull",
        "OpenBoundaryAdmin",
        "UserFactory",
    ]
