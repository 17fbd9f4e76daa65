"""Properties of the access graph on random small organisations (hypothesis):

* every can-assume edge, and every missing one, agrees with ``can()`` evaluated with nothing cached;
* path search returns, for every principal that reaches admin of an account, an unconditional path whenever
  the graph holds one of at most the hop limit, and every hop it returns is an edge of the graph.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from auditor.graph import build_access_graph
from auditor.graph.kinds import PATH_KINDS
from auditor.iam.evaluate import Evaluator
from auditor.model import Snapshot
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

ACCOUNTS = (DEV, PROD, SHARED)
NAMES = ("a", "b", "c")
MAX_HOPS = 5
CONDITIONS: tuple[dict[str, Any] | None, ...] = (
    None,
    None,
    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},  # undecided for users with a device: conditional
    {"StringEquals": {"aws:PrincipalOrgID": ORG_ID}},
    {"StringEquals": {"aws:PrincipalTag/team": "red"}},
)
ALL_ROLES = tuple(role_arn(a, n) for a in ACCOUNTS for n in NAMES)
ALL_USERS = tuple(user_arn(a, n) for a in ACCOUNTS for n in NAMES)

conditions = st.sampled_from(CONDITIONS)
identity_statement = st.one_of(
    st.builds(
        lambda r, c: allow("sts:AssumeRole", r, **({"Condition": c} if c else {})),
        st.sampled_from(ALL_ROLES),
        conditions,
    ),
    st.builds(lambda a: allow("sts:AssumeRole", f"arn:aws:iam::{a}:role/*"), st.sampled_from(ACCOUNTS)),
    st.just(allow("*")),
    st.just(allow("iam:*")),
    st.just(allow("s3:GetObject")),
    st.builds(lambda r: deny("sts:AssumeRole", r), st.sampled_from(ALL_ROLES)),
)
trusted = st.one_of(
    st.sampled_from(ACCOUNTS).map(root),
    st.just("*"),
    st.sampled_from(ALL_ROLES),
    st.sampled_from(ALL_USERS),
)


@st.composite
def organisations(draw: st.DrawFn) -> Snapshot:
    accounts = []
    for acct in ACCOUNTS:
        users = [
            user(
                acct,
                name,
                inline={"p": doc(*draw(st.lists(identity_statement, min_size=1, max_size=3)))},
                tags={"team": "red"} if draw(st.booleans()) else None,
            )
            for name in NAMES[: draw(st.integers(0, 2))]
        ]
        roles = [
            role(
                acct,
                name,
                trust(draw(trusted), condition=draw(conditions)),
                inline={"p": doc(*draw(st.lists(identity_statement, min_size=1, max_size=2)))},
            )
            for name in NAMES[: draw(st.integers(1, 3))]
        ]
        accounts.append(account(acct, users=users, roles=roles, policies=[aws_managed("AdministratorAccess", ADMIN)]))
    scps = []
    if draw(st.booleans()):  # non-production may not assume roles outside its own account
        outside = {"StringNotEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}
        scps.append(("no-assume-out", doc(deny("sts:AssumeRole", Condition=outside)), ["ou-ab12-nonp"]))
    return snapshot(*accounts, org=organization(scps=scps))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(organisations())
def test_graph_edges_agree_with_uncached_can(snap: Snapshot) -> None:
    g = build_access_graph(snap, ENVIRONMENTS)
    edges = {(e.source, e.target_role_arn): e for e in g.assume_edges()}
    callers = [p.arn for a in snap.accounts if a.iam for p in (*a.iam.users, *a.iam.roles)]
    targets = [r.arn for a in snap.accounts if a.iam for r in a.iam.roles]
    for caller in callers:
        for target in targets:
            if caller == target:
                continue
            decision = Evaluator(snap).can(caller, "sts:AssumeRole", target)
            edge = edges.get((caller, target))
            assert (edge is not None) is decision.allowed, (caller, target, decision.reason)
            if edge is not None:
                assert edge.conditional is decision.conditional, (caller, target)


def _short_conditional_and_long_unconditional() -> Snapshot:
    """A user may assume prod's admin role directly under MFA, or unconditionally through a shared role."""
    dev_user, shared_role, prod_role = user_arn(DEV, "a"), role_arn(SHARED, "a"), role_arn(PROD, "a")
    prod_trust = doc(
        {"Effect": "Allow", "Principal": {"AWS": dev_user}, "Action": "sts:AssumeRole", "Condition": CONDITIONS[2]},
        {"Effect": "Allow", "Principal": {"AWS": shared_role}, "Action": "sts:AssumeRole"},
    )
    return snapshot(
        account(DEV, users=[user(DEV, "a", inline={"p": doc(allow("sts:AssumeRole"))})]),
        account(
            SHARED, roles=[role(SHARED, "a", trust(dev_user), inline={"p": doc(allow("sts:AssumeRole", prod_role))})]
        ),
        account(
            PROD,
            roles=[role(PROD, "a", prod_trust, inline={"p": doc(allow("*"))})],
            policies=[aws_managed("AdministratorAccess", ADMIN)],
        ),
        org=organization(),
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(organisations())
@example(_short_conditional_and_long_unconditional())
def test_path_search_returns_an_unconditional_path_whenever_one_exists(snap: Snapshot) -> None:
    g = build_access_graph(snap, ENVIRONMENTS)
    reverse_any, reverse_unconditional = nx.DiGraph(), nx.DiGraph()
    for u, v, data in g.graph.edges(data=True):
        if data.get("kind") in PATH_KINDS:
            reverse_any.add_edge(v, u)
            if not data.get("conditional"):
                reverse_unconditional.add_edge(v, u)
    found = {(p.source, p.target_account_id): p for p in g.effective_admins(max_hops=MAX_HOPS)}
    for target in g.account_ids():
        any_distance = (
            nx.single_source_shortest_path_length(reverse_any, target, cutoff=MAX_HOPS) if target in reverse_any else {}
        )
        unconditional_distance = (
            nx.single_source_shortest_path_length(reverse_unconditional, target, cutoff=MAX_HOPS)
            if target in reverse_unconditional
            else {}
        )
        for source, distance in any_distance.items():
            if source == target or not g._is_source(source):
                continue
            path = found[(source, target)]
            if source in unconditional_distance:  # an unconditional way exists: the shortest of those
                assert (path.conditional, len(path.hops)) == (False, unconditional_distance[source]), path.nodes
            else:  # only conditional ways: the shortest of those
                assert (path.conditional, len(path.hops)) == (True, distance), path.nodes
        assert {s for s, t in found if t == target} == {s for s in any_distance if s != target and g._is_source(s)}
    for path in found.values():
        assert path.nodes[0] == path.source and path.nodes[-1] == path.target_account_id
        for hop in path.hops:
            assert any(d.get("kind") == hop.kind for d in g.graph.get_edge_data(hop.source, hop.target).values())
