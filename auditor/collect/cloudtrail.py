"""Collects the organisation's CloudTrail trails (organisation trails only) and whether each is logging,
as seen from the caller's account (the management account or a delegated administrator).
"""

from __future__ import annotations

from typing import Any

from auditor.collect.session import AWS_ERRORS, ClientFactory, Gaps
from auditor.model import OrgTrail

SERVICE = "cloudtrail"


def collect_organization_trails(factory: ClientFactory, region: str, gaps: Gaps) -> tuple[OrgTrail, ...] | None:
    """The organisation trails visible from ``region``; () when there are none, None when they could not
    be listed (a coverage gap is recorded)."""
    client = factory.client(SERVICE, region)
    try:
        # Shadow trails included: an organisation trail (multi-region, or homed elsewhere) shows up here too.
        listed: list[dict[str, Any]] = client.describe_trails(includeShadowTrails=True).get("trailList", [])
    except AWS_ERRORS as exc:
        gaps.record(SERVICE, "DescribeTrails", exc, region=region)
        return None
    trails: dict[str, OrgTrail] = {}
    for trail in listed:
        arn = str(trail.get("TrailARN", ""))
        if not trail.get("IsOrganizationTrail") or not arn or arn in trails:
            continue
        home_region = str(trail.get("HomeRegion") or region)
        trails[arn] = OrgTrail(
            name=str(trail.get("Name", "")),
            arn=arn,
            home_region=home_region,
            is_multi_region=bool(trail.get("IsMultiRegionTrail", False)),
            is_organization_trail=True,
            is_logging=_is_logging(factory, arn, home_region, gaps),
        )
    return tuple(trails.values())


def _is_logging(factory: ClientFactory, arn: str, home_region: str, gaps: Gaps) -> bool | None:
    # A shadow trail's status is answered only in its home region, and only by ARN.
    client = factory.client(SERVICE, home_region)
    try:
        status = client.get_trail_status(Name=arn)
    except AWS_ERRORS as exc:
        gaps.record(SERVICE, "GetTrailStatus", exc, region=home_region, context=arn)
        return None
    return bool(status.get("IsLogging", False))
