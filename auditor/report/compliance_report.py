"""Compliance outputs: compliance.csv (one row per framework x control x account), one evidence JSON per
framework for an auditor to keep, and the terminal table of ``auditor compliance``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from auditor import __version__
from auditor.assessment import ControlResult, assess, score
from auditor.compliance import FRAMEWORKS
from auditor.outputs import OutputSet
from auditor.report.csv_report import neutralise_formula, spreadsheet_csv
from auditor.result import AuditResult

COMPLIANCE_CSV = "compliance.csv"
COMPLIANCE_COLUMNS: tuple[str, ...] = (
    "framework", "control_id", "title", "account_id", "status", "finding_ids", "evidence",
)
EVIDENCE_SCHEMA_VERSION = "1.0"


def evidence_file_name(framework: str) -> str:
    return f"compliance-{framework}.json"


def compliance_frame(rows: Sequence[ControlResult]) -> pd.DataFrame:
    """The assessment as a table, every cell a string neutralised against spreadsheet formulas."""
    records = [
        (row.framework, row.control_id, row.title, row.account_id, row.status, ";".join(row.finding_ids),
         json.dumps(row.evidence, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str))
        for row in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=list(COMPLIANCE_COLUMNS))
    for column in COMPLIANCE_COLUMNS:
        frame[column] = frame[column].astype(str).map(neutralise_formula)
    return frame


def render_compliance_csv(rows: Sequence[ControlResult]) -> str:
    return spreadsheet_csv(compliance_frame(rows))


def evidence_document(result: AuditResult, framework: str, rows: Sequence[ControlResult]) -> dict[str, Any]:
    """One framework's assessment with its evidence: controls, each with every account's status."""
    names = {a.id: a.name for a in result.accounts}
    manifest = result.snapshot.manifest
    own = [r for r in rows if r.framework == framework]
    controls: dict[str, list[ControlResult]] = {}
    for row in own:
        controls.setdefault(row.control_id, []).append(row)
    overall = score(own)
    return {
        "schema_version": EVIDENCE_SCHEMA_VERSION,
        "framework": framework,
        "generated_at": result.generated_at,
        "tool": {"name": "auditor", "version": __version__},
        "snapshot": {
            "created_at": manifest.created_at, "mode": manifest.mode, "caller_arn": manifest.caller_arn,
            "role_name": manifest.role_name, "regions": list(manifest.regions),
            "regions_requested": list(manifest.regions_requested),
        },
        "organization_id": result.snapshot.organization.id if result.snapshot.organization else None,
        "summary": _score_json(overall),
        "accounts": [
            {"account_id": a.id, "name": a.name, "audited": a.audited,
             **_score_json(score(r for r in own if r.account_id == a.id))}
            for a in result.accounts
        ],
        "controls": [
            {
                "control_id": control_id,
                "title": entries[0].title,
                "automated": entries[0].automated,
                "rule_ids": list(entries[0].rule_ids),
                "summary": _score_json(score(entries)),
                "accounts": [
                    {"account_id": e.account_id, "account_name": names.get(e.account_id, ""), "status": e.status,
                     "finding_ids": list(e.finding_ids), "evidence": e.evidence}
                    for e in entries
                ],
            }
            for control_id, entries in controls.items()
        ],
    }


def _score_json(value: Any) -> dict[str, Any]:
    return {"passed": value.passed, "failed": value.failed, "incomplete": value.incomplete,
            "not_collected": value.not_collected, "manual": value.manual, "percent": value.percent}


def stage_compliance(
    result: AuditResult, out_dir: Path, outputs: OutputSet, rows: Sequence[ControlResult] | None = None
) -> list[Path]:
    """compliance.csv and one evidence JSON per framework staged in ``outputs`` for ``out_dir``; returns
    the final paths."""
    rows = assess(result) if rows is None else rows
    texts = {COMPLIANCE_CSV: render_compliance_csv(rows)}
    for framework in FRAMEWORKS:
        document = evidence_document(result, framework, rows)
        texts[evidence_file_name(framework)] = json.dumps(
            document, indent=2, ensure_ascii=False, default=str, allow_nan=False
        )
    for name, text in texts.items():
        outputs.stage_text(out_dir / name, text)
    return [out_dir / name for name in texts]


def write_compliance(result: AuditResult, out_dir: Path, rows: Sequence[ControlResult] | None = None) -> list[Path]:
    """compliance.csv and one evidence JSON per framework into ``out_dir`` (all or none); returns the paths."""
    with OutputSet() as outputs:
        written = stage_compliance(result, out_dir, outputs, rows)
        outputs.commit()
    return written


STATUS_MARK = {"pass": "pass", "fail": "FAIL", "incomplete": "incomplete", "not collected": "not collected",
               "manual": "manual"}


def render_compliance_table(result: AuditResult, framework: str, rows: Sequence[ControlResult]) -> str:
    """The terminal table: one line per control, one column per account, then the pass rates."""
    own = [r for r in rows if r.framework == framework]
    accounts = [a.id for a in result.accounts]
    cells: dict[tuple[str, str], str] = {(r.control_id, r.account_id): STATUS_MARK[r.status] for r in own}
    controls = list(dict.fromkeys(r.control_id for r in own))
    titles = {r.control_id: r.title for r in own}
    width = max((len(STATUS_MARK[s]) for s in STATUS_MARK), default=4)
    header = f"{'control':<8} " + " ".join(f"{a:<{max(width, 12)}}" for a in accounts) + "  title"
    lines = [f"{framework}", header]
    for control in controls:
        line = f"{control:<8} " + " ".join(f"{cells.get((control, a), ''):<{max(width, 12)}}" for a in accounts)
        lines.append(f"{line}  {titles[control][:70]}")
    overall = score(own)
    lines.append("")
    lines.append(f"{framework}: {overall.passed} passed, {overall.failed} failed, {overall.incomplete} incomplete, "
                 f"{overall.not_collected} not collected, {overall.manual} manual"
                 + (f" ({overall.percent}% passed)" if overall.percent is not None else ""))
    for account in accounts:
        own_score = score(r for r in own if r.account_id == account)
        percent = f"{own_score.percent}%" if own_score.percent is not None else "n/a"
        lines.append(f"  {account}: {percent} passed ({own_score.passed}/{own_score.assessed})")
    return "\n".join(lines) + "\n"
