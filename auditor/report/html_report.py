"""report.html: one self-contained file (no network at view time) for people to read and explore.

Small, bounded sections (summary, matrix, accounts, coverage) are rendered here by Jinja2 with
autoescape; the findings and the compliance assessment (which grow with the organisation) are embedded
once as JSON and rendered, filtered and paged in the browser by the inline script in
``reports/templates/report.js`` (installed as ``auditor.reports``).

Sections, top to bottom: header (#report-header: organisation, management account, generated_at,
snapshot mode); executive summary (#summary: severity cards, by category, by environment, posture
score per account with its definition); environment isolation matrix (#matrix: source environment x
target account, admin / write counts, cells with data-finding-ids filter the table); findings
(#findings-table: search, filters, sort, 100 rows a page, .toggle-details rows with message, path,
hops, remediation, compliance, evidence); accounts (#accounts-table); coverage gaps
(#coverage-table); compliance (#compliance: framework -> control -> account matrix of the assessment's
statuses with pass rates, drill-down to evidence and findings; data in #compliance-data, drawn by the script).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from auditor import __version__
from auditor.findings import CATEGORIES, SEVERITIES, SEVERITY_RANK
from auditor.report.chains import with_chains
from auditor.report.compliance_view import compliance_data
from auditor.report.json_report import validate_findings_document
from auditor.report.org_picture import PlanCut, organisation_picture
from auditor.report.summary import (
    SCORE_DEFINITION,
    SCORE_WEIGHTS,
    account_postures,
    category_counts,
    environment_counts,
    environment_order,
)
from auditor.result import AccountView, AuditResult, MatrixCell

TEMPLATE = "report.html.j2"
PARTIALS = ("report.css", "report.js")
PAGE_SIZE = 100

# Inside <script>, these are the only characters that can end the element or change how the
# HTML parser reads it; U+2028/2029 are line terminators to old JavaScript parsers.
_SCRIPT_ESCAPES = (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                   ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))
_UNSAFE_IN_RAW_TEXT = re.compile(r"</(script|style)|<!--", re.IGNORECASE)


def script_json(data: object) -> Markup:
    """JSON for a ``<script type="application/json">`` element that no value can break out of."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False)
    for raw, escaped in _SCRIPT_ESCAPES:
        text = text.replace(raw, escaped)
    return Markup(text)


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("auditor.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _partial(name: str) -> Markup:
    """A static CSS/JS partial, inlined verbatim (not parsed as a template)."""
    env = _environment()
    assert env.loader is not None
    source = env.loader.get_source(env, name)[0]
    if _UNSAFE_IN_RAW_TEXT.search(source):
        raise ValueError(f"{name} contains a sequence that would end its <script>/<style> element")
    return Markup(source)


@cache
def _script_hash(name: str) -> str:
    """CSP source for the inline script, so no other (injected) script or handler can run."""
    digest = hashlib.sha256(str(_partial(name)).encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class MatrixView:
    sources: tuple[str, ...]
    targets: tuple[AccountView, ...]
    cells: dict[tuple[str, str], MatrixCell]
    kinds: dict[tuple[str, str], str] = field(default_factory=dict)  # (source, target) -> cell_kind


# A cell is red only with a finding of at least this severity behind it, amber with a lesser one.
MATRIX_RED_FROM = "high"


def cell_kind(cell: MatrixCell, target_environment: str, severity_of: dict[str, str]) -> str:
    """How a matrix cell is coloured, from the findings it opens (never from counts alone): "admin" (red)
    when one of its findings is high or critical, "write" (amber) for lesser findings; without findings,
    "same" within an environment, "unreported" (grey) for access no live finding reports (suppressed or
    below every rule's threshold), "none" (green) for no admin or write access at all."""
    severities = [severity_of[i] for i in cell.finding_ids if i in severity_of]
    if severities:
        worst = max(SEVERITY_RANK[s] for s in severities)
        return "admin" if worst >= SEVERITY_RANK[MATRIX_RED_FROM] else "write"
    if cell.source_environment == target_environment:
        return "same"
    return "unreported" if cell.admin or cell.write else "none"


def matrix_view(result: AuditResult) -> MatrixView:
    """Rows: source environments; columns: target accounts, grouped by environment then name."""
    by_id = {a.id: a for a in result.accounts}
    target_ids = {cell.target_account_id for cell in result.matrix}
    targets = [by_id.get(i) or AccountView(id=i, name="", ou_path="", environment="unknown",
                                           environment_source="", audited=False) for i in target_ids]
    targets.sort(key=lambda a: (environment_order(a.environment), a.name, a.id))
    sources = sorted({cell.source_environment for cell in result.matrix}, key=environment_order)
    cells = {(cell.source_environment, cell.target_account_id): cell for cell in result.matrix}
    severity_of: dict[str, str] = {f.id: f.severity for f in result.findings}
    environment_of = {a.id: a.environment for a in targets}
    kinds = {key: cell_kind(cell, environment_of.get(cell.target_account_id, "unknown"), severity_of)
             for key, cell in cells.items()}
    return MatrixView(tuple(sources), tuple(targets), cells, kinds)


MATCHER_FIELDS = ("rule_id", "account_id", "environment", "arn", "arn_regex", "tags")


def matcher(entry: dict[str, Any]) -> str:
    """What a suppression entry matches, as text: ``rule_id=EXT-001, arn=arn:aws:iam::*:role/Vendor``."""
    parts: list[str] = []
    for key in MATCHER_FIELDS:
        value = entry.get(key)
        if isinstance(value, dict):
            parts.extend(f"tag {k}={v}" for k, v in sorted(value.items()))
        elif value is not None:
            parts.append(f"{key}={value}")
    return ", ".join(parts)


RULE_FIELDS = ("title", "remediation", "compliance")


def compact_document(document: dict[str, Any]) -> dict[str, Any]:
    """The findings document with each rule's title, remediation and compliance stored once under
    ``rule_texts`` instead of in every finding (the page puts them back when it loads): at 100,000
    findings this halves the file."""
    texts: dict[str, dict[str, Any]] = {}

    def strip(finding: dict[str, Any]) -> dict[str, Any]:
        shared = {key: finding[key] for key in RULE_FIELDS if key in finding}
        known = texts.setdefault(finding["rule_id"], shared)
        if known != shared:  # a finding whose texts differ from its rule's keeps its own
            return finding
        return {key: value for key, value in finding.items() if key not in RULE_FIELDS}

    compact = dict(document)
    compact["findings"] = [strip(f) for f in document["findings"]]
    compact["suppressed_findings"] = [strip(f) for f in document.get("suppressed_findings", [])]
    compact["rule_texts"] = texts
    return compact


def plan_cuts(result: AuditResult) -> list[PlanCut]:
    """The isolation plan's steps as the organisation picture draws them (none without a plan)."""
    plan = getattr(result, "plan", None)  # AuditResult.plan (issue 12 §3) when the run computed one
    steps = getattr(plan, "steps", ()) or ()
    return [PlanCut(step.rank, tuple(step.cut_edges), tuple(step.closes)) for step in steps]


def controls_view(document: dict[str, Any]) -> list[dict[str, Any]]:
    """findings.json ``controls`` for the "Controls that hold" view: bypassed ones first, then by paths blocked."""
    return sorted(document.get("controls", []), key=lambda c: (c["holds"], -c["paths_blocked"], c["name"], c["id"]))


def pretty_json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def render_html(result: AuditResult, document: dict[str, Any] | None = None) -> str:
    """The report as one HTML document; ``document`` is the (already validated) findings document."""
    if document is None:
        document = result.findings_document()
        validate_findings_document(document)
    org = result.snapshot.organization
    names = {a.id: a.name for a in result.accounts}
    management_id = org.management_account_id if org else None
    by_severity = result.severity_counts()
    template = _environment().get_template(TEMPLATE)
    return template.render(
        result=result,
        manifest=result.snapshot.manifest,
        api_call_total=sum(n for calls in result.snapshot.manifest.api_calls.values() for n in calls.values()),
        organization_id=org.id if org else None,
        management_account_id=management_id,
        management_account_name=names.get(management_id or "", ""),
        account_names=names,
        severities=SEVERITIES,
        categories=CATEGORIES,
        by_severity=by_severity,
        total=len(result.findings),
        by_category=category_counts(result),
        by_environment=environment_counts(result),
        postures=account_postures(result),
        score_definition=SCORE_DEFINITION,
        score_weights=SCORE_WEIGHTS,
        matrix=matrix_view(result),
        compliance_json=script_json(compliance_data(result)),
        rule_titles={rule.id: rule.title for rule in result.rules},
        page_size=PAGE_SIZE,
        data_json=script_json(with_chains(compact_document(document))),
        picture=organisation_picture(result.accounts, document["findings"], result.controls, plan_cuts(result)),
        controls=controls_view(document),
        pretty_json=pretty_json,
        css=_partial("report.css"),
        js=_partial("report.js"),
        script_hash=_script_hash("report.js"),
        tool_version=__version__,
        matcher=matcher,
    )
