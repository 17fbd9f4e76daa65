"""CloudWatch Logs JSON filter patterns, parsed into their terms so two patterns can be compared by meaning.

A pattern such as ``{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }`` becomes
a disjunction of conjunctions of terms (selector, operator, value). Spelling does not matter: whitespace,
parentheses, term order, quotes around simple values, ``=`` or ``==``, repeated terms. ``&&`` binds tighter
than ``||``, as in the CloudWatch Logs syntax.

``covers(pattern, reference)`` answers: does the pattern match every event the reference matches? A pattern
that also matches more (several CIS events in one filter, a wildcard value) still covers; a pattern that
matches everything does not count, since an alarm on every event is no alarm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

OPERATORS = ("!=", "==", "<=", ">=", "=", "<", ">")
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<lparen>\()|(?P<rparen>\))|(?P<and>&&)|(?P<or>\|\|)
      | (?P<selector>\$(?:\.[A-Za-z0-9_\-]+|\[\d+\])+)
      | (?P<op>!=|==|<=|>=|=|<|>)
      | (?P<keyword>NOT\s+EXISTS|IS\s+(?:TRUE|FALSE|NULL)\b)
      | "(?P<quoted>(?:[^"\\]|\\.)*)"
      | (?P<bare>[^\s()&|"]+)
    )""",
    re.VERBOSE | re.IGNORECASE,
)


class FilterPatternError(ValueError):
    """A filter pattern this parser does not understand (kept literally in the evidence)."""


@dataclass(frozen=True, order=True)
class Term:
    selector: str  # $.eventName
    operator: str  # "=", "!=", "NOT EXISTS", "IS TRUE"...
    value: str = ""

    def implies(self, other: Term) -> bool:
        """Every event this term matches is matched by ``other`` (same selector; ``other`` as wide or wider)."""
        if self.selector != other.selector or self.operator != other.operator:
            return False
        if self.value == other.value:
            return True
        return self.operator == "=" and "*" in other.value and fnmatchcase(self.value, other.value)


Conjunction = frozenset[Term]


def parse(pattern: str) -> tuple[Conjunction, ...]:
    """The pattern as a disjunction of conjunctions, redundant conjunctions removed; raises FilterPatternError."""
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise FilterPatternError("not a JSON filter pattern (expected { ... })")
    tokens = _tokens(text[1:-1])
    parser = _Parser(tokens)
    disjunction = parser.expression()
    if parser.position != len(tokens):
        raise FilterPatternError(f"unexpected {tokens[parser.position][1]!r}")
    return _minimal(disjunction)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise FilterPatternError(f"cannot read the pattern from {text[position:position + 20]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "quoted":
            value = re.sub(r"\\(.)", r"\1", value)
        tokens.append((kind, value))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> str:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else ""

    def take(self, kind: str) -> str:
        if self.peek() != kind:
            found = self.tokens[self.position][1] if self.position < len(self.tokens) else "end of pattern"
            raise FilterPatternError(f"expected {kind}, found {found!r}")
        value = self.tokens[self.position][1]
        self.position += 1
        return value

    def expression(self) -> list[Conjunction]:
        result = self.conjunction()
        while self.peek() == "or":
            self.take("or")
            result = result + self.conjunction()
        return result

    def conjunction(self) -> list[Conjunction]:
        result = self.unary()
        while self.peek() == "and":
            self.take("and")
            right = self.unary()
            result = [left | other for left in result for other in right]  # distribute && over ||
        return result

    def unary(self) -> list[Conjunction]:
        if self.peek() == "lparen":
            self.take("lparen")
            inner = self.expression()
            self.take("rparen")
            return inner
        return [frozenset({self.term()})]

    def term(self) -> Term:
        selector = self.take("selector")
        if self.peek() == "keyword":
            return Term(selector, " ".join(self.take("keyword").upper().split()))
        operator = self.take("op")
        operator = "=" if operator == "==" else operator
        kind = self.peek()
        if kind not in ("quoted", "bare"):
            raise FilterPatternError(f"expected a value after {selector} {operator}")
        return Term(selector, operator, self.take(kind))


def _minimal(disjunction: list[Conjunction]) -> tuple[Conjunction, ...]:
    """Drop conjunctions that a smaller one already covers (A || (A && B) is A)."""
    unique = sorted(set(disjunction), key=lambda c: (len(c), sorted(c)))
    kept: list[Conjunction] = []
    for conjunction in unique:
        if not any(other <= conjunction for other in kept):
            kept.append(conjunction)
    return tuple(kept)


def _matches_everything(conjunction: Conjunction) -> bool:
    return all(term.operator == "=" and term.value.strip("*") == "" for term in conjunction)


def covers(pattern: tuple[Conjunction, ...], reference: tuple[Conjunction, ...],
           implied: frozenset[Term] = frozenset()) -> bool:
    """The pattern matches every event the reference matches. ``implied`` holds terms true of every event the
    reference matches (e.g. the event source of its event names), which the pattern may add freely."""
    if any(_matches_everything(conjunction) for conjunction in pattern):
        return False
    return all(
        any(all(term in implied or any(ref.implies(term) for ref in wanted) for term in conjunction)
            for conjunction in pattern)
        for wanted in reference
    )
