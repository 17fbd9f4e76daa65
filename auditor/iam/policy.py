"""Policy documents parsed into statements: the one place in the auditor that reads policy JSON.

Everything downstream (evaluation, graph, rules) works on ``Policy``/``Statement`` objects. Matching
is done here too, so the wildcard and policy-variable semantics live in one module:

* actions match case-insensitively with ``*`` and ``?``;
* ARNs match case-sensitively with ``*`` and ``?`` (over the whole ARN, a slight over-approximation of
  AWS's per-component matching), in time linear in the ARN (``glob``, no backtracking regex);
* policy variables (``${aws:username}``, ``${aws:PrincipalTag/team, 'default'}``...) are substituted from
  the request's facts when a ``lookup`` is given (``resource_tri``); a variable whose value is not known
  makes the match undecided (``Tri.MAYBE``), never "matches everything" nor "matches nothing"; a key known
  to be absent with no default matches nothing (AWS: no value equals or is like any value);
* the partition (``aws``, ``aws-us-gov``, ``aws-cn``...) comes from the ARNs, never assumed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import unquote

from auditor.iam.glob import ANY, STAR, Glob, Token, compile_pattern, compile_tokens
from auditor.iam.tri import Tri, tri_any, tri_not

Effect = Literal["Allow", "Deny"]
PrincipalMatch = Literal["direct", "account", "anyone"]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}  # ${*} ${?} ${$} stand for the literal characters
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_VARIABLE_BODY = re.compile(r"^\s*([^\s,']+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$")
DEFAULT_PARTITION = "aws"

# What a condition-context lookup returns for a key: its values, None when the key is known to be absent,
# False when nothing is known about it, or an opaque object (a value we cannot name).
Lookup = Callable[[str], Any]


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
    symbolic_variables: tuple[str, ...] = ()  # policy variables in Resource/NotResource/Principal
    resource_variables: tuple[str, ...] = ()  # lower-case keys of the variables in Resource/NotResource
    principal_variables: tuple[str, ...] = ()  # variables in Principal/NotPrincipal (AWS does not resolve them)
    condition_keys: frozenset[str] = frozenset()  # lower-case keys its Condition element reads

    @property
    def is_allow(self) -> bool:
        return self.effect == "Allow"

    def matches_action(self, action: str) -> bool:
        if self.not_actions:
            return not _any_action(self.not_actions, action)
        return _any_action(self.actions, action)

    def matches_resource(self, arn: str) -> bool:
        """The statement may apply to ``arn`` (Resource could match / NotResource does not surely exclude it)."""
        return self.resource_tri(arn) != Tri.NO

    def resource_tri(self, arn: str, lookup: Lookup | None = None) -> Tri:
        """Does Resource/NotResource cover ``arn``, with policy variables taken from ``lookup``?

        ``MAYBE`` when the answer hangs on a variable whose value is not known (then a NotResource is
        undecided too: a Deny with ``NotResource: .../${aws:username}`` may still apply).
        """
        patterns = self.not_resources or self.resources
        if not patterns:  # trust policies and most resource policies may omit Resource
            return Tri.YES
        if not self.resource_variables:
            hit = _any_arn(patterns, arn)
            return Tri.NO if hit == bool(self.not_resources) else Tri.YES
        found = tri_any(pattern_tri(p, arn, lookup) for p in patterns)
        return tri_not(found) if self.not_resources else found

    def variable_bindings(self, lookup: Lookup) -> tuple[Any, ...]:
        """What ``lookup`` says about each Resource variable: equal bindings, equal ``resource_tri``."""
        return tuple(lookup(name) for name in self.resource_variables)

    def grants_all_actions(self) -> bool:
        """``Action: "*"`` (or ``*:*``): every action of every service, known or not."""
        return not self.not_actions and any(p.strip() in ("*", "*:*") for p in self.actions)

    def principal_match(self, kind: str, identifier: str, account_id: str | None) -> PrincipalMatch | None:
        """How the Principal/NotPrincipal element names this caller, or None when it does not.

        ``direct``: the caller's own ARN (or service / provider name); ``account``: the caller's account
        (``arn:<partition>:iam::A:root`` or ``A``, in the caller's partition), which delegates the decision
        to that account's identity policies; ``anyone``: ``"*"`` (or NotPrincipal not naming the caller).
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


def source_partition(source: PolicySource) -> str:
    """The partition a policy lives in: from its own ARN or its owner's, else the commercial one."""
    for arn in (source.arn, source.owner_arn):
        partition = arn_partition(arn) if arn else None
        if partition:
            return partition
    return DEFAULT_PARTITION


def _principal_element(value: Any, element: str, source: PolicySource) -> dict[str, tuple[str, ...]] | None:
    if value is None:
        return None
    if value == "*":
        return {"AWS": ("*",)}
    if not isinstance(value, dict):
        raise PolicyParseError(source, f'{element} must be "*" or an object')
    out: dict[str, tuple[str, ...]] = {}
    partition = source_partition(source)
    for kind, values in value.items():
        names = _strings(values, f"{element}.{kind}", source)
        if kind == "AWS":
            names = tuple(normalise_aws_principal(n, partition) for n in names)
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
    resource_variables = tuple(
        dict.fromkeys(v.name for text in (*resources, *not_resources) for v in variables_of(text))
    )
    principal_variables = tuple(
        dict.fromkeys(
            v.name for text in (*_flatten(principals), *_flatten(not_principals)) for v in variables_of(text)
        )
    )
    sid = raw.get("Sid")
    conditions = _conditions(raw.get("Condition"), source)
    return Statement(
        sid=str(sid) if sid is not None else None,
        effect=effect,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        principals=principals,
        not_principals=not_principals,
        conditions=conditions,
        raw=raw,
        index=index,
        symbolic_variables=tuple(symbolic),
        resource_variables=resource_variables,
        principal_variables=principal_variables,
        condition_keys=frozenset(key.lower() for block in conditions.values() for key in block),
    )


def _flatten(principals: dict[str, tuple[str, ...]] | None) -> tuple[str, ...]:
    if not principals:
        return ()
    return tuple(v for values in principals.values() for v in values)


# --- matching ---------------------------------------------------------------------------------


def normalise_aws_principal(value: str, partition: str = DEFAULT_PARTITION) -> str:
    """A bare account id in a Principal means that account's root: ``arn:<partition>:iam::A:root``."""
    value = value.strip()
    if _ACCOUNT_ID.match(value):
        return f"arn:{partition}:iam::{value}:root"
    return value


def has_policy_variable(text: str) -> bool:
    if "${" not in text:
        return False
    return any(var not in _ESCAPES for var in _VARIABLE.findall(text))


@dataclass(frozen=True)
class Variable:
    """``${name}`` or ``${name, 'default'}`` in a pattern; ``name`` is the lower-case context key."""

    name: str
    default: str | None = None


_Template = tuple[Token | Variable, ...]


@lru_cache(maxsize=65536)
def template(pattern: str) -> _Template:
    """A pattern cut into wildcard tokens, literal text and policy variables (escapes made literal)."""
    out: list[Token | Variable] = []
    literal: list[str] = []

    def flush() -> None:
        if literal:
            out.append("".join(literal))
            literal.clear()

    pos = 0
    while pos < len(pattern):
        char = pattern[pos]
        if char == "$" and pattern.startswith("${", pos):
            close = pattern.find("}", pos + 2)
            if close > 0:
                body = pattern[pos + 2 : close]
                pos = close + 1
                if body in _ESCAPES:
                    literal.append(_ESCAPES[body])
                    continue
                flush()
                out.append(_variable(body))
                continue
        if char in "*?":
            flush()
            out.append(STAR if char == "*" else ANY)
        else:
            literal.append(char)
        pos += 1
    flush()
    return tuple(out)


def _variable(body: str) -> Variable:
    m = _VARIABLE_BODY.match(body)
    if m is None:
        return Variable(body.strip().lower())
    default = m.group(2).replace("''", "'") if m.group(2) is not None else None
    return Variable(m.group(1).lower(), default)


def variables_of(pattern: str) -> tuple[Variable, ...]:
    if "${" not in pattern:
        return ()
    return tuple(t for t in template(pattern) if isinstance(t, Variable))


_UNKNOWN = object()  # a variable whose value is not known
_NO_VALUE = object()  # a variable with no value and no default: the pattern matches nothing


def resolve_variable(variable: Variable, lookup: Lookup | None) -> Any:
    """The text a variable stands for, ``_UNKNOWN`` or ``_NO_VALUE``.

    Only a single-valued key can be a variable (AWS); a key that is absent (or multi-valued) takes the
    default when there is one.
    """
    found = lookup(variable.name) if lookup is not None else False
    if found is None or (isinstance(found, tuple) and len(found) != 1):
        return variable.default if variable.default is not None else _NO_VALUE
    if isinstance(found, tuple):
        return found[0]
    return _UNKNOWN  # False (unknown) or an opaque value


def substitute(pattern: str, lookup: Lookup | None) -> tuple[_Template, bool] | None:
    """The pattern with its variables replaced by literal text; unknown ones become ``*`` (and the flag
    says so); None when a variable has no value at all (the pattern matches nothing)."""
    tokens: list[Token | Variable] = []
    unknown = False
    for token in template(pattern):
        if isinstance(token, Variable):
            value = resolve_variable(token, lookup)
            if value is _NO_VALUE:
                return None
            if value is _UNKNOWN:
                unknown = True
                tokens.append(STAR)
                continue
            tokens.append(str(value))
        else:
            tokens.append(token)
    return tuple(tokens), unknown


@lru_cache(maxsize=65536)
def _compiled(tokens: tuple[Token, ...]) -> Glob:
    return compile_tokens(tokens)


def pattern_tri(pattern: str, text: str, lookup: Lookup | None = None, ignore_case: bool = False) -> Tri:
    """Does the wildcard ``pattern`` (with policy variables from ``lookup``) match all of ``text``?"""
    if "${" not in pattern:
        if ignore_case:
            return Tri.YES if compile_pattern(pattern.lower()).match(text.lower()) else Tri.NO
        if pattern == text or pattern == "*":
            return Tri.YES
        if "*" not in pattern and "?" not in pattern:
            return Tri.NO
        return Tri.YES if compile_pattern(pattern).match(text) else Tri.NO
    resolved = substitute(pattern, lookup)
    if resolved is None:
        return Tri.NO
    tokens, unknown = resolved
    if ignore_case:
        tokens = tuple(t if t in (STAR, ANY) else str(t).lower() for t in tokens)
        text = text.lower()
    if not _compiled(tuple(str(t) for t in tokens)).match(text):
        return Tri.NO
    return Tri.MAYBE if unknown else Tri.YES


def arn_pattern_tri(pattern: str, arn: str, lookup: Lookup | None = None) -> Tri:
    """ArnLike/ArnEquals: each of the six colon-separated components is matched on its own, so a wildcard
    does not run across a colon (AWS); the resource component keeps any further colons."""
    if pattern.count(":") < 5 or arn.count(":") < 5:
        return pattern_tri(pattern, arn, lookup)
    wanted, actual = pattern.split(":", 5), arn.split(":", 5)
    return min(pattern_tri(w, a, lookup) for w, a in zip(wanted, actual, strict=True))


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
    return compile_pattern(pattern.lower()).match(action.lower())


def arn_matches(pattern: str, arn: str) -> bool:
    """ARN (or name) match with ``*``/``?`` wildcards; a policy variable of unknown value could match."""
    return pattern_tri(pattern, arn) != Tri.NO


def arn_partition(arn: str) -> str | None:
    """The partition of an ARN (``arn:aws-us-gov:iam::...`` -> ``aws-us-gov``), None for anything else."""
    if not arn.startswith("arn:"):
        return None
    partition = arn[4:].split(":", 1)[0]
    return partition or None


def is_account_root(value: str, account_id: str, caller_arn: str | None = None) -> bool:
    """``value`` is ``arn:<p>:iam::<account_id>:root`` in the caller's partition (any when unknown)."""
    if not value.endswith(":root") or arn_account(value) != account_id or ":iam::" not in value:
        return False
    caller_partition = arn_partition(caller_arn) if caller_arn else None
    return caller_partition is None or arn_partition(value) == caller_partition


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
                if account_id and is_account_root(value, account_id, identifier):
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
    partition = arn_partition(listed) or DEFAULT_PARTITION
    return identifier.startswith(f"arn:{partition}:sts::{account}:assumed-role/{role_name}/")
