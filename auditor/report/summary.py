"""Counts every report shares (by severity, category, environment, account; posture score),
and the short plain-text summary the CLI prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from auditor.console import printable
from auditor.environment import ENVIRONMENTS
from auditor.findings import CATEGORIES, SEVERITIES
from auditor.result import AccountView, AuditResult

# Posture score: 100 minus the weighted count of an account's findings, floored at 0.
SCORE_WEIGHTS: dict[str, int] = {"critical": 20, "high": 10, "medium": 4, "low": 1, "info": 0}
SCORE_DEFINITION = (
    "Posture score = 100 − (20 × critical + 10 × high + 4 × medium + 1 × low) over the account's "
    "findings, floored at 0; info findings do not count. 100 means no open findings. An account that could "
    "not be audited has no score: its risks are unknown."
)


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(SEVERITIES, 0)


def posture_score(by_severity: dict[str, int]) -> int:
    penalty = sum(SCORE_WEIGHTS.get(severity, 0) * n for severity, n in by_severity.items())
    return max(0, 100 - penalty)


def environment_order(environment: str) -> tuple[int, str]:
    """Known environments in their usual order, anything else after them alphabetically."""
    rank = ENVIRONMENTS.index(environment) if environment in ENVIRONMENTS else len(ENVIRONMENTS)
    return (rank, environment)


@dataclass(frozen=True)
class AccountPosture:
    account: AccountView
    by_severity: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_severity.values())

    @property
    def score(self) -> int:
        return posture_score(self.by_severity)

    @property
    def sort_key(self) -> int:
        """Worst first, and an account that could not be audited before every scored one."""
        return self.score if self.account.audited else -1


def category_counts(result: AuditResult) -> dict[str, int]:
    """Every category in its declared order (zeros included), then any unknown category."""
    counts = Counter(f.category for f in result.findings)
    ordered: dict[str, int] = {category: counts.get(category, 0) for category in CATEGORIES}
    ordered.update({category: n for category, n in sorted(counts.items()) if category not in ordered})
    return ordered


def environment_counts(result: AuditResult) -> dict[str, dict[str, int]]:
    """Environment -> severity -> count, for every environment with an account or a finding."""
    environments = {a.environment for a in result.accounts} | {f.environment for f in result.findings}
    table = {env: empty_counts() for env in sorted(environments, key=environment_order)}
    for f in result.findings:
        table[f.environment][f.severity] = table[f.environment].get(f.severity, 0) + 1
    return table


def account_postures(result: AuditResult) -> list[AccountPosture]:
    """One entry per account, in the result's order; accounts only named by findings come last."""
    counts: dict[str, dict[str, int]] = {}
    for f in result.findings:
        per_account = counts.setdefault(f.account_id, empty_counts())
        per_account[f.severity] = per_account.get(f.severity, 0) + 1
    accounts = list(result.accounts)
    known = {a.id for a in accounts}
    for account_id in sorted(counts.keys() - known):
        environment = next(f.environment for f in result.findings if f.account_id == account_id)
        accounts.append(AccountView(id=account_id, name="", ou_path="", environment=environment,
                                    environment_source="not in the organisation", audited=False))
    return [AccountPosture(a, counts.get(a.id, empty_counts())) for a in accounts]


def render_summary(result: AuditResult) -> str:
    """Plain-text terminal summary: totals by severity and category, per account, coverage gap count."""
    by_severity = result.severity_counts()
    lines = [
        f"Findings: {len(result.findings)} ("
        + ", ".join(f"{severity} {by_severity[severity]}" for severity in SEVERITIES) + ")",
        "",
        "By category:",
    ]
    categories = {printable(c): n for c, n in category_counts(result).items() if n}
    width = max((len(c) for c in categories), default=0)
    lines += [f"  {c:<{width}}  {n}" for c, n in categories.items()] or ["  (none)"]

    lines += ["", "By account:"]
    postures = account_postures(result)
    # account names and environments come from AWS (names, tags): shown, never obeyed
    shown = [(printable(p.account.id), printable(p.account.name), printable(p.account.environment))
             for p in postures]
    id_width, name_width, env_width = (max((len(row[i]) for row in shown), default=0) for i in range(3))
    for p, (account_id, name, environment) in zip(postures, shown, strict=True):
        counts = "  ".join(f"{severity} {p.by_severity[severity]}" for severity in SEVERITIES)
        lines.append(f"  {account_id:<{id_width}}  {name:<{name_width}}  {environment:<{env_width}}  {counts}")
    if not postures:
        lines.append("  (none)")

    lines += history_lines(result)
    lines += ["", f"Coverage gaps: {len(result.coverage)}"]
    if result.suppressed or result.expired_suppressions or result.stale_suppressions:
        lines.append(
            f"Suppressed: {len(result.suppressed)} finding(s); expired suppressions: "
            f"{len(result.expired_suppressions)}; stale suppressions: {len(result.stale_suppressions)}"
        )
    return "\n".join(lines) + "\n"


def history_lines(result: AuditResult) -> list[str]:
    """With --history: what changed since the previous run, and the totals of the latest runs."""
    history = result.history
    if history is None:
        return []
    if history.previous_run_id is None:
        lines = ["", "History: first recorded run of this organisation (the baseline)"]
    else:
        lines = ["", f"History: {len(history.new)} new, {len(history.resolved)} resolved, "
                     f"{len(history.persisting)} persisting since the previous run"]
    if len(history.trend) > 1:
        totals = " -> ".join(str(total) for _, total, _ in history.trend)
        severe = " -> ".join(str(severe) for _, _, severe in history.trend)
        lines.append(f"Trend over the last {len(history.trend)} runs: findings {totals}; critical+high {severe}")
    return lines
