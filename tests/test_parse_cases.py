"""The shared worked examples (tests/data/parse_cases.jsonl, a copy of the team's file) and the
shape of parse()'s output (SPEC.md 5)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers.parse import COMMAND_NAMES, Command, ParsedMessage, Place, parse

DATA = Path(__file__).parent / "data"
HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def load_rows(name: str) -> list[dict[str, Any]]:
    """The rows of a JSONL table in tests/data."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def check_expect(got: dict[str, Any], expect: dict[str, Any]) -> list[str]:
    """What differs from the expectation; the semantics of SPEC.md 5's worked examples."""
    problems: list[str] = []
    for key, want in expect.items():
        if key == "not_category":
            if got["category"] == want:
                problems.append(f"category must not be {want!r}")
        elif key == "places":
            have = {(p["kind"], p["code"].casefold() if p["code"] else None) for p in got["places"]}
            for kind, code in want:
                if (kind, code.casefold() if code else None) not in have:
                    problems.append(f"place {kind}/{code} missing from {got['places']}")
        elif key == "command":
            name = got["command"]["name"] if got["command"] else None
            if name != want:
                problems.append(f"command: got {name!r}, want {want!r}")
        elif got[key] != want:
            problems.append(f"{key}: got {got[key]!r}, want {want!r}")
    return problems


CASES = load_rows("parse_cases.jsonl")


@pytest.mark.parametrize("case", CASES, ids=[f"{c['id']}" for c in CASES])
def test_shared_case(case: dict[str, Any]) -> None:
    got = parse(case["text"], datetime.fromisoformat(case["sent_at"])).to_dict()
    assert check_expect(got, case["expect"]) == [], f"{case['text']!r}: {case['why']}"


def test_there_are_69_shared_cases() -> None:
    assert len(CASES) == 69  # 52, and 17 more from issue 14 (understanding real chat)


SENT = datetime(2026, 11, 27, 16, 0, tzinfo=HANOI)


def test_to_dict_has_exactly_the_spec_fields() -> None:
    got = parse("Lúc 14h30 cháy xưởng 2, gọi 0912345678", SENT).to_dict()
    assert list(got) == [
        "type", "category", "severity", "reasons", "ambiguous", "confidence", "time",
        "time_text", "places", "people", "phones", "command",
    ]  # fmt: skip
    assert got["time"] == {"at": "2026-11-27T14:30"}
    assert got["places"] == [{"kind": "workshop", "code": "2", "text": "xưởng 2"}]
    assert got["phones"] == ["0912345678"]
    assert got["command"] is None
    assert 0 <= got["confidence"] <= 1
    json.dumps(got)  # plain JSON values only


def test_date_only_and_command_shapes() -> None:
    assert parse("Mất trộm ở kho 2 tối qua", SENT).to_dict()["time"] == {"date": "2026-11-26"}
    cmd = parse("/report cháy kho 3", SENT)
    assert cmd.command == Command("baocao", "cháy kho 3")
    assert cmd.to_dict()["command"] == {"name": "baocao", "args": "cháy kho 3"}


def test_parsed_message_is_frozen_and_typed() -> None:
    p = parse("Cháy kho 3", SENT)
    assert isinstance(p, ParsedMessage)
    assert all(isinstance(place, Place) for place in p.places)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.type = "other"  # type: ignore[misc]


def test_time_is_local_to_the_timezone_given() -> None:
    sent_utc = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # 16:00 in Hanoi
    hanoi = parse("22h có xe lạ vào lô A1", sent_utc)
    assert hanoi.time == datetime(2026, 11, 26, 22, 0, tzinfo=HANOI)
    utc = parse("22h có xe lạ vào lô A1", sent_utc, ZoneInfo("UTC"))
    assert utc.to_dict()["time"] == {"at": "2026-11-26T22:00"}
    assert parse("Cháy kho 2 hôm qua", sent_utc).time == date(2026, 11, 26)


def test_naive_send_time_is_read_in_the_timezone() -> None:
    p = parse("Lúc 14h30 cháy", datetime(2026, 11, 27, 16, 0))
    assert p.to_dict()["time"] == {"at": "2026-11-27T14:30"}


def test_command_names() -> None:
    assert COMMAND_NAMES["report"] == "baocao"
    assert COMMAND_NAMES["help"] == COMMAND_NAMES["huongdan"] == "huongdan"
    assert COMMAND_NAMES["baonham"] == COMMAND_NAMES["bao_nham"] == "bao_nham"
    for alias, name in [("checkin", "diemdanh"), ("ack", "danhan"), ("announce", "thongbao"),
                        ("assign", "giaoviec"), ("done", "xong"), ("stats", "thongke"),
                        ("inactive", "chuahoatdong"), ("xuly", "xuly")]:  # fmt: skip
        assert COMMAND_NAMES[alias] == name
        assert parse(f"/{alias.upper()} x", SENT).command == Command(name, "x")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("/baocao", "baocao"),
        ("/báocáo chay kho", "baocao"),
        ("#diemdanh", "diemdanh"),
        ("Kho 2 bình thường #baocao", "baocao"),
        ("@Bot ANTT /thongke", "thongke"),
        ("/foo", "foo"),
        ("/help@antt_bot", "huongdan"),
        ("/ thongbao họp giao ban lúc 15h", "thongbao"),  # a space slipped after the slash
        ("@Bot ANTT /  XONG SV1", "xong"),
    ],
)
def test_commands(text: str, name: str) -> None:
    p = parse(text, SENT)
    assert p.type == "command"
    assert p.command is not None and p.command.name == name


@pytest.mark.parametrize(
    "text",
    ["/-strong", "/-heart", ":)) ok", "https://kcn.vn/baocao", "www.kcn.vn/#baocao", "#antt",
     "xem kcn.vn/diemdanh", "1/2 số người", "/ abc", "a / thongbao"],
)  # fmt: skip
def test_not_commands(text: str) -> None:
    assert parse(text, SENT).command is None


@pytest.mark.parametrize(
    "text",
    [
        "Tin tức: cháy lớn ở KCN bên Bình Dương, xem báo nhé",
        "Bản tin tối nay: nổ lớn tại kho hóa chất ở Long An",
        "xem báo thấy vụ trộm ở KCN bên kia",
    ],
)
def test_the_news_is_no_report(text: str) -> None:
    """A member passing on the news must not raise an urgent alert at night."""
    assert parse(text, SENT).type == "other"


def test_a_phone_typed_in_groups_is_no_head_count() -> None:
    """ "0912 345 678 anh Nam": not 678 people, so not high for a crowd."""
    p = parse("Cháy kho 3, liên hệ 0912 345 678 anh Nam", SENT)
    assert (p.people, p.severity, p.phones) == (None, "medium", ("0912345678",))
    assert parse("khoảng 300 công nhân tụ tập ở cổng B, sđt 0912345678", SENT).people == 300


def test_emergency_numbers_raise_severity_and_are_not_phones() -> None:
    p = parse("gọi 114 ngay, cháy kho 3", SENT)
    assert p.severity == "high"
    assert p.phones == ()
