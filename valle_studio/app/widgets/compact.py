"""Buttons and combo boxes that take the room their text needs, not more, so rows of them fit a narrow column.

Most styles give every text push button at least 80 px (Fusion, Windows); four of them make a 350 px row,
wider than a third of a 910 px window. :func:`compact_buttons` sets each button's minimum to the widest
text it will ever show (Play and Pause, Record and Stop) plus the style's padding. :func:`fitting_combo`
lets a combo box be narrower than its longest item while keeping room for ``chars`` characters of the
current one.
"""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractButton, QComboBox, QStyle, QStyleOptionButton

PADDING = 16  # both sides together: what the common styles draw around a button's text


def compact_button(button: QAbstractButton, *texts: str) -> None:
    """Let ``button`` be as narrow as the widest of its ``texts`` (its current text by default)."""
    metrics = button.fontMetrics()
    widest = max(metrics.horizontalAdvance(t.replace("&", "")) for t in (texts or (button.text(),)))
    option = QStyleOptionButton()
    option.initFrom(button)
    margin = button.style().pixelMetric(QStyle.PixelMetric.PM_ButtonMargin, option, button)
    icon = button.iconSize().width() + 4 if not button.icon().isNull() else 0
    button.setMinimumWidth(widest + icon + max(PADDING, 2 * margin))


def compact_buttons(*buttons: QAbstractButton) -> None:
    """:func:`compact_button` for each of ``buttons``, with its current text."""
    for button in buttons:
        compact_button(button)


def short_label(label: str) -> str:
    """The name part of a choice's label: "Auto (what the model supports best)" -> "Auto". The part in
    brackets explains; it goes to the item's tooltip, so a combo box never shows it cut off."""
    head, sep, _rest = label.partition(" (")
    return head if sep and head else label


def fitting_combo(combo: QComboBox, chars: int) -> None:
    """Let ``combo`` shrink below its longest item, down to ``chars`` characters of the current one."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)


__all__ = ["compact_button", "compact_buttons", "fitting_combo", "short_label"]
