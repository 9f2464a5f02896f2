"""CSV cells that a spreadsheet will show as text, never run as a formula.

Excel, LibreOffice and Google Sheets evaluate a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and,
in some versions, a tab or a carriage return before one of them) as a formula: a script line such as
``=HYPERLINK("http://...","click")`` or ``@SUM(A1)`` would become a live formula in ``manifest.csv``.
The usual defence (OWASP's "CSV injection") is to start such a cell with an apostrophe, which the
spreadsheet hides and treats as "this is text". Numbers are written as numbers; only text is changed,
and the JSON manifest keeps every text exactly as spoken.
"""

from __future__ import annotations

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def spreadsheet_safe(value: object) -> object:
    """``value`` unchanged, unless it is text a spreadsheet would run: then ``"'" + value``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


__all__ = ["FORMULA_STARTS", "spreadsheet_safe"]
