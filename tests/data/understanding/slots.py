"""Slot values (people, companies, places, times) and the renderer that fills a template.

A template names slots in braces: {ws} workshop, {wh} warehouse, {gate}, {lot}, {co}/{CO}
company (chat/formal), {name}, {kcn}, and at most one time slot ({at}, {toiqua_at}, ...).
Rendering records the places and the resolved time that the label must carry.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta

COMPANIES = [
    "Minh Khang", "Tân Hưng Phát", "Sao Mai Vina", "Thép Hòa Lộc", "Bao bì Đông Á",
    "Điện tử Hanshin Vina", "Nhựa Kim Thành", "May Trường Sơn", "Gỗ Phước Lợi",
    "Thực phẩm An Khang", "Cơ khí Đại Nam", "Giày Bảo Tín", "Linh kiện Nakamura",
    "Dệt Thuận Hưng", "Hóa chất Tân Phong", "Bao bì Việt Úc", "Nệm Hoàng Gia",
    "Sợi Phú Cường", "Kính Quang Minh", "Dược Thiên Ân", "Gạch men Thạch Bàn Nam",
    "Điện máy Sejin", "Thủy sản Biển Đông", "May mặc Lan Anh", "Nội thất Đức Thành",
]  # fmt: skip
FORMAL_TYPES = ["Công ty TNHH", "Công ty CP", "Công ty TNHH", "Công ty TNHH MTV"]
PEOPLE = [
    "Tùng", "Hải", "Lộc", "Phong", "Nam", "Tú", "Thắng", "Hiếu", "Quân", "Dũng", "Khoa",
    "Vinh", "Tâm", "Trung", "Sơn", "Bình", "Hòa", "Nhân", "Tín", "Cường", "Lan", "Hằng",
    "Thảo", "Nga", "Trang", "Dung", "Hương", "Yến", "Mai", "Loan",
]  # fmt: skip
FULL_NAMES = [
    "Nguyễn Văn Toàn", "Lê Thị Hồng", "Trần Minh Đức", "Phạm Văn Khải", "Võ Thị Ngọc",
    "Đặng Quốc Huy", "Bùi Văn Tài", "Hoàng Thị Thu", "Đỗ Văn Lâm", "Huỳnh Tấn Phát",
    "Ngô Thị Mỹ", "Dương Văn Chiến", "Lý Thị Hạnh", "Mai Xuân Trường", "Vũ Đình Khôi",
]  # fmt: skip
PARKS = [
    "KCN Tân Đông Sơn", "KCN Phước Hòa Bắc", "KCN Long Giang Tây", "KCN Mỹ Xuân Đông",
    "KCN Hòa Khánh Mới", "KCN Bàu Sen", "KCN Sông Mây Nam", "KCN Đại An Tây",
]  # fmt: skip
WORKSHOPS = ["1", "2", "3", "4", "5", "6", "7", "8", "A", "B", "C", "D"]
WAREHOUSES = ["1", "2", "3", "4", "5", "6", "A", "B", "C", "E"]
GATES = ["1", "2", "3", "4", "5"]
LOTS = [f"{row}{n}" for row in "ABCDE" for n in range(1, 10)]

# sent_at: days in the autumn of 2026, local time +07:00
FIRST_DAY = datetime(2026, 10, 5)


@dataclass
class Rendered:
    """A filled template with the labels the slots imply."""

    text: str
    places: list[list[str | None]] = field(default_factory=list)
    time: dict[str, str] | None = None


def _clock(hour: int, minute: int, rng: random.Random, formal: bool) -> str:
    """A clock time the way members write it: 14h30, 14h, 14:30, 14 giờ 30."""
    if minute == 0:
        return rng.choice([f"{hour}h", f"{hour}h00", f"{hour} giờ"] if formal else [f"{hour}h"])
    if formal:
        return rng.choice(
            [f"{hour}h{minute:02d}", f"{hour} giờ {minute:02d}", f"{hour}:{minute:02d}"]
        )
    return rng.choice(
        [f"{hour}h{minute:02d}", f"{hour}h{minute}" if minute >= 10 else f"{hour}h{minute:02d}"]
    )


def _minute(rng: random.Random) -> int:
    return rng.choice([0, 0, 5, 10, 15, 20, 25, 30, 30, 40, 45, 50, 55])


def _numbered(noun: str, code: str) -> str:
    """'kho số 3' for a number, 'kho B' for a letter (nobody writes 'kho số B')."""
    return f"{noun} số {code}" if code.isdigit() else f"{noun} {code}"


def _dm(day: datetime) -> str:
    return f"{day.day}/{day.month}"


class Slots(dict):  # type: ignore[type-arg]
    """Fills slots lazily and records the labels (places, time) the used slots imply."""

    def __init__(self, rng: random.Random, sent: datetime, formal: bool) -> None:
        super().__init__()
        self.rng = rng
        self.sent = sent
        self.formal = formal
        self.places: list[list[str | None]] = []
        self.time: dict[str, str] | None = None
        self.company = rng.choice(COMPANIES)

    def _place(self, kind: str, code: str) -> None:
        if [kind, code] not in self.places:
            self.places.append([kind, code])

    def _at(self, day: datetime, hour: int, minute: int) -> None:
        self.time = {"at": day.replace(hour=hour, minute=minute).strftime("%Y-%m-%dT%H:%M")}

    def _date(self, day: datetime) -> None:
        self.time = {"date": day.strftime("%Y-%m-%d")}

    def __missing__(self, key: str) -> str:
        rng, sent = self.rng, self.sent
        today = sent.replace(hour=0, minute=0)
        value: str
        if key in ("ws", "ws2"):
            code = rng.choice(WORKSHOPS)
            self._place("workshop", code)
            value = (
                f"xưởng {code}"
                if not self.formal
                else rng.choice([f"xưởng {code}", _numbered("xưởng", code), f"nhà xưởng {code}"])
            )
        elif key in ("wh", "wh2"):
            code = rng.choice(WAREHOUSES)
            self._place("warehouse", code)
            value = (
                f"kho {code}"
                if not self.formal
                else rng.choice([f"kho {code}", _numbered("kho", code)])
            )
        elif key == "gate":
            code = rng.choice(GATES)
            self._place("gate", code)
            value = rng.choice([f"cổng {code}", f"cổng số {code}"])
        elif key == "lot":
            code = rng.choice(LOTS)
            self._place("lot", code)
            value = f"lô {code}"
        elif key == "co":
            self._place("company", self.company)
            value = f"cty {self.company}"
        elif key == "CO":
            self._place("company", self.company)
            value = f"{rng.choice(FORMAL_TYPES)} {self.company}"
        elif key == "coname":  # a company mentioned without a place label (background)
            value = rng.choice(COMPANIES)
        elif key in ("name", "name2"):
            value = rng.choice(PEOPLE)
        elif key == "fullname":
            value = rng.choice(FULL_NAMES)
        elif key == "kcn":
            value = rng.choice(PARKS)
        elif key == "n":  # a small count of people (2-6)
            value = str(rng.randint(2, 6))
        elif key == "nn":  # formal zero-padded count
            value = f"{rng.randint(2, 6):02d}"
        elif key == "many":  # tens of people
            value = str(rng.choice([30, 35, 40, 50, 60, 70, 80, 100, 120]))
        elif key == "crowd":  # hundreds or thousands: a strike of this size is high
            value = rng.choice(["200", "300", "400", "500", "700", "1.000", "1.200", "2.000"])
        elif key == "phone":
            value = (
                "09"
                + "".join(rng.choice(string.digits) for _ in range(2))
                + " "
                + "".join(rng.choice(string.digits) for _ in range(3))
                + " "
                + "".join(rng.choice(string.digits) for _ in range(3))
            )
        elif key == "at":  # earlier today: "lúc 14h30"
            hour = rng.randint(max(0, sent.hour - 9), max(0, sent.hour - 1))
            minute = _minute(rng)
            self._at(today, hour, minute)
            value = "lúc " + _clock(hour, minute, rng, self.formal)
        elif key == "hm":  # bare clock earlier today, in the day: "14h30"
            hour = rng.randint(max(7, sent.hour - 6), max(7, sent.hour - 1))
            minute = _minute(rng)
            self._at(today, hour, minute)
            value = _clock(hour, minute, rng, self.formal)
        elif key == "toiqua_at":  # "21h40 tối qua"
            hour, minute = rng.randint(19, 23), _minute(rng)
            self._at(today - timedelta(days=1), hour, minute)
            clock = _clock(hour, minute, rng, self.formal)
            value = rng.choice([f"{clock} tối qua", f"tối qua lúc {clock}"])
        elif key == "sangnay_at":  # "5h sáng nay" (sent later in the day)
            hour, minute = rng.randint(1, 6), _minute(rng)
            self._at(today, hour, minute)
            clock = _clock(hour, minute, rng, self.formal)
            value = rng.choice(
                [f"{clock} sáng nay", f"rạng sáng nay lúc {clock}", f"lúc {clock} sáng nay"]
            )
        elif key == "day":  # a day word without clock
            choice = rng.choice(["sáng nay", "tối qua", "đêm qua", "hôm qua", "hôm kia"])
            offset = {"sáng nay": 0, "tối qua": 1, "đêm qua": 1, "hôm qua": 1, "hôm kia": 2}[choice]
            self._date(today - timedelta(days=offset))
            value = choice
        elif key == "date":  # "ngày 3/12", a few days back
            day = today - timedelta(days=rng.randint(1, 12))
            self._date(day)
            value = f"ngày {_dm(day)}"
        elif key == "date_at":  # "22h15 ngày 3/12"
            day = today - timedelta(days=rng.randint(1, 5))
            hour, minute = rng.randint(0, 23), _minute(rng)
            self._at(day, hour, minute)
            value = f"{_clock(hour, minute, rng, True)} ngày {_dm(day)}"
        elif key == "dday_at":  # a working-hours clock on a past date: "9h30 ngày 3/12"
            day = today - timedelta(days=rng.randint(1, 5))
            hour, minute = rng.randint(7, 16), _minute(rng)
            self._at(day, hour, minute)
            value = f"{_clock(hour, minute, rng, True)} ngày {_dm(day)}"
        elif key == "dnight_at":  # a night clock on a past date: "23h40 ngày 3/12"
            day = today - timedelta(days=rng.randint(1, 5))
            hour, minute = rng.choice([22, 23, 0, 1, 2, 3]), _minute(rng)
            self._at(day, hour, minute)
            value = f"{_clock(hour, minute, rng, True)} ngày {_dm(day)}"
        elif key == "night_hm":  # small hours today: "2h15 sáng nay"
            hour, minute = rng.randint(0, 4), _minute(rng)
            self._at(today, hour, minute)
            value = f"{_clock(hour, minute, rng, True)} sáng nay"
        elif key == "mai_at":  # future, stated: "8h sáng mai"
            hour = rng.choice([7, 8, 9, 10, 14, 15])
            self._at(today + timedelta(days=1), hour, 0)
            part = "sáng" if hour < 12 else "chiều"
            value = (
                rng.choice([f"{hour}h {part} mai", f"{hour}h ngày mai"])
                if hour < 12
                else f"{hour}h chiều mai"
            )
        elif key == "bgdate":  # a background date with no label
            day = today - timedelta(days=rng.randint(1, 3))
            value = _dm(day)
        else:
            raise KeyError(key)
        self[key] = value
        return value


def pick_sent(rng: random.Random, after_hour: int = 8) -> datetime:
    """A send time between 09:00 (or after `after_hour`) and 22:59 on a day in Oct-Dec 2026."""
    day = FIRST_DAY + timedelta(days=rng.randint(0, 75))
    hour = rng.randint(max(9, after_hour + 1), 22)
    return day.replace(hour=hour, minute=rng.choice(range(0, 60, 1)))


def render(template: str, rng: random.Random, sent: datetime, formal: bool) -> Rendered:
    """Fill `template`'s slots; return text with the places and time they imply."""
    slots = Slots(rng, sent, formal)
    text = template.format_map(slots)
    return Rendered(text=text, places=slots.places, time=slots.time)
