"""What a message means: `ParsedMessage` and its parts, the fields of SPEC.md 5."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Place:
    """A place named in a message; `text` is cut from the message as typed."""

    kind: str
    code: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Command:
    """A slash or hashtag command with its canonical name and the rest of the text."""

    name: str
    args: str


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """What one message means; the fields of SPEC.md 5."""

    type: str
    category: str | None
    severity: str | None
    reasons: tuple[str, ...]  # short words saying why the severity: injury, put_out...
    ambiguous: bool
    confidence: float
    time: datetime | date | None
    time_text: str | None
    places: tuple[Place, ...]
    people: int | None
    phones: tuple[str, ...]
    command: Command | None

    def to_dict(self) -> dict[str, Any]:
        """The SPEC.md 5 JSON object."""
        when: dict[str, str] | None
        if isinstance(self.time, datetime):
            when = {"at": self.time.strftime("%Y-%m-%dT%H:%M")}
        elif isinstance(self.time, date):
            when = {"date": self.time.isoformat()}
        else:
            when = None
        return {
            "type": self.type,
            "category": self.category,
            "severity": self.severity,
            "reasons": list(self.reasons),
            "ambiguous": self.ambiguous,
            "confidence": self.confidence,
            "time": when,
            "time_text": self.time_text,
            "places": [{"kind": p.kind, "code": p.code, "text": p.text} for p in self.places],
            "people": self.people,
            "phones": list(self.phones),
            "command": None
            if self.command is None
            else {"name": self.command.name, "args": self.command.args},
        }


def _setter(cls: type, name: str) -> Any:
    """The setter of a slotted class's field (its slot descriptor's __set__)."""
    return cls.__dict__[name].__set__


# A frozen dataclass's __init__ sets each field through object.__setattr__, which costs about as
# much as a whole stage of the parse; the parser fills its results through the slots directly.
_SET_TYPE = _setter(ParsedMessage, "type")
_SET_CATEGORY = _setter(ParsedMessage, "category")
_SET_SEVERITY = _setter(ParsedMessage, "severity")
_SET_REASONS = _setter(ParsedMessage, "reasons")
_SET_AMBIGUOUS = _setter(ParsedMessage, "ambiguous")
_SET_CONFIDENCE = _setter(ParsedMessage, "confidence")
_SET_TIME = _setter(ParsedMessage, "time")
_SET_TIME_TEXT = _setter(ParsedMessage, "time_text")
_SET_PLACES = _setter(ParsedMessage, "places")
_SET_PEOPLE = _setter(ParsedMessage, "people")
_SET_PHONES = _setter(ParsedMessage, "phones")
_SET_COMMAND = _setter(ParsedMessage, "command")
_new = object.__new__
_SET_PLACE_KIND = _setter(Place, "kind")
_SET_PLACE_CODE = _setter(Place, "code")
_SET_PLACE_TEXT = _setter(Place, "text")


def _place(kind: str, code: str | None, text: str) -> Place:
    """`Place(kind, code, text)` built through the slots (a place is found in most reports)."""
    p: Place = _new(Place)
    _SET_PLACE_KIND(p, kind)
    _SET_PLACE_CODE(p, code)
    _SET_PLACE_TEXT(p, text)
    return p


def _parsed(
    kind: str,
    category: str | None,
    severity: str | None,
    reasons: tuple[str, ...],
    ambiguous: bool,
    confidence: float,
    when: datetime | date | None,
    time_text: str | None,
    places: tuple[Place, ...],
    people: int | None,
    phones: tuple[str, ...],
    command: Command | None,
) -> ParsedMessage:
    """`ParsedMessage(...)` with the same fields, built without the frozen __init__."""
    p: ParsedMessage = _new(ParsedMessage)
    _SET_TYPE(p, kind)
    _SET_CATEGORY(p, category)
    _SET_SEVERITY(p, severity)
    _SET_REASONS(p, reasons)
    _SET_AMBIGUOUS(p, ambiguous)
    _SET_CONFIDENCE(p, confidence)
    _SET_TIME(p, when)
    _SET_TIME_TEXT(p, time_text)
    _SET_PLACES(p, places)
    _SET_PEOPLE(p, people)
    _SET_PHONES(p, phones)
    _SET_COMMAND(p, command)
    return p
