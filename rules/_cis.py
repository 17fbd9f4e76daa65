"""Helpers shared by the CIS foundations rule modules (no rules here): which accounts carry the data a rule
needs, which CloudTrail trails log an account, and what a trail's event selectors record."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from auditor.engine import RuleContext
from auditor.model import AccountSnapshot, LoggingData, TrailDetails

T = TypeVar("T")
MANAGEMENT = "Management"
# Pseudo-input of rules that read the CIS settings collection (AccountSnapshot.logging/storage/network/
# iam_extras): an account collected without it (an older snapshot) gets "incomplete", never "pass".
FOUNDATIONS = "foundations"


def audited_with(
    ctx: RuleContext, part: Callable[[AccountSnapshot], T | None], what: str
) -> Iterator[tuple[AccountSnapshot, T]]:
    """(account, its data) for every audited account that has it. An account without it was collected before
    the CIS settings were (rules declare the FOUNDATIONS input, and the assessment marks it incomplete)."""
    for account in ctx.snapshot.accounts:
        data = part(account)
        if account.audited and data is not None:
            yield account, data


def arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 else ""


def trails_logging_account(ctx: RuleContext, account: AccountSnapshot) -> list[tuple[TrailDetails, LoggingData | None]]:
    """Every trail homed in the account, plus every organisation trail of its organisation (read in the
    account that owns it), each with the owner's logging data (None: the owner was not collected)."""
    found: dict[str, tuple[TrailDetails, LoggingData | None]] = {}
    if account.logging is not None:
        for trail in account.logging.trails:
            found[trail.arn] = (trail, account.logging)
    if ctx.snapshot.organization is not None:
        for owner in ctx.snapshot.accounts:
            if owner.logging is None:
                continue
            for trail in owner.logging.trails:
                if trail.is_organization_trail:
                    found.setdefault(trail.arn, (trail, owner.logging))
        for org_trail in ctx.snapshot.organization.trails or ():
            owner_snapshot = ctx.snapshot.account(arn_account(org_trail.arn))
            if org_trail.arn not in found:
                # an organisation trail whose owner account was not collected: known to exist, details unknown
                found[org_trail.arn] = (
                    TrailDetails(name=org_trail.name, arn=org_trail.arn, home_region=org_trail.home_region,
                                 is_multi_region=org_trail.is_multi_region, is_organization_trail=True,
                                 is_logging=org_trail.is_logging),
                    owner_snapshot.logging if owner_snapshot else None,
                )
    return sorted(found.values(), key=lambda item: item[0].arn)


def _field(selector: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((f for f in selector.get("FieldSelectors", []) if f.get("Field") == name), None)


def records_all_management_events(trail: TrailDetails) -> bool | None:
    """The trail records read and write management events (None: its selectors were not read)."""
    if trail.event_selectors is None:
        return None
    for selector in trail.event_selectors:
        if selector.get("IncludeManagementEvents", True) and selector.get("ReadWriteType", "All") == "All":
            return True
    for advanced in trail.advanced_event_selectors:
        category = _field(advanced, "eventCategory")
        if category and MANAGEMENT in category.get("Equals", []) and _field(advanced, "readOnly") is None:
            return True
    return False


def logs_s3_objects(trail: TrailDetails, bucket: str, write: bool) -> bool | None:
    """The trail records object-level write (or read) events of ``bucket`` (None: selectors not read)."""
    if trail.event_selectors is None:
        return None
    wanted = {"All", "WriteOnly"} if write else {"All", "ReadOnly"}
    object_arn = f"arn:aws:s3:::{bucket}/"
    for selector in trail.event_selectors:
        if selector.get("ReadWriteType", "All") not in wanted:
            continue
        for resource in selector.get("DataResources", []):
            if resource.get("Type") != "AWS::S3::Object":
                continue
            for value in resource.get("Values", []):
                # "arn:aws:s3" (or "arn:aws:s3:::") means every bucket; otherwise a bucket or key prefix
                if value.rstrip(":") == "arn:aws:s3" or object_arn.startswith(value) or value == object_arn[:-1]:
                    return True
    return any(_advanced_logs_object(advanced, object_arn, write) for advanced in trail.advanced_event_selectors)


def _advanced_logs_object(selector: dict[str, Any], object_arn: str, write: bool) -> bool:
    fields = {f.get("Field"): f for f in selector.get("FieldSelectors", [])}
    category, kind = fields.get("eventCategory"), fields.get("resources.type")
    if not category or "Data" not in category.get("Equals", []):
        return False
    if not kind or "AWS::S3::Object" not in kind.get("Equals", []):
        return False
    read_only = fields.get("readOnly")
    if read_only and ("false" if write else "true") not in [v.lower() for v in read_only.get("Equals", [])]:
        return False
    if "eventName" in fields or "eventSource" in fields:
        return False  # restricted to some operations: not every object-level event is recorded
    arn = fields.get("resources.ARN")
    if arn is None:
        return True
    if any(object_arn.startswith(p) for p in arn.get("NotStartsWith", [])):
        return False
    if any(v.startswith(object_arn) or object_arn.startswith(v) for v in arn.get("NotEquals", [])):
        return False
    starts, equals = arn.get("StartsWith", []), arn.get("Equals", [])
    if not starts and not equals:
        return True
    return any(object_arn.startswith(p) or p == object_arn[:-1] for p in starts)
