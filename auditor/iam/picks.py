"""Which request contexts may the caller choose? Some condition keys are picked by whoever makes the request,
once per request: how a user signs in (``aws:MultiFactorAuthPresent``, see ``facts``), the region it sends
the request to (``aws:RequestedRegion``) and the headers it sends (``aws:UserAgent``, ``aws:Referer``: AWS
documents both as set by the caller). ``can`` evaluates the request under each pick the applicable
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
# keys whose value the caller writes into the request: any value, or (headers) none at all
FREE_KEYS = {REQUESTED_REGION: False, "aws:useragent": False, "aws:referer": True}  # key -> may be absent
CALLER_PICKED = frozenset({*FREE_KEYS, "aws:multifactorauthpresent", "aws:multifactorauthage"})

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
UNLISTED_VALUE = "unlisted-value"  # stands for any user agent or referer no policy names


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


def named_values(statements: Iterable[Statement], key: str) -> tuple[str, ...]:
    """The values the statements name for ``key`` (wildcards made concrete: ``eu-*`` -> ``eu-x``)."""
    out: dict[str, None] = {}
    for st in statements:
        if key not in st.condition_keys:
            continue
        for block in st.conditions.values():
            for name, values in block.items():
                if name.lower() == key:
                    out.update((v.replace("*", "x").replace("?", "1"), None) for v in values if "${" not in v)
    return tuple(out)


def region_candidates(statements: Iterable[Statement]) -> tuple[str, ...]:
    """One region per value the statements name for aws:RequestedRegion, plus one that none of them names:
    the picks that can make a difference."""
    return (*(v for v in named_values(statements, REQUESTED_REGION) if v != UNLISTED_REGION), UNLISTED_REGION)


def _free_choice(key: str, statements: tuple[Statement, ...]) -> tuple[tuple[object, ...], Choice]:
    """The caller's options for a key it writes itself: each value a policy names, one it does not, none."""
    unlisted = UNLISTED_REGION if key == REQUESTED_REGION else UNLISTED_VALUE
    named = tuple(v for v in named_values(statements, key) if v != unlisted)
    options: list[object] = [(v,) for v in (*named, unlisted)]
    labels = [f"{_pretty(key)} {v}: picked by the caller" for v in named]
    labels.append(f"{_pretty(key)}: a value no policy names, picked by the caller")
    if FREE_KEYS[key]:
        options.append(None)
        labels.append(f"{_pretty(key)} absent: the caller sends none")
    return (key, named), Choice(key, tuple(options), tuple(labels))


def _pretty(key: str) -> str:
    return {"aws:requestedregion": "aws:RequestedRegion", "aws:useragent": "aws:UserAgent"}.get(key, "aws:Referer")


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
    free_key: list[object] = []
    free: dict[str, Choice] = {}
    for key in sorted(reads & FREE_KEYS.keys()):
        if cond.lookup(key) is not False:
            continue  # the request's own facts say what it carries
        fixed = global_region(action, partition) if key == REQUESTED_REGION else None
        if fixed is not None:
            layered = layered.merged({key: (fixed,)})
            notes = (f"aws:RequestedRegion {fixed}: the single endpoint of {action.split(':', 1)[0]}",)
            free_key.append(("fixed", fixed))
            continue
        signature, free[key] = _free_choice(key, statements)
        free_key.append(signature)
    if free:
        layered = layered.merged(free)
    region_key = tuple(free_key)
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
