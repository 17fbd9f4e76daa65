"""CIS foundations, monitoring: a metric filter and an alarm with a subscribed SNS topic for each watched
event family, on the CloudWatch Logs group of a multi-region trail that logs the account; Security Hub.

Each watched family is one data row (CIS v3.0.0 id, the CIS reference pattern, the event source its events
come from). A filter passes when its pattern matches every event the reference matches, whatever its
spelling (``auditor.filter_pattern``); an organisation trail's log group, alarms and topics are read in the
account that owns the trail and count for every member account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from auditor.engine import Check, RuleContext, Undetermined, rule
from auditor.filter_pattern import Conjunction, FilterPatternError, Term, covers, parse
from auditor.findings import Issue
from auditor.model import LoggingData, MetricFilter, TrailDetails
from auditor.monitoring_watches import WATCHES, Watch

from ._cis import FOUNDATIONS, audited_with, records_all_management_events, trails_logging_account
from ._common import account_arn, account_label

MONITORING_INPUTS = ("cloudtrail", "logs", "cloudwatch", "sns", "organizations", FOUNDATIONS)


def _implied(watch: Watch) -> frozenset[Term]:
    return frozenset({Term("$.eventSource", "=", watch.source)}) if watch.source else frozenset()


def _matches(metric_filter: MetricFilter, reference: tuple[Conjunction, ...], implied: frozenset[Term]) -> bool:
    try:
        return covers(parse(metric_filter.pattern), reference, implied)
    except FilterPatternError:
        return False  # a pattern we cannot read is not evidence of monitoring (its text is in the evidence)


def _monitored(trail: TrailDetails, owner: LoggingData, watch: Watch) -> tuple[bool, dict[str, object]]:
    """Is ``watch`` monitored on this trail's log group: matching filter, alarm on its metric, subscribed topic?"""
    reference = parse(watch.reference)
    arn = trail.cloudwatch_log_group_arn or ""
    parts = arn.split(":")
    region, group = (parts[3], parts[6]) if len(parts) > 6 else ("", "")
    filters = [f for f in owner.metric_filters if f.region == region and f.log_group_name == group]
    matching = [f for f in filters if _matches(f, reference, _implied(watch))]
    subscribed = {t.topic_arn for t in owner.topics if t.confirmed > 0}
    steps: dict[str, object] = {"trail": trail.arn, "log_group": group, "matching_filters": [f.name for f in matching]}
    for metric_filter in matching:
        alarms = [a for a in owner.alarms
                  if a.region == region and (a.namespace, a.metric_name) in metric_filter.metrics]
        steps["alarms"] = [a.name for a in alarms]
        for alarm in alarms:
            topics = [t for t in alarm.alarm_actions if t in subscribed]
            if alarm.actions_enabled and topics:
                return True, {**steps, "filter": metric_filter.name, "pattern": metric_filter.pattern,
                              "alarm": alarm.name, "topic": topics[0]}
    if not matching:
        steps["patterns_seen"] = [f.pattern for f in filters][:20]
    return False, steps


def _candidates(ctx: RuleContext, account_id: str) -> list[tuple[TrailDetails, LoggingData | None]]:
    account = ctx.snapshot.account(account_id)
    assert account is not None
    return [(t, owner) for t, owner in trails_logging_account(ctx, account)
            if t.is_multi_region and t.is_logging is not False and t.cloudwatch_log_group_arn]


def _check(watch: Watch) -> Check:
    def check(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
        for item in audited_with(ctx, lambda a: a.logging, "logging settings"):
            account, _ = item
            examined: list[dict[str, object]] = []
            unknown = False
            passed = False
            for trail, owner in _candidates(ctx, account.account_id):
                if owner is None or trail.is_logging is None or records_all_management_events(trail) is None:
                    unknown = True
                    continue
                if not records_all_management_events(trail):
                    continue
                ok, steps = _monitored(trail, owner, watch)
                examined.append(steps)
                if ok:
                    passed = True
                    break
            if passed:
                continue
            if unknown:
                yield Undetermined(account.account_id, "a multi-region trail delivering to CloudWatch Logs was not "
                                   "fully collected")
                continue
            yield Issue(
                account_id=account.account_id, resource_arn=account_arn(ctx, account.account_id),
                key=watch.cis_v3,
                message=f"No alarm with a subscribed SNS topic watches {watch.title} for "
                f"{account_label(ctx, account.account_id)}"
                + ("" if examined else " (no logging multi-region trail delivers to CloudWatch Logs)"),
                evidence={"examined": examined, "reference_pattern": watch.reference},
            )

    check.__name__ = f"monitor_{watch.cis_v3.replace('.', '_')}"
    return check


def _register(watch: Watch) -> Callable[[RuleContext], Iterator[Issue | Undetermined]]:
    fsbp = {"AWS-FSBP": ("CloudWatch.1",)} if watch.cis_v3 == "4.3" else {}
    return rule(
        id=f"CIS-MON-{watch.number:03d}",
        title=f"No alarm on {watch.title}",
        category="logging-monitoring",
        severity="medium" if watch.cis_v3 in ("4.1", "4.2", "4.3", "4.4", "4.5", "4.7", "4.15") else "low",
        rationale=f"""Without a metric filter and an alarm that notifies someone, {watch.title} recorded by
        CloudTrail go unnoticed until an investigation happens to look.""",
        remediation="""On the CloudWatch Logs group of a multi-region trail, create a metric filter matching the
        CIS pattern (see the evidence), an alarm on its metric, and an SNS topic with a confirmed subscriber.""",
        compliance={"CIS-AWS-3.0.0": (watch.cis_v3,), "NIST-800-53": watch.nist, "ISO27001-2022": ("A.8.16",),
                    "SOC2": ("CC7.2",), **fsbp},
        inputs=MONITORING_INPUTS,
    )(_check(watch))  # type: ignore[return-value]


for _watch in WATCHES:
    _register(_watch)


@rule(
    id="CIS-MON-016",
    title="Security Hub not enabled in a region",
    category="logging-monitoring",
    severity="medium",
    rationale="""Security Hub gathers findings from GuardDuty, Inspector, Config and partners and checks the
    account against security standards; a region without it has no such overview.""",
    remediation="""Enable Security Hub in every enabled region (from the delegated administrator with
    central configuration for the whole organisation).""",
    compliance={"CIS-AWS-3.0.0": ("4.16",), "AWS-FSBP": ("SecurityHub.1",), "NIST-800-53": ("SI-4",),
                "SOC2": ("CC7.2",), "ISO27001-2022": ("A.8.16",)},
    inputs=("securityhub", FOUNDATIONS),
)
def security_hub_disabled(ctx: RuleContext) -> Iterator[Issue | Undetermined]:
    for item in audited_with(ctx, lambda a: a.logging, "logging settings"):
        account, logging = item
        for region, enabled in sorted(logging.security_hub.items()):
            if not enabled:
                yield Issue(account_id=account.account_id, resource_arn=account_arn(ctx, account.account_id),
                            region=region, key=region,
                            message=f"Security Hub is not enabled in {region} for "
                            f"{account_label(ctx, account.account_id)}",
                            evidence={"region": region, "security_hub_enabled": False})
