"""Text the command line prints from data it does not control (records, catalogues, replies).

Saved feedback, catalogue titles and model replies may hold control characters (ESC starts a
terminal escape sequence, BEL rings, a right-to-left override reorders what follows). The CLI
passes such text through :func:`terminal_safe` (or :func:`json_safe` for JSON output), which
shows those characters as Python escapes instead of sending them to the terminal.
It knows characters, not records or files.
"""

from __future__ import annotations

import unicodedata


def _unsafe(ch: str) -> bool:
    # Not printable (Cc, Cf incl. bidi controls, Zl, Zp, Cs, Co, Cn), except ordinary spaces (Zs)
    return not ch.isprintable() and unicodedata.category(ch) != "Zs"


def terminal_safe(text: object, keep: str = "") -> str:
    """``text`` with every non-printable character escaped (``'\\x1b'`` -> ``\\x1b``).

    Args:
        text: what to print; not text is converted with ``str``.
        keep: control characters to pass through unchanged (e.g. ``"\\n"`` for a reply).
    """
    s = str(text)
    if s.isprintable():  # the common case, fast
        return s
    return "".join(ascii(ch)[1:-1] if _unsafe(ch) and ch not in keep else ch for ch in s)


def json_safe(text: str) -> str:
    """JSON text (as ``json.dumps(..., ensure_ascii=False)`` writes it) with format and bidi
    characters escaped as ``\\uXXXX``; still valid JSON, with the same values.

    ``json.dumps`` already escapes C0 controls inside strings, so a raw newline left in ``text``
    is layout (``indent``) and stays.
    """
    out = []
    for ch in text:
        if ch != "\n" and _unsafe(ch):
            code = ord(ch)
            if code > 0xFFFF:  # JSON spells astral characters as a surrogate pair
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
