"""How the bot names people in lists and speaks to each kind of group (handlers/texts/people)."""

from __future__ import annotations

from handlers.texts.people import FORMAL, FRIENDLY, REGISTER_BY_KIND, labels, names, register_of
from models.tables import Member


def person(pk: int, name: str, enterprise: str | None, title: str | None = None) -> Member:
    return Member(id=pk, name=name, enterprise=enterprise, title=title, status="member")


TUAN_MV = person(1, "Nguyễn Văn Tuấn", "May Việt", "anh")
TUAN_HS = person(2, "Trần Văn Tuấn", "Hansol", "anh")
TUAN_HS2 = person(3, "Lê Đức Tuấn", "Hansol")
LAN = person(4, "Lê Thị Lan", "May Việt", "chị")
HUNG = person(5, "Trần Văn Hùng", "Công an KCN", "đồng chí")


def test_a_list_is_short_until_two_people_share_a_given_name() -> None:
    assert names([LAN, HUNG, TUAN_MV]) == "chị Lan, đồng chí Hùng, anh Tuấn"
    assert names([TUAN_MV, TUAN_HS, LAN]) == "anh Tuấn (May Việt), anh Tuấn (Hansol), chị Lan"
    # Same given name and same enterprise: only the full name tells them apart.
    assert names([TUAN_HS, TUAN_HS2]) == "anh Trần Văn Tuấn, anh/chị Lê Đức Tuấn"
    # The reader knows both Tuấn of the directive even if only one is missing from the list.
    assert names([TUAN_HS], among=[TUAN_MV, TUAN_HS, LAN]) == "anh Tuấn (Hansol)"
    # A line that already shows the enterprise does not repeat it; each person once.
    assert labels([TUAN_MV, TUAN_HS, TUAN_MV], enterprise_shown=True) == ["anh Tuấn", "anh Tuấn"]


def test_one_register_per_group_kind() -> None:
    assert REGISTER_BY_KIND == {
        "council": FORMAL,
        "fire_safety": FORMAL,
        "enterprise": FRIENDLY,
        "private": FRIENDLY,
    }
    assert register_of("council").ask == "Đề nghị các đồng chí"
    assert register_of("enterprise").ask == "Anh chị em vui lòng"
    assert register_of("something new").people == "đồng chí"  # unknown: formal is safe
