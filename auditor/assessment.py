"""Compliance assessment: the status of every framework control in every account, with its evidence.

Statuses, in the words a reviewer uses:

* ``pass`` — every rule mapped to the control ran on complete input for the account and found nothing;
* ``fail`` — at least one finding of a mapped rule in the account (suppressed findings included: an accepted
  risk is still a failed control, and the evidence says it was accepted);
* ``incomplete`` — no finding, but part of the input was not collected (a coverage gap in a service the rules
  read, in any region) or a rule could not decide: never shown as passed;
* ``not collected`` — the account could not be audited at all;
* ``manual`` — no rule checks the control: a person must review it.

Reads only an ``AuditResult``: no AWS, no rule logic.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from auditor.compliance import FRAMEWORKS, cis_control, is_regional
from auditor.findings import Finding
from auditor.model import CoverageGap
from auditor.result import AuditResult, RuleInfo

Status = Literal["pass", "fail", "incomplete", "not collected", "manual"]
STATUSES: tuple[Status, ...] = ("pass", "fail", "incomplete", "not collected", "manual")
# Gaps that state the scope the user chose rather than data that is missing.
SCOPE_ERRORS = frozenset({"RegionNotEnabled", "UnknownRegion"})
# Organisation-wide inputs: a gap recorded under the caller's account affects every account.
ORGANIZATION_SERVICES = frozenset({"organizations", "sso-admin", "identitystore"})
MAX_EVIDENCE_FINDINGS = 50
# Pseudo-input of rules that read the CIS settings collection (logging, storage, network, IAM extras).
FOUNDATIONS = "foundations"

# Framework aliases accepted on the command line (``--framework cis-3.0``).
FRAMEWORK_ALIASES: dict[str, str] = {
    "cis-3.0": "CIS-AWS-3.0.0", "cis-3.0.0": "CIS-AWS-3.0.0", "cis-v3": "CIS-AWS-3.0.0",
    "cis-7.0": "CIS-AWS-7.0.0", "cis-7.0.0": "CIS-AWS-7.0.0", "cis-v7": "CIS-AWS-7.0.0",
    "fsbp": "AWS-FSBP", "soc2": "SOC2", "iso27001": "ISO27001-2022", "nist": "NIST-800-53",
    "nist-800-53": "NIST-800-53", "wa-cost": "AWS-WA-COST",
}


def framework_id(name: str) -> str | None:
    """The framework id for a user's spelling (``cis-3.0``, ``CIS-AWS-3.0.0``...), or None if unknown."""
    if name in FRAMEWORKS:
        return name
    lowered = name.lower()
    return FRAMEWORK_ALIASES.get(lowered) or next((f for f in FRAMEWORKS if f.lower() == lowered), None)


@dataclass(frozen=True)
class ControlResult:
    """One row of the assessment: a control of a framework in one account."""

    framework: str
    control_id: str
    title: str
    account_id: str
    status: Status
    rule_ids: tuple[str, ...] = ()
    finding_ids: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)
    automated: bool | None = None  # CIS's own assessment status; None outside CIS


@dataclass(frozen=True)
class FrameworkScore:
    """Pass rate of a framework (or of one account in it): passed over every control with an automated
    answer or a reason it has none (manual controls excluded)."""

    passed: int
    failed: int
    incomplete: int
    not_collected: int
    manual: int

    @property
    def assessed(self) -> int:
        return self.passed + self.failed + self.incomplete + self.not_collected

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.passed / self.assessed, 1) if self.assessed else None


def score(rows: Iterable[ControlResult]) -> FrameworkScore:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row.status] += 1
    return FrameworkScore(counts["pass"], counts["fail"], counts["incomplete"], counts["not collected"],
                          counts["manual"])


def control_rules(rules: Iterable[RuleInfo], findings: Iterable[Finding] = ()) -> dict[str, dict[str, set[str]]]:
    """Framework -> control -> ids of the rules mapped to it (rules missing from the catalogue but present in
    findings add their own mapping)."""
    mapping: dict[str, dict[str, set[str]]] = {framework: {c: set() for c in known}
                                               for framework, known in FRAMEWORKS.items()}
    for rule in rules:
        for framework, controls in rule.compliance.items():
            for control in controls:
                mapping.setdefault(framework, {}).setdefault(control, set()).add(rule.id)
    for finding in findings:
        for framework, controls in finding.compliance.items():
            for control in controls:
                mapping.setdefault(framework, {}).setdefault(control, set()).add(finding.rule_id)
    return mapping


def assess(result: AuditResult, frameworks: Sequence[str] | None = None) -> list[ControlResult]:
    """Every control of ``frameworks`` (default: all) for every account of the result, in catalogue order."""
    findings = [*result.findings, *(s.finding for s in result.suppressed)]
    suppressed = {s.finding.id for s in result.suppressed}
    mapping = control_rules(result.rules, findings)
    rules = {rule.id: rule for rule in result.rules}
    by_rule_account: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        by_rule_account[(finding.rule_id, finding.account_id)].append(finding)
    gaps = _GapIndex(result.coverage, result.snapshot.management_account_id,
                     result.snapshot.manifest.caller_account_id)
    regions = {a.account_id: a.regions for a in result.snapshot.accounts}
    # accounts collected before the CIS settings were (an older snapshot): their CIS controls cannot pass
    without_foundations = {a.account_id for a in result.snapshot.accounts if a.audited and a.logging is None}
    not_audited_reason = _not_audited_reasons(result.coverage)
    rows: list[ControlResult] = []
    for framework in frameworks or list(mapping):
        controls = mapping.get(framework, {})
        for control_id in _ordered(framework, controls):
            rule_ids = tuple(sorted(controls[control_id]))
            title = FRAMEWORKS.get(framework, {}).get(control_id, "")
            row = cis_control(framework, control_id)
            automated = row.automated_in(framework) if row else None
            regional = is_regional(framework, control_id)
            for account in result.accounts:
                common = ControlResult(framework=framework, control_id=control_id, title=title,
                                       account_id=account.id, status="manual", rule_ids=rule_ids, automated=automated)
                if not rule_ids:
                    rows.append(replace(common, status="manual", evidence={
                        "reason": "no rule checks this control from AWS APIs: review it by hand"}))
                    continue
                if not account.audited:
                    rows.append(replace(common, status="not collected", evidence={
                        "reason": not_audited_reason.get(account.id, "the account could not be audited")}))
                    continue
                failing = [f for rule_id in rule_ids for f in by_rule_account.get((rule_id, account.id), [])]
                if failing:
                    rows.append(replace(common, status="fail",
                                              finding_ids=tuple(sorted({f.id for f in failing})),
                                              evidence=_fail_evidence(failing, suppressed)))
                    continue
                mapped = [rules[r] for r in rule_ids if r in rules]
                blocking = gaps.blocking(account.id, mapped, rule_ids, regional)
                if account.id in without_foundations and any(FOUNDATIONS in r.inputs for r in mapped):
                    blocking.append(CoverageGap(account_id=account.id, service="auditor", operation="collect",
                                                error_code="NotCollected", message=(
                                                    "the snapshot holds no CIS settings for this account "
                                                    "(collected by an older version)")))
                scope = {"rules": list(rule_ids), "regions": list(regions.get(account.id, ()))} if regional \
                    else {"rules": list(rule_ids)}
                if blocking:
                    rows.append(replace(common, status="incomplete", evidence={
                        **scope, "reason": "no finding, but part of the input was not collected or not decidable",
                        "gaps": [_gap_json(g) for g in blocking]}))
                    continue
                rows.append(replace(common, status="pass", evidence={
                    **scope, "reason": "every mapped rule ran on complete input and found nothing"}))
    return rows


def _ordered(framework: str, controls: dict[str, set[str]]) -> list[str]:
    order = list(FRAMEWORKS.get(framework, {}))
    known = [c for c in order if c in controls]
    return known + sorted((c for c in controls if c not in order), key=_natural_key)


def _natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort "1.10" after "1.9" and "CC6.1" before "CC6.10"."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", text) if part)


def _fail_evidence(failing: list[Finding], suppressed: set[str]) -> dict[str, Any]:
    shown = sorted(failing, key=lambda f: (f.rule_id, f.resource_arn, f.id))[:MAX_EVIDENCE_FINDINGS]
    return {
        "findings": [
            {"id": f.id, "rule_id": f.rule_id, "resource_arn": f.resource_arn, "region": f.region,
             "message": f.message, **({"suppressed": True} if f.id in suppressed else {})}
            for f in shown
        ],
        "total_findings": len(failing),
    }


def _gap_json(gap: CoverageGap) -> dict[str, str]:
    return {"service": gap.service, "operation": gap.operation, "region": gap.region,
            "error_code": gap.error_code, "message": gap.message}


def _not_audited_reasons(coverage: Iterable[CoverageGap]) -> dict[str, str]:
    reasons: dict[str, str] = {}
    for gap in coverage:
        if gap.service == "sts" and gap.operation == "AssumeRole":
            reasons.setdefault(gap.account_id, f"not audited: {gap.error_code}: {gap.message}")
        elif gap.error_code.startswith("Account") and "not audited" in gap.message:
            reasons.setdefault(gap.message.split()[1], gap.message)
    return reasons


class _GapIndex:
    """Coverage gaps by account, so each (control, account) looks up only its own."""

    def __init__(self, coverage: Iterable[CoverageGap], management_id: str | None, caller_id: str) -> None:
        self.by_account: dict[str, list[CoverageGap]] = defaultdict(list)
        self.organization: list[CoverageGap] = []
        org_accounts = {management_id, caller_id} - {None, ""}
        for gap in coverage:
            if gap.error_code in SCOPE_ERRORS:
                continue
            self.by_account[gap.account_id].append(gap)
            if gap.account_id in org_accounts and gap.service in ORGANIZATION_SERVICES:
                self.organization.append(gap)

    def blocking(
        self, account_id: str, rules: list[RuleInfo], rule_ids: tuple[str, ...], regional: bool
    ) -> list[CoverageGap]:
        """The gaps that keep these rules' control from passing in the account."""
        inputs: set[str] = set()
        conservative = False
        for rule in rules:
            inputs.update(rule.inputs)
            conservative = conservative or not rule.inputs
        own_rules = {f"rule {rule_id}" for rule_id in rule_ids}
        hits: list[CoverageGap] = []
        for gap in [*self.by_account.get(account_id, []), *self.by_account.get("*", [])]:
            if gap.service == "auditor":
                if gap.operation in own_rules:
                    hits.append(gap)  # a mapped rule crashed or could not decide here
                continue
            if gap.service == "sts":
                continue  # AssumeRole failures make the account "not collected"
            if conservative or gap.service in inputs:
                hits.append(gap)
            elif regional and gap.service == "ec2" and gap.operation == "DescribeRegions":
                hits.append(gap)  # the account's region list itself is unknown
        hits.extend(g for g in self.organization
                    if g.account_id != account_id and (conservative or g.service in inputs))
        return hits
