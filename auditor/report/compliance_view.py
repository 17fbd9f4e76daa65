"""The report's compliance view: the data behind its framework -> control -> account matrix.

Built from the assessment (``auditor.assessment.assess``): every cell carries the status the assessment
gave, never one recomputed here, so the page says "pass" exactly where compliance.csv does. The page
renders it in the browser (``reports/templates/report.js``, compliance block) from one compact JSON
document: accounts and frameworks once, each control's statuses as one letter per account, and each
cell's evidence as an index into a table of distinct evidence objects (a pass in 1,000 accounts with the
same rules and regions is stored once).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from auditor.assessment import ControlResult, FrameworkScore, assess, score
from auditor.result import AuditResult

# One letter per status in a control's ``cells`` string (the page maps them back).
STATUS_CODES: dict[str, str] = {"pass": "p", "fail": "f", "incomplete": "i", "not collected": "n", "manual": "m"}


def score_json(value: FrameworkScore) -> dict[str, Any]:
    return {"passed": value.passed, "failed": value.failed, "incomplete": value.incomplete,
            "not_collected": value.not_collected, "manual": value.manual, "assessed": value.assessed,
            "percent": value.percent}


class _EvidenceTable:
    """Distinct evidence objects, each stored once; a cell refers to its evidence by index."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}

    def add(self, row: ControlResult) -> int:
        item = {**row.evidence, **({"finding_ids": list(row.finding_ids)} if row.finding_ids else {})}
        key = json.dumps(item, sort_keys=True, default=str, separators=(",", ":"))
        if key not in self._index:
            self._index[key] = len(self.items)
            self.items.append(item)
        return self._index[key]


def compliance_data(result: AuditResult, rows: Sequence[ControlResult] | None = None) -> dict[str, Any]:
    """The view's document: ``statuses`` (code -> status), ``accounts`` (id, name, audited, environment),
    ``frameworks`` (each with its score, one score per account, and its controls, each with ``cells`` (one
    status letter per account, in ``accounts`` order) and ``evidence`` (one index into ``evidence`` per
    account)) and ``evidence`` (the distinct evidence objects, finding ids included)."""
    rows = assess(result) if rows is None else rows
    accounts = list(result.accounts)
    position = {account.id: n for n, account in enumerate(accounts)}
    evidence = _EvidenceTable()
    by_framework: dict[str, dict[str, list[ControlResult]]] = {}
    for row in rows:
        by_framework.setdefault(row.framework, {}).setdefault(row.control_id, []).append(row)
    frameworks: list[dict[str, Any]] = []
    for framework, controls in by_framework.items():
        own = [row for entries in controls.values() for row in entries]
        per_account: dict[str, list[ControlResult]] = {account.id: [] for account in accounts}
        for row in own:
            per_account.setdefault(row.account_id, []).append(row)
        frameworks.append({
            "id": framework,
            "score": score_json(score(own)),
            "accounts": [score_json(score(per_account[account.id])) for account in accounts],
            "controls": [_control_json(entries, position, evidence) for entries in controls.values()],
        })
    return {
        "statuses": {code: status for status, code in STATUS_CODES.items()},
        "accounts": [{"id": a.id, "name": a.name, "audited": a.audited, "environment": a.environment}
                     for a in accounts],
        "frameworks": frameworks,
        "evidence": evidence.items,
    }


def _control_json(entries: list[ControlResult], position: dict[str, int], evidence: _EvidenceTable) -> dict[str, Any]:
    first = entries[0]
    cells = ["m"] * len(position)
    refs = [-1] * len(position)
    for row in entries:
        n = position.get(row.account_id)
        if n is None:
            continue
        cells[n] = STATUS_CODES[row.status]
        refs[n] = evidence.add(row)
    return {"id": first.control_id, "title": first.title, "automated": first.automated,
            "rules": list(first.rule_ids), "cells": "".join(cells), "evidence": refs}
