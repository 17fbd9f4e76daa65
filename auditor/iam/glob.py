"""IAM wildcard matching (``*`` any run, ``?`` one character) without regular expressions.

A pattern is cut at its ``*`` into fixed-length segments (literal runs and ``?``). The first segment
must match at the start, the last at the end, and each middle one at its leftmost place after the
previous one: for fixed-length segments the leftmost choice never loses a match, so there is no
backtracking. Cost is O(len(text) * len(pattern)) at worst and linear in practice, whatever the number
of stars (a backtracking regex is exponential on ``*a*a*a...b`` against ``aaaa...``).

Patterns reach this module already tokenised: ``Literal`` text (policy variables substituted, ``${*}``
``${?}`` ``${$}`` escapes resolved) stays literal even when it holds ``*`` or ``?``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

STAR = "\x00*"  # token: any run of characters
ANY = "\x00?"  # token: exactly one character

Token = str  # STAR, ANY, or literal text
# a segment: literal runs (str) and runs of n single-character wildcards (int)
Segment = tuple[str | int, ...]


@dataclass(frozen=True)
class Glob:
    segments: tuple[Segment, ...]  # one more than the number of stars
    lengths: tuple[int, ...]

    def match(self, text: str) -> bool:
        segments, lengths = self.segments, self.lengths
        if len(segments) == 1:
            return len(text) == lengths[0] and _at(segments[0], text, 0)
        first, last = segments[0], segments[-1]
        if lengths[0] + lengths[-1] > len(text):
            return False
        if not _at(first, text, 0):
            return False
        end = len(text) - lengths[-1]
        if not _at(last, text, end):
            return False
        pos = lengths[0]
        for segment, length in zip(segments[1:-1], lengths[1:-1], strict=True):
            found = _find(segment, length, text, pos, end)
            if found < 0:
                return False
            pos = found + length
        return True


def compile_tokens(tokens: tuple[Token, ...]) -> Glob:
    segments: list[Segment] = []
    current: list[str | int] = []
    for token in tokens:
        if token == STAR:
            segments.append(tuple(current))
            current = []
        elif token == ANY:
            if current and isinstance(current[-1], int):
                current[-1] += 1
            else:
                current.append(1)
        elif token:
            if current and isinstance(current[-1], str):
                current[-1] += token
            else:
                current.append(token)
    segments.append(tuple(current))
    lengths = tuple(sum(p if isinstance(p, int) else len(p) for p in seg) for seg in segments)
    return Glob(tuple(segments), lengths)


@lru_cache(maxsize=65536)
def compile_pattern(pattern: str) -> Glob:
    """A plain wildcard pattern (no policy variables): ``*`` and ``?`` are wildcards, the rest literal."""
    tokens: list[Token] = []
    literal: list[str] = []
    for char in pattern:
        if char in "*?":
            if literal:
                tokens.append("".join(literal))
                literal = []
            tokens.append(STAR if char == "*" else ANY)
        else:
            literal.append(char)
    if literal:
        tokens.append("".join(literal))
    return compile_tokens(tuple(tokens))


def glob_match(pattern: str, text: str) -> bool:
    """Case-sensitive wildcard match of the whole ``text``."""
    return compile_pattern(pattern).match(text)


def _at(segment: Segment, text: str, pos: int) -> bool:
    for part in segment:
        if isinstance(part, int):
            pos += part
        else:
            if not text.startswith(part, pos):
                return False
            pos += len(part)
    return pos <= len(text)


def _find(segment: Segment, length: int, text: str, start: int, end: int) -> int:
    """The leftmost position in [start, end - length] where ``segment`` matches, or -1."""
    last = end - length
    if last < start:
        return -1
    if not segment:
        return start
    head = segment[0]
    if isinstance(head, int):
        for pos in range(start, last + 1):
            if _at(segment, text, pos):
                return pos
        return -1
    pos = text.find(head, start, last + len(head))
    while pos >= 0:
        if _at(segment, text, pos):
            return pos
        pos = text.find(head, pos + 1, last + len(head))
    return -1
