"""report.html: self-contained, data embedded once and safely, every section rendered from the result."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from auditor.assessment import assess, score
from auditor.findings import sort_findings
from auditor.model import Manifest, Snapshot
from auditor.report import render_html
from auditor.report.compliance_view import STATUS_CODES, compliance_data
from auditor.report.html_report import script_json
from auditor.result import MatrixCell
from tests.report_helpers import (
    CIS,
    IMG_PAYLOAD,
    MANAGEMENT,
    PAYLOAD,
    PROD_APP,
    PROD_DATA,
    SCRIPT_PAYLOAD,
    SUSPENDED,
    hostile_result,
    sample_result,
)

VOID = {"meta", "br", "input", "link", "img", "hr", "source", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)  # elements and text, in document order

    @property
    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text for child in self.children)

    def iter(self) -> Any:
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        return [node for node in self.iter() if (tag is None or node.tag == tag)
                and all(node.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def by_id(self, element_id: str) -> Node:
        (node,) = self.find_all(id=element_id)
        return node


class TreeBuilder(HTMLParser):
    """Just enough of a DOM to assert on the rendered (server-side) sections."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    assert [n.tag for n in builder.stack] == ["#document"], "unclosed elements"
    return builder.root


DATA_OPEN = '<script type="application/json" id="data">'
COMPLIANCE_OPEN = '<script type="application/json" id="compliance-data">'


def embedded_json(html: str, opening: str = DATA_OPEN) -> str:
    start = html.index(opening) + len(opening)
    return html[start:html.index("</script>", start)]


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(sample_result())


@pytest.fixture(scope="module")
def dom(html: str) -> Node:
    return parse(html)


# --- self-contained and safe --------------------------------------------------------------------


def test_no_external_loads(html: str, dom: Node) -> None:
    # the SVG namespace is a name the browser never fetches (inline SVG pictures carry it)
    unnamespaced = html.replace("http://www.w3.org/2000/svg", "")
    assert "http://" not in unnamespaced and "https://" not in unnamespaced
    assert not dom.find_all("link")
    assert "@import" not in html
    scripts = dom.find_all("script")
    assert [s.attrs for s in scripts] == [{"type": "application/json", "id": "data"},
                                          {"type": "application/json", "id": "compliance-data"}, {}]
    (csp,) = dom.find_all("meta", http_equiv="Content-Security-Policy")
    assert csp.attrs["content"].startswith("default-src 'none';")


def test_csp_allows_exactly_the_inline_script(dom: Node) -> None:
    (code,) = [s.text for s in dom.find_all("script") if not s.attrs]
    digest = base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    (csp,) = dom.find_all("meta", http_equiv="Content-Security-Policy")
    assert f"script-src 'sha256-{digest}'" in csp.attrs["content"]


def rehydrated(doc: dict[str, Any]) -> dict[str, Any]:
    """What report.js does on load: give every finding its rule's shared texts back."""
    texts = doc.pop("rule_texts")
    for key in ("findings", "suppressed_findings"):
        doc[key] = [{**texts.get(f["rule_id"], {}), **f} for f in doc[key]]
    return doc


def test_data_is_embedded_once_and_parses_back_to_the_findings(html: str) -> None:
    result = sample_result()
    assert html.count(DATA_OPEN) == 1
    raw = json.loads(embedded_json(html))
    assert all("remediation" not in f for f in raw["findings"])  # stored once per rule, not per finding
    doc = rehydrated(raw)
    assert doc == json.loads(json.dumps(result.findings_document()))
    assert doc["findings"] == [{**f.to_json(), "suppressed": False} for f in result.findings]


def test_script_uses_no_html_parsing_sinks() -> None:
    code = resources.files("auditor.reports").joinpath("templates", "report.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("</script>", '"\\u003c/script\\u003e"'),
        ("<!--", '"\\u003c!--"'),
        ("a & b", '"a \\u0026 b"'),
        ("line\u2028sep\u2029", '"line\\u2028sep\\u2029"'),
        ("é ü 日本", '"é ü 日本"'),
        ('quote " and \\', '"quote \\" and \\\\"'),
    ],
)
def test_script_json_escaping(value: str, expected: str) -> None:
    assert str(script_json(value)) == expected
    assert json.loads(str(script_json(value))) == value


def test_hostile_values_never_appear_unescaped() -> None:
    result = hostile_result()
    html = render_html(result)
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "\"'>" not in html
    assert html.count("<script") == 3
    data = embedded_json(html)
    assert not set(data) & {"<", ">", "&", "\u2028", "\u2029"}
    compliance = embedded_json(html, COMPLIANCE_OPEN)
    assert not set(compliance) & {"<", ">", "&", "\u2028", "\u2029"}
    assert PAYLOAD in [a["name"] for a in json.loads(compliance)["accounts"]]
    doc = rehydrated(json.loads(data))  # the escaped form decodes back to the exact values
    assert doc["findings"][0]["title"] == PAYLOAD
    assert doc["findings"][0]["evidence"]["tags"] == {"Name": PAYLOAD, PAYLOAD: "value"}
    assert doc["accounts"][1]["name"] == PAYLOAD
    # Server-rendered sections show the payload as text.
    dom = parse(html)
    assert dom.by_id("meta-generated").text.endswith(PAYLOAD)
    names = [row.find_all("td")[1].text for row in dom.by_id("accounts-table").find_all("tr")[1:]]
    assert PAYLOAD in names and SCRIPT_PAYLOAD in names
    assert IMG_PAYLOAD in dom.by_id("coverage-table").text


# --- sections ---------------------------------------------------------------------------------------


def test_sections_and_stable_ids(dom: Node) -> None:
    for element_id in ("report-header", "summary", "isolation", "matrix", "findings", "findings-table",
                       "findings-body", "search", "filter-severity", "filter-category", "filter-account",
                       "filter-environment", "filter-rule", "sort", "pager", "accounts", "accounts-table",
                       "coverage", "coverage-table", "compliance", "score-definition", "posture-table"):
        dom.by_id(element_id)
    assert dom.by_id("findings-table").attrs["data-page-size"] == "100"


def test_header(dom: Node) -> None:
    assert dom.by_id("meta-organization").text == "o-a1b2c3d4e5"
    assert dom.by_id("meta-management").text == f"management ({MANAGEMENT})"
    assert dom.by_id("meta-generated").text == "2026-11-20T09:05:00Z"
    assert dom.by_id("meta-snapshot").text == "organization mode, taken 2026-11-20T09:00:00Z"


def test_executive_summary(dom: Node) -> None:
    cards = {c.attrs["data-filter-severity"]: c.find_all("span", **{"class": "count"})[0].text
             for c in dom.by_id("severity-cards").find_all("button")}
    assert cards == {"critical": "1", "high": "5", "medium": "2", "low": "1", "info": "1"}
    assert "100 − (20 × critical + 10 × high + 4 × medium + 1 × low)" in dom.by_id("score-definition").text
    scores = {row.attrs["data-account-id"]: row.find_all("td")[2].text.strip()
              for row in dom.by_id("posture-table").find_all("tr") if "data-account-id" in row.attrs}
    # prod-app: 1 critical + 1 high; management: 1 medium + 1 info; security-audit: nothing.
    assert scores[PROD_APP] == "70"
    assert scores[MANAGEMENT] == "96"
    assert scores["666666666666"] == "100"
    assert scores[SUSPENDED] == "not audited"  # unknown risk is not a good score
    first = next(row for row in dom.by_id("posture-table").find_all("tr") if "data-account-id" in row.attrs)
    assert first.attrs["data-account-id"] == SUSPENDED
    environments = {row.find_all("td")[0].text: [td.text for td in row.find_all("td")[1:]]
                    for row in dom.by_id("environment-table").find_all("tr")[1:]}
    assert environments["prod"] == ["1", "2", "1", "0", "0"]
    assert environments["security"] == ["0", "0", "0", "0", "0"]


def _cell(dom: Node, source: str, target: str) -> Node:
    (cell,) = dom.by_id("matrix").find_all("td", data_source=source, data_target=target)
    return cell


def test_isolation_matrix(dom: Node) -> None:
    result = sample_result()
    env_ids = {f.account_id: f.id for f in result.findings if f.rule_id == "ENV-001"}
    rows = [th.text for th in dom.by_id("matrix").find_all("th", scope="row")]
    assert rows == ["prod", "non-prod", "sandbox"]
    columns = [th.attrs["data-account-id"] for th in dom.by_id("matrix").find_all("th", scope="col")[1:]]
    assert columns == [PROD_APP, PROD_DATA]
    admin = _cell(dom, "non-prod", PROD_APP)
    assert admin.attrs["class"] == "cell-admin clickable"
    assert admin.attrs["data-finding-ids"] == env_ids[PROD_APP]
    assert " ".join(admin.text.split()) == "1 / 1"
    write = _cell(dom, "sandbox", PROD_DATA)  # write access only, but its finding is high: the colour follows it
    assert write.attrs["class"] == "cell-admin clickable"
    assert write.attrs["data-finding-ids"] == env_ids[PROD_DATA]
    isolated = _cell(dom, "sandbox", PROD_APP)
    assert isolated.attrs["class"] == "cell-none" and "data-finding-ids" not in isolated.attrs
    assert _cell(dom, "prod", PROD_APP).attrs["class"] == "cell-same"
    assert dom.by_id("matrix").find_all("td", **{"class": "cell-empty"})  # non-prod -> prod-data: no path


def test_accounts_view(dom: Node) -> None:
    rows = {row.attrs["data-account-id"]: [td.text.strip() for td in row.find_all("td")]
            for row in dom.by_id("accounts-table").find_all("tr") if "data-account-id" in row.attrs}
    assert len(rows) == 7
    assert rows[PROD_DATA] == [PROD_DATA, "prod-data", "/Root/Workloads/Prod", "prod",
                               "OU path /Root/Workloads/Prod", "yes", "", "2"]
    assert rows[MANAGEMENT][5:7] == ["yes", "yes"]
    assert rows[SUSPENDED][5] == "no"


def test_coverage_view(dom: Node) -> None:
    rows = [[" ".join(td.text.split()) for td in row.find_all("td")]
            for row in dom.by_id("coverage-table").find_all("tr")[1:]]
    assert rows == [
        [f"legacy {SUSPENDED}", "sts", "global", "AssumeRole",
         "AccessDenied not authorized to perform sts:AssumeRole"],
        [f"prod-app {PROD_APP}", "lambda", "ap-southeast-2", "ListFunctions",
         "UnrecognizedClientException region not enabled"],
    ]


def test_compliance_data_carries_the_assessment_cell_for_cell() -> None:
    """Every cell of the page's matrix is the assessment's status and evidence for that control and account."""
    result = sample_result()
    rows = assess(result)
    data = compliance_data(result, rows)
    accounts = [a["id"] for a in data["accounts"]]
    assert accounts == [a.id for a in result.accounts]
    seen = {}
    for framework in data["frameworks"]:
        for control in framework["controls"]:
            for n, account in enumerate(accounts):
                evidence = data["evidence"][control["evidence"][n]]
                seen[(framework["id"], control["id"], account)] = (data["statuses"][control["cells"][n]], evidence)
    assert seen == {(r.framework, r.control_id, r.account_id):
                    (r.status, {**r.evidence, **({"finding_ids": list(r.finding_ids)} if r.finding_ids else {})})
                    for r in rows}
    assert len(data["evidence"]) < len(rows)  # identical evidence is stored once
    assert set(data["statuses"].values()) == set(STATUS_CODES)


def test_compliance_data_scores_per_framework_and_account() -> None:
    result = sample_result()
    rows = assess(result)
    data = compliance_data(result, rows)
    cis = next(f for f in data["frameworks"] if f["id"] == CIS)
    assert cis["score"]["percent"] == score(r for r in rows if r.framework == CIS).percent
    by_account = {a.id: score(r for r in rows if r.framework == CIS and r.account_id == a.id).percent
                  for a in result.accounts}
    assert [s["percent"] for s in cis["accounts"]] == list(by_account.values())
    assert by_account[SUSPENDED] == 0.0  # not audited: assessed, never passed
    assert [c["id"] for c in cis["controls"]] == ["1.1", "1.5", "1.14", "1.16", "1.20"]  # natural order


def test_compliance_section(dom: Node) -> None:
    section = dom.by_id("compliance")
    assert [o.attrs.get("value") for o in dom.by_id("compliance-status").find_all("option")] == [""]
    assert dom.by_id("compliance-summary") and dom.by_id("compliance-frameworks")
    assert {span.attrs["class"] for span in section.find_all("span")} >= {
        "cstatus cstatus-pass", "cstatus cstatus-fail", "cstatus cstatus-incomplete",
        "cstatus cstatus-not-collected", "cstatus cstatus-manual"}


def test_single_account_result_without_findings_renders() -> None:
    manifest = Manifest(tool_version="0.1.0", created_at="2026-11-20T09:00:00Z", mode="single-account")
    result = replace(sample_result(), snapshot=Snapshot(manifest=manifest, organization=None, accounts=()),
                     findings=(), matrix=(), coverage=(), rules=())
    dom = parse(render_html(result))
    assert dom.by_id("meta-organization").text == "none (single account)"
    assert "No isolation matrix" in dom.by_id("isolation").text
    assert "No coverage gaps" in dom.by_id("coverage").text
    assert json.loads(embedded_json(render_html(result)))["findings"] == []
    assert re.search(r"<span class=\"count\">0</span>", render_html(result))


# --- the inline script, run in node against a minimal DOM (skipped without node) ---------------------

DOM_SHIM = r"""
const fs = require("fs");
const html = fs.readFileSync(process.argv[2], "utf8");
const cellIds = process.argv[3];
const open = '<script type="application/json" id="data">';
const start = html.indexOf(open) + open.length;
const dataText = html.slice(start, html.indexOf("</script>", start));
const code = html.slice(html.lastIndexOf("<script>") + 8, html.lastIndexOf("</script>"));

class El {
  constructor(tag) {
    this.tagName = tag.toUpperCase(); this.attrs = {}; this.children = []; this.listeners = {};
    this.own = ""; this.parent = null; this.value = ""; this.hidden = false; this.disabled = false;
    const self = this;
    this.classList = {
      add(c) { self.attrs["class"] = self.classes().concat([c]).join(" "); },
      remove(c) { self.attrs["class"] = self.classes().filter(x => x !== c).join(" "); },
    };
  }
  classes() { return (this.attrs["class"] || "").split(" ").filter(Boolean); }
  setAttribute(k, v) { this.attrs[k] = String(v); }
  getAttribute(k) { return k in this.attrs ? this.attrs[k] : null; }
  appendChild(c) {
    if (c.tagName === "#FRAGMENT") {
      c.children.forEach(x => this.appendChild(x)); c.children = []; return c;
    }
    c.parent = this; this.children.push(c); return c;
  }
  replaceChildren(...cs) { this.children = []; cs.forEach(c => this.appendChild(c)); }
  get textContent() { return this.own + this.children.map(c => c.textContent).join(""); }
  set textContent(v) { this.own = String(v); this.children = []; }
  set innerHTML(v) { throw new Error("innerHTML used"); }
  addEventListener(type, f) { (this.listeners[type] = this.listeners[type] || []).push(f); }
  fire(type) {
    const event = { target: this, key: "Enter", preventDefault() {} };
    for (let n = this; n; n = n.parent) { (n.listeners[type] || []).forEach(f => f(event)); }
  }
  closest(sel) {
    for (let n = this; n; n = n.parent) {
      const hit = sel.startsWith(".") ? n.classes().includes(sel.slice(1)) : n.tagName === sel.toUpperCase();
      if (hit) { return n; }
    }
    return null;
  }
  scrollIntoView() {}
}
const byId = { data: { textContent: dataText } };
const ids = ["findings-table", "findings-body", "filter-severity", "filter-category", "filter-account",
  "filter-environment", "filter-rule", "sort", "search", "clear-filters", "id-filter", "id-filter-label",
  "clear-id-filter", "result-count", "page-info", "page-first", "page-prev", "page-next", "page-last",
  "findings", "group-by-rule", "filter-history"];
ids.forEach(id => { byId[id] = new El("div"); });
byId["findings-table"].attrs["data-page-size"] = "4";
byId["sort"].value = "severity-desc";
const cell = new El("td");
Object.assign(cell.attrs,
  { "data-finding-ids": cellIds, "data-source": "non-prod", "data-target": "222222222222" });
const document = {
  getElementById: id => byId[id] || null,
  createElement: tag => new El(tag),
  createTextNode: text => { const node = new El("#text"); node.own = String(text); return node; },
  createDocumentFragment: () => new El("#fragment"),
  querySelectorAll: sel => (sel === "#matrix td[data-finding-ids]" ? [cell] : []),
};
new Function("document", code)(document);

const body = byId["findings-body"];
const rows = () => body.children.filter(r => (r.attrs["class"] || "").startsWith("finding-row"));
const snap = () => ({
  count: byId["result-count"].textContent, page: byId["page-info"].textContent,
  ids: rows().map(r => r.attrs["data-finding-id"]),
});
const out = { initial: snap(), severityOptions: byId["filter-severity"].children.map(o => o.textContent) };
byId["page-next"].fire("click");
out.page2 = snap();
byId["page-first"].fire("click");
rows()[0].children[6].children[0].fire("click");
out.details = body.children[1].attrs["class"] + ": " + body.children[1].textContent;
byId["filter-severity"].value = "high";
byId["filter-severity"].fire("change");
out.high = snap();
byId["filter-severity"].value = "";
cell.fire("click");
out.matrix = snap();
out.matrixLabel = byId["id-filter-label"].textContent;
byId["clear-id-filter"].fire("click");
byId["search"].value = "ALICE";
byId["search"].fire("input");
setTimeout(() => {
  out.search = snap();
  byId["clear-filters"].fire("click");
  out.cleared = snap();
  console.log(JSON.stringify(out));
}, 250);
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_inline_script_filters_pages_and_expands(tmp_path: Path) -> None:
    result = sample_result()
    html_path = tmp_path / "report.html"
    html_path.write_text(render_html(result), encoding="utf-8")
    shim = tmp_path / "shim.js"
    shim.write_text(DOM_SHIM, encoding="utf-8")
    env_001 = sorted((f for f in result.findings if f.rule_id == "ENV-001"), key=lambda f: f.severity)
    admin_cell = next(c for c in result.matrix if c.source_environment == "non-prod")
    run = subprocess.run(["node", str(shim), str(html_path), " ".join(admin_cell.finding_ids)],
                         capture_output=True, text=True, timeout=30, check=True)
    out = json.loads(run.stdout)
    ordered = [f.id for f in sort_findings(list(result.findings))]
    assert out["initial"] == {"count": "Showing 1–4 of 10 findings", "page": "Page 1 of 3",
                              "ids": ordered[:4]}
    assert out["page2"]["ids"] == ordered[4:8]
    assert out["severityOptions"] == ["critical (1)", "high (5)", "medium (2)", "low (1)", "info (1)"]
    assert out["details"].startswith("details-row: staging role ci-deployer can assume")
    assert "Hops" in out["details"] and '"Action": "sts:AssumeRole"' in out["details"]
    assert "Remediation" in out["details"] and "SOC 2: CC6.1, CC6.3" in out["details"]
    assert out["high"]["count"] == "Showing 1–4 of 5 findings (filtered from 10)"
    assert out["matrix"]["ids"] == [env_001[0].id] == list(admin_cell.finding_ids)
    assert out["matrixLabel"] == "Matrix: non-prod → prod-app (222222222222) (1)"
    alice = next(f.id for f in result.findings if f.resource_arn.endswith("user/alice"))
    assert out["search"]["ids"] == [alice]
    assert out["cleared"]["count"] == "Showing 1–4 of 10 findings"


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        ({}, None),  # a snapshot built in code, with no call counts: nothing to say about its collection
        ({"api_calls": {PROD_APP: {"ec2:DescribeInstances": 1200, "sts:AssumeRole": 1},
                        SUSPENDED: {"sts:AssumeRole": 1}},
          "caller_arn": "arn:aws:sts::111122223333:assumed-role/Auditor/ci", "role_name": "SecurityAuditRole",
          "concurrency": 8, "processes": 2,
          "rate_cap_waits": {"lambda:GetPolicy": {"waits": 3.0, "seconds": 0.31}}},
         "Collected by arn:aws:sts::111122223333:assumed-role/Auditor/ci through the role SecurityAuditRole: "
         "1,202 read-only API calls in 2 account(s); regions enabled in each account (2 in all); 8 accounts at a "
         "time in 2 process(es). Held under AWS's documented request rates: lambda:GetPolicy waited 3 time(s), "
         "0.3 s."),
        ({"api_calls": {PROD_APP: {"ec2:DescribeInstances": 2}}, "regions_requested": ("us-east-1", "eu-west-1"),
          "caller_arn": "arn:aws:iam::111122223333:user/ops"},
         "Collected by arn:aws:iam::111122223333:user/ops: 2 read-only API calls in 1 account(s); regions as "
         "requested (us-east-1, eu-west-1)."),
    ],
    ids=["built-in-code", "every-enabled-region", "requested-regions"],
)
def test_coverage_says_how_the_snapshot_was_collected(update: dict[str, Any], expected: str | None) -> None:
    result = sample_result()
    manifest = result.snapshot.manifest.model_copy(update=update)
    result = replace(result, snapshot=result.snapshot.model_copy(update={"manifest": manifest}))
    paragraphs = [p for p in parse(render_html(result)).find_all("p") if p.attrs.get("id") == "collection"]
    assert [" ".join(p.text.split()) for p in paragraphs] == ([] if expected is None else [expected])


@pytest.mark.parametrize(
    ("cell", "target_environment", "expected"),
    [
        (MatrixCell("non-prod", "1", admin=2, write=2, finding_ids=("h",)), "prod", "admin"),
        (MatrixCell("non-prod", "1", admin=0, write=1, finding_ids=("h",)), "prod", "admin"),  # finding decides
        (MatrixCell("non-prod", "1", admin=2, write=2, finding_ids=("m", "l")), "prod", "write"),
        (MatrixCell("prod", "1", admin=1, write=1, finding_ids=("c",)), "prod", "admin"),  # same env, with finding
        # no finding behind the counts: never red, never green
        (MatrixCell("non-prod", "1", admin=3, write=3), "prod", "unreported"),
        (MatrixCell("non-prod", "1", admin=0, write=0), "prod", "none"),
        (MatrixCell("prod", "1", admin=4, write=4), "prod", "same"),
        (MatrixCell("non-prod", "1", admin=1, write=1, finding_ids=("gone",)), "prod", "unreported"),  # suppressed
    ],
)
def test_matrix_cell_colour_follows_its_findings(cell: MatrixCell, target_environment: str, expected: str) -> None:
    from auditor.report.html_report import cell_kind

    severity_of = {"c": "critical", "h": "high", "m": "medium", "l": "low"}
    assert cell_kind(cell, target_environment, severity_of) == expected
