"""Issue 12 §4 in a real browser: example paths drawn as chains in the finding details, the organisation picture,
and the "Controls that hold" view; hostile names stay text (same chromium plumbing as test_report_browser)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from auditor.graph.kinds import ControlKind, EdgeKind, LiftedBy
from auditor.graph.records import BlockedAssume, BlockedPath, Control, Guardrail, Hop
from auditor.report import render_html
from auditor.result import AuditResult
from tests.report_helpers import PROD_APP, PROD_DATA, SANDBOX, STAGING, sample_result
from tests.test_report_browser import (  # noqa: F401 (browser: a fixture)
    XSS,
    XSS_IMG,
    XSS_PAYLOADS,
    XSS_SCRIPT,
    Browser,
    LoadedReport,
    Tab,
    browser,
)

DEV_USER = f"arn:aws:iam::{SANDBOX}:user/dev"
HOP_ROLE = f"arn:aws:iam::{SANDBOX}:role/hop"
WRITER = f"arn:aws:iam::{PROD_DATA}:role/data-writer"
EXPERIMENTER = f"arn:aws:iam::{SANDBOX}:user/experimenter"
EXPERIMENTS_ADMIN = f"arn:aws:iam::{PROD_APP}:role/ExperimentsAdmin"
SCP_ARN = "arn:aws:organizations::111111111111:policy/o-a1b2c3d4e5/service_control_policy/p-fence"


def _trust(source: str, target: str, sid: str) -> dict[str, Any]:
    statement = {"Sid": sid, "Effect": "Allow", "Principal": {"AWS": source}, "Action": "sts:AssumeRole"}
    return {"source": source, "target": target, "kind": "can-assume",
            "evidence": {"trust_statement": statement, "identity_statement": None, "action": "sts:AssumeRole",
                         "conditional": False}}


def _admin(principal: str, account_id: str, policy: str) -> dict[str, Any]:
    return {"source": principal, "target": account_id, "kind": "is-admin-of",
            "evidence": {"level": "full-admin", "services": [], "conditional": False,
                         "evidence": [{"policy": policy, "policy_kind": "inline",
                                       "statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}]}}


def example_path(source: str = DEV_USER, hop_role: str = HOP_ROLE, sid: str = "AllowSandbox") -> dict[str, Any]:
    return {"source": source, "source_account_id": SANDBOX, "source_environment": "sandbox",
            "target_account_id": PROD_DATA, "target_environment": "prod", "conditional": False,
            "hops": [_trust(source, hop_role, "HopIn"), _trust(hop_role, WRITER, sid),
                     _admin(WRITER, PROD_DATA, "writer-admin")]}


def fence(name: str = "SandboxFence", source: str = EXPERIMENTER, bypassed: bool = False) -> Control:
    """An SCP named ``name`` (its id differs by name) refusing ``source`` the prod-app ExperimentsAdmin role."""
    statement = {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{PROD_APP}:role/*"}
    guardrail = Guardrail(ControlKind.SCP, f"{SCP_ARN}-{len(name)}", name, "ou-sandbox", statement,
                          json.dumps(statement), LiftedBy.ORGANIZATION)
    blocked = BlockedAssume(source, "user", SANDBOX, EXPERIMENTS_ADMIN, PROD_APP, "sts:AssumeRole",
                            {"Sid": "Experiments", "Effect": "Allow", "Principal": {"AWS": source}},
                            "explicit-deny", (guardrail,))
    onward = Hop(EXPERIMENTS_ADMIN, PROD_APP, EdgeKind.IS_ADMIN_OF,
                 _admin(EXPERIMENTS_ADMIN, PROD_APP, "experiments-admin")["evidence"])
    return Control(guardrail, (BlockedPath(blocked, "sandbox", PROD_APP, "prod", (onward,), bypassed),))


def with_paths(result: AuditResult, paths: list[dict[str, Any]], finding_index: int = 1) -> dict[str, Any]:
    """The findings document with example paths and a root cause on one finding (as reachability rules write)."""
    document = result.findings_document()
    finding = document["findings"][finding_index]
    first = paths[0]["hops"][1]
    finding["example_paths"] = paths
    finding["root_cause"] = {"kind": "trust", "account_id": PROD_DATA, "resource_arn": first["target"],
                             "source": first["source"], "target": first["target"], "edge_kind": "can-assume",
                             "evidence": first["evidence"]}
    return document


@pytest.fixture
def open_document(browser: Browser, tmp_path: Path) -> Any:  # noqa: F811 (browser: the imported fixture)
    tabs: dict[bool, Tab] = {}

    def load(result: AuditResult, document: dict[str, Any], *, bypass_csp: bool = False) -> LoadedReport:
        report = tmp_path / "report.html"
        report.write_text(render_html(result, document), encoding="utf-8")
        if bypass_csp not in tabs:
            tabs[bypass_csp] = Tab(browser, bypass_csp)
        return tabs[bypass_csp].load(report)

    yield load
    for tab in tabs.values():
        tab.context.close()


def expand(page: Any, finding_id: str) -> Any:
    page.fill("#search", finding_id)
    page.wait_for_selector(f'tr.finding-row[data-finding-id="{finding_id}"]')
    page.click(f'tr.finding-row[data-finding-id="{finding_id}"] button.toggle-details')
    return page.locator(f'tr.details-row[data-details-for="{finding_id}"]')


def chain_texts(chain: Any) -> dict[str, list[str]]:
    return {name: chain.locator(f"text.chain-{name}").all_text_contents()
            for name in ("name", "account", "env", "permission", "statement", "blocked")}


def test_example_paths_are_chains_with_names_accounts_environments_and_statements(open_document: Any) -> None:
    result = replace(sample_result(), controls=(fence(),))
    document = with_paths(result, [example_path()])
    finding = document["findings"][1]
    loaded = open_document(result, document)
    details = expand(loaded.page, finding["id"])

    chains = details.locator("figure.example-path svg.chain")
    assert chains.count() == 1
    assert chain_texts(chains.first) == {
        "name": ["dev", "hop", "data-writer", "administrator"],
        "account": ["dev-sandbox", "dev-sandbox", "prod-data", "prod-data"],
        "env": ["sandbox", "sandbox", "prod", "prod"],
        "permission": ["sts:AssumeRole", "sts:AssumeRole", "full-admin"],
        "statement": ["trust policy, Sid HopIn", "trust policy, Sid AllowSandbox", "writer-admin (inline)"],
        "blocked": [],
    }
    arrows = chains.first.locator("g.chain-arrow")
    assert [arrows.nth(i).get_attribute("class") for i in range(3)] == [
        "chain-arrow", "chain-arrow root-cause", "chain-arrow"]
    assert arrows.nth(1).locator("text.chain-root-label").text_content() == "root cause"
    # the boxes sit left to right, one per node, joined by arrows between them
    boxes = chains.first.locator("rect.chain-box")
    xs = [boxes.nth(i).bounding_box()["x"] for i in range(4)]
    assert xs == sorted(xs) and len(set(xs)) == 4

    # the evidence once, collapsed: the finding's own and its paths without the drawing's words
    [block] = details.locator("details.evidence-json").all()
    assert block.get_attribute("open") is None
    assert json.loads(block.locator("pre.evidence").text_content() or "") == finding["evidence"]
    assert json.loads(block.locator("pre.paths-evidence").text_content() or "") == finding["example_paths"]
    assert details.locator("pre").count() == 2
    assert loaded.page_errors == [] and loaded.console_errors == [] and loaded.requests == [loaded.url]


def test_controls_that_hold_view_and_organisation_picture(open_document: Any) -> None:
    result = replace(sample_result(), controls=(fence(), fence("SideDoor", DEV_USER, bypassed=True)))
    document = with_paths(result, [example_path()])
    page = open_document(result, document).page

    articles = page.locator("#controls article.control")
    assert articles.count() == 2  # bypassed first
    assert [articles.nth(i).get_attribute("class") for i in range(2)] == ["control bypassed", "control holds"]
    assert articles.nth(0).locator(".status").inner_text() == "bypassed: 1 of 1 path(s)"
    assert articles.nth(1).locator(".status").inner_text() == "holds"
    held = articles.nth(1)
    assert chain_texts(held.locator("svg.chain")) == {
        "name": ["experimenter", "ExperimentsAdmin", "administrator"],
        "account": ["dev-sandbox", "prod-app", "prod-app"],
        "env": ["sandbox", "prod", "prod"],
        "permission": ["sts:AssumeRole", "full-admin"],
        "statement": ["trust policy, Sid Experiments", "experiments-admin (inline)"],
        "blocked": ["blocked by SandboxFence"],
    }
    assert held.locator("g.chain-arrow.blocked").count() == 1

    svg = page.locator("#organisation svg.org-picture")
    edges = svg.locator("g.org-edge")
    assert sorted((edges.nth(i).get_attribute("data-kind"), edges.nth(i).get_attribute("data-source"),
                   edges.nth(i).get_attribute("data-target")) for i in range(edges.count())) == [
        ("blocked", SANDBOX, PROD_APP), ("bypassed", SANDBOX, PROD_APP), ("root-cause", SANDBOX, PROD_DATA)]
    columns = svg.locator("g.org-column")
    assert [columns.nth(i).get_attribute("data-environment") for i in range(columns.count())] == [
        "sandbox", "non-prod", "unknown", "security", "prod"]
    # every box sits inside the picture
    size = svg.bounding_box()
    for box in svg.locator("rect.org-box").all():
        b = box.bounding_box()
        assert b["x"] >= size["x"] and b["x"] + b["width"] <= size["x"] + size["width"]


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_hostile_names_in_pictures_stay_text(open_document: Any, bypass_csp: bool) -> None:
    names = {PROD_APP: XSS, STAGING: XSS_IMG, SANDBOX: XSS_SCRIPT, PROD_DATA: "</svg>" + XSS_IMG}
    result = replace(sample_result(account_names=names), controls=(fence(XSS, source=EXPERIMENTER + XSS),))
    hostile_role = f"arn:aws:iam::{SANDBOX}:role/{XSS}"
    document = with_paths(result, [example_path(DEV_USER + XSS_IMG, hostile_role, sid=XSS)])
    finding = document["findings"][1]
    loaded = open_document(result, document, bypass_csp=bypass_csp)
    page = loaded.page
    details = expand(page, finding["id"])
    chain = details.locator("svg.chain")
    assert chain.count() == 1

    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("document.querySelectorAll('img, svg script, foreignObject').length") == 0
    assert page.evaluate("document.scripts.length") == 3  # findings and compliance JSON, the report's script
    titles = " ".join(chain.locator("title").all_text_contents())
    assert hostile_role in titles and XSS in titles and DEV_USER + XSS_IMG in titles
    assert chain.locator("text.chain-name").all_text_contents()[0] == ("dev" + XSS_IMG)[:21] + "\u2026"
    control_titles = " ".join(page.locator("#controls svg.chain title").all_text_contents())
    assert EXPERIMENTER + XSS in control_titles and XSS in control_titles
    assert page.locator("#controls article.control h3").inner_text().startswith("scp " + XSS)
    org_names = page.locator("#organisation text.org-name").all_text_contents()
    assert any(n.startswith(XSS_SCRIPT[:10]) for n in org_names)
    org_titles = " ".join(page.locator("#organisation g.org-account > title").all_text_contents())
    for payload in XSS_PAYLOADS:
        assert payload in org_titles
    assert loaded.page_errors == [] and loaded.console_errors == []
    assert loaded.requests == [loaded.url]
