"""How the bot names people and speaks to a group (issue 15 item 8): one place for both.

A person is "anh Tuấn", "chị Lan", "đồng chí Hùng" (roster `title` + given name; "anh/chị"
without a title), never the bare full name. A list of people for a coordinator stays short
and unambiguous: the enterprise is added where two people share a given name, the full name
where they share the enterprise too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from models.people import address, address_full, capitalized, fold_name, title_of
from models.tables import Member

__all__ = [
    "Register",
    "address",
    "address_full",
    "capitalized",
    "labels",
    "names",
    "register_of",
    "title_of",
    "you_words",
]


@dataclass(frozen=True)
class Register:
    """The words a group is spoken to with: formal in the council, friendly in chat groups."""

    everyone: str  # addressing the whole group: "các đồng chí" / "anh chị em"
    people: str  # counting people in a sentence: "3 đồng chí" / "3 người"
    ask: str  # opening a request to the group: "Đề nghị các đồng chí" / "Anh chị em vui lòng"


FORMAL = Register(everyone="các đồng chí", people="đồng chí", ask="Đề nghị các đồng chí")
FRIENDLY = Register(everyone="anh chị em", people="người", ask="Anh chị em vui lòng")

# One register per group kind (docs/people.md). The council and the fire-safety clusters are
# official bodies: directives there speak to "các đồng chí". An enterprise's own chat group
# and a private chat are among colleagues: "anh chị em", "anh Tuấn".
REGISTER_BY_KIND: dict[str, Register] = {
    "council": FORMAL,
    "fire_safety": FORMAL,
    "enterprise": FRIENDLY,
    "private": FRIENDLY,
}


def you_words(member: Member) -> dict[str, str]:
    """{you} and {You} for a sentence spoken to `member`: "đồng chí" / "Đồng chí"."""
    you = title_of(member)
    return {"you": you, "You": capitalized(you)}


def register_of(kind: str | None) -> Register:
    """The register for a group kind; an unknown kind gets the formal one (safe in public)."""
    return REGISTER_BY_KIND.get(kind or "", FORMAL)


def _given(member: Member) -> str:
    """The name part of `address` (titles differ: "anh Tuấn" and "anh/chị Tuấn" still clash)."""
    name = member.name or member.display_name or ""
    return fold_name(name.split()[-1] if name and member.status == "member" else name)


def labels(
    members: Iterable[Member],
    *,
    among: Iterable[Member] = (),
    enterprise_shown: bool = False,
) -> list[str]:
    """Each person once, as short as stays unambiguous: "anh Tuấn"; "anh Tuấn (May Việt)" when
    two share a given name (in the list, or `among` the people the reader has in mind); "anh
    Lê Văn Tuấn" when they share the enterprise too. Where the line already shows the
    enterprise (`enterprise_shown`), it is not repeated."""
    people = list({m.id: m for m in members}.values())
    context = list({m.id: m for m in [*people, *among]}.values())
    given = Counter(_given(m) for m in context)
    by_enterprise = Counter((_given(m), m.enterprise or "") for m in context)
    out = []
    for m in people:
        if given[_given(m)] == 1:
            out.append(address(m))
        elif by_enterprise[(_given(m), m.enterprise or "")] == 1 and m.enterprise:
            out.append(address(m) if enterprise_shown else f"{address(m)} ({m.enterprise})")
        else:
            out.append(address_full(m))
    return out


def names(members: Iterable[Member], *, among: Iterable[Member] = ()) -> str:
    """ "anh Tuấn, chị Lan": a list of people in one line (see `labels`)."""
    return ", ".join(labels(members, among=among))
