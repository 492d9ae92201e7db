"""The cast of the council week (tests/test_council_week.py): who they are, where they write.

Fourteen people: the industrial park's management board (BQL), the police, and the security
staff of three enterprises, in the council group and a fire-safety cluster group.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 11, 30, tzinfo=VN)  # week 49: Monday 30/11 to Sunday 6/12/2026

HD = "g-hoidong"  # Hội đồng ANTT KCN: everyone
PCCC = "g-pccc"  # Cụm an toàn PCCC số 1: the enterprises' security staff and the board
GROUPS = [
    {"chat_id": HD, "name": "Hội đồng ANTT KCN", "kind": "council"},
    {"chat_id": PCCC, "name": "Cụm an toàn PCCC số 1", "kind": "fire_safety"},
]

# Quân and Hà (the board) coordinate; Đức (police) coordinates too but has never written
# to the bot, so Zalo lets the bot send him nothing privately. Hùng (police) is next in the
# escalation chain. Each enterprise has a security lead (`lead`). Two people are called Tuấn.
ROSTER = """member_id,name,phone,enterprise,role,groups,title,lead
quan,Phạm Minh Quân,0902000001,BQL KCN,coordinator,g-hoidong;g-pccc,anh,
ha,Nguyễn Thu Hà,0902000002,BQL KCN,admin,g-hoidong,chị,
duc,Lê Minh Đức,0902000003,Công an KCN,coordinator,g-hoidong,đồng chí,
hung,Trần Văn Hùng,0902000004,Công an KCN,member,g-hoidong,đồng chí,
dung,Ngô Thị Dung,0902000005,BQL KCN,member,g-hoidong,chị,
tuan,Nguyễn Văn Tuấn,0902000011,May Việt,member,g-hoidong;g-pccc,anh,x
lan,Lê Thị Lan,0902000012,May Việt,member,g-hoidong;g-pccc,chị,
giang,Vũ Văn Giang,0902000013,May Việt,member,g-pccc,anh,
tuan2,Trần Văn Tuấn,0902000021,Hansol,member,g-hoidong;g-pccc,anh,
phuong,Đỗ Thị Phương,0902000022,Hansol,member,g-hoidong;g-pccc,chị,x
em,Hoàng Văn Em,0902000023,Hansol,member,g-pccc,,
hoa,Bùi Thị Hoa,0902000031,Điện Quang,member,g-hoidong;g-pccc,chị,x
inh,Đặng Văn Inh,0902000032,Điện Quang,member,g-pccc,anh,
kim,Lý Thị Kim,0902000033,Điện Quang,member,g-hoidong,chị,
"""
NAMES = {line.split(",")[0]: line.split(",")[1] for line in ROSTER.splitlines()[1:]}

# Hansol works two 12-hour shifts; the others keep the fixed 06-14 / 14-22 / 22-06 hours.
SHIFTS = {
    "Hansol": [
        {"name": "ca ngày", "start": "07:00", "end": "19:00"},
        {"name": "ca đêm", "start": "19:00", "end": "07:00"},
    ]
}


def at(day: str, hhmm: str) -> datetime:
    """at("Tue", "02:10"): that time of the week, Vietnam time."""
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    hh, mm = (int(x) for x in hhmm.split(":"))
    return MONDAY + timedelta(days=days.index(day), hours=hh, minutes=mm)
