"""Which request contexts may the caller choose? Some condition keys are picked by whoever makes the request,
once per request: how a user signs in (``aws:MultiFactorAuthPresent``, see ``facts``) and the region it sends
the request to (``aws:RequestedRegion``). ``can`` evaluates the request under each pick the applicable
statements can tell apart and keeps the best: a region-lock SCP does not make an admin "conditional",
because the caller sends its requests to an allowed region.

Global services have one endpoint: their requests always name that region (IAM, Organizations, Route 53,
CloudFront, Support... in us-east-1 for the commercial partition), so the caller picks nothing there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from auditor.iam.conditions import Choice, ConditionContext, pick_combinations
from auditor.iam.policy import DEFAULT_PARTITION, Statement

REQUESTED_REGION = "aws:requestedregion"
CALLER_PICKED = frozenset({REQUESTED_REGION, "aws:multifactorauthpresent", "aws:multifactorauthage"})

# AWS's documented global services with a single endpoint, and where it is, per partition.
_US_EAST_1 = {"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}
GLOBAL_SERVICE_REGIONS: dict[str, dict[str, str]] = {
    "iam": _US_EAST_1,
    "organizations": _US_EAST_1,
    "route53": _US_EAST_1,
    "cloudfront": _US_EAST_1,
    "support": _US_EAST_1,
    "budgets": _US_EAST_1,
    "waf": _US_EAST_1,
    "importexport": _US_EAST_1,
    "globalaccelerator": {"aws": "us-west-2"},
}
UNLISTED_REGION = "unlisted-region-1"  # stands for any region no policy names


def global_region(action: str, partition: str | None) -> str | None:
    service = action.split(":", 1)[0].lower()
    return GLOBAL_SERVICE_REGIONS.get(service, {}).get(partition or DEFAULT_PARTITION)


def reads_caller_picked(statements: Iterable[Statement]) -> frozenset[str]:
    """The caller-picked keys these statements' conditions read."""
    found: set[str] = set()
    for st in statements:
        if st.condition_keys:
            found |= st.condition_keys & CALLER_PICKED
    return frozenset(found)


def region_candidates(statements: Iterable[Statement]) -> tuple[str, ...]:
    """One region per value the statements name for aws:RequestedRegion (wildcards made concrete), plus one
    that none of them names: the picks that can make a difference."""
    out: dict[str, None] = {}
    for st in statements:
        if REQUESTED_REGION not in st.condition_keys:
            continue
        for block in st.conditions.values():
            for key, values in block.items():
                if key.lower() == REQUESTED_REGION:
                    out.update((v.replace("*", "x").replace("?", "1"), None) for v in values if "${" not in v)
    out[UNLISTED_REGION] = None
    return tuple(out)


def request_variants(
    cond: ConditionContext,
    action: str,
    partition: str | None,
    statements: tuple[Statement, ...],
) -> Iterator[tuple[tuple[object, ...], ConditionContext, tuple[str, ...]]]:
    """(key, condition context, notes) for each pick the statements can tell apart; nothing when none.

    The key identifies the pick (for caching the derived request); the notes say what was picked.
    """
    reads = reads_caller_picked(statements)
    if not reads:
        return
    layered: ConditionContext = cond
    notes: tuple[str, ...] = ()
    region_key: tuple[object, ...] = ()
    if REQUESTED_REGION in reads and cond.lookup(REQUESTED_REGION) is False:
        fixed = global_region(action, partition)
        if fixed is not None:
            layered = cond.merged({REQUESTED_REGION: (fixed,)})
            notes = (f"aws:RequestedRegion {fixed}: the single endpoint of {action.split(':', 1)[0]}",)
            region_key = ("fixed", fixed)
        else:
            candidates = region_candidates(statements)
            labels = tuple(
                f"aws:RequestedRegion {c}: picked by the caller"
                if c != UNLISTED_REGION
                else "aws:RequestedRegion: a region no policy names, picked by the caller"
                for c in candidates
            )
            layered = cond.merged({REQUESTED_REGION: Choice("region", tuple((c,) for c in candidates), labels)})
            region_key = ("pick", candidates)
    groups = {
        group: len(next(iter(keys.values())).options)
        for group, keys in layered.choices().items()
        if reads & keys.keys()
    }
    if not groups:
        if region_key:
            yield region_key, layered, notes
        return
    choices = layered.choices()
    for picks in pick_combinations(groups):
        labels = tuple(next(iter(choices[g].values())).labels[i] for g, i in sorted(picks.items()))
        yield (*region_key, tuple(sorted(picks.items()))), layered.picked(picks), (*notes, *labels)
