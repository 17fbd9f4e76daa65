"""Collects one account's logging and monitoring settings for the CIS foundations controls: its CloudTrail
trails (status, log file validation, encryption, bucket, log group, event selectors), AWS Config recorders,
the metric filters on its trails' CloudWatch Logs groups with the alarms on those metrics and the
subscribers of the alarms' SNS topics, Security Hub, and rotation of customer-managed KMS keys.

Bulk reads first: one DescribeTrails, DescribeConfigurationRecorders(+Status) and DescribeHub per region;
metric filters, alarms and subscribers only where a trail delivers to CloudWatch Logs; one
GetKeyRotationStatus per customer-managed key (KMS has no bulk read for it).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from auditor.collect.regional import per_region
from auditor.collect.session import AWS_ERRORS, ClientFactory, Gaps, error_code
from auditor.model import (
    ConfigRecorder,
    LoggingData,
    MetricAlarm,
    MetricFilter,
    Resource,
    TopicSubscribers,
    TrailDetails,
)

# DescribeHub answers these when Security Hub is simply not enabled in the region: an answer, not a gap.
SECURITY_HUB_NOT_ENABLED = frozenset({"InvalidAccessException", "ResourceNotFoundException"})
# GetKeyRotationStatus refuses keys rotation does not apply to (asymmetric, HMAC, imported material, custom
# key stores) and keys that are disabled or pending deletion: those keys are outside the CIS control.
ROTATION_NOT_APPLICABLE = frozenset({"UnsupportedOperationException", "KMSInvalidStateException"})
PENDING = "PendingConfirmation"


def collect_logging(
    factory: ClientFactory, regions: tuple[str, ...], gaps: Gaps, resources: tuple[Resource, ...]
) -> LoggingData:
    trails_by_region = per_region(regions, lambda r: _trails(factory, r), gaps, "cloudtrail", "DescribeTrails")
    own = [t for region in regions for t in trails_by_region.get(region, [])
           if _arn_account(str(t.get("TrailARN", ""))) == factory.account_id]
    trails = tuple(_details(factory, trail, gaps) for trail in own)
    recorders = per_region(regions, lambda r: _config_recorders(factory, r), gaps, "config",
                           "DescribeConfigurationRecorders")
    hub = per_region(regions, lambda r: _security_hub(factory, r), gaps, "securityhub", "DescribeHub")
    filters, alarms, topics = _monitoring(factory, trails, gaps)
    return LoggingData(
        trails=trails,
        trail_regions=tuple(r for r in regions if r in trails_by_region),
        config_recorders=recorders,
        metric_filters=filters,
        alarms=alarms,
        topics=topics,
        security_hub=hub,
        kms_rotation=_kms_rotation(factory, resources, gaps),
    )


def _arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def _trails(factory: ClientFactory, region: str) -> list[dict[str, Any]]:
    # Without shadow trails: each trail is listed once, in its home region, single-region trails included.
    answer = factory.client("cloudtrail", region).describe_trails(includeShadowTrails=False)
    return [t for t in answer.get("trailList", []) if str(t.get("HomeRegion") or region) == region]


def _details(factory: ClientFactory, trail: dict[str, Any], gaps: Gaps) -> TrailDetails:
    arn = str(trail["TrailARN"])
    region = str(trail.get("HomeRegion"))
    client = factory.client("cloudtrail", region)
    is_logging: bool | None = None
    try:
        is_logging = bool(client.get_trail_status(Name=arn).get("IsLogging", False))
    except AWS_ERRORS as exc:
        gaps.record("cloudtrail", "GetTrailStatus", exc, region=region, context=arn)
    selectors: tuple[dict[str, Any], ...] | None = None
    advanced: tuple[dict[str, Any], ...] = ()
    try:
        answer = client.get_event_selectors(TrailName=arn)
        selectors = tuple(answer.get("EventSelectors") or ())
        advanced = tuple(answer.get("AdvancedEventSelectors") or ())
    except AWS_ERRORS as exc:
        gaps.record("cloudtrail", "GetEventSelectors", exc, region=region, context=arn)
    return TrailDetails(
        name=str(trail.get("Name", "")),
        arn=arn,
        home_region=region,
        is_multi_region=bool(trail.get("IsMultiRegionTrail", False)),
        is_organization_trail=bool(trail.get("IsOrganizationTrail", False)),
        is_logging=is_logging,
        log_file_validation=bool(trail.get("LogFileValidationEnabled", False)),
        kms_key_id=trail.get("KmsKeyId") or None,
        s3_bucket_name=str(trail.get("S3BucketName", "")),
        cloudwatch_log_group_arn=trail.get("CloudWatchLogsLogGroupArn") or None,
        event_selectors=selectors,
        advanced_event_selectors=advanced,
    )


def _config_recorders(factory: ClientFactory, region: str) -> tuple[ConfigRecorder, ...]:
    client = factory.client("config", region)
    recorders = client.describe_configuration_recorders().get("ConfigurationRecorders", [])
    if not recorders:
        return ()
    statuses = {s.get("name"): s for s in
                client.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])}
    found = []
    for recorder in recorders:
        group = recorder.get("recordingGroup") or {}
        status = statuses.get(recorder.get("name"), {})
        found.append(ConfigRecorder(
            name=str(recorder.get("name", "")),
            all_supported=bool(group.get("allSupported", False)),
            include_global_resource_types=bool(group.get("includeGlobalResourceTypes", False)),
            recording=bool(status.get("recording", False)),
            last_status=str(status.get("lastStatus", "")),
        ))
    return tuple(found)


def _security_hub(factory: ClientFactory, region: str) -> bool:
    try:
        factory.client("securityhub", region).describe_hub()
    except ClientError as exc:
        if error_code(exc) in SECURITY_HUB_NOT_ENABLED:
            return False
        raise
    return True


def _log_group(arn: str) -> tuple[str, str] | None:
    """(region, log group name) of ``arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*``."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[5] != "log-group":
        return None
    return parts[3], parts[6]


def _monitoring(
    factory: ClientFactory, trails: tuple[TrailDetails, ...], gaps: Gaps
) -> tuple[tuple[MetricFilter, ...], tuple[MetricAlarm, ...], tuple[TopicSubscribers, ...]]:
    groups = sorted({g for t in trails if t.cloudwatch_log_group_arn
                     for g in [_log_group(t.cloudwatch_log_group_arn)] if g is not None})
    filters: list[MetricFilter] = []
    for region, name in groups:
        try:
            pages = factory.client("logs", region).get_paginator("describe_metric_filters").paginate(logGroupName=name)
            for page in pages:
                for item in page.get("metricFilters", []):
                    filters.append(MetricFilter(
                        log_group_name=name, region=region, name=str(item.get("filterName", "")),
                        pattern=str(item.get("filterPattern", "")),
                        metrics=tuple((str(m.get("metricNamespace", "")), str(m.get("metricName", "")))
                                      for m in item.get("metricTransformations", [])),
                    ))
        except AWS_ERRORS as exc:
            gaps.record("logs", "DescribeMetricFilters", exc, region=region, context=name)
    alarms: list[MetricAlarm] = []
    for region in sorted({f.region for f in filters}):
        wanted = {m for f in filters if f.region == region for m in f.metrics}
        try:
            for page in factory.client("cloudwatch", region).get_paginator("describe_alarms").paginate(
                    AlarmTypes=["MetricAlarm"]):
                for alarm in page.get("MetricAlarms", []):
                    metric = (str(alarm.get("Namespace", "")), str(alarm.get("MetricName", "")))
                    if metric not in wanted:
                        continue  # only alarms on a trail's metric filters matter here
                    alarms.append(MetricAlarm(
                        name=str(alarm.get("AlarmName", "")), arn=str(alarm.get("AlarmArn", "")), region=region,
                        namespace=metric[0], metric_name=metric[1],
                        actions_enabled=bool(alarm.get("ActionsEnabled", True)),
                        alarm_actions=tuple(str(a) for a in alarm.get("AlarmActions", [])),
                    ))
        except AWS_ERRORS as exc:
            gaps.record("cloudwatch", "DescribeAlarms", exc, region=region)
    topic_arns = sorted({a for alarm in alarms for a in alarm.alarm_actions if a.startswith("arn:") and ":sns:" in a})
    topics = [t for t in (_subscribers(factory, arn, gaps) for arn in topic_arns) if t is not None]
    return tuple(filters), tuple(alarms), tuple(topics)


def _subscribers(factory: ClientFactory, topic_arn: str, gaps: Gaps) -> TopicSubscribers | None:
    region = topic_arn.split(":")[3]
    confirmed = pending = 0
    try:
        pages = factory.client("sns", region).get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        for page in pages:
            for subscription in page.get("Subscriptions", []):
                if str(subscription.get("SubscriptionArn", "")).startswith("arn:"):
                    confirmed += 1
                else:
                    pending += 1  # "PendingConfirmation" (or "Deleted"): nobody receives the alarm yet
    except AWS_ERRORS as exc:
        gaps.record("sns", "ListSubscriptionsByTopic", exc, region=region, context=topic_arn)
        return None
    return TopicSubscribers(topic_arn=topic_arn, confirmed=confirmed, pending=pending)


def _kms_rotation(factory: ClientFactory, resources: tuple[Resource, ...], gaps: Gaps) -> dict[str, bool]:
    rotation: dict[str, bool] = {}
    for key in (r for r in resources if r.type == "kms:key"):
        try:
            answer = factory.client("kms", key.region).get_key_rotation_status(KeyId=key.arn)
        except ClientError as exc:
            if error_code(exc) in ROTATION_NOT_APPLICABLE:
                continue
            gaps.record("kms", "GetKeyRotationStatus", exc, region=key.region, context=key.arn)
            continue
        except AWS_ERRORS as exc:
            gaps.record("kms", "GetKeyRotationStatus", exc, region=key.region, context=key.arn)
            continue
        rotation[key.arn] = bool(answer.get("KeyRotationEnabled", False))
    return rotation
