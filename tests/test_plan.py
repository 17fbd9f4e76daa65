"""The isolation plan (issue 12 §3): hand-built organisations whose cheapest cut is known, plan.json round trip
through ``--what-if``'s application, and a property test on random small organisations."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from auditor.config import AuditorConfig
from auditor.model import Snapshot
from auditor.plan.changes import (
    AttachScp,
    Change,
    ChangeError,
    DetachManagedPolicy,
    RemoveGroupMember,
    RemovePolicyStatement,
    RemoveTrustPrincipal,
    change_from_json,
    without_trust_principal,
)
from auditor.plan.document import IsolationPlan, load_plan_steps, render_plan_json, validate_plan_document
from auditor.plan.isolation import analyze_with_plan
from auditor.plan.whatif import apply_steps, what_if
from tests.iam_helpers import (
    ADMIN,
    DEV,
    EXTERNAL,
    MGMT,
    PROD,
    SECURITY,
    SHARED,
    account,
    allow,
    aws_managed,
    doc,
    group,
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
from tests.test_graph_properties import organisations

NOW = datetime(2026, 6, 1, tzinfo=UTC)
ADMIN_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
NONPROD_OU = "ou-ab12-nonp"


def _org(*accounts: Any, scps: Any = ()) -> Snapshot:
    present = {a.account_id for a in accounts}
    filler = [account(a) for a in (MGMT, SHARED, PROD, DEV, SECURITY) if a not in present]
    admin = aws_managed("AdministratorAccess", ADMIN)
    full = [a.model_copy(update={"iam": a.iam.model_copy(update={"policies": (*a.iam.policies, admin)})})
            for a in (*accounts, *filler) if a.iam is not None]
    return snapshot(*full, org=organization(scps=scps))


def _plan(snap: Snapshot) -> IsolationPlan:
    plan = analyze_with_plan(snap, AuditorConfig(), now=NOW).plan
    assert plan is not None
    return plan


def _changes(plan: IsolationPlan) -> list[Change]:
    return [step.change for step in plan.steps]


def _aws(*principals: str) -> dict[str, Any]:
    return {"AWS": list(principals)}


def _prod_admin(name: str, principal: str | dict[str, Any]) -> Any:
    return role(PROD, name, trust(principal), attached=[ADMIN_ARN])


def _assumer(acct: str, name: str, *targets: str, extra: list[str] | None = None) -> Any:
    return role(acct, name, trust({"Service": "ec2.amazonaws.com"}),
                inline={"assume": doc(allow(["sts:AssumeRole", *(extra or [])], list(targets)))})


# --- hand-built organisations with a known cheapest cut ---------------------------------------------------


def test_one_scp_beats_three_trust_removals() -> None:
    # three dev roles each reach their own prod admin role: 3 trust edits (or 3 statements) against 1 SCP
    dev = account(DEV, roles=[_assumer(DEV, f"d{i}", role_arn(PROD, f"p{i}")) for i in range(3)])
    prod = account(PROD, roles=[_prod_admin(f"p{i}", role_arn(DEV, f"d{i}")) for i in range(3)])
    plan = _plan(_org(dev, prod))
    assert [(c.kind, getattr(c, "target_id", None)) for c in _changes(plan)] == [("attach-scp", NONPROD_OU)]
    step = plan.steps[0]
    assert step.paths_cut == 3 and plan.paths_before == 3 and plan.paths_after == 0
    assert isinstance(step.change, AttachScp)
    assert step.change.policy_document["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:ResourceAccount": PROD}
    }
    assert {c.split("-")[0] for c in step.closes} >= {"XENV", "REACH"}
    assert "organizations create-policy" in step.cli and f"attach-policy --target-id {NONPROD_OU}" in step.cli


def test_one_trust_removal_beats_an_scp() -> None:
    # three dev users reach one prod admin role through a trust naming the dev account: one trust edit
    users = [user(DEV, f"u{i}", inline={"a": doc(allow("sts:AssumeRole", role_arn(PROD, "admin")))}) for i in range(3)]
    plan = _plan(_org(account(DEV, users=users), account(PROD, roles=[_prod_admin("admin", root(DEV))])))
    assert _changes(plan) == [RemoveTrustPrincipal(role_arn(PROD, "admin"), root(DEV))]
    assert plan.steps[0].paths_cut == 3  # the audited account's principal is not a source: its users are
    assert plan.paths_after == 0 and plan.remaining == ()
    assert "update-assume-role-policy --role-name admin" in plan.steps[0].cli


def test_identity_statement_beats_trust_removals() -> None:
    # one dev role may assume three prod admin roles that trust the whole dev account: its statement is one edit
    targets = [role_arn(PROD, f"p{i}") for i in range(3)]
    dev = account(DEV, roles=[_assumer(DEV, "deployer", *targets)])
    prod = account(PROD, roles=[_prod_admin(f"p{i}", _aws(root(DEV), root(SECURITY))) for i in range(3)])
    plan = _plan(_org(dev, prod, scps=[]))
    expected = RemovePolicyStatement(principal_arn=role_arn(DEV, "deployer"), policy_name="assume", statement_index=0)
    assert _changes(plan) == [expected]
    assert "put-role-policy" not in plan.steps[0].cli and "delete-role-policy" in plan.steps[0].cli


def test_a_broad_statement_costs_more_than_an_scp() -> None:
    # the same, but the statement also grants s3:*: taking it away costs 3, the SCP 1.1
    targets = [role_arn(PROD, f"p{i}") for i in range(3)]
    dev = account(DEV, roles=[_assumer(DEV, "deployer", *targets, extra=["s3:*"])])
    prod = account(PROD, roles=[_prod_admin(f"p{i}", root(DEV)) for i in range(3)])
    assert [c.kind for c in _changes(_plan(_org(dev, prod)))] == ["attach-scp"]


def test_external_principals_cannot_be_fenced_by_an_scp() -> None:
    prod = account(PROD, roles=[_prod_admin("vendor-admin", root(EXTERNAL))])
    plan = _plan(_org(prod))
    assert _changes(plan) == [RemoveTrustPrincipal(role_arn(PROD, "vendor-admin"), root(EXTERNAL))]


def test_every_value_admitting_a_caller_is_removed() -> None:
    # the vendor's role is admitted by its ARN and by its account: both values go (the account principal too)
    vendor_role = f"arn:aws:iam::{EXTERNAL}:role/x"
    prod = account(PROD, roles=[_prod_admin("vendor-admin", _aws(vendor_role, root(EXTERNAL)))])
    plan = _plan(_org(prod))
    assert set(_changes(plan)) == {
        RemoveTrustPrincipal(role_arn(PROD, "vendor-admin"), vendor_role),
        RemoveTrustPrincipal(role_arn(PROD, "vendor-admin"), root(EXTERNAL)),
    }
    assert plan.paths_after == 0


def test_group_membership_and_attachment_are_per_principal_changes() -> None:
    # two users may assume four prod admin roles trusting the dev account, one through its group's policy, one
    # through an attached managed policy; the dev account and its OU already hold the quota of five SCPs
    assume = doc(allow("sts:AssumeRole", f"arn:aws:iam::{PROD}:role/p*"))
    dev = account(
        DEV,
        users=[user(DEV, "in-group", groups=["deployers"]),
               user(DEV, "attached", attached=[policy_arn(DEV, "Assume")])],
        groups=[group(DEV, "deployers", inline={"a": assume})],
        policies=[managed(DEV, "Assume", assume)],
    )
    prod = account(PROD, roles=[_prod_admin(f"p{i}", root(DEV)) for i in range(4)])
    quota = [(f"q{i}", doc(allow("*")), [DEV, NONPROD_OU]) for i in range(4)]
    plan = _plan(_org(dev, prod, scps=quota))
    # four trust edits cost 4, a membership 2 and a detachment 1
    assert set(_changes(plan)) == {
        RemoveGroupMember(f"arn:aws:iam::{DEV}:group/deployers", user_arn(DEV, "in-group")),
        DetachManagedPolicy(user_arn(DEV, "attached"), policy_arn(DEV, "Assume")),
    }
    assert plan.paths_after == 0


def test_no_path_no_plan() -> None:
    prod = account(PROD, roles=[_prod_admin("admin", root(SECURITY))])
    plan = _plan(_org(prod))
    assert plan.steps == () and plan.paths_before == 0 and plan.paths_after == 0


def test_an_existing_scp_fence_leaves_nothing_to_cut() -> None:
    outside = {"StringNotEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}
    fence = ("no-assume-out", doc({"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*",
                                   "Condition": outside}), [NONPROD_OU])
    dev = account(DEV, roles=[_assumer(DEV, "d", role_arn(PROD, "p"))])
    plan = _plan(_org(dev, account(PROD, roles=[_prod_admin("p", role_arn(DEV, "d"))]), scps=[fence]))
    assert plan.steps == ()


# --- plan.json and the application of each kind of step ---------------------------------------------------


def test_plan_json_round_trips_through_what_if() -> None:
    dev = account(DEV, roles=[_assumer(DEV, f"d{i}", role_arn(PROD, f"p{i}")) for i in range(3)])
    prod = account(PROD, roles=[_prod_admin(f"p{i}", role_arn(DEV, f"d{i}")) for i in range(3)])
    snap = _org(dev, prod)
    plan = _plan(snap)
    text = render_plan_json(plan)
    document = json.loads(text)
    validate_plan_document(document)
    assert document["schema_version"] == "1.0" and document["summary"]["paths_before"] == 3


def test_load_plan_steps_rejects_bad_files(tmp_path: Any) -> None:
    from auditor.errors import UserError

    bad = tmp_path / "plan.json"
    for content, message in (
        ("{", "not JSON"),
        ('{"schema_version": "1.0", "steps": [{"kind": "remove-trust-principal"}]}', "not a plan.json"),
        ('{"schema_version": "2.0", "steps": []}', "not supported"),
        ('{"schema_version": "1.0", "steps": [], "x": NaN}', "not JSON"),
    ):
        bad.write_text(content)
        with pytest.raises(UserError, match=message):
            load_plan_steps(bad)


def test_what_if_applies_steps_and_reports_what_closes(tmp_path: Any) -> None:
    dev = account(DEV, roles=[_assumer(DEV, "d", role_arn(PROD, "p"))])
    snap = _org(dev, account(PROD, roles=[_prod_admin("p", role_arn(DEV, "d"))]))
    plan = _plan(snap)
    path = tmp_path / "plan.json"
    path.write_text(render_plan_json(plan))
    steps = load_plan_steps(path)
    _, after, result = what_if(snap, AuditorConfig(), steps, now=NOW)
    assert result.paths_before and not result.paths_after
    assert set(result.closed) == set(plan.steps[0].closes)
    assert not set(result.closed) & {f.id for f in after.findings}


TRUST_CASES = [
    # (trust policy, principal removed, statements left)
    (trust(root(DEV)), root(DEV), [{"Sid": "NoPrincipalTrusted", "Effect": "Deny", "Principal": {"AWS": "*"},
                                    "Action": "sts:AssumeRole"}]),
    (trust(_aws(root(DEV), root(SECURITY))), DEV, [{"Effect": "Allow", "Principal": {"AWS": [root(SECURITY)]},
                                                 "Action": "sts:AssumeRole"}]),
    (trust("*"), "*", None),
    (doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"},
         {"Effect": "Deny", "Principal": {"AWS": root(DEV)}, "Action": "sts:AssumeRole"}),
     "*", [{"Effect": "Deny", "Principal": {"AWS": root(DEV)}, "Action": "sts:AssumeRole"}]),
]


@pytest.mark.parametrize(("document", "principal", "left"), TRUST_CASES)
def test_trust_principal_removal(document: dict[str, Any], principal: str, left: list[Any] | None) -> None:
    result = without_trust_principal(document, principal)
    if left is None:
        assert result is not None and result["Statement"][0]["Sid"] == "NoPrincipalTrusted"
    else:
        assert result is not None and result["Statement"] == left


def test_trust_principal_removal_never_touches_a_deny() -> None:
    deny_only = doc({"Effect": "Deny", "Principal": {"AWS": root(DEV)}, "Action": "sts:AssumeRole"})
    assert without_trust_principal(deny_only, root(DEV)) is None


def test_each_kind_applies_to_the_model_and_names_what_it_does_not_find() -> None:
    dev = account(
        DEV,
        users=[user(DEV, "u", groups=["g"], attached=[policy_arn(DEV, "P")],
                    inline={"i": doc({"Sid": "One", **allow("s3:*")}, allow("sts:AssumeRole"))})],
        groups=[group(DEV, "g")],
        policies=[managed(DEV, "P", doc(allow("ec2:*"), allow("sts:AssumeRole")))],
        roles=[role(DEV, "r", trust(_aws(root(SECURITY), root(EXTERNAL))))],
    )
    snap = _org(dev)
    changes: list[tuple[str, Change]] = [
        ("s1", RemoveTrustPrincipal(role_arn(DEV, "r"), root(EXTERNAL))),
        ("s2", RemovePolicyStatement(principal_arn=user_arn(DEV, "u"), policy_name="i", sid="One")),
        ("s3", RemovePolicyStatement(policy_arn=policy_arn(DEV, "P"), statement_index=1)),
        ("s4", DetachManagedPolicy(user_arn(DEV, "u"), policy_arn(DEV, "P"))),
        ("s5", RemoveGroupMember(f"arn:aws:iam::{DEV}:group/g", user_arn(DEV, "u"))),
        ("s6", AttachScp(NONPROD_OU, doc(allow("*")))),
    ]
    changed = apply_steps(snap, changes)
    acct = changed.account(DEV)
    assert acct is not None and acct.iam is not None
    (u,) = acct.iam.users
    assert u.group_names == () and u.attached_policy_arns == ()
    assert u.inline_policies[0].document["Statement"] == [allow("sts:AssumeRole")]
    assert next(p for p in acct.iam.policies if p.arn == policy_arn(DEV, "P")).document["Statement"] == [allow("ec2:*")]
    assert acct.iam.roles[0].trust_policy["Statement"][0]["Principal"] == {"AWS": [root(SECURITY)]}
    assert changed.organization is not None and changed.organization.policies[-1].target_ids == (NONPROD_OU,)
    with pytest.raises(ChangeError, match=r"plan step s1 .* does not name"):
        apply_steps(changed, changes[:1])
    with pytest.raises(ChangeError, match=r"plan step x .* not in the snapshot"):
        apply_steps(snap, [("x", RemoveTrustPrincipal(role_arn(PROD, "missing"), root(DEV)))])


# --- property: applying the plan leaves no path ---------------------------------------------------------------

ROLE_NAMES = ("a", "b", "c")
PROD_ROLES = tuple(role_arn(PROD, n) for n in ROLE_NAMES)
CALLERS = (
    *(role_arn(a, n) for a in (DEV, SHARED) for n in ROLE_NAMES[:2]),
    *(user_arn(a, n) for a in (DEV, SHARED) for n in ROLE_NAMES[:2]),
    root(DEV), root(SHARED), root(EXTERNAL), f"arn:aws:iam::{EXTERNAL}:role/vendor", "*",
)
assume_targets = st.one_of(
    st.sampled_from(PROD_ROLES), st.just(f"arn:aws:iam::{PROD}:role/*"), st.just("*"),
    st.sampled_from(tuple(role_arn(a, n) for a in (DEV, SHARED) for n in ROLE_NAMES[:2])),
)
assume_statement = st.builds(
    lambda r, extra, sid: {**allow(["sts:AssumeRole", *extra], r), **({"Sid": sid} if sid else {})},
    assume_targets, st.sampled_from(([], ["s3:*"])), st.sampled_from((None, "Assume")),
)


@st.composite
def exposed_organisations(draw: st.DrawFn) -> Snapshot:
    """Small organisations where non-production and outside principals often reach production admin: prod roles
    with admin or an escalation, trusts naming dev principals, dev accounts and outsiders; dev principals
    allowed to assume through inline, group and managed policies; sometimes an SCP fence already."""
    accounts = []
    for acct in (DEV, SHARED):
        shared_policy = managed(acct, "Assume", doc(draw(assume_statement)))
        grp = group(acct, "g", inline={"g": doc(draw(assume_statement))})
        users = [
            user(acct, n, inline={"i": doc(draw(assume_statement))} if draw(st.booleans()) else None,
                 groups=["g"] if draw(st.booleans()) else [],
                 attached=[shared_policy.arn] if draw(st.booleans()) else [])
            for n in ROLE_NAMES[: draw(st.integers(0, 2))]
        ]
        roles = [
            role(acct, n, trust(draw(st.sampled_from((root(acct), root(DEV), root(SHARED), "*")))),
                 inline={"i": doc(*draw(st.lists(assume_statement, min_size=1, max_size=2)))},
                 attached=[shared_policy.arn] if draw(st.booleans()) else [])
            for n in ROLE_NAMES[: draw(st.integers(1, 2))]
        ]
        accounts.append(account(acct, users=users, roles=roles, groups=[grp], policies=[shared_policy]))
    prod_roles = []
    for n in ROLE_NAMES[: draw(st.integers(1, 3))]:
        trusted = draw(st.lists(st.sampled_from(CALLERS), min_size=1, max_size=3, unique=True))
        power = draw(st.sampled_from(("admin", "admin", "escalate", "assume-on", "none")))
        inline = {
            "escalate": {"e": doc(allow("iam:PutRolePolicy", role_arn(PROD, n)))},
            "assume-on": {"e": doc(allow("sts:AssumeRole", f"arn:aws:iam::{PROD}:role/*"))},
        }.get(power)
        prod_roles.append(role(PROD, n, trust("*" if trusted == ["*"] else _aws(*trusted)), inline=inline,
                               attached=[ADMIN_ARN] if power == "admin" else []))
    accounts.append(account(PROD, roles=prod_roles))
    fence = doc({"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*",
                 "Condition": {"StringNotEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}})
    scps = [("fence", fence, [NONPROD_OU])] if draw(st.integers(0, 4)) == 0 else []
    return _org(*accounts, scps=scps)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(exposed_organisations(), organisations()))
def test_applying_the_plan_leaves_no_path_to_production_admin(snap: Snapshot) -> None:
    plan = _plan(snap)
    target(float(plan.paths_before))
    document = json.loads(render_plan_json(plan))
    steps = [(step["id"], change_from_json(step)) for step in document["steps"]]  # as --what-if reads them
    _, _, result = what_if(snap, AuditorConfig(), steps, now=NOW)
    assert result.paths_after == (), (plan.remaining, [s.description for s in plan.steps])
    assert plan.paths_after == 0 and plan.remaining == ()
    assert len(result.paths_before) == plan.paths_before == sum(s.paths_cut for s in plan.steps)


# --- the command line: auditor plan, plan.json beside the findings, analyze --what-if ---------------------------


def _cli(argv: list[str]) -> tuple[int, str, str]:
    import contextlib
    import io

    from auditor.cli import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_info, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main(argv)
    code = exit_info.value.code
    return (code if isinstance(code, int) else 0), out.getvalue(), err.getvalue()


def _three_dev_roles(tmp_path: Any) -> Any:
    from auditor.snapshot import write_snapshot

    dev = account(DEV, roles=[_assumer(DEV, f"d{i}", role_arn(PROD, f"p{i}")) for i in range(3)])
    prod = account(PROD, roles=[_prod_admin(f"p{i}", role_arn(DEV, f"d{i}")) for i in range(3)])
    return write_snapshot(_org(dev, prod), tmp_path / "snap")


def test_plan_command_writes_plan_json_and_prints_the_plan(tmp_path: Any) -> None:
    snap_dir = _three_dev_roles(tmp_path)
    code, out, _ = _cli(["plan", str(snap_dir), "--out", str(tmp_path / "p")])
    assert code == 0
    document = json.loads((tmp_path / "p" / "plan.json").read_text())
    validate_plan_document(document)
    (step,) = document["steps"]
    assert step["kind"] == "attach-scp" and step["target_id"] == NONPROD_OU and step["paths_cut"] == 3
    assert "1 step(s) cut 3 of 3 path(s)" in out and f"[{step['id']}]" in out
    assert "$(aws organizations create-policy --type SERVICE_CONTROL_POLICY" in out


def test_analyze_writes_plan_json_beside_the_findings_and_what_if_replays_it(tmp_path: Any) -> None:
    snap_dir = _three_dev_roles(tmp_path)
    code, out, _ = _cli(["analyze", str(snap_dir), "--out", str(tmp_path / "r"), "--format", "json,html"])
    assert code == 0 and "Isolation plan: 1 step(s)" in out
    plan = json.loads((tmp_path / "r" / "plan.json").read_text())
    findings = json.loads((tmp_path / "r" / "findings.json").read_text())
    (step,) = plan["steps"]
    assert set(step["closes"]) <= {f["id"] for f in findings["findings"]} and step["closes"]
    assert f'data-step-id="{step["id"]}"' in (tmp_path / "r" / "report.html").read_text()
    code, out, _ = _cli(["analyze", str(snap_dir), "--out", str(tmp_path / "w"), "--format", "json",
                         "--what-if", str(tmp_path / "r" / "plan.json")])
    assert code == 0
    assert f"findings closed: {len(step['closes'])}" in out and "3 before, 0 after" in out
    after = json.loads((tmp_path / "w" / "findings.json").read_text())
    assert not {f["id"] for f in after["findings"]} & set(step["closes"])
    assert json.loads((tmp_path / "w" / "plan.json").read_text())["steps"] == []
    # --no-plan: no plan.json, no plan printed
    code, out, _ = _cli(["analyze", str(snap_dir), "--out", str(tmp_path / "n"), "--format", "json", "--no-plan"])
    assert code == 0 and not (tmp_path / "n" / "plan.json").exists() and "Isolation plan" not in out


def test_what_if_with_a_plan_that_does_not_fit_is_one_line(tmp_path: Any) -> None:
    snap_dir = _three_dev_roles(tmp_path)
    foreign = {"schema_version": "1.0", "steps": [{
        "id": "PLAN-000000000000", "rank": 1, "kind": "remove-trust-principal", "description": "d", "cli": "c",
        "closes": [], "paths_cut": 0, "role_arn": role_arn(PROD, "missing"), "principal": root(DEV)}]}
    (tmp_path / "plan.json").write_text(json.dumps(foreign))
    code, out, err = _cli(["analyze", str(snap_dir), "--out", str(tmp_path / "w"), "--what-if",
                           str(tmp_path / "plan.json")])
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "PLAN-000000000000" in err and "not in the snapshot" in err
    assert not (tmp_path / "w").exists()
    code, _, err = _cli(["analyze", str(snap_dir), "--what-if", str(tmp_path / "none.json")])
    assert code == 2 and "no such file" in err
