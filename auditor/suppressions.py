"""Suppressions: accepted risks, each with a reason, an owner and an expiry date.

This module owns the ``suppressions:`` list (a file of its own, or the key of that name in
``auditor.yaml``), validates it when it loads, and splits findings into those still reported and
those hidden, reporting entries that have expired or no longer match anything.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from auditor.config import VALID_ENVIRONMENTS
from auditor.errors import UserError
from auditor.findings import Finding
from auditor.model import Snapshot

REQUIRED_KEYS: tuple[str, ...] = ("reason", "owner", "expires")
MATCHER_KEYS: tuple[str, ...] = ("rule_id", "account_id", "environment", "arn", "arn_regex", "tags")
KNOWN_KEYS: tuple[str, ...] = (*REQUIRED_KEYS, *MATCHER_KEYS)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ACCOUNT_ID = re.compile(r"\d{12}")


@dataclass(frozen=True)
class Suppression:
    """One accepted risk. Matching is AND over the matchers that are set; at least one must be set."""

    index: int  # 1-based position in the file, for messages
    reason: str
    owner: str
    expires: datetime.date  # last day on which the entry still applies
    rule_id: str | None = None  # exact id or glob, e.g. "CRED-*"
    account_id: str | None = None
    environment: str | None = None
    arn: str | None = None  # glob, case-sensitive
    arn_regex: str | None = None  # must match the whole ARN
    tags: dict[str, str] = field(default_factory=dict, hash=False)  # values may be globs
    _arn_pattern: re.Pattern[str] | None = field(init=False, default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.compile(self.arn_regex) if self.arn_regex is not None else None
        object.__setattr__(self, "_arn_pattern", pattern)

    @property
    def label(self) -> str:
        """``entry 3 (rule_id CRED-004)``: how messages name the entry."""
        for key in ("rule_id", "arn", "arn_regex", "account_id", "environment"):
            value = getattr(self, key)
            if value is not None:
                return f"entry {self.index} ({key} {value})"
        return f"entry {self.index}"

    def is_expired(self, today: datetime.date) -> bool:
        """Expired once ``expires`` has fully passed: the expiry day itself still applies."""
        return today > self.expires

    def matches(self, finding: Finding, tags: Mapping[str, str]) -> bool:
        """True when every matcher that is set matches; ``tags`` are the finding's resource tags."""
        if self.rule_id is not None and not fnmatchcase(finding.rule_id, self.rule_id):
            return False
        if self.account_id is not None and finding.account_id != self.account_id:
            return False
        if self.environment is not None and finding.environment != self.environment:
            return False
        if self.arn is not None and not fnmatchcase(finding.resource_arn, self.arn):
            return False
        if self._arn_pattern is not None and self._arn_pattern.fullmatch(finding.resource_arn) is None:
            return False
        return all(key in tags and fnmatchcase(tags[key], value) for key, value in self.tags.items())


# --- loading ------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps numbers and dates as text: account ids keep leading zeros; we check dates."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _EntryError(Exception):
    """A problem with one entry; the loader adds the file and the entry's label."""


def load_suppressions(path: Path) -> tuple[Suppression, ...]:
    """Read a suppressions list: a YAML list of entries, or a mapping with a ``suppressions:`` list."""
    where = f"suppressions file {path}"
    try:
        raw: Any = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except FileNotFoundError:
        raise UserError(f"{where} does not exist") from None
    except IsADirectoryError:
        raise UserError(f"{where} is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{where} cannot be read: {exc}") from None
    except RecursionError:
        raise UserError(f"{where} is nested too deeply") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{where} is not valid YAML: {_yaml_problem(exc)}") from None
    entries = _entries(raw, where)
    loaded: list[Suppression] = []
    for index, entry in enumerate(entries, start=1):
        try:
            loaded.append(_entry(index, entry))
        except _EntryError as exc:
            raise UserError(f"{where}: {_raw_label(index, entry)}: {exc}") from None
    return tuple(loaded)


def _entries(raw: Any, where: str) -> list[Any]:
    if raw is None:
        return []
    if isinstance(raw, dict):
        if "suppressions" not in raw:
            if any(key in KNOWN_KEYS for key in raw):
                raise UserError(f"{where}: the top level is one entry; write it as a list item ('- ...')")
            return []  # an auditor.yaml without suppressions
        raw = raw["suppressions"]
        if raw is None:
            return []
        where = f"{where}: suppressions"
    if not isinstance(raw, list):
        raise UserError(f"{where} must be a list of entries, not {_kind(raw)}")
    return raw


def _entry(index: int, entry: Any) -> Suppression:
    if not isinstance(entry, dict):
        raise _EntryError(f"must be a mapping of keys, not {_kind(entry)}")
    unknown = [str(key) for key in entry if key not in KNOWN_KEYS]
    if unknown:
        close = difflib.get_close_matches(unknown[0], KNOWN_KEYS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known keys: {', '.join(KNOWN_KEYS)})"
        raise _EntryError(f"unknown key {unknown[0]!r}{hint}")
    missing = [key for key in REQUIRED_KEYS if entry.get(key) is None]
    if missing:
        raise _EntryError("missing " + ", ".join(repr(key) for key in missing))
    if not any(entry.get(key) not in (None, {}) for key in MATCHER_KEYS):
        raise _EntryError("needs at least one matcher: " + ", ".join(MATCHER_KEYS))
    account_id = _optional_text(entry, "account_id")
    if account_id is not None and _ACCOUNT_ID.fullmatch(account_id) is None:
        raise _EntryError(f"account_id {account_id!r} is not a 12-digit account id")
    environment = _optional_text(entry, "environment")
    if environment is not None and environment not in VALID_ENVIRONMENTS:
        raise _EntryError(f"environment {environment!r} is not one of " + ", ".join(VALID_ENVIRONMENTS))
    arn_regex = _optional_text(entry, "arn_regex")
    if arn_regex is not None:
        try:
            re.compile(arn_regex)
        except re.error as exc:
            raise _EntryError(f"arn_regex is not a valid regular expression: {exc}") from None
    return Suppression(
        index=index,
        reason=_text(entry, "reason"),
        owner=_text(entry, "owner"),
        expires=_date(entry["expires"]),
        rule_id=_optional_text(entry, "rule_id"),
        account_id=account_id,
        environment=environment,
        arn=_optional_text(entry, "arn"),
        arn_regex=arn_regex,
        tags=_tags(entry.get("tags")),
    )


def _text(entry: dict[Any, Any], key: str) -> str:
    value = entry[key]
    if not isinstance(value, str):
        raise _EntryError(f"{key!r} must be text, not {_kind(value)}")
    if not value.strip():
        raise _EntryError(f"{key!r} is empty")
    return value


def _optional_text(entry: dict[Any, Any], key: str) -> str | None:
    return None if entry.get(key) is None else _text(entry, key)


def _date(value: Any) -> datetime.date:
    if not isinstance(value, str) or _DATE.fullmatch(value) is None:
        raise _EntryError(f"expires {value!r} is not a date (YYYY-MM-DD)")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise _EntryError(f"expires {value!r} is not a valid date (YYYY-MM-DD)") from None


def _tags(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _EntryError(f"tags must be a mapping of tag key to value, not {_kind(value)}")
    for key, tag_value in value.items():
        if not isinstance(key, str) or not isinstance(tag_value, str):
            raise _EntryError(f"tag {key!r}: keys and values must be text (quote them), got {tag_value!r}")
    return dict(value)


def _raw_label(index: int, entry: Any) -> str:
    if isinstance(entry, dict):
        for key in ("rule_id", "arn", "arn_regex", "account_id", "environment"):
            if isinstance(entry.get(key), str):
                return f"entry {index} ({key} {entry[key]})"
    return f"entry {index}"


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "text", bool: "a boolean", type(None): "empty"}
    return names.get(type(value), type(value).__name__)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """``line 2, column 1: expected ...``: the parser's problem and where, without its multi-line excerpt."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem and exc.problem_mark:
        mark = exc.problem_mark
        return f"line {mark.line + 1}, column {mark.column + 1}: {' '.join(exc.problem.split())}"
    return " ".join(str(exc).split())


# --- applying -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuppressionOutcome:
    active: tuple[Finding, ...]  # findings still reported
    suppressed: tuple[tuple[Finding, Suppression], ...]  # hidden by a live entry (the first that matches)
    expired: tuple[Suppression, ...]  # entries past their date: they no longer apply
    stale: tuple[Suppression, ...]  # live entries that matched no finding
    expired_matches: tuple[tuple[Finding, Suppression], ...]  # reported again because their entry expired


def apply_suppressions(
    findings: Sequence[Finding],
    suppressions: Sequence[Suppression],
    today: datetime.date,
    resource_tags: Callable[[str], Mapping[str, str]],
) -> SuppressionOutcome:
    """Split findings into reported and hidden; the first live entry that matches a finding hides it."""
    live = [s for s in suppressions if not s.is_expired(today)]
    expired = [s for s in suppressions if s.is_expired(today)]
    matched: set[int] = set()  # ids of live entries that matched at least one finding
    active: list[Finding] = []
    suppressed: list[tuple[Finding, Suppression]] = []
    expired_matches: list[tuple[Finding, Suppression]] = []
    for finding in findings:
        tags = resource_tags(finding.resource_arn)
        hits = [s for s in live if s.matches(finding, tags)]
        matched.update(id(s) for s in hits)
        if hits:
            suppressed.append((finding, hits[0]))
            continue
        active.append(finding)
        lapsed = next((s for s in expired if s.matches(finding, tags)), None)
        if lapsed is not None:
            expired_matches.append((finding, lapsed))
    return SuppressionOutcome(
        active=tuple(active),
        suppressed=tuple(suppressed),
        expired=tuple(expired),
        stale=tuple(s for s in live if id(s) not in matched),
        expired_matches=tuple(expired_matches),
    )


def resource_tag_index(snapshot: Snapshot) -> Callable[[str], Mapping[str, str]]:
    """Tags by ARN for every tagged thing in the snapshot; unknown ARNs have no tags."""
    index: dict[str, Mapping[str, str]] = {}
    if snapshot.organization is not None:
        for ou in snapshot.organization.organizational_units:
            index[ou.arn] = ou.tags
        for member in snapshot.organization.accounts:
            index[member.arn] = member.tags
            # account findings without an org ARN (e.g. the root user) name the account by its root ARN
            index.setdefault(f"arn:aws:iam::{member.id}:root", member.tags)
    for account in snapshot.accounts:
        for resource in account.resources:
            index[resource.arn] = resource.tags
        if account.iam is not None:
            for user in account.iam.users:
                index[user.arn] = user.tags
            for role in account.iam.roles:
                index[role.arn] = role.tags
    empty: Mapping[str, str] = {}

    def tags_of(arn: str) -> Mapping[str, str]:
        return index.get(arn, empty)

    return tags_of


def suppression_json(s: Suppression) -> dict[str, Any]:
    """The ``suppression`` object of a suppressed finding in findings.json: only the fields that are set."""
    out: dict[str, Any] = {
        "index": s.index,
        "reason": s.reason,
        "owner": s.owner,
        "expires": s.expires.isoformat(),
    }
    for key in ("rule_id", "account_id", "environment", "arn", "arn_regex"):
        value = getattr(s, key)
        if value is not None:
            out[key] = value
    if s.tags:
        out["tags"] = dict(s.tags)
    return out
