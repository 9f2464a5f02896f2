"""How one generation setting is declared: range, step, default and the words the GUI and the CLI use.

Every field of :class:`~valle_studio.engine.settings.GenerationSettings` carries exactly one
:class:`FieldSpec` in its dataclass metadata (:func:`setting`). Everything else reads it: validation and
its messages (:meth:`FieldSpec.check`), the sampler spin boxes (``app/widgets/sampler_fields.py``), the
CLI flags (``cli/options.py``) and the stored settings of takes, projects and presets
(``GenerationSettings.to_dict``/``from_dict``). A new setting is one new field here and nowhere else.

The name, the default and the type (int, float, bool, str; optional when ``None`` is allowed) come from
the dataclass field itself, so they are written once too. Nothing here imports torch or Qt.
"""

from __future__ import annotations

import dataclasses
import numbers
import re
import typing
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

SPEC_KEY = "valle_studio.setting"  # the dataclass metadata key that holds a field's FieldSpec

#: number: int/float with a range; flag: bool; choice: one of a str Literal; tokens: a tuple of token ids
#: (each inside ``range``, at most ``max_items``); text: a short free text (a name or a path).
Kind = Literal["number", "flag", "choice", "tokens", "text"]
MAX_TEXT = 1000  # longest text setting (a file path)


class SettingsError(ValueError):
    """A setting is out of range or contradicts another one.

    ``field`` is the :class:`GenerationSettings` field, ``problem`` the rule it breaks ("must be between
    0 and 10"); ``str()`` is ``"field: problem"``. Front ends re-word it with the spec's CLI flag or GUI
    label (``cli/options.py``, ``errors.describe(..., gui=True)``).
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True)
class Range:
    """The allowed numbers ``low..high``; an open end excludes the bound itself."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return False
        # int and float compare exactly; other Reals (numpy scalars, Fraction) compare as floats, as they
        # would against these float bounds anyway. numbers.Real itself declares no ">".
        number = value if isinstance(value, (int, float)) else float(value)
        above = number > self.low if self.low_open else number >= self.low
        below = number < self.high if self.high_open else number <= self.high
        return above and below

    def words(self, unit: str = "") -> str:
        """``"between 0 and 10"``, ``"above 0 and at most 1 seconds"``: what follows "must be"."""
        low, high = f"{self.low:g}", f"{self.high:g}"
        first = f"above {low}" if self.low_open else f"at least {low}"
        second = f"below {high}" if self.high_open else f"at most {high}"
        text = f"between {low} and {high}" if not (self.low_open or self.high_open) else f"{first} and {second}"
        return f"{text} {unit}" if unit else text


@dataclass(frozen=True)
class Choice:
    """One value of an enum setting, with the words the GUI shows for it."""

    value: str
    label: str
    tip: str = ""


@dataclass(frozen=True)
class FieldSpec:
    """The one declaration of a setting. ``name``, ``default``, ``kind``, ``integer`` and ``optional`` are
    filled in from the dataclass field by :func:`bind_specs`; everything else is written in the field."""

    label: str  # GUI label; "&" marks the mnemonic letter where the GUI offers one
    tip: str  # GUI tooltip, in plain words
    help: str  # the CLI --help line; the range and the default are appended (cli/options.py)
    range: Range | None = None  # numbers only
    step: float = 1  # spin-box step
    decimals: int | None = None  # floats: decimals shown (and the resolution of an open range end)
    unit: str = ""  # "seconds" or "frames": in messages, the GUI suffix and the CLI metavar
    off_text: str = ""  # what the lowest value means ("off", "as recorded"); for optional fields: None
    basic: bool = False  # shown without opening "Advanced"
    panel: Literal["sampler", "text", "lora"] = "sampler"  # which GUI panel shows it
    flag: str = ""  # the CLI flag; "" = "--" + the field name with dashes
    cli: bool = True  # False: no flag is built from the spec (the CLI parses the field in its own syntax)
    max_items: int = 0  # tokens: how many ids at most
    metavar: str = ""  # the CLI metavar; "" = from the unit, else argparse's default
    choices: tuple[Choice, ...] = ()  # enum settings only
    rule: str = ""  # replaces the range's words in messages (the seed's 63-bit limit reads better so)
    only_for: Literal["", "ar+nar", "nar-len"] = ""  # the one generation path it acts on ("" = every path)
    # It fixes a property of the result (the length): asked for on a path that ignores it, the request
    # cannot be met and is refused; other settings that do nothing there only earn a note.
    fixes_result: bool = False
    # -- filled in by bind_specs ---------------------------------------------------------------------
    name: str = ""
    default: Any = None
    kind: Kind = "number"
    integer: bool = False
    optional: bool = False

    @property
    def title(self) -> str:
        """The GUI label without its mnemonic marker: how messages in the GUI name the setting."""
        return self.label.replace("&", "")

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def cli_dest(self) -> str:
        """The argparse destination of :attr:`cli_flag`."""
        return self.cli_flag.lstrip("-").replace("-", "_")

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    def acts_on(self, modality: str) -> bool:
        """Whether this setting changes anything when the run uses ``modality`` ("ar+nar"/"nar-len")."""
        return not self.only_for or self.only_for == modality

    def rule_words(self) -> str:
        """What a valid value is, in the words every message uses ("between 0 and 10 seconds")."""
        if self.rule:
            return self.rule
        if self.kind == "choice":
            return "one of " + ", ".join(self.values)
        if self.kind == "flag":
            return "true or false"
        if self.kind == "text":
            return f"text of at most {MAX_TEXT} characters"
        assert self.range is not None
        if self.kind == "tokens":
            return (f"a list of at most {self.max_items} token ids, each {self.range.words()}")
        return self.range.words(self.unit)

    def check(self, value: object) -> None:
        """Raise :class:`SettingsError` unless ``value`` is a valid value of this setting."""
        if value is None and self.optional:
            return
        if self.kind == "flag":
            ok = isinstance(value, bool)
        elif self.kind == "tokens":
            ok = (isinstance(value, tuple) and len(value) <= self.max_items
                  and all(_is_number(v, True) and v in self._range() for v in value))
        elif self.kind == "text":
            ok = (isinstance(value, str) and len(value) <= MAX_TEXT
                  and not any(unicodedata.category(ch) == "Cc" for ch in value))
        elif self.kind == "choice":
            ok = isinstance(value, str) and value in self.values
        elif not _is_number(value, self.integer):
            what = "a whole number" if self.integer else "a number"
            raise SettingsError(self.name, f"must be {what}, not {value!r}")
        else:
            ok = value in self._range()
        if not ok:
            raise SettingsError(self.name, f"must be {self.rule_words()}")

    def parse(self, text: str) -> Any:
        """A tokens setting from its typed form (``"3, 17 20"``: ids split by commas or spaces), checked.
        Raises :class:`SettingsError` naming the field."""
        if self.kind != "tokens":
            raise TypeError(f"{self.name} is not a list of token ids")
        parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
        try:
            value = tuple(int(p) for p in parts)
        except ValueError:
            raise SettingsError(self.name, f"must be {self.rule_words()}, not {text!r}") from None
        self.check(value)
        return value

    def shown(self, value: Any) -> str:
        """A tokens value as typed in the GUI and on the command line (``"3, 17"``); other kinds as str."""
        if self.kind == "tokens":
            return ", ".join(str(v) for v in value)
        return str(value)

    def allows(self, value: object) -> bool:
        """Whether :meth:`check` accepts ``value`` (for callers that word their own message)."""
        try:
            self.check(value)
        except SettingsError:
            return False
        return True

    def _range(self) -> Range:
        assert self.range is not None
        return self.range


def _is_number(value: object, integer: bool) -> bool:
    """A real number (a whole one for ``integer``); bools are not numbers here. NaN and infinities pass
    this type check and fail every range, so they get the range's message."""
    if isinstance(value, bool):
        return False
    return isinstance(value, numbers.Integral if integer else numbers.Real)


def setting(default: Any, **spec: Any) -> Any:
    """A dataclass field with ``default`` whose metadata holds ``FieldSpec(**spec)``."""
    return dataclasses.field(default=default, metadata={SPEC_KEY: FieldSpec(**spec)})


def bind_specs(cls: type, hints: dict[str, Any]) -> dict[str, FieldSpec]:
    """Every field's spec, completed with what the dataclass says (name, default, type), in field order.

    ``hints`` are the class's resolved annotations (``typing.get_type_hints``). A field without a spec,
    or a spec that does not fit its type, fails here, at import, not when a user meets it.
    """
    specs: dict[str, FieldSpec] = {}
    for f in dataclasses.fields(cls):
        spec = f.metadata.get(SPEC_KEY)
        if not isinstance(spec, FieldSpec):
            raise TypeError(f"{cls.__name__}.{f.name} has no FieldSpec: declare it with setting(...)")
        hint = hints[f.name]
        members = getattr(hint, "__args__", ())  # X | None: (X, NoneType); Literal[...]: its values
        optional = type(None) in members
        base = next(a for a in members if a is not type(None)) if optional else hint
        kind: Kind = ("choice" if spec.choices else "flag" if base is bool else
                      "tokens" if typing.get_origin(base) is tuple else "text" if base is str else "number")
        bound = dataclasses.replace(spec, name=f.name, default=f.default, kind=kind, integer=base is int,
                                    optional=optional)
        if kind == "choice" and set(bound.values) != set(members):
            raise TypeError(f"{cls.__name__}.{f.name}: the choices differ from the type's values {members}")
        if kind == "number" and (base not in (int, float) or bound.range is None
                                 or (base is float) != (bound.decimals is not None)):
            raise TypeError(f"{cls.__name__}.{f.name}: numbers need a range, floats their decimals")
        if kind == "tokens" and (bound.range is None or bound.max_items < 1):
            raise TypeError(f"{cls.__name__}.{f.name}: token lists need a range and max_items")
        bound.check(f.default)  # a default outside its own range is a declaration error
        specs[f.name] = bound
    return specs


__all__ = ["SPEC_KEY", "Choice", "FieldSpec", "Range", "SettingsError", "bind_specs", "setting"]
