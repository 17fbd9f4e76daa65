"""Issue 12 §4: the words of a drawn path (auditor.report.chains) and the organisation picture's SVG
(auditor.report.org_picture): what each box and arrow says, which edges are drawn and how, and that hostile
names stay text in well-formed SVG."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from auditor.graph import build_access_graph
from auditor.report.chains import arrow_of, blocked_chain, node_of, path_chain, with_chains
from auditor.report.org_picture import (
    MAX_EDGES,
    SHOW_ALL_ACCOUNTS,
    LinkKind,
    PlanCut,
    organisation_picture,
)
from auditor.result import AccountView
from tests.iam_helpers import (
    ADMIN,
    DEV,
    ENVIRONMENTS,
    EXTERNAL,
    PROD,
    account,
    allow,
    aws_managed,
    deny,
    doc,
    organization,
    role,
    role_arn,
    snapshot,
    trust,
    user,
    user_arn,
)

SVG = "{http://www.w3.org/2000/svg}"
SANDBOX = "666666666666"
ENVS = {DEV: "non-prod", PROD: "prod", SANDBOX: "sandbox"}
ADMIN_ROLE = role_arn(PROD, "prod-admin")
CI = user_arn(DEV, "ci")


def _trust_hop(source: str, target: str, sid: str | None = None, **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": source}, "Action": "sts:AssumeRole"}
    if sid:
        statement["Sid"] = sid
    evidence = {"trust_statement": statement, "identity_statement": None, "action": "sts:AssumeRole",
                "conditional": False, **extra}
    return {"source": source, "target": target, "kind": "can-assume", "evidence": evidence}


def _admin_hop(principal: str, account_id: str, policy: str, kind: str, sid: str | None = None,
               level: str = "full-admin", services: tuple[str, ...] = ()) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    if sid:
        statement["Sid"] = sid
    return {"source": principal, "target": account_id, "kind": "is-admin-of",
            "evidence": {"level": level, "services": list(services), "conditional": False,
                         "evidence": [{"policy": policy, "policy_kind": kind, "statement": statement}]}}


# --- arrows: the permission and the statement of each hop ---------------------------------------------------------

ARROWS = [
    ("trust with a Sid", _trust_hop(CI, ADMIN_ROLE, "AllowCi"), ("sts:AssumeRole", "trust policy, Sid AllowCi", False)),
    ("trust without a Sid", _trust_hop(CI, ADMIN_ROLE), ("sts:AssumeRole", "trust policy", False)),
    ("conditional trust, tagging action", _trust_hop(CI, ADMIN_ROLE, conditional=True, action="sts:TagSession"),
     ("sts:TagSession", "trust policy", True)),
    ("trust and the caller's identity Sid",
     _trust_hop(CI, ADMIN_ROLE, "T", identity_statement={"Sid": "MayAssume", "Effect": "Allow"}),
     ("sts:AssumeRole", "trust policy, Sid T; identity Sid MayAssume", False)),
    ("aws-managed admin grant", _admin_hop(ADMIN_ROLE, PROD, "arn:aws:iam::aws:policy/AdministratorAccess",
                                           "aws-managed"),
     ("full-admin", "AdministratorAccess (aws-managed)", False)),
    ("inline grant with a Sid", _admin_hop(ADMIN_ROLE, PROD, "ops", "inline", sid="All"),
     ("full-admin", "ops (inline), Sid All", False)),
    ("admin of IAM through a group", _admin_hop(ADMIN_ROLE, PROD, "iam-admins", "group-inline", level="service-admin",
                                                services=("iam",)),
     ("service-admin (iam:*)", "iam-admins (group inline)", False)),
    ("escalation technique", {"source": CI, "target": ADMIN_ROLE, "kind": "can-escalate-to", "evidence": {
        "technique_id": "iam-passrole-ec2", "technique_name": "iam:PassRole + ec2:RunInstances", "conditional": False,
        "statements": [{"policy": f"arn:aws:iam::{DEV}:policy/ci-deploy", "policy_kind": "managed",
                        "statement": {"Sid": "Run"}},
                       {"policy": "pass", "policy_kind": "inline", "statement": {}}]}},
     ("iam:PassRole + ec2:RunInstances", "ci-deploy (managed), Sid Run (+1 more)", False)),
    ("administrator of an account controls its root", {"source": DEV, "target": f"arn:aws:iam::{DEV}:root",
                                                       "kind": "controls", "evidence": {"conditional": False}},
     ("administers its account root", "trusts naming the account", False)),
]


@pytest.mark.parametrize(("hop", "expected"), [(h, e) for _, h, e in ARROWS], ids=[n for n, _, _ in ARROWS])
def test_arrow_says_the_permission_and_the_statement(hop: dict[str, Any], expected: tuple[str, str, bool]) -> None:
    arrow = arrow_of(hop)
    assert (arrow.permission, arrow.statement, arrow.conditional) == expected
    assert arrow.kind == hop["kind"] and arrow.blocked_by is None


def test_long_statement_names_are_cut_with_an_ellipsis() -> None:
    arrow = arrow_of(_admin_hop(ADMIN_ROLE, PROD, "p" * 200, "inline"))
    assert len(arrow.statement) == 60 and arrow.statement.endswith("…")


# --- boxes: the principal's name, its account and environment --------------------------------------------------

NODES = [
    (CI, False, None, ("ci", "user", DEV, "non-prod")),
    (role_arn(PROD, "team/deploy/prod-admin"), False, None, ("prod-admin", "role", PROD, "prod")),
    (f"arn:aws:iam::{SANDBOX}:root", False, None, ("account root (its principals)", "account-root", SANDBOX,
                                                    "sandbox")),
    (f"arn:aws:iam::{EXTERNAL}:role/vendor", False, None, ("vendor", "role", EXTERNAL, "external")),
    (PROD, True, "prod", ("administrator", "administrator", PROD, "prod")),
    ("*", False, None, ("anyone", "anyone", None, "external")),
    ("ec2.amazonaws.com", False, None, ("ec2.amazonaws.com", "service", None, "external")),
    (f"arn:aws:iam::{DEV}:saml-provider/okta", False, None, ("okta", "federated", DEV, "non-prod")),
    (CI, False, "identity-center", ("ci", "user", DEV, "identity-center")),  # the path's own answer wins
]


@pytest.mark.parametrize(("node", "last", "environment", "expected"), NODES, ids=[str(n[3][:2]) for n in NODES])
def test_box_names_the_principal_its_account_and_environment(
    node: str, last: bool, environment: str | None, expected: tuple[str, str, str | None, str]
) -> None:
    box = node_of(node, ENVS, is_last=last, environment=environment)
    assert (box.label, box.kind, box.account_id, box.environment) == expected
    assert box.id == node


# --- whole chains -------------------------------------------------------------------------------------------------

EXAMPLE = {
    "source": CI, "source_account_id": DEV, "source_environment": "non-prod",
    "target_account_id": PROD, "target_environment": "prod", "conditional": False,
    "hops": [_trust_hop(CI, ADMIN_ROLE, "AllowCi"),
             _admin_hop(ADMIN_ROLE, PROD, "arn:aws:iam::aws:policy/AdministratorAccess", "aws-managed")],
}


def test_example_path_chain_marks_its_root_cause_hop() -> None:
    chain = path_chain(EXAMPLE, ENVS, root_cause=(CI, ADMIN_ROLE))
    assert [(n.label, n.environment) for n in chain.nodes] == [
        ("ci", "non-prod"), ("prod-admin", "prod"), ("administrator", "prod")]
    assert [(a.permission, a.root_cause) for a in chain.arrows] == [("sts:AssumeRole", True), ("full-admin", False)]
    twin = path_chain(EXAMPLE, ENVS, root_cause=(ADMIN_ROLE, PROD))
    assert [a.root_cause for a in twin.arrows] == [False, True]
    assert path_chain({**EXAMPLE, "hops": []}, ENVS).nodes == ()


def test_blocked_chain_starts_with_the_refused_hop_and_its_control() -> None:
    blocked = {"source": CI, "source_environment": "non-prod", "role_arn": ADMIN_ROLE, "target_account_id": PROD,
               "target_environment": "prod", "action": "sts:AssumeRole",
               "trust_statement": {"Sid": "AllowCi", "Effect": "Allow"},
               "hops": [_admin_hop(ADMIN_ROLE, PROD, "ops", "inline")]}
    chain = blocked_chain(blocked, "no-prod", ENVS)
    assert [n.id for n in chain.nodes] == [CI, ADMIN_ROLE, PROD]
    assert [(a.permission, a.statement, a.blocked_by) for a in chain.arrows] == [
        ("sts:AssumeRole", "trust policy, Sid AllowCi", "no-prod"), ("full-admin", "ops (inline)", None)]
    assert chain.to_json()["arrows"][1] == {"permission": "full-admin", "statement": "ops (inline)",
                                            "kind": "is-admin-of"}


def test_with_chains_annotates_a_copy_and_leaves_other_findings_alone() -> None:
    finding = {"id": "f1", "root_cause": {"source": CI, "target": ADMIN_ROLE}, "example_paths": [EXAMPLE]}
    plain = {"id": "f2", "evidence": {}}
    document = {"accounts": [{"id": i, "environment": e} for i, e in ENVS.items()], "findings": [finding, plain],
                "suppressed_findings": [], "controls": []}
    before = copy.deepcopy(document)
    out = with_chains(document)
    assert document == before
    assert out["findings"][1] is plain
    [annotated] = out["findings"][0]["example_paths"]
    assert annotated["chain"] == path_chain(EXAMPLE, ENVS, (CI, ADMIN_ROLE)).to_json()
    assert {k: v for k, v in annotated.items() if k != "chain"} == EXAMPLE


# --- the organisation picture -------------------------------------------------------------------------------------


def _account(account_id: str, name: str, environment: str) -> AccountView:
    return AccountView(account_id, name, "/Root", environment, "config", True)


ACCOUNTS = [_account(DEV, "dev-app", "non-prod"), _account(PROD, "prod-app", "prod"),
            _account(SANDBOX, "sandbox", "sandbox")]


def _finding(finding_id: str, source: str, target: str, severity: str = "critical",
             principals: int = 1) -> dict[str, Any]:
    return {"id": finding_id, "rule_id": "XENV-002", "severity": severity,
            "root_cause": {"kind": "trust", "source": source, "target": target},
            "blast_radius": {"principals": principals}}


def _edges(picture: Any) -> list[tuple[str, str, str, int]]:
    return sorted((e.source, e.target, str(e.kind), e.count) for e in picture.edges)


def test_root_causes_between_accounts_are_edges_inside_one_account_counts() -> None:
    findings = [
        _finding("a", CI, ADMIN_ROLE, principals=3),
        _finding("b", user_arn(DEV, "bob"), role_arn(PROD, "other"), "high"),
        _finding("c", user_arn(PROD, "ops"), PROD),  # an admin grant inside prod
        {"id": "d", "rule_id": "IAM-001", "severity": "high"},  # not a reachability finding: no root cause
    ]
    picture = organisation_picture(ACCOUNTS, findings)
    assert _edges(picture) == [(DEV, PROD, "root-cause", 2)]
    [edge] = picture.edges
    assert edge.severity == "critical" and edge.labels == ["XENV-002 trust ci → prod-admin: 3 principal(s)",
                                                          "XENV-002 trust bob → other: 1 principal(s)"]
    inside = {b.key: b.inside for b in picture.boxes}
    assert inside[PROD] == [f"root-cause: XENV-002 trust ops → {PROD}: 1 principal(s)"] and inside[DEV] == []
    assert "1 inside" in picture.svg


def test_plan_cuts_mark_the_root_causes_they_remove_and_draw_other_cuts() -> None:
    findings = [_finding("a", CI, ADMIN_ROLE), _finding("b", f"arn:aws:iam::{SANDBOX}:user/x", ADMIN_ROLE),
                _finding("c", user_arn(DEV, "bob"), role_arn(PROD, "other"))]
    cuts = [PlanCut(1, ((CI, ADMIN_ROLE),)),  # by the root cause's own edge
            PlanCut(2, (), closes=("b",)),  # by the finding it closes
            PlanCut(3, ((f"arn:aws:iam::{SANDBOX}:role/hop", role_arn(DEV, "jump")),))]  # an edge no finding names
    picture = organisation_picture(ACCOUNTS, findings, cuts=cuts)
    assert _edges(picture) == [(DEV, PROD, "cut", 1), (DEV, PROD, "root-cause", 1), (SANDBOX, PROD, "cut", 1),
                               (SANDBOX, DEV, "cut", 1)]
    labels = {(e.source, e.target, str(e.kind)): e.labels for e in picture.edges}
    assert labels[(DEV, PROD, "cut")] == ["XENV-002 trust ci → prod-admin: 1 principal(s); plan step 1"]
    assert labels[(SANDBOX, PROD, "cut")] == ["XENV-002 trust x → prod-admin: 1 principal(s); plan step 2"]
    assert labels[(SANDBOX, DEV, "cut")] == ["plan step 3"]
    assert [e.kind for e in picture.edges][:1] == [LinkKind.CUT]  # cuts first (drawn on top)


def _fenced_graph(bypass: bool) -> Any:
    """Dev user ci named by prod-admin's trust; an SCP on the dev account denies it. The bypassed twin also lets
    ci in through a second, unfenced role trust chain (an open path to the same admin)."""
    ci = user(DEV, "ci", inline={"assume": doc(allow("sts:AssumeRole", "*"))})
    roles = [role(PROD, "prod-admin", trust(CI), attached=["arn:aws:iam::aws:policy/AdministratorAccess"])]
    if bypass:
        roles.append(role(PROD, "side-door", trust(CI), attached=["arn:aws:iam::aws:policy/AdministratorAccess"]))
    fence = deny("sts:AssumeRole", ADMIN_ROLE)
    prod = account(PROD, roles=roles, policies=[aws_managed("AdministratorAccess", ADMIN)])
    org = organization(scps=[("no-prod", doc(fence), [DEV])])
    return build_access_graph(snapshot(account(DEV, users=[ci]), prod, org=org), ENVIRONMENTS)


@pytest.mark.parametrize(("bypass", "kind"), [(False, "blocked"), (True, "bypassed")])
def test_refused_trusts_are_edges_with_the_control_that_blocks_them(bypass: bool, kind: str) -> None:
    controls = _fenced_graph(bypass).controls()
    assert [c.holds for c in controls] == [not bypass]
    picture = organisation_picture(ACCOUNTS, [], controls)
    assert _edges(picture) == [(DEV, PROD, kind, 1)]
    assert picture.edges[0].labels == ["scp no-prod"]


def test_hostile_names_stay_text_in_well_formed_svg() -> None:
    hostile = '</svg><script>x</script>'
    arn = f"arn:aws:iam::{EXTERNAL}:role/\"'><img src=x>"
    accounts = [_account(DEV, hostile, "non-prod"), _account(PROD, "prod\" onload=\"x", "prod")]
    picture = organisation_picture(accounts, [_finding("a", CI, ADMIN_ROLE), _finding("b", arn, ADMIN_ROLE)])
    svg = str(picture.svg)
    assert "<script" not in svg and "<img" not in svg and 'onload="' not in svg
    root = ET.fromstring(svg)  # well-formed: nothing ended an element early
    names = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "org-name"]
    assert hostile in names and "prod\" onload=\"x" in names
    titles = "".join(t.text or "" for t in root.iter(f"{SVG}title"))
    assert "\"'><img src=x> → prod-admin" in titles
    accounts_drawn = {g.get("data-account") for g in root.iter(f"{SVG}g") if g.get("class") == "org-account"}
    assert accounts_drawn == {DEV, PROD, EXTERNAL}


def test_large_organisations_fold_quiet_accounts_and_cap_edges() -> None:
    many = [_account(f"{n:012d}", f"acct-{n}", "sandbox" if n % 2 else "prod") for n in range(1, 301)]
    findings = [_finding(f"f{n}", user_arn(f"{n:012d}", "u"), role_arn(f"{n + 1:012d}", "r"))
                for n in range(1, 300, 2)] + [
        _finding(f"g{n}", user_arn(f"{n:012d}", "u"), role_arn(f"{m:012d}", "r"))
        for n in range(1, 120, 2) for m in range(2, 40, 4)]
    picture = organisation_picture(many, findings)
    assert len(many) > SHOW_ALL_ACCOUNTS
    pairs = {(f["root_cause"]["source"].split(":")[4], f["root_cause"]["target"].split(":")[4]) for f in findings}
    assert len(picture.edges) == MAX_EDGES and picture.omitted_edges == len(pairs) - MAX_EDGES
    assert sum(picture.folded_accounts.values()) == 300 - len(picture.boxes)
    assert len(str(picture.svg)) < 400_000
