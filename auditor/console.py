"""What the auditor prints on a terminal: text from AWS (account names, tag values, error messages) is
data, so its control characters are shown escaped, never emitted. A name with an ANSI escape, a
carriage return or a bidirectional override cannot recolour the terminal, rewrite a line or fake a
table row."""

from __future__ import annotations

import unicodedata
from typing import Any


def printable(value: Any) -> str:
    """``value`` as text with every control, format and separator character (C0, C1, DEL, U+2028,
    bidi overrides...) written as its Python escape; ordinary spaces and every letter stay."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else _escape(c) for c in text)


def _escape(character: str) -> str:
    escaped = repr(character)[1:-1]
    if escaped != character:
        return escaped
    return f"\\u{ord(character):04x}" if unicodedata.category(character) != "Zs" else character
