"""The decisions the graph reuses (evaluator memo, caller classes) agree with uncached ``can()`` on seeded random
organisations whose trusts, identity policies and SCPs read the caller's picks (MFA channel, region), policy
variables, tags and principal ARNs. Seeded, so reproducible; small, so fast."""

from __future__ import annotations

import random
from typing import Any

import pytest

from auditor.graph import build_access_graph
from auditor.iam.decide import can
from auditor.iam.evaluate import Evaluator, RequestContext
from auditor.model import Snapshot
from tests.iam_helpers import (
    DEV,
    PROD,
    ROOT_ID,
    SHARED,
    account,
    allow,
    deny,
    doc,
    mfa_row,
    organization,
    role,
    role_arn,
    root,
    snapshot,
    user,
    user_arn,
)

ACCTS = [DEV, PROD, SHARED]
CONDS = [
    None,
    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    {"Null": {"aws:MultiFactorAuthPresent": "true"}},
    {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
    {"StringEquals": {"aws:PrincipalTag/team": "ops"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/a*"}},
    {"StringLike": {"aws:username": "a*"}},
    {"StringLike": {"aws:UserAgent": "*cli*"}},
]
DENIES = [
    None,
    {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
    {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}},
    {"StringNotLike": {"aws:UserAgent": "*cli*"}},
]


def world(rng: random.Random) -> Snapshot:
    accounts = []
    for a in ACCTS:
        users, roles, rows = [], [], []
        for i in range(rng.randint(1, 3)):
            name = rng.choice(["alice", "bob", "ann", "carl"]) + str(i)
            res = rng.choice(
                ["*", "arn:aws:iam::*:role/r*", "arn:aws:iam::*:role/${aws:username}*", role_arn(PROD, "r0")]
            )
            st = [allow("sts:AssumeRole", res)]
            d = rng.choice(DENIES)
            if d:
                st.append(deny("sts:AssumeRole", Condition=d))
            users.append(user(a, name, inline={"p": doc(*st)}, tags={"team": rng.choice(["ops", "dev"])}))
            mfa_device = rng.choice([True, False, None])
            if mfa_device is not None:
                rows.append(mfa_row(a, name, mfa_device))
        for i in range(rng.randint(1, 3)):
            principal = rng.choice([root(rng.choice(ACCTS)), "*", user_arn(rng.choice(ACCTS), "alice0")])
            c = rng.choice(CONDS)
            st: dict[str, Any] = {
                "Effect": "Allow",
                "Principal": {"AWS": principal} if principal != "*" else "*",
                "Action": "sts:AssumeRole",
            }
            if c:
                st["Condition"] = c
            pol = (
                {"p": doc(allow("sts:AssumeRole", rng.choice(["*", "arn:aws:iam::*:role/r*"])))}
                if rng.random() < 0.5
                else None
            )
            roles.append(role(a, f"r{i}", doc(st), inline=pol, tags={"team": rng.choice(["ops", "dev"])}))
        accounts.append(account(a, users=users, roles=roles, credential_report=rows or None))
    scps: list[tuple[str, dict[str, Any], list[str]]] = []
    if rng.random() < 0.4:
        scps.append(("lock", doc(deny("*", Condition=rng.choice(DENIES[1:]))), [rng.choice([ROOT_ID, "ou-ab12-nonp"])]))
    return snapshot(*accounts, org=organization(scps=scps))


@pytest.mark.parametrize("seed", range(40))
def test_graph_assume_edges_agree_with_uncached_can(seed: int) -> None:
    snap = world(random.Random(seed))
    graph = build_access_graph(snap, {a: "prod" for a in ACCTS})
    edges = {(e.source, e.target_role_arn): e.conditional for e in graph.assume_edges()}
    evaluator = Evaluator(snap)
    for source in [*evaluator.users, *evaluator.roles]:
        principal = evaluator.principal(source)
        assert principal is not None
        for target in evaluator.roles:
            if source == target:
                continue
            res = evaluator.resource(target)
            assert res.owner_account is not None
            conditions = evaluator.condition_context(principal).merged(evaluator.resource_facts(res.owner_account))
            uncached = RequestContext(
                conditions, evaluator.scp_levels(principal.account_id), evaluator.rcp_levels(res.owner_account)
            )
            decision = can(principal, "sts:AssumeRole", res, uncached)
            expected = decision.conditional if decision.allowed else None
            assert edges.get((source, target)) == expected, (source, target, decision)
