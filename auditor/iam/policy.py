"""Policy documents parsed into statements: the one place in the auditor that reads policy JSON.

Everything downstream (evaluation, graph, rules) works on ``Policy``/``Statement`` objects. Matching
is done here too, so the wildcard and policy-variable semantics live in one module:

* actions match case-insensitively with ``*`` and ``?``;
* ARNs match case-sensitively with ``*`` and ``?`` (over the whole ARN, a slight over-approximation of
  AWS's per-component matching);
* policy variables (``${aws:username}``...) are left symbolic: they match anything ("could match") and
  the statement records which variables were symbolic, so callers can lower their confidence.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import unquote

Effect = Literal["Allow", "Deny"]
PrincipalMatch = Literal["direct", "account", "anyone"]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}  # ${*} ${?} ${$} stand for the literal characters
_ACCOUNT_ID = re.compile(r"^\d{12}$")


class PolicyParseError(ValueError):
    """A policy document that is not a valid IAM policy. Callers record it as evidence/coverage."""

    def __init__(self, source: PolicySource, message: str) -> None:
        super().__init__(f"{source.label}: {message}")
        self.source = source
        self.reason = message


@dataclass(frozen=True)
class PolicySource:
    """Where a policy document comes from; ``kind`` says how evaluation uses it."""

    name: str
    kind: str  # inline, managed, aws-managed, group-inline, group-managed, boundary, trust, resource, scp, rcp
    arn: str | None = None
    owner_arn: str | None = None  # the principal, group, role, resource or OU/account it is attached to
    account_id: str | None = None

    @property
    def label(self) -> str:
        return self.arn or self.name


@dataclass(frozen=True)
class Statement:
    """One statement; element values are normalised to tuples, ``raw`` is kept verbatim for evidence."""

    sid: str | None
    effect: Effect
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principals: dict[str, tuple[str, ...]] | None  # kind ("AWS", "Service", "Federated", ...) -> values
    not_principals: dict[str, tuple[str, ...]] | None
    conditions: dict[str, dict[str, tuple[str, ...]]]  # operator -> condition key -> values (as text)
    raw: dict[str, Any] = field(compare=False, hash=False)
    index: int = 0
    symbolic_variables: tuple[str, ...] = ()  # policy variables left symbolic in Resource/Principal

    @property
    def is_allow(self) -> bool:
        return self.effect == "Allow"

    def matches_action(self, action: str) -> bool:
        if self.not_actions:
            return not _any_action(self.not_actions, action)
        return _any_action(self.actions, action)

    def matches_resource(self, arn: str) -> bool:
        if self.not_resources:
            return not _any_arn(self.not_resources, arn)
        if not self.resources:  # trust policies and most resource policies may omit Resource
            return True
        return _any_arn(self.resources, arn)

    def grants_all_actions(self) -> bool:
        """``Action: "*"`` (or ``*:*``): every action of every service, known or not."""
        return not self.not_actions and any(p.strip() in ("*", "*:*") for p in self.actions)

    def principal_match(self, kind: str, identifier: str, account_id: str | None) -> PrincipalMatch | None:
        """How the Principal/NotPrincipal element names this caller, or None when it does not.

        ``direct``: the caller's own ARN (or service / provider name); ``account``: the caller's account
        (``arn:aws:iam::A:root`` or ``A``), which delegates the decision to that account's identity
        policies; ``anyone``: ``"*"`` (or NotPrincipal not naming the caller).
        """
        if self.principals is None and self.not_principals is None:
            return "anyone"  # identity policies, SCPs: no principal element
        if self.not_principals is not None:
            hit = _principal_listed(self.not_principals, kind, identifier, account_id)
            return None if hit else "anyone"
        assert self.principals is not None
        return _principal_listed(self.principals, kind, identifier, account_id)


@dataclass(frozen=True, eq=False)  # identity semantics: parsed once, shared, used as a cache key
class Policy:
    source: PolicySource
    statements: tuple[Statement, ...]
    raw: dict[str, Any] = field(compare=False, hash=False, default_factory=dict)
    _allows: tuple[Statement, ...] = field(init=False, repr=False, compare=False, hash=False)
    _denies: tuple[Statement, ...] = field(init=False, repr=False, compare=False, hash=False)

    _by_action: dict[str, tuple[Statement, ...]] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_allows", tuple(s for s in self.statements if s.is_allow))
        object.__setattr__(self, "_denies", tuple(s for s in self.statements if not s.is_allow))

    def for_action(self, action: str) -> tuple[Statement, ...]:
        """The statements whose Action/NotAction covers ``action`` (cached per policy)."""
        hit = self._by_action.get(action)
        if hit is None:
            hit = self._by_action[action] = tuple(s for s in self.statements if s.matches_action(action))
        return hit

    def allows(self) -> tuple[Statement, ...]:
        return self._allows

    def denies(self) -> tuple[Statement, ...]:
        return self._denies


# --- parsing ------------------------------------------------------------------------------------


def parse_policy(document: dict[str, Any] | str, source: PolicySource) -> Policy:
    """Parse a policy document (dict, JSON text or URL-encoded JSON text) into a ``Policy``.

    Raises ``PolicyParseError`` for anything that is not a policy; never another exception.
    """
    doc = _load(document, source)
    raw_statements = doc.get("Statement")
    if raw_statements is None:
        raise PolicyParseError(source, "no Statement element")
    if isinstance(raw_statements, dict):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise PolicyParseError(source, "Statement is neither an object nor a list")
    statements = tuple(_statement(raw, i, source) for i, raw in enumerate(raw_statements))
    return Policy(source=source, statements=statements, raw=doc)


def _load(document: dict[str, Any] | str, source: PolicySource) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    if not isinstance(document, str):
        raise PolicyParseError(source, f"document is a {type(document).__name__}, not an object")
    text = document.strip()
    if text.startswith("%7B") or text.startswith("%7b"):
        text = unquote(text)  # IAM APIs return URL-encoded documents
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyParseError(source, f"invalid JSON: {exc.msg} at position {exc.pos}") from exc
    if not isinstance(loaded, dict):
        raise PolicyParseError(source, "document is not a JSON object")
    return loaded


def _strings(value: Any, element: str, source: PolicySource) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PolicyParseError(source, f"{element} must be a string or a list of strings")


def _principal_element(value: Any, element: str, source: PolicySource) -> dict[str, tuple[str, ...]] | None:
    if value is None:
        return None
    if value == "*":
        return {"AWS": ("*",)}
    if not isinstance(value, dict):
        raise PolicyParseError(source, f'{element} must be "*" or an object')
    out: dict[str, tuple[str, ...]] = {}
    for kind, values in value.items():
        names = _strings(values, f"{element}.{kind}", source)
        if kind == "AWS":
            names = tuple(normalise_aws_principal(n) for n in names)
        out[str(kind)] = names
    return out


def _conditions(value: Any, source: PolicySource) -> dict[str, dict[str, tuple[str, ...]]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PolicyParseError(source, "Condition must be an object")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for operator, block in value.items():
        if not isinstance(block, dict):
            raise PolicyParseError(source, f"Condition operator {operator} must map keys to values")
        keys: dict[str, tuple[str, ...]] = {}
        for key, values in block.items():
            items = values if isinstance(values, list) else [values]
            keys[str(key)] = tuple(_text(v) for v in items)
        out[str(operator)] = keys
    return out


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _statement(raw: Any, index: int, source: PolicySource) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyParseError(source, f"statement {index} is not an object")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyParseError(source, f"statement {index} has Effect {effect!r}")
    if "Action" in raw and "NotAction" in raw:
        raise PolicyParseError(source, f"statement {index} has both Action and NotAction")
    if "Resource" in raw and "NotResource" in raw:
        raise PolicyParseError(source, f"statement {index} has both Resource and NotResource")
    if "Action" not in raw and "NotAction" not in raw:
        raise PolicyParseError(source, f"statement {index} has neither Action nor NotAction")
    actions = _strings(raw.get("Action"), "Action", source)
    not_actions = _strings(raw.get("NotAction"), "NotAction", source)
    resources = _strings(raw.get("Resource"), "Resource", source)
    not_resources = _strings(raw.get("NotResource"), "NotResource", source)
    principals = _principal_element(raw.get("Principal"), "Principal", source)
    not_principals = _principal_element(raw.get("NotPrincipal"), "NotPrincipal", source)
    symbolic = sorted(
        {
            var
            for text in (*resources, *not_resources, *_flatten(principals), *_flatten(not_principals))
            for var in _VARIABLE.findall(text)
            if var not in _ESCAPES
        }
    )
    sid = raw.get("Sid")
    return Statement(
        sid=str(sid) if sid is not None else None,
        effect=effect,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        principals=principals,
        not_principals=not_principals,
        conditions=_conditions(raw.get("Condition"), source),
        raw=raw,
        index=index,
        symbolic_variables=tuple(symbolic),
    )


def _flatten(principals: dict[str, tuple[str, ...]] | None) -> tuple[str, ...]:
    if not principals:
        return ()
    return tuple(v for values in principals.values() for v in values)


# --- matching -----------------------------------------------------------------------------------


def normalise_aws_principal(value: str) -> str:
    """A bare account id in a Principal means that account's root: ``arn:aws:iam::A:root``."""
    value = value.strip()
    if _ACCOUNT_ID.match(value):
        return f"arn:aws:iam::{value}:root"
    return value


def has_policy_variable(text: str) -> bool:
    if "${" not in text:
        return False
    return any(var not in _ESCAPES for var in _VARIABLE.findall(text))


@lru_cache(maxsize=65536)
def _compile(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    out: list[str] = []
    pos = 0
    for m in _VARIABLE.finditer(pattern):
        out.append(_glob(pattern[pos : m.start()]))
        var = m.group(1)
        out.append(re.escape(_ESCAPES[var]) if var in _ESCAPES else ".*")  # symbolic: could match
        pos = m.end()
    out.append(_glob(pattern[pos:]))
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _glob(text: str) -> str:
    return "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)


@lru_cache(maxsize=262144)
def _any_action(patterns: tuple[str, ...], action: str) -> bool:
    return any(action_matches(p, action) for p in patterns)


@lru_cache(maxsize=262144)
def _any_arn(patterns: tuple[str, ...], arn: str) -> bool:
    return any(arn_matches(p, arn) for p in patterns)


def action_matches(pattern: str, action: str) -> bool:
    """Case-insensitive IAM action match (``s3:Get*`` matches ``s3:getobject``)."""
    pattern = pattern.strip()
    if pattern == "*":
        return True
    return _compile(pattern, True).fullmatch(action) is not None


def arn_matches(pattern: str, arn: str) -> bool:
    """ARN (or name) match with ``*``/``?`` wildcards; policy variables match anything."""
    if pattern == "*":
        return True
    if pattern == arn:
        return True
    if "*" not in pattern and "?" not in pattern and "${" not in pattern:
        return False
    return _compile(pattern, False).fullmatch(arn) is not None


def arn_account(arn: str) -> str | None:
    """The account id in an ARN (``arn:aws:iam::123456789012:role/x`` -> ``123456789012``)."""
    parts = arn.split(":", 5)
    if len(parts) >= 5 and parts[0] == "arn" and _ACCOUNT_ID.match(parts[4]):
        return parts[4]
    if _ACCOUNT_ID.match(arn):
        return arn
    return None


def _principal_listed(
    principals: dict[str, tuple[str, ...]], kind: str, identifier: str, account_id: str | None
) -> PrincipalMatch | None:
    best: PrincipalMatch | None = None
    for listed_kind, values in principals.items():
        if listed_kind != kind and not (listed_kind == "AWS" and values == ("*",)):
            continue
        for value in values:
            if value == "*":
                best = best or "anyone"
                continue
            if kind == "AWS":
                if account_id and value == f"arn:aws:iam::{account_id}:root":
                    if best != "direct":
                        best = "account"
                    continue
                if arn_matches(value, identifier) or _session_of(value, identifier):
                    return "direct"
            elif value.lower() == identifier.lower() or arn_matches(value, identifier):
                return "direct"
    return best


def _session_of(listed: str, identifier: str) -> bool:
    """A role ARN listed in a policy also covers that role's sessions (and vice versa for evidence)."""
    if ":assumed-role/" not in identifier or ":role/" not in listed:
        return False
    account = arn_account(listed)
    role_name = listed.rsplit("/", 1)[-1]
    return identifier.startswith(f"arn:aws:sts::{account}:assumed-role/{role_name}/")
