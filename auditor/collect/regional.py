"""Runs one read per region of an account on a few threads and keeps the regions that answered.

A region whose read fails is recorded as a coverage gap (service, operation, region) and left out of the
answer, so a rule can tell "not collected" from "collected and empty".
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from auditor.collect.session import AWS_ERRORS, Gaps

MAX_REGION_THREADS = 4
T = TypeVar("T")


def per_region(
    regions: tuple[str, ...], read: Callable[[str], T], gaps: Gaps, service: str, operation: str
) -> dict[str, T]:
    """``read(region)`` for every region, in parallel; region -> answer for those that answered."""

    def one(region: str) -> tuple[str, T] | None:
        try:
            return region, read(region)
        except AWS_ERRORS as exc:
            # A read may make several calls: name the one that failed when botocore says which.
            gaps.record(service, str(getattr(exc, "operation_name", "") or operation), exc, region=region)
            return None

    with ThreadPoolExecutor(max_workers=max(1, min(MAX_REGION_THREADS, len(regions)))) as pool:
        answers = list(pool.map(one, regions))
    return {region: value for item in answers if item is not None for region, value in (item,)}
