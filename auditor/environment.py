"""Environment classification: which environment (prod, non-prod, ...) each account and resource belongs to.

Order of evidence for an account: the ``auditor.yaml`` override, then an account tag
(``Environment``/``env`` by default), then the OU path names, then the account name.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from auditor.config import AuditorConfig
from auditor.model import Snapshot

# The management account is its own environment: it is neither a workload nor a security-tooling account,
# and whoever controls it controls the whole organisation.
MANAGEMENT = "management"
ENVIRONMENTS: tuple[str, ...] = ("prod", "non-prod", "sandbox", "security", MANAGEMENT, "unknown")

# Words (lower-case tokens) that name an environment; the first environment with a match wins.
_WORDS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "non-prod",
        frozenset(
            {
                "nonprod",
                "nonproduction",
                "non-prod",
                "non-production",
                "dev",
                "develop",
                "development",
                "test",
                "testing",
                "qa",
                "uat",
                "stage",
                "staging",
                "stg",
                "preprod",
                "pre-prod",
                "int",
                "integration",
                "perf",
                "demo",
            }
        ),
    ),
    ("prod", frozenset({"prod", "production", "prd", "live", "prod-eu", "prod-us"})),
    ("sandbox", frozenset({"sandbox", "sbx", "playground", "experiment", "experiments", "lab", "poc"})),
    (
        "security",
        frozenset(
            {
                "security",
                "sec",
                "audit",
                "log",
                "logs",
                "logging",
                "log-archive",
                "shared",
                "shared-services",
                "sharedservices",
                "infra",
                "infrastructure",
                "network",
                "networking",
                "tooling",
                "identity",
            }
        ),
    ),
)
_SPLIT = re.compile(r"[^a-z0-9]+")


def classify_value(text: str) -> str | None:
    """The environment a tag value, OU name or account name denotes, or None when it names none."""
    lowered = text.strip().lower()
    if not lowered:
        return None
    for environment, words in _WORDS:
        if lowered in words:
            return environment
    tokens = [token for token in _SPLIT.split(lowered) if token]
    joined_pairs = {f"{a}-{b}" for a, b in itertools.pairwise(tokens)} | {
        f"{a}{b}" for a, b in itertools.pairwise(tokens)
    }
    for environment, words in _WORDS:
        if words & joined_pairs:
            return environment
    for environment, words in _WORDS:
        if any(token in words for token in tokens):
            return environment
    return None


def tag_value(tags: Mapping[str, str], keys: Iterable[str]) -> tuple[str, str] | None:
    """The first of ``keys`` present in ``tags`` (case-insensitive key match): (key as found, value)."""
    lowered = {key.lower(): key for key in tags}
    for key in keys:
        found = lowered.get(key.lower())
        if found is not None:
            return found, tags[found]
    return None


@dataclass(frozen=True)
class EnvironmentInfo:
    environment: str
    source: str  # human-readable evidence, e.g. "account tag Environment=prod"


def classify_accounts(snapshot: Snapshot, config: AuditorConfig) -> dict[str, EnvironmentInfo]:
    """The environment of every account in the snapshot, with where that conclusion came from."""
    result: dict[str, EnvironmentInfo] = {}
    org = snapshot.organization
    for account in snapshot.accounts:
        account_id = account.account_id
        override = config.environments.accounts.get(account_id)
        if override:
            result[account_id] = EnvironmentInfo(override, "auditor.yaml override")
            continue
        org_account = org.account(account_id) if org else None
        tags = org_account.tags if org_account else {}
        found = tag_value(tags, config.environments.tag_keys)
        if found:
            environment = classify_value(found[1])
            if environment:
                result[account_id] = EnvironmentInfo(environment, f"account tag {found[0]}={found[1]}")
                continue
        if org:
            for ou in reversed(org.ou_path(account_id)):
                environment = classify_value(ou.name)
                if environment:
                    result[account_id] = EnvironmentInfo(
                        environment, f"OU path {org.ou_path_names(account_id)}"
                    )
                    break
            if account_id in result:
                continue
        name = org_account.name if org_account else account.name
        environment = classify_value(name) if name else None
        if environment:
            result[account_id] = EnvironmentInfo(environment, f"account name {name}")
        elif org and account_id == org.management_account_id:
            result[account_id] = EnvironmentInfo(MANAGEMENT, "organization management account")
        else:
            result[account_id] = EnvironmentInfo("unknown", "no tag, OU or name denotes an environment")
    return result
