"""Issue 12 §2: which controls hold. A trust naming a dev principal into a prod admin role, stopped by each
kind of guardrail; each fenced case beside its twin without the fence (a path, not a control)."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.graph import AccessGraph, Control, build_access_graph
from tests.iam_helpers import (
    ADMIN,
    DEV,
    ENVIRONMENTS,
    ORG_ID,
    PROD,
    account,
    allow,
    aws_managed,
    deny,
    doc,
    managed,
    organization,
    policy_arn,
    role,
    role_arn,
    root,
    snapshot,
    trust,
    user,
    user_arn,
)

ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
PROD_ADMIN = role_arn(PROD, "prod-admin")
DEV_CI = user_arn(DEV, "ci")
NONPROD_OU = "ou-ab12-nonp"
SCP_ARN = f"arn:aws:organizations::111111111111:policy/{ORG_ID}/scp/p-scp0"
FENCE = deny("sts:AssumeRole", f"arn:aws:iam::{PROD}:role/*")
BOUNDARY = policy_arn(DEV, "dev-boundary")
ASSUME = allow("sts:AssumeRole", PROD_ADMIN)


def _estate(
    *,
    scps: list[Any] | None = None,
    ci_inline: dict[str, Any] | None = None,
    boundary: dict[str, Any] | None = None,
    prod_trust: dict[str, Any] | None = None,
) -> AccessGraph:
    ci = user(DEV, "ci", inline=ci_inline or {"assume": doc(ASSUME)}, boundary=BOUNDARY if boundary else None)
    dev = account(DEV, users=[ci], policies=[managed(DEV, "dev-boundary", boundary)] if boundary else [])
    prod = account(
        PROD,
        roles=[role(PROD, "prod-admin", prod_trust or trust(DEV_CI), attached=[ADMIN_ARN], tags={"env": "prod"})],
        policies=[aws_managed("AdministratorAccess", ADMIN)],
    )
    return build_access_graph(snapshot(dev, prod, org=organization(scps=scps or [])), ENVIRONMENTS)


def _controls(g: AccessGraph) -> list[tuple[str, str, str | None, Any]]:
    return [(c.guardrail.kind, c.guardrail.ref, c.guardrail.attached_to, c.guardrail.statement) for c in g.controls()]


def _blocks(control: Control) -> list[tuple[tuple[str, ...], str, str, bool]]:
    return [(p.nodes, p.source_environment, p.target_environment, p.bypassed) for p in control.paths]


DEV_TO_PROD_ADMIN = ((DEV_CI, PROD_ADMIN, PROD), "non-prod", "prod", False)


def test_scp_on_the_dev_ou_is_a_control_and_its_twin_a_path() -> None:
    fenced = _estate(scps=[("no-prod", doc(FENCE), [NONPROD_OU])])
    assert [p.source for p in fenced.paths_to_admin([PROD])] == []
    [control] = fenced.controls()
    assert (control.guardrail.kind, control.guardrail.ref, control.guardrail.name) == ("scp", SCP_ARN, "no-prod")
    assert (control.guardrail.attached_to, control.guardrail.statement) == (NONPROD_OU, FENCE)
    assert control.guardrail.lifted_by == "organization"
    assert _blocks(control) == [DEV_TO_PROD_ADMIN]
    assert control.holds
    # the twin: the same trust without the SCP is a path to prod admin, and no control
    open_ = _estate()
    assert [p.nodes for p in open_.paths_to_admin([PROD])] == [(DEV_CI, PROD_ADMIN, PROD)]
    assert open_.controls() == []


BOUNDARY_DOC = doc(allow("s3:*"))
ORG_TRUST = trust(DEV_CI, condition={"StringEquals": {"aws:PrincipalOrgID": "o-otherorg"}})
TAGGED = allow("sts:AssumeRole", "*", Condition={"StringEquals": {"aws:ResourceAccount": DEV}})


@pytest.mark.parametrize(
    ("case", "kwargs", "expected"),
    [
        ("identity-deny", {"ci_inline": {"assume": doc(ASSUME), "fence": doc(FENCE)}},
         [("identity-deny", DEV_CI, DEV_CI, FENCE)]),
        ("permissions-boundary", {"boundary": BOUNDARY_DOC}, [("permissions-boundary", BOUNDARY, DEV_CI, None)]),
        ("trust-condition", {"prod_trust": ORG_TRUST},
         [("trust-condition", PROD_ADMIN, PROD_ADMIN, ORG_TRUST["Statement"][0])]),
        ("resource-deny", {"prod_trust": doc(trust(DEV_CI)["Statement"][0],
                                             {"Effect": "Deny", "Principal": {"AWS": root(DEV)},
                                              "Action": "sts:AssumeRole"})},
         [("resource-deny", PROD_ADMIN, PROD_ADMIN,
           {"Effect": "Deny", "Principal": {"AWS": root(DEV)}, "Action": "sts:AssumeRole"})]),
        ("missing-allow", {"ci_inline": {"tagged": doc(TAGGED)}}, [("missing-allow", DEV_CI, DEV_CI, TAGGED)]),
        ("scp-allow-list", {"scps": [("s3-only", doc(allow("s3:*")), [DEV])]},
         []),  # FullAWSAccess still allows at the account: the allow-list is not alone there (no control)
    ],
)
def test_each_kind_of_guardrail_is_named_with_its_statement(
    case: str, kwargs: dict[str, Any], expected: list[Any]
) -> None:
    g = _estate(**kwargs)
    assert _controls(g) == expected
    if expected:
        assert [p.source for p in g.paths_to_admin([PROD])] == []
        assert [_blocks(c) for c in g.controls()] == [[DEV_TO_PROD_ADMIN]]
    else:
        assert [p.source for p in g.paths_to_admin([PROD])] == [DEV_CI]


def test_scp_level_without_allow_names_the_level_and_its_policies() -> None:
    only_s3 = [("s3-only", doc(allow("s3:*")), [NONPROD_OU])]
    g = build_access_graph(
        snapshot(
            account(DEV, users=[user(DEV, "ci", inline={"assume": doc(ASSUME)})]),
            account(PROD, roles=[role(PROD, "prod-admin", trust(DEV_CI), attached=[ADMIN_ARN])],
                    policies=[aws_managed("AdministratorAccess", ADMIN)]),
            org=_without_full_access_on(NONPROD_OU, only_s3),
        ),
        ENVIRONMENTS,
    )
    [control] = g.controls()
    guardrail = control.guardrail
    assert (guardrail.kind, guardrail.ref, guardrail.attached_to) == ("scp", SCP_ARN, NONPROD_OU)
    assert control.guardrail.statement is None  # no statement allows: the level's policy is the evidence
    assert _blocks(control) == [DEV_TO_PROD_ADMIN]


def _without_full_access_on(target: str, scps: list[Any]) -> Any:
    org = organization(scps=scps)
    policies = tuple(
        p.model_copy(update={"target_ids": tuple(t for t in p.target_ids if t != target)})
        if p.id == "p-FullAWSAccess" else p
        for p in org.policies
    )
    return org.model_copy(update={"policies": policies})


def test_a_bypassed_control_does_not_hold() -> None:
    # the SCP fences prod-* roles only: the same user still reaches prod admin through the side door
    ci = user(DEV, "ci", inline={"assume": doc(ASSUME, allow("sts:AssumeRole", role_arn(PROD, "side-door")))})
    prod = account(
        PROD,
        roles=[
            role(PROD, "prod-admin", trust(DEV_CI), attached=[ADMIN_ARN]),
            role(PROD, "side-door", trust("*", condition={"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}),
                 attached=[ADMIN_ARN]),
        ],
        policies=[aws_managed("AdministratorAccess", ADMIN)],
    )
    scp_exempt = doc(deny("sts:AssumeRole", f"arn:aws:iam::{PROD}:role/prod-*"))
    g = build_access_graph(
        snapshot(account(DEV, users=[ci]), prod, org=organization(scps=[("no-prod", scp_exempt, [NONPROD_OU])])),
        ENVIRONMENTS,
    )
    [control] = [c for c in g.controls() if c.guardrail.kind == "scp"]
    assert [(p.nodes, p.bypassed) for p in control.paths] == [((DEV_CI, PROD_ADMIN, PROD), True)]
    assert not control.holds
