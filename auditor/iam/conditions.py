"""Condition blocks decided from collected facts, or explicitly left undecided.

A condition is never silently ignored: each key is either decided from the request facts we know
(principal ARN/account/org, source account, MFA with an assumption flag, principal tags...) or reported
as undecided, which turns an allow into a *conditional* allow (lower confidence).

Three-valued logic: ``Tri.YES`` (condition holds), ``Tri.NO`` (it does not), ``Tri.MAYBE`` (undecided).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from auditor.iam.glob import ANY, STAR
from auditor.iam.policy import (
    Lookup,
    Statement,
    arn_pattern_tri,
    has_policy_variable,
    pattern_tri,
    substitute,
    variables_of,
)
from auditor.iam.tri import Tri, tri_all, tri_any, tri_not

__all__ = [
    "ALWAYS",
    "CALLER_CONTROLLED",
    "Choice",
    "ConditionContext",
    "ConditionOutcome",
    "Opaque",
    "Tri",
    "condition_fact_names",
    "evaluate_conditions",
    "statement_fact_names",
    "tri_all",
    "tri_any",
]


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
    "arnequals": ("arn", False, False),
    "arnlike": ("arn", False, False),
    "arnnotequals": ("arn", True, False),
    "arnnotlike": ("arn", True, False),
    "bool": ("eq", False, True),
}


@dataclass(frozen=True)
class Choice:
    """A key whose value the caller picks, once per request, among ``options``.

    Keys of one ``group`` are picked together (``aws:MultiFactorAuthPresent`` and ``aws:MultiFactorAuthAge``
    come from the same sign-in). An option is the key's values, ``None`` (absent) or ``False`` (unknown);
    ``labels`` say how the caller gets each option (they become the decision's assumption).
    """

    group: str
    options: tuple[Any, ...]
    labels: tuple[str, ...]


FactValue = tuple[str, ...] | Opaque | Choice


@dataclass(frozen=True)
class ConditionContext:
    """What we know about a request: key (lower case) -> values, ``Opaque`` or ``Choice``; ``absent`` keys
    are known not to be in the request; ``unknown`` keys (and any key not mentioned) are undecided."""

    values: Mapping[str, FactValue] = field(default_factory=dict)
    absent: frozenset[str] = frozenset()
    assumptions: tuple[str, ...] = ()
    parent: ConditionContext | None = None  # facts layered on a shared base (cheap per-request contexts)
    unknown: frozenset[str] = frozenset()

    def lookup(self, key: str) -> FactValue | bool | None:
        """Values, ``Opaque``, ``Choice``, ``None`` when absent, ``False`` when unknown."""
        k = key.lower()
        layer: ConditionContext | None = self
        while layer is not None:
            if k in layer.values:
                return layer.values[k]
            if k in layer.absent:
                return None
            if k in layer.unknown:
                return False
            if k.startswith("aws:principaltag/") and "aws:principaltag/*" in layer.absent:
                return None
            layer = layer.parent
        return False

    def merged(
        self, values: Mapping[str, FactValue], absent: Iterable[str] = (), unknown: Iterable[str] = ()
    ) -> ConditionContext:
        """A context with more facts on top of this one (which is shared, not copied)."""
        return ConditionContext(
            values={k.lower(): v for k, v in values.items()},
            absent=frozenset(a.lower() for a in absent),
            assumptions=self.assumptions,
            parent=self,
            unknown=frozenset(u.lower() for u in unknown),
        )

    def choices(self) -> dict[str, dict[str, Choice]]:
        """group -> {key: Choice} for every key the caller picks in this context (shadowed keys excluded)."""
        out: dict[str, dict[str, Choice]] = {}
        seen: set[str] = set()
        layer: ConditionContext | None = self
        while layer is not None:
            for key, value in layer.values.items():
                if key not in seen and isinstance(value, Choice):
                    out.setdefault(value.group, {})[key] = value
            seen |= set(layer.values) | layer.absent | layer.unknown
            layer = layer.parent
        return out

    def picked(self, picks: Mapping[str, int]) -> ConditionContext:
        """This context with option ``picks[group]`` taken for every key of each named group."""
        values: dict[str, FactValue] = {}
        absent: list[str] = []
        unknown: list[str] = []
        for group, keys in self.choices().items():
            if group not in picks:
                continue
            for key, choice in keys.items():
                option = choice.options[picks[group]]
                if option is None:
                    absent.append(key)
                elif option is False:
                    unknown.append(key)
                else:
                    values[key] = option
        return self.merged(values, absent, unknown)


def pick_combinations(groups: Mapping[str, int]) -> Iterator[dict[str, int]]:
    """Every assignment of an option index to each group (``groups``: group -> number of options)."""
    names = sorted(groups)
    for indexes in itertools.product(*(range(groups[g]) for g in names)):
        yield dict(zip(names, indexes, strict=True))


@dataclass(frozen=True)
class ConditionOutcome:
    result: Tri
    decided: tuple[str, ...] = ()
    undecided: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()
    # what the request's facts say about the statement's Resource variables (``Statement.variable_bindings``):
    # outcomes compared as cache keys then also tell apart callers whose ${aws:username} differs
    bindings: tuple[object, ...] = ()
    # the result under each combination of the caller's picks (``Choice``) the conditions read, in order
    choices: tuple[Tri, ...] = ()


ALWAYS = ConditionOutcome(Tri.YES)


def evaluate_conditions(
    conditions: Mapping[str, Mapping[str, tuple[str, ...]]], context: ConditionContext, effect: str = "Allow"
) -> ConditionOutcome:
    """AND over operators and keys; the outcome lists which keys were decided and which were not.

    Keys the caller picks (``Choice``) are evaluated under each pick; ``result`` is the common result, or
    undecided when the picks disagree (``choices`` keeps each one; ``can`` decides per pick).
    """
    if not conditions:
        return ALWAYS
    groups: dict[str, int] = {}
    for block in conditions.values():
        for key in block:
            found = context.lookup(key)
            if isinstance(found, Choice):
                groups[found.group] = len(found.options)
    if groups:
        outcomes = [
            evaluate_conditions(conditions, context.picked(picks), effect) for picks in pick_combinations(groups)
        ]
        per_pick = tuple(o.result for o in outcomes)
        return ConditionOutcome(
            result=per_pick[0] if len(set(per_pick)) == 1 else Tri.MAYBE,
            decided=tuple(dict.fromkeys(k for o in outcomes for k in o.decided)),
            undecided=tuple(dict.fromkeys(k for o in outcomes for k in o.undecided)),
            assumptions=tuple(dict.fromkeys(a for o in outcomes for a in o.assumptions)),
            choices=per_pick,
        )
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
                for var in variables_of(value):
                    names[var.name] = None
    return tuple(names)


def statement_fact_names(statement: Statement) -> tuple[str, ...]:
    """Every context key a statement's evaluation reads: condition keys, and variables in conditions and in
    Resource/NotResource. Two requests that agree on these get the same outcome for the statement."""
    return tuple(dict.fromkeys((*condition_fact_names(statement.conditions), *statement.resource_variables)))


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
    negated = spec is not None and spec[1]
    if actual is None or actual == ():
        # AWS: a missing key matches nothing, so a negated operator holds; set operators: ForAllValues holds
        # over the empty set, ForAnyValue (negated or not) finds no value that could satisfy it
        if if_exists or quantifier == "all":
            return Tri.YES
        if quantifier == "any":
            return Tri.NO
        return Tri.YES if negated else Tri.NO
    if spec is None:
        return Tri.MAYBE  # numeric, date, IP, binary: not decided from collected facts
    mode, _, ignore_case = spec
    if isinstance(actual, Opaque):
        if _has_variables(expected):
            resolved = _substitute(expected, context)
            if resolved is None:
                return Tri.MAYBE
            expected = resolved
        per_value = [_opaque_match(mode, e, actual) for e in expected]
        matched = tri_any(per_value)
        return tri_not(matched) if negated else matched
    assert isinstance(actual, tuple)
    lookup = context.lookup

    def one(value: str) -> Tri:
        """The value matches one of the policy's values (before negation)."""
        return tri_any(_match(mode, e, value, ignore_case, lookup) for e in expected)

    if quantifier == "all":  # every request value satisfies the (possibly negated) operator
        return tri_all(tri_not(one(v)) if negated else one(v) for v in actual)
    if quantifier == "any":  # at least one request value satisfies it
        return tri_any(tri_not(one(v)) if negated else one(v) for v in actual)
    matched = tri_any(one(v) for v in actual)
    return tri_not(matched) if negated else matched  # negated operators: the value matches none (AND)


def _substitute(values: tuple[str, ...], context: ConditionContext) -> tuple[str, ...] | None:
    """Replace policy variables by their known single value; None when one of them is not known."""
    out: list[str] = []
    for value in values:
        resolved = substitute(value, context.lookup)
        if resolved is None or resolved[1]:
            return None
        out.append(_literal(resolved[0]))
    return tuple(out)


@lru_cache(maxsize=65536)
def _has_variables(values: tuple[str, ...]) -> bool:
    return any(has_policy_variable(v) for v in values)


def _literal(tokens: Iterable[object]) -> str:
    """Substituted tokens back to text, for operators where ``*`` and ``?`` are plain characters."""
    return "".join("*" if t == STAR else "?" if t == ANY else str(t) for t in tokens)


def _match(mode: str, expected: str, actual: str, ignore_case: bool, lookup: Lookup) -> Tri:
    if mode == "like":
        return pattern_tri(expected, actual, lookup, ignore_case)
    if mode == "arn":
        return arn_pattern_tri(expected, actual, lookup)
    if "${" in expected:
        resolved = substitute(expected, lookup)
        if resolved is None:
            return Tri.NO  # a variable with no value equals nothing
        tokens, unknown = resolved
        if unknown:
            return Tri.MAYBE
        expected = _literal(tokens)
    if ignore_case:
        return Tri.YES if expected.lower() == actual.lower() else Tri.NO
    return Tri.YES if expected == actual else Tri.NO


def _opaque_match(mode: str, expected: str, actual: Opaque) -> Tri:
    literal = expected
    if mode in ("like", "arn"):
        cut = min((i for i in (expected.find("*"), expected.find("?")) if i >= 0), default=len(expected))
        literal = expected[:cut]
    if any(literal.startswith(x) for x in actual.excluded):
        return Tri.NO
    return Tri.MAYBE
