"""Three-valued logic shared by matching and conditions: ``YES`` holds, ``NO`` does not, ``MAYBE`` undecided."""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Tri(enum.IntEnum):
    NO = 0
    MAYBE = 1
    YES = 2


def tri_all(values: Iterable[Tri]) -> Tri:
    return min(values, default=Tri.YES)


def tri_any(values: Iterable[Tri]) -> Tri:
    return max(values, default=Tri.NO)


def tri_not(value: Tri) -> Tri:
    return Tri(2 - value)


def tri_of(value: bool) -> Tri:
    return Tri.YES if value else Tri.NO
