"""report.html in a real browser (Debian chromium driven by Playwright): it loads offline and cleanly,
its search, filters, details, matrix and pager show the right findings, and hostile data stays text.

Needs the apt package ``chromium`` (/usr/bin/chromium) and the pip package ``playwright``; the module
is skipped with the reason when either is missing. Playwright's own browser download is never used.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from auditor.assessment import assess, score
from auditor.findings import SEVERITY_RANK, Finding
from auditor.model import CoverageGap
from auditor.report import render_html
from auditor.result import AuditResult, MatrixCell
from tests.report_helpers import (
    PROD_APP,
    PROD_DATA,
    SANDBOX,
    STAGING,
    SUSPENDED,
    sample_result,
    synthetic_result,
)

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} not found: install the Debian package 'chromium' to run the browser tests",
                allow_module_level=True)
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="pip package 'playwright' not installed: needed to drive chromium")
Browser = playwright_api.Browser
Page = playwright_api.Page
PlaywrightTimeoutError = playwright_api.TimeoutError

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
WAIT_MS = 3000  # the search box is debounced by 150 ms; everything else renders synchronously
ACTION_MS = 5000
SCREENSHOT_COPY = Path("/tmp/report-screenshot.png")

XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_IMG = "\"'><img src=x onerror=\"window.__xss=2\">"
XSS_BREAKOUT = "</script><script>window.__xss=3</script>"
XSS_PAYLOADS = (XSS_SCRIPT, XSS_IMG, XSS_BREAKOUT)
XSS = "".join(XSS_PAYLOADS)


# --- results under test ---------------------------------------------------------------------------

RESULT = sample_result()
FINDINGS = RESULT.findings
ACCOUNT_NAMES = {a.id: a.name for a in RESULT.accounts}


def only(predicate: Callable[[Finding], bool]) -> Finding:
    (finding,) = [f for f in FINDINGS if predicate(f)]
    return finding


def ids(predicate: Callable[[Finding], bool]) -> set[str]:
    return {f.id for f in FINDINGS if predicate(f)}


TWO_HOP = only(lambda f: f.rule_id == "ENV-001" and f.account_id == PROD_DATA)
ALICE = only(lambda f: f.resource_arn.endswith(":user/alice"))
BOB = only(lambda f: f.resource_arn.endswith(":user/bob"))
VENDOR = only(lambda f: f.resource_arn.endswith(":role/vendor-access"))
CI_DEPLOYER = only(lambda f: f.rule_id == "ENV-001" and f.account_id == PROD_APP)


def matrix_result() -> AuditResult:
    """The sample matrix plus one cell listing findings of three accounts, so the filter is by id."""
    wide = MatrixCell("sandbox", PROD_APP, admin=2, write=1,
                      finding_ids=(CI_DEPLOYER.id, ALICE.id, only(lambda f: f.rule_id == "TAG-001").id))
    cells = (*(cell for cell in RESULT.matrix if cell.finding_ids), wide)
    return replace(RESULT, matrix=cells)


def xss_result() -> AuditResult:
    """Every value an attacker can choose (names, tag values, messages, evidence, ARNs) is a payload."""
    findings = tuple(
        replace(f, message=f"{f.message} {XSS}", resource_arn=f.resource_arn + XSS,
                path=tuple(hop + XSS for hop in f.path),
                evidence={**f.evidence, "tags": {"Name": XSS, "Owner": XSS_IMG},
                          "hops": [{**hop, "source": hop["source"] + XSS, "target": hop["target"] + XSS}
                                   for hop in f.evidence.get("hops", [])]})
        for f in FINDINGS
    )
    result = sample_result(
        findings=findings,
        account_names={PROD_APP: XSS, STAGING: XSS_BREAKOUT, SANDBOX: XSS_IMG, PROD_DATA: XSS_SCRIPT},
        coverage=(CoverageGap(account_id=PROD_APP, service="iam", operation="ListRoles",
                              error_code="AccessDenied", message=XSS),),
    )
    accounts = tuple(replace(a, environment_source=f"account tag Environment={XSS}") for a in result.accounts)
    return replace(result, accounts=accounts)


# --- browser plumbing -----------------------------------------------------------------------------


@dataclass
class LoadedReport:
    page: Page
    url: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium per module; Playwright gives each launch a fresh, temporary user-data dir."""
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                              args=CHROMIUM_ARGS, timeout=20_000)
        yield launched
        launched.close()


class Tab:
    """One page reused by every test of the module (a new renderer per test costs ~0.5 s)."""

    def __init__(self, browser: Browser, bypass_csp: bool) -> None:
        self.context = browser.new_context(viewport=VIEWPORT, bypass_csp=bypass_csp, service_workers="block")
        self.page = self.context.new_page()
        self.page.set_default_timeout(ACTION_MS)  # fail in seconds, not Playwright's 30 s
        self.loaded = LoadedReport(self.page, "")
        self.context.on("request", lambda request: self.loaded.requests.append(request.url))
        self.page.on("console", lambda msg: self.loaded.console_errors.append(msg.text)
                     if msg.type == "error" else None)
        self.page.on("pageerror", lambda error: self.loaded.page_errors.append(str(error)))
        # Nothing may leave the machine even if the report tried: anything but file:// is aborted.
        self.context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                           else route.abort())

    def load(self, report: Path) -> LoadedReport:
        self.loaded = LoadedReport(self.page, report.as_uri())
        self.page.goto(self.loaded.url, wait_until="load")
        with contextlib.suppress(PlaywrightTimeoutError):
            self.page.wait_for_function("() => document.getElementById('result-count').textContent !== ''",
                                        timeout=WAIT_MS)
        assert self.page.inner_text("#result-count"), (
            f"the report's script did not run; console: {self.loaded.console_errors}, "
            f"errors: {self.loaded.page_errors}")
        return self.loaded


@pytest.fixture(scope="module")
def tabs(browser: Browser) -> Iterator[dict[bool, Tab]]:
    """Tabs by ``bypass_csp``: the report as shipped, and with its CSP off to test escaping alone."""
    opened: dict[bool, Tab] = {}
    yield opened
    for tab in opened.values():
        tab.context.close()


@pytest.fixture
def open_report(browser: Browser, tabs: dict[bool, Tab], tmp_path: Path) -> Callable[..., LoadedReport]:
    """Render a result to report.html and open it via file://, recording requests, console and errors."""

    def load(result: AuditResult, *, bypass_csp: bool = False) -> LoadedReport:
        report = tmp_path / "report.html"
        report.write_text(render_html(result), encoding="utf-8")
        if bypass_csp not in tabs or tabs[bypass_csp].page.is_closed():
            tabs[bypass_csp] = Tab(browser, bypass_csp)
        return tabs[bypass_csp].load(report)

    return load


def visible_ids(page: Page) -> list[str]:
    """Ids of the finding rows on screen, top to bottom."""
    return page.eval_on_selector_all(
        "#findings-body tr.finding-row",
        "rows => rows.filter(r => r.checkVisibility()).map(r => r.getAttribute('data-finding-id'))")


def wait_for_rows(page: Page, expected: set[str]) -> None:
    """Wait for the table to show exactly ``expected``, then assert it (a timeout shows the diff)."""
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(
            """expected => JSON.stringify(Array.from(
                   document.querySelectorAll('#findings-body tr.finding-row'),
                   r => r.getAttribute('data-finding-id')).sort()) === JSON.stringify(expected)""",
            arg=sorted(expected), timeout=WAIT_MS)
    assert sorted(visible_ids(page)) == sorted(expected)


def assert_count(page: Page, shown: int, total: int = len(FINDINGS)) -> None:
    text = page.inner_text("#result-count")
    assert f"of {shown} findings" in text, text
    assert ("filtered from" in text) == (shown != total), text


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


# --- 1. a clean, offline load ---------------------------------------------------------------------


def test_loads_offline_without_errors_most_severe_first(open_report: Callable[..., LoadedReport]) -> None:
    loaded = open_report(RESULT)
    page = loaded.page

    assert loaded.console_errors == []
    assert loaded.page_errors == []
    assert loaded.requests == [loaded.url]
    shown = visible_ids(page)
    assert sorted(shown) == sorted(f.id for f in FINDINGS)
    by_id = {f.id: f for f in FINDINGS}
    ranks = [SEVERITY_RANK[by_id[i].severity] for i in shown]
    assert ranks == sorted(ranks, reverse=True)
    assert_count(page, len(FINDINGS))
    assert page.inner_text("#page-info") == "Page 1 of 1"


# --- 2. search, severity filter, clear ------------------------------------------------------------

SEARCHES = (
    ("alice", {ALICE.id}),                                  # resource ARN and message
    ("ALICE", {ALICE.id}),                                  # case-insensitive
    ("dev-sandbox", ids(lambda f: f.account_id == SANDBOX)),  # the account's name, not in any ARN
    ("ci-deployer", {CI_DEPLOYER.id}),                      # a hop of the access path
    ("staging vendor", {VENDOR.id}),                        # every term must match
    ("no-such-principal", set()),
)


@pytest.mark.parametrize(("query", "expected"), SEARCHES, ids=[q for q, _ in SEARCHES])
def test_search_shows_exactly_the_matching_findings(
    open_report: Callable[..., LoadedReport], query: str, expected: set[str]
) -> None:
    page = open_report(RESULT).page

    page.fill("#search", query)

    wait_for_rows(page, expected)
    assert_count(page, len(expected))
    assert page.locator("#findings-body tr.no-results").count() == (0 if expected else 1)


def test_severity_filter_combines_with_search_and_clear_restores(
    open_report: Callable[..., LoadedReport],
) -> None:
    page = open_report(RESULT).page
    high = ids(lambda f: f.severity == "high")
    assert TWO_HOP.id in high  # its severity overrides the rule's critical

    page.select_option("#filter-severity", "high")
    wait_for_rows(page, high)
    assert_count(page, len(high))

    page.fill("#search", "dev-sandbox")
    wait_for_rows(page, {BOB.id})

    page.click("#clear-filters")
    wait_for_rows(page, {f.id for f in FINDINGS})
    assert_count(page, len(FINDINGS))
    assert page.input_value("#search") == ""
    for select in ("severity", "category", "account", "environment", "rule"):
        assert page.input_value(f"#filter-{select}") == ""


# --- 3. details of a finding with an access path --------------------------------------------------


def test_details_show_every_hop_and_its_statement(open_report: Callable[..., LoadedReport]) -> None:
    page = open_report(RESULT).page
    row = page.locator(f'tr.finding-row[data-finding-id="{TWO_HOP.id}"]')
    details = page.locator(f'tr.details-row[data-details-for="{TWO_HOP.id}"]')
    assert details.count() == 0

    row.locator("button.toggle-details").click()

    assert details.is_visible()
    assert row.locator("button.toggle-details").get_attribute("aria-expanded") == "true"
    assert details.locator("p.message").inner_text() == TWO_HOP.message
    assert details.locator("ol.path > li").all_inner_texts() == list(TWO_HOP.path)
    hops = TWO_HOP.evidence["hops"]
    items = details.locator("ol.hops > li")
    assert items.count() == len(hops) == 2
    for n, hop in enumerate(hops):
        item = items.nth(n)
        assert item.locator("code").all_inner_texts() == [hop["source"], hop["target"]]
        assert f"{hop['source']} → {hop['target']}" in item.inner_text()
        assert item.locator(".hop-kind").inner_text() == hop["kind"]
        assert json.loads(item.locator("pre.hop-evidence").inner_text()) == hop["evidence"]
    assert not details.locator("pre.evidence").is_visible()  # the evidence JSON is collapsed until asked for
    details.locator("details.evidence-json > summary").click()
    assert json.loads(details.locator("pre.evidence").inner_text()) == TWO_HOP.evidence

    row.locator("button.toggle-details").click()
    assert details.count() == 0


# --- 4. the isolation matrix filters the table ----------------------------------------------------

MATRIX = matrix_result()
CLICKABLE = [cell for cell in MATRIX.matrix if cell.finding_ids]


@pytest.mark.parametrize("cell", CLICKABLE, ids=[f"{c.source_environment}->{c.target_account_id}" for c in CLICKABLE])
def test_matrix_cell_filters_to_its_findings(open_report: Callable[..., LoadedReport], cell: MatrixCell) -> None:
    page = open_report(MATRIX).page
    node = page.locator(f'#matrix td[data-source="{cell.source_environment}"]'
                        f'[data-target="{cell.target_account_id}"]')
    assert node.get_attribute("data-finding-ids") == " ".join(cell.finding_ids)

    for activate in ("click", "Enter"):
        if activate == "click":
            node.click()
        else:
            node.focus()
            page.keyboard.press("Enter")

        wait_for_rows(page, set(cell.finding_ids))
        assert_count(page, len(cell.finding_ids))
        assert page.is_visible("#id-filter")
        assert f"({len(cell.finding_ids)})" in page.inner_text("#id-filter-label")
        assert "selected" in (node.get_attribute("class") or "").split()

        page.click("#clear-id-filter")
        wait_for_rows(page, {f.id for f in FINDINGS})
        assert page.is_hidden("#id-filter")


def test_matrix_cell_ignores_a_leftover_search(open_report: Callable[..., LoadedReport]) -> None:
    cell = next(c for c in MATRIX.matrix if c.finding_ids)
    page = open_report(MATRIX).page
    page.fill("#search", "no-such-text-anywhere")
    wait_for_rows(page, set())
    page.locator(f'#matrix td[data-source="{cell.source_environment}"][data-target="{cell.target_account_id}"]').click()
    wait_for_rows(page, set(cell.finding_ids))
    assert page.input_value("#search") == ""


# --- pager ----------------------------------------------------------------------------------------


def test_pager_walks_pages_of_one_hundred(open_report: Callable[..., LoadedReport]) -> None:
    result = synthetic_result(250, n_accounts=20)
    page = open_report(result).page
    seen: list[str] = []

    for expected_rows, info in ((100, "Page 1 of 3"), (100, "Page 2 of 3"), (50, "Page 3 of 3")):
        assert page.inner_text("#page-info") == info
        shown = visible_ids(page)
        assert len(shown) == expected_rows
        seen += shown
        if info != "Page 3 of 3":
            page.click("#page-next")
    assert page.is_disabled("#page-next")
    assert sorted(seen) == sorted(f.id for f in result.findings)

    page.click("#page-first")
    assert page.inner_text("#page-info") == "Page 1 of 3"
    assert page.is_disabled("#page-prev")


# --- 5. hostile data stays text -------------------------------------------------------------------


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_hostile_values_are_shown_as_text_and_never_run(
    open_report: Callable[..., LoadedReport], bypass_csp: bool
) -> None:
    result = xss_result()
    loaded = open_report(result, bypass_csp=bypass_csp)
    page = loaded.page

    for finding_id in visible_ids(page):
        page.click(f'tr.finding-row[data-finding-id="{finding_id}"] button.toggle-details')
    assert page.locator("#findings-body tr.details-row").count() == len(result.findings)
    page.fill("#search", "<img src=x")
    wait_for_rows(page, {f.id for f in result.findings})  # every message carries the payload
    page.fill("#search", "window.__xss=3")
    wait_for_rows(page, {f.id for f in result.findings})

    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("document.scripts.length") == 3  # the findings and compliance JSON, the report's script
    text = page.inner_text("body")
    for payload in XSS_PAYLOADS:
        assert payload in text
    shown = page.eval_on_selector_all("#findings-body tr.details-row", """rows => rows.map(r => ({
        id: r.getAttribute('data-details-for'),
        message: r.querySelector('p.message').textContent,
        path: Array.from(r.querySelectorAll('ol.path > li'), li => li.textContent),
        evidence: JSON.parse(r.querySelector('pre.evidence').textContent)}))""")
    assert sorted(shown, key=lambda d: d["id"]) == sorted(
        ({"id": f.id, "message": f.message, "path": list(f.path), "evidence": f.evidence} for f in result.findings),
        key=lambda d: d["id"])
    header = page.locator(f'#matrix thead th[data-account-id="{PROD_APP}"] .target-name')
    assert header.inner_text() == XSS
    cell = page.locator(f'#matrix td[data-target="{PROD_APP}"][data-finding-ids]').first
    assert XSS in (cell.get_attribute("title") or "")
    assert loaded.console_errors == []  # a CSP violation report here would mean markup got through
    assert loaded.page_errors == []
    assert loaded.requests == [loaded.url]


# --- 6. a screenshot for people ---------------------------------------------------------------------


def test_full_page_screenshot(open_report: Callable[..., LoadedReport], tmp_path: Path) -> None:
    page = open_report(RESULT).page
    page.click(f'tr.finding-row[data-finding-id="{TWO_HOP.id}"] button.toggle-details')
    # Clicking scrolled the page; a full-page capture would then draw the sticky <thead>s of the
    # tables above the scroll position at their bottom edge.
    page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "report.png"

    page.screenshot(path=str(shot), full_page=True)
    shutil.copyfile(shot, SCREENSHOT_COPY)

    width, height = png_size(shot)
    assert width == VIEWPORT["width"]
    assert height > 2 * VIEWPORT["height"]  # full page, not just the viewport
    assert shot.stat().st_size > 50_000  # a rendered report, not a blank page


# --- 6. issue 15: matrix colours, suppressions, URL, history filter, grouping ----------------------


def test_matrix_colour_and_click_follow_the_findings(open_report: Callable[..., LoadedReport]) -> None:
    """No red or amber cell without findings to click, no green or grey cell hiding one."""
    page = open_report(RESULT).page
    cells = page.eval_on_selector_all(
        "#matrix tbody td",
        "cells => cells.map(c => [c.className.split(' ')[0], c.getAttribute('data-finding-ids') || ''])")
    assert cells
    severity = {f.id: f.severity for f in FINDINGS}
    for kind, finding_ids in cells:
        worst = max((SEVERITY_RANK[severity[i]] for i in finding_ids.split()), default=None)
        if kind == "cell-admin":
            assert worst is not None and worst >= SEVERITY_RANK["high"]
        elif kind == "cell-write":
            assert worst is not None and worst < SEVERITY_RANK["high"]
        else:
            assert finding_ids == "", kind
    assert any(kind == "cell-admin" for kind, _ in cells)


def _with_history_and_suppressions() -> AuditResult:
    from auditor.result import HistoryInfo

    new = (ALICE.id, BOB.id)
    history = HistoryInfo(previous_run_id=1, new=new, resolved=("gone",),
                          persisting=tuple(f.id for f in FINDINGS if f.id not in new), first_seen={})
    expired = ({"index": 2, "reason": "accepted", "owner": "sec", "expires": "2026-01-01", "rule_id": "ENV-001",
                "account_id": CI_DEPLOYER.account_id, "would_hide": [CI_DEPLOYER.id]},)
    stale = ({"index": 3, "reason": "vendor", "owner": "sec", "expires": "2027-01-01",
              "arn": "arn:aws:iam::*:role/retired-vendor", "tags": {"Team": "x"}},)
    return replace(RESULT, history=history, expired_suppressions=expired, stale_suppressions=stale)


def test_new_since_last_run_filter(open_report: Callable[..., LoadedReport]) -> None:
    page = open_report(_with_history_and_suppressions()).page
    assert page.is_visible("#filter-history")
    page.select_option("#filter-history", "new")
    wait_for_rows(page, {ALICE.id, BOB.id})
    page.select_option("#filter-history", "persisting")
    wait_for_rows(page, {f.id for f in FINDINGS} - {ALICE.id, BOB.id})
    page.click("#clear-filters")
    page.click('#history-summary button[data-filter-history="new"]')
    wait_for_rows(page, {ALICE.id, BOB.id})


def test_history_filter_hidden_without_history(open_report: Callable[..., LoadedReport]) -> None:
    page = open_report(RESULT).page
    assert page.is_hidden("#filter-history") and page.locator("#history-summary").count() == 0


def test_expired_and_stale_suppressions_show_what_they_matched(open_report: Callable[..., LoadedReport]) -> None:
    page = open_report(_with_history_and_suppressions()).page
    expired = page.locator("#expired-suppressions-table tbody tr")
    assert expired.locator("td.matcher").inner_text() == f"rule_id=ENV-001, account_id={CI_DEPLOYER.account_id}"
    assert CI_DEPLOYER.id in expired.inner_text()
    stale = page.locator("#stale-suppressions-table tbody tr")
    assert stale.locator("td.matcher").inner_text() == "arn=arn:aws:iam::*:role/retired-vendor, tag Team=x"
    expired.locator("button.show-ids").click()
    wait_for_rows(page, {CI_DEPLOYER.id})
    assert "Expired suppression 2 (1)" in page.inner_text("#id-filter-label")


def test_filters_survive_a_reload_through_the_url(open_report: Callable[..., LoadedReport]) -> None:
    loaded = open_report(_with_history_and_suppressions())
    page = loaded.page
    page.select_option("#filter-severity", "high")
    page.select_option("#filter-history", "new")
    page.fill("#search", "alice")
    wait_for_rows(page, {ALICE.id})
    assert "severity=high" in page.url and "history=new" in page.url and "q=alice" in page.url
    page.reload(wait_until="load")
    wait_for_rows(page, {ALICE.id})
    assert page.input_value("#filter-severity") == "high" and page.input_value("#search") == "alice"
    # a matrix cell selection is part of the view too
    cell = CLICKABLE[0]
    page.goto(loaded.url + f"#f:ids=cell:{cell.source_environment}:{cell.target_account_id}", wait_until="load")
    page.reload(wait_until="load")
    wait_for_rows(page, set(cell.finding_ids) & {f.id for f in FINDINGS})
    page.click("#clear-filters")
    wait_for_rows(page, {f.id for f in FINDINGS})
    assert "#f:" not in page.url


def test_group_findings_by_rule(open_report: Callable[..., LoadedReport]) -> None:
    page = open_report(sample_result()).page
    page.check("#group-by-rule")
    rows = page.eval_on_selector_all(
        "#findings-body tr", "rows => rows.map(r => r.getAttribute('data-group-rule') || "
        "'finding:' + r.getAttribute('data-finding-id'))")
    first_page = rows[: rows.index(next(r for r in rows if r.startswith("finding:")))]
    assert first_page  # a header before the first finding
    groups = [r for r in rows if not r.startswith("finding:")]
    assert groups == sorted(groups) and len(groups) == len(set(groups))
    by_id = {f.id: f.rule_id for f in FINDINGS}
    current = None
    for r in rows:
        if r.startswith("finding:"):
            assert by_id[r.removeprefix("finding:")] == current
        else:
            current = r
    assert "group=rule" in page.url
    page.uncheck("#group-by-rule")
    assert page.locator("#findings-body tr.group-row").count() == 0


# --- 7. issue 13: the compliance view (framework -> control -> account) ----------------------------

CIS_SAMPLE = "CIS AWS Foundations 3.0"  # the sample's rules map to this framework name
ROWS = assess(RESULT)


def open_framework(page: Page, framework: str) -> None:
    page.click(f'#compliance-summary button[data-compliance-framework="{framework}"]')
    page.wait_for_selector(f'details.cframework[data-framework="{framework}"] table.cmatrix')


def shown_cells(page: Page, framework: str) -> dict[tuple[str, str], str]:
    """(control, account) -> status of every cell drawn for the framework."""
    cells = page.eval_on_selector_all(
        f'details.cframework[data-framework="{framework}"] td.ccell',
        "cells => cells.map(c => [c.closest('tr').getAttribute('data-control'), c.getAttribute('data-account-id'),"
        " c.getAttribute('data-status'), c.textContent])")
    by_cell = {(control, account): status for control, account, status, _ in cells}
    for _, _, status, text in cells:
        assert text.endswith(status)  # the word is on screen, not only a colour
    return by_cell


def test_compliance_matrix_shows_the_assessment_statuses(open_report: Callable[..., LoadedReport]) -> None:
    page = open_report(RESULT).page
    for framework in (CIS_SAMPLE, "SOC 2"):
        open_framework(page, framework)
        assert shown_cells(page, framework) == {(r.control_id, r.account_id): r.status
                                                for r in ROWS if r.framework == framework}
    cis = shown_cells(page, CIS_SAMPLE)
    assert {cis[(c, SUSPENDED)] for c in ("1.1", "1.5", "1.14")} == {"not collected"}  # refused the audit
    gap = next(g for g in RESULT.coverage if g.account_id == PROD_APP)  # a collection gap in prod-app
    assert gap.service and cis[("1.5", PROD_APP)] == "incomplete"  # no finding there, but input missing
    styles = page.eval_on_selector_all(
        f'details.cframework[data-framework="{CIS_SAMPLE}"] td.ccell',
        "cells => cells.map(c => [c.getAttribute('data-status'), getComputedStyle(c).backgroundColor + "
        "getComputedStyle(c).backgroundImage + getComputedStyle(c).borderTopStyle])")
    looks: dict[str, set[str]] = {}
    for status, look in styles:
        looks.setdefault(status, set()).add(look)
    assert {s: len(v) for s, v in looks.items()} == {s: 1 for s in looks}
    assert len({next(iter(v)) for v in looks.values()}) == len(looks) >= 4  # each status looks different


def test_compliance_percentages_per_framework_and_account(open_report: Callable[..., LoadedReport]) -> None:
    page = open_report(RESULT).page
    open_framework(page, CIS_SAMPLE)
    own = [r for r in ROWS if r.framework == CIS_SAMPLE]
    overall = score(own)
    row = page.locator(f'#compliance-summary tr[data-framework="{CIS_SAMPLE}"] td')
    assert row.all_inner_texts()[1:] == [f"{overall.percent}%", str(overall.passed), str(overall.failed),
                                         str(overall.incomplete), str(overall.not_collected), str(overall.manual)]
    summary = page.inner_text(f'details.cframework[data-framework="{CIS_SAMPLE}"] .cframework-score')
    assert summary == f"{overall.percent}% passed ({overall.passed} of {overall.assessed} assessed)"
    headers = page.eval_on_selector_all(
        f'details.cframework[data-framework="{CIS_SAMPLE}"] th.caccount',
        "ths => ths.map(th => [th.getAttribute('data-account-id'), th.querySelector('.caccount-score').textContent])")
    expected = []
    for account in RESULT.accounts:
        percent = score(r for r in own if r.account_id == account.id).percent
        expected.append([account.id, f"{percent}%"])
    assert headers == expected
    assert [SUSPENDED, "0.0%"] in headers  # not audited: assessed, never passed


def test_compliance_cell_drills_down_to_its_finding(open_report: Callable[..., LoadedReport]) -> None:
    failed = next(r for r in ROWS if r.framework == CIS_SAMPLE and r.status == "fail" and len(r.finding_ids) == 1)
    (finding_id,) = failed.finding_ids
    finding = next(f for f in FINDINGS if f.id == finding_id)
    page = open_report(RESULT).page
    open_framework(page, CIS_SAMPLE)
    key = f"{CIS_SAMPLE}|{failed.control_id}|{failed.account_id}"
    cell = page.locator(f'td.ccell[data-cell="{key}"]')

    cell.click()

    details = page.locator(f'tr.cdetails-row[data-details-for="{key}"]')
    assert details.is_visible() and cell.get_attribute("aria-expanded") == "true"
    listed = details.locator("table.cfindings tbody tr")
    assert listed.count() == 1 and listed.get_attribute("data-finding-id") == finding_id
    assert finding.resource_arn in listed.inner_text() and finding.message in listed.inner_text()
    assert json.loads(details.locator("pre.cevidence").inner_text()) == {**failed.evidence,
                                                                        "finding_ids": [finding_id]}
    assert "ccell=" in page.url  # the open cell is part of the view

    details.locator("button.show-control-findings").click()
    wait_for_rows(page, {finding_id})
    assert failed.control_id in page.inner_text("#id-filter-label")
    page.reload(wait_until="load")  # the drill-down survives a reload, the open cell too
    wait_for_rows(page, {finding_id})
    assert page.locator(f'tr.cdetails-row[data-details-for="{key}"]').is_visible()

    page.locator(f'td.ccell[data-cell="{key}"]').press("Enter")  # the keyboard closes it again
    assert page.locator("tr.cdetails-row").count() == 0

    incomplete = next(r for r in ROWS if r.framework == CIS_SAMPLE and r.status == "incomplete")
    key = f"{CIS_SAMPLE}|{incomplete.control_id}|{incomplete.account_id}"
    page.locator(f'td.ccell[data-cell="{key}"]').click()
    gaps = page.locator(f'tr.cdetails-row[data-details-for="{key}"] table.cgaps tbody tr')
    assert gaps.count() == len(incomplete.evidence["gaps"]) > 0
    assert page.locator(f'tr.cdetails-row[data-details-for="{key}"] button.show-control-findings').count() == 0


def test_compliance_filters_work_and_live_in_the_url(open_report: Callable[..., LoadedReport]) -> None:
    loaded = open_report(RESULT)
    page = loaded.page
    page.select_option("#compliance-framework", CIS_SAMPLE)
    visible = page.eval_on_selector_all("details.cframework", "ds => ds.filter(d => !d.hidden && d.open)"
                                        ".map(d => d.getAttribute('data-framework'))")
    assert visible == [CIS_SAMPLE]

    page.select_option("#compliance-status", "fail")
    failing = {r.control_id for r in ROWS if r.framework == CIS_SAMPLE and r.status == "fail"}
    controls = page.eval_on_selector_all(f'details.cframework[data-framework="{CIS_SAMPLE}"] tr.ccontrol-row',
                                         "rows => rows.map(r => r.getAttribute('data-control'))")
    assert set(controls) == failing and len(controls) < len({r.control_id for r in ROWS if r.framework == CIS_SAMPLE})

    page.select_option("#compliance-account", PROD_APP)
    cells = shown_cells(page, CIS_SAMPLE)
    assert cells == {(r.control_id, r.account_id): r.status for r in ROWS
                     if r.framework == CIS_SAMPLE and r.account_id == PROD_APP and r.status == "fail"}
    assert page.locator(f'details.cframework[data-framework="{CIS_SAMPLE}"] th.caccount').count() == 1
    for key in ("cframework=", "cstatus=fail", f"caccount={PROD_APP}"):
        assert key in page.url

    page.select_option("#filter-severity", "high")  # the findings filters keep the compliance ones, and back
    assert "severity=high" in page.url and "cstatus=fail" in page.url
    page.reload(wait_until="load")
    assert page.input_value("#compliance-framework") == CIS_SAMPLE
    assert page.input_value("#compliance-status") == "fail"
    assert page.input_value("#compliance-account") == PROD_APP
    assert page.input_value("#filter-severity") == "high"
    assert shown_cells(page, CIS_SAMPLE) == cells

    page.click("#clear-filters")
    assert "severity=" not in page.url and "cstatus=fail" in page.url
    page.click("#compliance-clear")
    assert "#f:" not in page.url
    assert page.eval_on_selector_all("details.cframework", "ds => ds.filter(d => d.hidden).length") == 0


def test_compliance_view_keeps_hostile_account_names_as_text(open_report: Callable[..., LoadedReport]) -> None:
    result = xss_result()
    loaded = open_report(result)
    page = loaded.page
    open_framework(page, CIS_SAMPLE)
    names = dict(page.eval_on_selector_all(
        f'details.cframework[data-framework="{CIS_SAMPLE}"] th.caccount',
        "ths => ths.map(th => [th.getAttribute('data-account-id'), th.querySelector('.caccount-name').textContent])"))
    assert names[PROD_APP] == XSS and names[STAGING] == XSS_BREAKOUT and names[SANDBOX] == XSS_IMG
    options = page.eval_on_selector_all("#compliance-account option", "os => os.map(o => o.textContent)")
    assert f"{XSS} ({PROD_APP})" in options
    page.locator(f'td.ccell[data-account-id="{PROD_APP}"][data-status="fail"]').first.click()
    assert XSS in page.inner_text("tr.cdetails-row h4")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert loaded.console_errors == [] and loaded.page_errors == []
