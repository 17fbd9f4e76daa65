"""Decides which regions to inventory in one account: every region enabled for that account (opt-in
regions count only once the account has opted in), narrowed to the regions the user asked for.

Opt-in regions are enabled per account, so the answer is asked of each account rather than once for
the organisation. A requested region that the account has not enabled is a coverage gap of its own
(one line saying so) instead of a string of AuthFailure errors from every regional service.
"""

from __future__ import annotations

from auditor.collect.session import AWS_ERRORS, ClientFactory, Gaps

ENABLED_STATUSES = frozenset({"opt-in-not-required", "opted-in"})


def region_opt_in_status(factory: ClientFactory, home_region: str) -> dict[str, str]:
    """Every region of the account's partition with its opt-in status; raises ``AWS_ERRORS``."""
    # AllRegions: the disabled ones too, so a requested region can be told "not enabled" from "unknown".
    answer = factory.client("ec2", home_region).describe_regions(AllRegions=True)
    return {
        str(region["RegionName"]): str(region.get("OptInStatus") or "opt-in-not-required")
        for region in answer.get("Regions", [])
    }


def _enabled(status: dict[str, str]) -> list[str]:
    return sorted(name for name, opt_in in status.items() if opt_in in ENABLED_STATUSES)


def enabled_regions(factory: ClientFactory, home_region: str) -> list[str]:
    """The regions enabled for the account, sorted; raises ``AWS_ERRORS``."""
    return _enabled(region_opt_in_status(factory, home_region))


def regions_to_inventory(
    factory: ClientFactory, home_region: str, requested: tuple[str, ...], gaps: Gaps
) -> tuple[str, ...]:
    """The account's enabled regions (sorted), or those of ``requested`` it has enabled (in the order asked).

    When the account's regions cannot be listed, the requested regions (or the home region alone) are
    inventoried and the gap says so.
    """
    try:
        status = region_opt_in_status(factory, home_region)
    except AWS_ERRORS as exc:
        fallback = requested or (home_region,)
        gaps.record("ec2", "DescribeRegions", exc, region=home_region,
                    context=f"cannot list the account's enabled regions; inventorying {', '.join(fallback)} only")
        return fallback
    enabled = _enabled(status)
    if not requested:
        return tuple(enabled)
    chosen: list[str] = []
    for region in dict.fromkeys(requested):
        if region in enabled:
            chosen.append(region)
        elif region in status:
            gaps.add("ec2", "DescribeRegions", "RegionNotEnabled",
                     f"region {region} is not enabled for this account ({status[region]}); not inventoried",
                     region=region)
        else:
            gaps.add("ec2", "DescribeRegions", "UnknownRegion",
                     f"region {region} is not a region this account's partition knows; not inventoried",
                     region=region)
    return tuple(chosen)
