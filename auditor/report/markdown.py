"""summary.md: a short Markdown report for a ticket or a CI job summary."""

from __future__ import annotations

import re

from auditor.findings import SEVERITIES, sort_findings
from auditor.report.summary import account_postures, category_counts
from auditor.result import AuditResult

TOP_FINDINGS = 20
TOP_COVERAGE_GAPS = 20
MAX_CELL = 200

# Markdown punctuation that could start emphasis, code, links, HTML or break a table cell.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#!])")


def escape_cell(value: object) -> str:
    """Text safe inside a Markdown table cell: punctuation escaped, pipes escaped, one line."""
    text = " ".join(str(value).split())
    if len(text) > MAX_CELL:
        text = text[: MAX_CELL - 1] + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(escape_cell(cell) for cell in row) + " |" for row in rows]
    return [*lines, ""]


def render_markdown(result: AuditResult) -> str:
    org = result.snapshot.organization
    names = {a.id: a.name for a in result.accounts}
    audited = sum(1 for a in result.accounts if a.audited)
    title = f"AWS organisation audit: {org.id}" if org else "AWS account audit"
    lines = [
        f"## {escape_cell(title)}",
        "",
        f"Generated {escape_cell(result.generated_at)}, snapshot mode "
        f"{escape_cell(result.snapshot.manifest.mode)}, {len(result.accounts)} accounts "
        f"({audited} audited), {len(result.findings)} findings, {len(result.coverage)} coverage gaps.",
        "",
    ]
    if result.action_catalogue:  # issue 17: which catalogue release judged the policies' actions
        lines += ["Action catalogue: " + escape_cell(", ".join(f"{p} {v}" for p, v in result.action_catalogue)), ""]
    counts = result.severity_counts()
    lines += _table(("Severity", "Findings"), [(s, counts[s]) for s in SEVERITIES])

    categories = [(c, n) for c, n in category_counts(result).items() if n]
    if categories:
        lines += _table(("Category", "Findings"), list(categories))

    postures = account_postures(result)
    if postures:
        lines += ["### Accounts", ""]
        lines += _table(
            ("Account", "Name", "Environment", "Score", *SEVERITIES),
            [(p.account.id, p.account.name, p.account.environment,
              p.score if p.account.audited else "not audited",  # its risks are unknown: no score
              *(p.by_severity[s] for s in SEVERITIES)) for p in postures],
        )

    if result.history is not None:
        history = result.history
        lines += ["### History", ""]
        if history.previous_run_id is None:
            lines += ["First recorded run of this organisation: the baseline for the next runs.", ""]
        else:
            lines += [f"Since the previous run: {len(history.new)} new, {len(history.resolved)} resolved, "
                      f"{len(history.persisting)} persisting.", ""]
        if len(history.trend) > 1:
            lines += _table(("Run", "Findings", "Critical + high"), [tuple(point) for point in history.trend])

    top = sort_findings(list(result.findings))[:TOP_FINDINGS]
    if top:
        lines += [f"### Top findings ({len(top)} of {len(result.findings)})", ""]
        lines += _table(
            ("Severity", "Rule", "Account", "Resource", "Finding"),
            [(f.severity, f.rule_id, f"{names.get(f.account_id, '')} ({f.account_id})".strip(),
              f.resource_arn, f.message or f.title) for f in top],
        )

    if result.coverage:
        gaps = result.coverage[:TOP_COVERAGE_GAPS]
        lines += [f"### Coverage gaps ({len(result.coverage)})", ""]
        lines += _table(
            ("Account", "Service", "Region", "Operation", "Error"),
            [(g.account_id, g.service, g.region, g.operation,
              ": ".join(part for part in (g.error_code, g.message) if part)) for g in gaps],
        )
        if len(result.coverage) > len(gaps):
            lines += [f"… and {len(result.coverage) - len(gaps)} more (see findings.json).", ""]
    return "\n".join(lines)
