"""Condition blocks decided from collected facts, or explicitly left undecided.

A condition is never silently ignored: each key is either decided from the request facts we know
(principal ARN/account/org, source account, MFA with an assumption flag, principal tags...) or reported
as undecided, which turns an allow into a *conditional* allow (lower confidence).

Three-valued logic: ``Tri.YES`` (condition holds), ``Tri.NO`` (it does not), ``Tri.MAYBE`` (undecided).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from auditor.iam.policy import arn_matches, has_policy_variable

_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Tri(enum.IntEnum):
    NO = 0
    MAYBE = 1
    YES = 2


def tri_all(values: Iterable[Tri]) -> Tri:
    return min(values, default=Tri.YES)


def tri_any(values: Iterable[Tri]) -> Tri:
    return max(values, default=Tri.NO)


@dataclass(frozen=True)
class Opaque:
    """A key that is present with a value we do not know, except that it is none of ``excluded``.

    Used for outsiders: an account outside the organisation has *some* aws:PrincipalOrgID, but not ours.
    Excluded values act as prefixes (``o-ours`` also excludes the org path ``o-ours/r-1/...``).
    """

    excluded: frozenset[str] = frozenset()


# Keys whose value the caller chooses: an Allow needing them can be met, a Deny on them can be avoided.
CALLER_CONTROLLED = frozenset({"sts:externalid", "aws:securetransport"})

_STRING_OPS = {
    "stringequals": ("eq", False, False),
    "stringnotequals": ("eq", True, False),
    "stringequalsignorecase": ("eq", False, True),
    "stringnotequalsignorecase": ("eq", True, True),
    "stringlike": ("like", False, False),
    "stringnotlike": ("like", True, False),
    "arnequals": ("like", False, False),
    "arnlike": ("like", False, False),
    "arnnotequals": ("like", True, False),
    "arnnotlike": ("like", True, False),
    "bool": ("eq", False, True),
}


@dataclass(frozen=True)
class ConditionContext:
    """What we know about a request: key (lower case) -> values, or ``Opaque``; ``absent`` keys are
    known not to be in the request; any other key is unknown (-> undecided)."""

    values: Mapping[str, tuple[str, ...] | Opaque] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()
    assumptions: tuple[str, ...] = ()
    parent: ConditionContext | None = None  # facts layered on a shared base (cheap per-request contexts)

    def lookup(self, key: str) -> tuple[str, ...] | Opaque | bool | None:
        """Values, ``Opaque``, ``None`` when absent, ``False`` when unknown."""
        k = key.lower()
        layer: ConditionContext | None = self
        while layer is not None:
            if k in layer.values:
                return layer.values[k]
            if k in layer.absent:
                return None
            if k.startswith("aws:principaltag/") and "aws:principaltag/*" in layer.absent:
                return None
            layer = layer.parent
        return False

    def merged(self, values: Mapping[str, tuple[str, ...] | Opaque], absent: Iterable[str] = ()) -> ConditionContext:
        """A context with more facts on top of this one (which is shared, not copied)."""
        return ConditionContext(
            values={k.lower(): v for k, v in values.items()},
            absent=frozenset(a.lower() for a in absent),
            assumptions=self.assumptions,
            parent=self,
        )


@dataclass(frozen=True)
class ConditionOutcome:
    result: Tri
    decided: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()


ALWAYS = ConditionOutcome(Tri.YES)


def evaluate_conditions(
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]], context: ConditionContext, effect: str = "Allow"
) -> ConditionOutcome:
    """AND over operators and keys; the outcome lists which keys were decided and which were not."""
    if not conditions:
        return ALWAYS
    results: list[Tri] = []
    decided: list[str] = []
    undecided: list[str] = []
    assumptions: list[str] = []
    for operator, block in conditions.items():
        for key, values in block.items():
            if key.lower() in CALLER_CONTROLLED:
                # the caller picks the value: an Allow can be met, a Deny avoided
                results.append(Tri.YES if effect == "Allow" else Tri.NO)
                decided.append(key)
                assumptions.append(f"{key} is supplied by the caller")
                continue
            outcome = _evaluate_one(operator, key, values, context)
            results.append(outcome)
            (undecided if outcome == Tri.MAYBE else decided).append(key)
            if outcome != Tri.MAYBE and key.lower() == "aws:multifactorauthpresent":
                assumptions.extend(a for a in context.assumptions if "MultiFactorAuthPresent" in a)
    return ConditionOutcome(
        result=tri_all(results),
        decided=tuple(dict.fromkeys(decided)),
        undecided=tuple(dict.fromkeys(undecided)),
        assumptions=tuple(dict.fromkeys(assumptions)),
    )


def condition_fact_names(conditions: Mapping[str, Mapping[str, tuple[str, ...]]]) -> tuple[str, ...]:
    """The context keys ``evaluate_conditions`` may look up for these conditions (keys and policy variables)."""
    names: dict[str, None] = {}
    for block in conditions.values():
        for key, values in block.items():
            if key.lower() in CALLER_CONTROLLED:
                continue
            names[key] = None
            for value in values:
                for var in _VARIABLE.findall(value):
                    if var not in ("*", "?", "$"):
                        names[var] = None
    return tuple(names)


def _evaluate_one(operator: str, key: str, expected: tuple[str, ...], context: ConditionContext) -> Tri:
    op = operator.lower()
    quantifier = ""
    if op.startswith("foranyvalue:"):
        quantifier, op = "any", op[len("foranyvalue:") :]
    elif op.startswith("forallvalues:"):
        quantifier, op = "all", op[len("forallvalues:") :]
    if_exists = op.endswith("ifexists")
    if if_exists:
        op = op[: -len("ifexists")]
    actual = context.lookup(key)
    if actual is False:
        return Tri.MAYBE  # unknown key: undecided, never ignored
    if op == "null":
        want_absent = any(v.lower() == "true" for v in expected)
        if isinstance(actual, Opaque):
            return Tri.NO if want_absent else Tri.YES
        is_absent = actual is None or actual == ()
        return Tri.YES if is_absent == want_absent else Tri.NO
    spec = _STRING_OPS.get(op)
    if actual is None or actual == ():
        if if_exists or quantifier == "all":
            return Tri.YES
        if spec is not None and spec[1]:
            return Tri.YES  # a negated operator holds when the key is missing
        return Tri.NO
    if spec is None:
        return Tri.MAYBE  # numeric, date, IP, binary: not decided from collected facts
    mode, negated, ignore_case = spec
    if _has_variables(expected):
        resolved = _substitute(expected, context)
        if resolved is None:
            return Tri.MAYBE
        expected = resolved
    if isinstance(actual, Opaque):
        per_value = [_opaque_match(mode, e, actual) for e in expected]
        matched = tri_any(per_value)
        return _negate(matched) if negated else matched
    assert isinstance(actual, tuple)

    def one(value: str) -> bool:
        return any(_match(mode, e, value, ignore_case) for e in expected)

    if quantifier == "all":
        ok = all(one(v) for v in actual) if not negated else all(not one(v) for v in actual)
    elif negated:
        ok = not any(one(v) for v in actual)
    else:
        ok = any(one(v) for v in actual)
    return Tri.YES if ok else Tri.NO


def _substitute(values: tuple[str, ...], context: ConditionContext) -> tuple[str, ...] | None:
    """Replace policy variables by their known single value; None when one of them is not known."""
    out: list[str] = []
    for value in values:
        unresolved = False

        def one(match: re.Match[str]) -> str:
            nonlocal unresolved
            name = match.group(1)
            if name in ("*", "?", "$"):
                return "${" + name + "}"  # escapes stay for the matcher
            known = context.lookup(name)
            if isinstance(known, tuple) and len(known) == 1:
                return known[0]
            unresolved = True
            return match.group(0)

        replaced = _VARIABLE.sub(one, value)
        if unresolved:
            return None
        out.append(replaced)
    return tuple(out)


@lru_cache(maxsize=65536)
def _has_variables(values: tuple[str, ...]) -> bool:
    return any(has_policy_variable(v) for v in values)


def _negate(value: Tri) -> Tri:
    return {Tri.YES: Tri.NO, Tri.NO: Tri.YES, Tri.MAYBE: Tri.MAYBE}[value]


def _match(mode: str, expected: str, actual: str, ignore_case: bool) -> bool:
    if mode == "eq":
        return expected.lower() == actual.lower() if ignore_case else expected == actual
    return arn_matches(expected, actual)


def _opaque_match(mode: str, expected: str, actual: Opaque) -> Tri:
    literal = expected
    if mode == "like":
        cut = min((i for i in (expected.find("*"), expected.find("?")) if i >= 0), default=len(expected))
        literal = expected[:cut]
    if any(literal.startswith(x) for x in actual.excluded):
        return Tri.NO
    return Tri.MAYBE
