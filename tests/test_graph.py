"""The access graph and its questions, on snapshots built in code."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.graph import AccessGraph, build_access_graph
from auditor.iam.evaluate import Evaluator
from auditor.model import Snapshot
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
    # org members whose own policies allow sts:AssumeRole on it (the admins); outsiders fail the OrgID check
    assert org_wide == {PROD_ADMIN, VENDOR}
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
    # plus "*" (anyone, conditional) on red-team and ops-only in each account
    assert len(edges) == 10 + 5 + 5 + 6
