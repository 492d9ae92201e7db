"""What the bot says about incidents: reports, doubts, alerts, status. Short and warm."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from handlers import labels
from handlers.codes import incident_code
from handlers.text import fold
from models.people import DEFAULT_TITLE, capitalized

# One label per category, state and severity everywhere: handlers/labels.py's tables.
CATEGORY = labels.CATEGORY
STATUS = labels.INCIDENT_STATUS
SEVERITY = labels.SEVERITY

PLACE_KIND = {
    "workshop": "xưởng",
    "warehouse": "kho",
    "gate": "cổng",
    "lot": "lô",
    "company": "Cty",
}


def addressed(title: str) -> dict[str, str]:
    """The reader's title for a text's {you}, and {You} where it opens a sentence."""
    return {"you": title, "You": capitalized(title)}


def category_name(category: str | None) -> str:
    return CATEGORY.get(category or "other", CATEGORY["other"])


def place_text(place: Mapping[str, Any]) -> str:
    """One place as people write it: "xưởng 2", "Cty ABC", or the words found."""
    kind, code, text = place.get("kind"), place.get("code"), place.get("text") or ""
    label = PLACE_KIND.get(str(kind))
    if label and code:
        return f"{label} {company_name(str(code)) if kind == 'company' else _code_shown(str(code))}"
    return str(text or code or "").strip()


def company_name(name: str) -> str:
    """A company's name as typed; typed all in lower case, written as a name is (docs/incidents.md):
    "may viet" -> "May Viet", "lg" -> "LG"."""
    if name != name.lower():
        return name  # the member chose the capitals ("LG Display", "May Việt")
    return " ".join(_name_word(word) for word in name.split())


def _name_word(word: str) -> str:
    # Every Vietnamese syllable has a vowel: a word without one is an abbreviation (TNHH, LG).
    if word.isalpha() and not set(fold(word)) & set("aeiouy"):
        return word.upper()
    return word[:1].upper() + word[1:]


def _code_shown(code: str) -> str:
    """A place's code as people write it: an abbreviation in capitals ("kcn" -> "KCN", "b" ->
    "B"), other words and numbers as stored ("chính", "2", "a1")."""
    return " ".join(
        w.upper() if w.isalpha() and not set(fold(w)) & set("aeiouy") else w for w in code.split()
    )


def places_text(places: Iterable[Mapping[str, Any]]) -> str:
    return ", ".join(p for p in (place_text(x) for x in places) if p)


def _understood(
    category: str | None, places: str, when: str, people: int | None, phones: list[str]
) -> str:
    lines = [f"• Loại: {category_name(category)}"]
    if places:
        lines.append(f"• Nơi: {places}")
    if when:
        lines.append(f"• Lúc: {when}")
    if people:
        lines.append(f"• Số người: {people}")
    if phones:
        lines.append(f"• SĐT: {', '.join(phones)}")
    return "\n".join(lines)


def report_received(
    report_id: int,
    incident_id: int,
    category: str | None,
    places: str,
    when: str,
    people: int | None,
    phones: list[str],
    reach: str = "",
    you: str = DEFAULT_TITLE,
) -> str:
    """The reporter's receipt, thanking them by their title (`you`); `reach` says who really
    was alerted (empty: not urgent)."""
    text = (
        f"Cảm ơn {you}! Bot đã ghi nhận báo cáo số {report_id} "
        f"(sự việc {incident_code(incident_id)}):\n"
        + _understood(category, places, when, people, phones)
    )
    if reach:
        text += "\n" + reach
    if category == "fire":
        text += "\n" + CALL_114
    return text


CALL_114 = "Nếu đám cháy chưa được dập, gọi ngay 114."


def reach_sentence(people: list[str], groups: list[str], you: str = DEFAULT_TITLE) -> str:
    """Who got the alert, as the reporter (`you`) is told: never more than the outbox holds."""
    if not people and not groups:
        return (
            "Bot CHƯA báo được cho ai: chưa điều phối viên nào nhắn riêng với bot. "
            f"{capitalized(you)} gọi trực tiếp cho điều phối viên giúp."
        )
    told = names_text(people + [f"nhóm {g}" for g in groups])
    if people:
        return f"Bot đã báo khẩn cho {told}."
    return f"Bot chưa nhắn riêng được cho điều phối viên nào nên đã báo khẩn cho {told}."


def names_text(names: list[str]) -> str:
    """ "anh Quân, chị Bình và nhóm Hội đồng": a list as a sentence says it."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " và " + names[-1]


def report_merged(
    report_id: int,
    incident_id: int,
    category: str | None,
    places: str,
    handler: str | None,
    alerted: bool = False,
    you: str = DEFAULT_TITLE,
) -> str:
    where = f" ở {places}" if places else ""
    if handler:
        who = f"{handler[:1].upper()}{handler[1:]} đang nhận xử lý."
    elif alerted:
        who = "Điều phối viên đã được báo khẩn, đang chờ người nhận xử lý."
    else:
        who = "Bot đã ghi vào danh sách để điều phối viên xem."
    return (
        f"Cảm ơn {you}! Sự việc {category_name(category)}{where} đã được báo trước đó "
        f"({incident_code(incident_id)}); bot đã ghép báo cáo số {report_id} vào. {who}"
    )


def doubt_question(category: str | None, places: str, you: str = DEFAULT_TITLE) -> str:
    where = f" ở {places}" if places else ""
    return (
        f"Có phải {you} báo {category_name(category)}{where} không?\n"
        "Trả lời: đúng / sai / sửa <nội dung đúng>"
    )


def hold_question(category: str | None, places: str, minutes: int, you: str = DEFAULT_TITLE) -> str:
    """Asked before a possible emergency read from unaccented words is passed on."""
    where = f" ở {places}" if places else ""
    return (
        f"{capitalized(you)} báo {category_name(category).upper()}{where} phải không? "
        'Trả lời "đúng" để bot báo ngay điều phối viên, "không" nếu bot hiểu nhầm.\n'
        f"Sau {minutes} phút chưa có trả lời, bot vẫn sẽ báo điều phối viên."
    )


# Issue 15: a question in a group says how to answer there (the bot sees only quote-replies
# and @mentions); asked in private instead, it says which report it is about. {you}: the
# reader's title (models/people.py title_of), "anh/chị" without one; {You} opens a sentence.
GROUP_ANSWER_HINT = "\n(Trong nhóm, {you} bấm Trả lời vào tin này hoặc nhắn @Bot để trả lời.)"
ASKED_FROM_GROUP = "Về tin {you} vừa báo trong nhóm {group}:\n"

DOUBT_CANCELLED = "Cảm ơn {you} đã cho biết! Bot đã hủy báo cáo số {report_id}."
DOUBT_EXPIRED = (
    "Bot chưa nhận được trả lời nên đã lưu báo cáo số {report_id} ở trạng thái chưa xác nhận; "
    "điều phối viên sẽ xem lại."
)

REPORT_PROMPT = (
    "Để báo sự việc, {you} nhắn nội dung kèm địa điểm và thời gian, "
    'vd: "cháy ở xưởng 2 lúc 14h" hoặc /baocao <nội dung>. Có ảnh thì gửi ngay sau đó.'
)
NO_OPEN_INCIDENTS = "Hiện không có sự việc nào đang mở. Cảm ơn {you}!"
OPEN_INCIDENTS_HEADER = "Các sự việc đang mở ({n}):"
MORE_INCIDENTS = "… và {n} sự việc khác."
PHOTO_ATTACHED = "Bot đã lưu ảnh vào báo cáo số {report_id} ({code}). Cảm ơn {you}!"
# A reporter's detail sent right after the report (handlers/intents/incidents/details.py).
DETAIL_ADDED = 'Đã bổ sung vào sự việc {code}: "{words}". Cảm ơn {title}!'
# What the person handling an incident writes of its progress (incidents/progress.py).
PROGRESS_ADDED = 'Đã ghi vào sự việc {code}: "{words}". Cảm ơn {title}!'
DETAIL_PASSED_ON = " Bot đã báo thêm cho {names}."
DETAIL_TO_ALERTED = '🚨 Sự việc {code} ({category}{where}): {who} báo thêm "{words}".'
# How a reported incident went ("2 đối tượng bỏ chạy, không mất tài sản"): news, not an alarm.
OUTCOME_TO_ALERTED = 'Sự việc {code} ({category}{where}): {who} báo thêm "{words}".'
# After "bắt được rồi, đã giao cho công an": no more "chưa có ai nhận" every ten minutes.
ESCALATION_STOPPED = "Bot thôi nhắc khẩn; sự việc vẫn mở đến khi có người gõ /xong {code}."
# The police (or another service) coming to a place with several incidents open alike
# (incidents/updates.py responders_bound): which one, by code.
RESPONDERS_WHICH = (
    "{where} mở {n} sự việc: {items}. {You} đang tới sự việc nào? "
    '{You} nhắn lại kèm mã, vd: "@Bot ANTT công an đang tới {code}".'
)
# Said in private about a report made in a group: which incident the detail joined.
REPORTED_IN_GROUP = "{code} ({category}{where}, {title} báo trong nhóm {group} lúc {at})"
PHOTO_ORPHAN = (
    "Bot đã lưu ảnh. Ảnh này về sự việc gì, ở đâu? {You} nhắn thêm vài chữ để bot ghi nhận."
)

USAGE_XULY = "Cách dùng: /xuly SV<số>, vd /xuly SV12"
USAGE_BAO_NHAM = "Cách dùng: /bao_nham SV<số>, vd /bao_nham SV12"
USAGE_XONG = "Cách dùng: /xong SV<số> cho sự việc, /xong CV<số> cho việc được giao."
NOT_FOUND = "Bot không tìm thấy sự việc {code}. Gõ /baocao để xem các sự việc đang mở."
ALREADY_CLOSED = "Sự việc {code} đã đóng ({status})."
UPDATES_FOR_COORDINATORS = (
    "Việc cập nhật sự việc dành cho điều phối viên. Cảm ơn {you} đã quan tâm!"
)
DETAILS_NOT_ALLOWED = "Chi tiết sự việc {code} dành cho điều phối viên và người đã báo sự việc."
TASKS_UNAVAILABLE = "Chức năng việc được giao chưa sẵn sàng; {you} báo điều phối viên giúp nhé."
WHICH_INCIDENT = "Đang có {n} sự việc khẩn chờ nhận: {codes}. {You} gõ /xuly SV<số> để nhận."
TAKE_HOW = (
    '{code} ({category}{where}) đang chờ người nhận. Nếu {you} nhận xử lý, {you} gõ "nhận xử lý" '
    "hoặc /xuly {code}."
)
# Said when a coordinator's private words read as meant for someone (the reporter): the bot
# relays nothing a coordinator writes to it in private.
NOT_PASSED_ON = "Tin vừa rồi bot chỉ lưu, không chuyển cho ai."

STATUS_CHANGED = {
    "acknowledged": "Đã ghi nhận: {who} nhận xử lý sự việc {code}. Cảm ơn {you}!",
    "handling": "Đã ghi nhận: {who} đang xử lý sự việc {code}.",
    "resolved": "Đã đóng sự việc {code}: xử lý xong. Cảm ơn {you}!",
    "settled": "Đã đóng sự việc {code}: đã ổn. Cảm ơn {you}!",
    "false_alarm": "Đã đánh dấu sự việc {code} là báo nhầm.",
}
ALREADY_TAKEN = "Sự việc {code} đã có {who} nhận xử lý. Cảm ơn {you}!"

# {you}: the reporters in that chat, by their title when they share one.
TO_REPORTERS = {
    "acknowledged": "Sự việc {code} ({category}) {you} báo đã có {who} nhận xử lý.",
    "handling": "Sự việc {code} ({category}) {you} báo đang được {who} xử lý.",
    "resolved": "Sự việc {code} ({category}) {you} báo đã được xử lý xong. Cảm ơn {you}!",
    "settled": "Sự việc {code} ({category}) {you} báo đã đóng: {who} cho biết đã ổn.",
    "false_alarm": "Sự việc {code} ({category}) đã được xác định là báo nhầm. Cảm ơn {you}!",
}
# Closed with a note ("/xong SV1 đã hòa giải"): the reporters read it.
RESOLVED_IN_WORDS = (
    'Sự việc {code} ({category}) {you} báo đã được xử lý xong: "{words}". Cảm ơn {you}!'
)
TO_ALERTED = {
    "acknowledged": "Sự việc {code}: {who} đã nhận xử lý.",
    "false_alarm": "Sự việc {code}: {who} cho biết là báo nhầm, không cần xử lý nữa.",
    "settled": "Sự việc {code}: {who} cho biết đã ổn, không cần xử lý nữa.",
    "resolved": "Sự việc {code}: {who} đã đóng, xử lý xong.",
    "confirmed": "Sự việc {code}: người báo đã xác nhận ({category}). Cần người nhận xử lý!",
    "disputed": "Sự việc {code}: {who} cho biết là báo nhầm, nhưng còn người khác cũng báo nên "
    "sự việc vẫn mở.",
}
# Closed with a note ("/xong SV1 đã dập tắt"): the alerted read it.
RESOLVED_TO_ALERTED = 'Sự việc {code}: {who} đã đóng, xử lý xong: "{words}".'
# "Không sao" is no "báo nhầm": the alerted read what was said, and that the alarm is off.
SETTLED_IN_WORDS = 'Sự việc {code}: {who} nhắn "{words}". Bot đã đóng sự việc, không cần xử lý nữa.'
# ... and when others reported it too, what was said, and that it stays open.
SETTLED_DISPUTED = (
    'Sự việc {code}: {who} nhắn "{words}", nhưng còn người khác cũng báo nên sự việc vẫn mở.'
)
# A reporter's "báo nhầm" about an incident someone else reported too: it stays open.
FALSE_ALARM_DISPUTED = "Sự việc {code} còn người khác cũng báo nên bot chưa đóng."
FALSE_ALARM_DISPUTED_TOLD = " Bot đã báo lại ý kiến của {who} cho người nhận tin khẩn."


class Reporter(NamedTuple):
    """Who reported, from the roster: what a coordinator needs to call back."""

    name: str
    phone: str | None = None
    enterprise: str | None = None


def alert(
    incident_id: int,
    category: str | None,
    places: str,
    reporter: Reporter,
    when: str,
    text: str,
    phones: list[str],
    unconfirmed: bool,
    fire_out: bool = False,
) -> str:
    """The urgent alert: what, where, when, who reported (phone, enterprise), how to take it;
    `fire_out`: the reporter says the fire is out (no call to 114, a check of the place)."""
    code = incident_code(incident_id)
    where = f" tại {places}" if places else ""
    lines = [f"🚨 KHẨN: {category_name(category)}{where} ({code})"]
    if unconfirmed:
        lines.append("(chưa xác nhận: bot đang hỏi lại người báo)")
    who = reporter.name
    if reporter.enterprise:
        who += f" ({reporter.enterprise})"
    if reporter.phone:
        who += f", SĐT {reporter.phone}"
    lines.append(f"Người báo: {who}. Thời gian: {when}.")
    if text:
        lines.append(f'Nội dung: "{_clip(text)}"')
    other = [p for p in phones if p != reporter.phone]
    if other:
        lines.append(f"SĐT trong tin: {', '.join(other)}")
    if category == "fire":
        lines.append(_fire_line(fire_out))
    lines.append(_how_to_take(code))
    return "\n".join(lines)


# A fire its reporter says is out is still alerted (fire is urgent), but 114 is not asked for.
FIRE_CALL = "Gọi 114 nếu chưa ai gọi."
FIRE_OUT = "Người báo cho biết đã dập tắt; cần kiểm tra lại hiện trường."


def _fire_line(fire_out: bool) -> str:
    return FIRE_OUT if fire_out else FIRE_CALL


def _how_to_take(code: str) -> str:
    return f'Để nhận: bấm Trả lời tin này và gõ "nhận xử lý", hoặc gõ /xuly {code}.'


def escalation(
    incident_id: int,
    category: str | None,
    places: str,
    minutes: int,
    level: int,
    text: str,
    fire_out: bool = False,
) -> str:
    """An alert nobody took, said again one step up; `fire_out` as for `alert`."""
    code = incident_code(incident_id)
    where = f" tại {places}" if places else ""
    return (
        f"⏫ KHẨN (lần {level}): {category_name(category)}{where} "
        f"({code}) chưa có ai nhận sau {minutes} phút.\n"
        + (f'Nội dung: "{_clip(text)}"\n' if text else "")
        + (_fire_line(fire_out) + "\n" if category == "fire" else "")
        + _how_to_take(code)
    )


def reminder(incident_id: int, category: str | None, places: str, status: str, hours: int) -> str:
    """To whoever holds an open incident; its age in days ("đã mở 2 ngày"), hours below one."""
    where = f" tại {places}" if places else ""
    age = f"{hours // 24} ngày" if hours >= 24 else f"{hours} giờ"
    return (
        f"Nhắc: sự việc {incident_code(incident_id)} ({category_name(category)}{where}) "
        f"đã mở {age}, trạng thái: {STATUS.get(status, status)}. "
        f"Xong rồi thì gõ /xong {incident_code(incident_id)} giúp bot nhé."
    )


def open_line(
    incident_id: int, category: str | None, places: str, when: str, status: str, unconfirmed: bool
) -> str:
    parts = [incident_code(incident_id), category_name(category)]
    if places:
        parts.append(places)
    parts.append(when)
    parts.append(STATUS.get(status, status) + (" (chưa xác nhận)" if unconfirmed else ""))
    return "• " + " · ".join(parts)


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def timeline_line(when: str, kind: str, who: str, note: str) -> str:
    """One step of an incident's story, named as on its dashboard page."""
    parts = [f"  {when} {labels.label(labels.EVENT, kind)}"]
    if who:
        parts.append(f"({who})")
    if note:
        parts.append(f"– {_clip(note, 80)}")
    return " ".join(parts)
